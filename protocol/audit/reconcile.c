/* Reconciliation of two States' audit bundles (include/mlagw/audit.h): bundle A is State X's,
 * B is State Y's. For every message between X and Y, the sender's sent/delivered entries must
 * match the receiver's received and receipt-issued entries on message id and envelope-sha256,
 * and the receipt-sha256 of the sender's delivered entry must be the receiver's receipt-issued
 * one. Every one-sided or differing entry is a finding with both States, the message id and
 * the entries' seqs. Each side's compared entries are sorted rows (reconcile_side.c); a
 * direction is a merge of a range of each by message id, message by message, each message's
 * rows read again for each check rather than held: memory does not grow with the entries. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "reconcile_internal.h"

/* A compared entry as the checks read it (a row unpacked). */
struct rentry {
	uint64_t seq;
	mla_audit_event event;
	int has_envelope_sha256, has_receipt_sha256;
	uint8_t envelope_sha256[32], receipt_sha256[32];
	uint8_t prev_envelope_sha256[32]; /* resealed */
};

/* The findings being gathered, with room to grow up to the cap. */
struct report {
	mla_audit_reconciliation *r;
	size_t capp, capf;
	int nomem, io;
};

static const char *const mismatch_names[] = {
	"one-sided", "envelope-digest", "receipt-digest", "in-flight",
};

const char *mla_audit_mismatch_name(mla_audit_mismatch k)
{
	return (unsigned)k < sizeof(mismatch_names) / sizeof(mismatch_names[0])
		       ? mismatch_names[k]
		       : NULL;
}

static void unpack(const struct rrow *r, struct rentry *e)
{
	e->seq = xsort_get_be64(r->seq);
	e->event = (mla_audit_event)r->event;
	e->has_envelope_sha256 = (r->flags & RRF_ENV) != 0;
	e->has_receipt_sha256 = (r->flags & RRF_REC) != 0;
	memcpy(e->envelope_sha256, r->env, 32);
	memcpy(e->receipt_sha256, r->dig, 32);
	memcpy(e->prev_envelope_sha256, r->dig, 32);
}

/* Row i of s into *out; -1 when the temporary file cannot be read (rp->io). */
static int row_at(struct report *rp, struct xsort *s, uint64_t i, struct rrow *out)
{
	const struct rrow *r = xsort_row(s, i);

	if (r == NULL) {
		rp->io = 1;
		return -1;
	}
	memcpy(out, r, sizeof(*out));
	return 0;
}

/* One side's rows of one direction: from at while their role and peer are key's. */
struct span {
	struct xsort *s;
	struct rrow key;
	uint64_t at;
};

/* *sp set at the first row of role and peer in side s (a binary search): -1 when unreadable. */
static int span_open(struct report *rp, struct span *sp, const mla_audit_side *s, int role,
		     const char peer[3])
{
	uint64_t lo = 0, hi;
	struct rrow row;

	memset(sp, 0, sizeof(*sp));
	sp->s = &s->rows->sort;
	sp->key.role = (uint8_t)role;
	memcpy(sp->key.peer, peer, strnlen(peer, 2)); /* as rows hold it */
	for (hi = sp->s->total; lo < hi;) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (row_at(rp, sp->s, mid, &row) != 0)
			return -1;
		if (memcmp(&row, &sp->key, RROW_RANGE) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	sp->at = lo;
	return 0;
}

/* The span's next row into *out: 1, 0 past its end, -1 unreadable. */
static int span_head(struct report *rp, struct span *sp, struct rrow *out)
{
	if (sp->at >= sp->s->total)
		return 0;
	if (row_at(rp, sp->s, sp->at, out) != 0)
		return -1;
	return memcmp(out, &sp->key, RROW_RANGE) == 0;
}

#define SEALS_HELD 16 /* resealed entries' digests a message holds; beyond, its rows are read */

/* One message from x to y: its rows on each side ([s_at, s_at + ns) of x's, [r_at, r_at +
 * nr) of y's), and what the checks look up, gathered by one read of each (NULL: none). */
struct msg {
	const char *x, *y;
	char id[MLA_UUID_LEN + 1];
	struct xsort *xs, *ys;
	uint64_t s_at, ns, r_at, nr, nresealed;
	const struct rentry *delivered, *received, *s0; /* the first of each */
	const struct rentry *b1, *b2; /* the first received with a digest, the first other one */
	struct rentry delivered_e, received_e, s0_e, b1_e, b2_e;
	uint8_t seals[SEALS_HELD][32]; /* the first resealed entries' prev-envelope-sha256 */
};

/* Adds one problem or in-flight note, unless its list is full (then counted): the text and
 * the entries' seqs on each side (x's entry xs, y's entry ys, NULL for none). */
static void note(struct report *rp, mla_audit_mismatch kind, const struct msg *m,
		 const struct rentry *xs, const struct rentry *ys, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void note(struct report *rp, mla_audit_mismatch kind, const struct msg *m,
		 const struct rentry *xs, const struct rentry *ys, const char *fmt, ...)
{
	int flight = kind == MLA_AUDIT_IN_FLIGHT;
	mla_audit_finding **list = flight ? &rp->r->in_flight : &rp->r->problems;
	size_t *n = flight ? &rp->r->nin_flight : &rp->r->nproblems;
	mla_audit_finding *f;
	char msg[512];
	va_list ap;

	if (*n >= MLA_AUDIT_FAILURES_LISTED) {
		(*(flight ? &rp->r->in_flight_unlisted : &rp->r->problems_unlisted))++;
		return;
	}
	if ((f = mla_grow(*list, flight ? &rp->capf : &rp->capp, *n, sizeof(*f))) == NULL) {
		rp->nomem = 1;
		return;
	}
	*list = f;
	f = &f[*n];
	memset(f, 0, sizeof(*f));
	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a diagnostic: a marked cut is fine */
	va_end(ap);
	if ((f->message = strdup(msg)) == NULL) {
		rp->nomem = 1;
		return;
	}
	(*n)++;
	f->kind = kind;
	memcpy(f->from, m->x, 3);
	memcpy(f->to, m->y, 3);
	memcpy(f->message_id, m->id, sizeof(f->message_id));
	f->from_seq = xs != NULL ? xs->seq : MLA_AUDIT_NO_SEQ;
	f->to_seq = ys != NULL ? ys->seq : MLA_AUDIT_NO_SEQ;
}

static void hex(const uint8_t d[32], char out[65])
{
	mla_require(mla_hex_encode(d, 32, out, 65) == MLA_OK);
}

/* ---- one message ---- */

/* The sender's rows of the message: their number, the first, the first delivered entry, the
 * number of resealed ones. -1 unreadable. */
static int read_sender(struct report *rp, struct span *sp, struct msg *m)
{
	struct rrow row;
	struct rentry e;
	int got;

	m->s_at = sp->at;
	while ((got = span_head(rp, sp, &row)) == 1 && memcmp(row.id, m->id, sizeof(m->id)) == 0) {
		unpack(&row, &e);
		if (e.event == MLA_AUDIT_DELIVERED && m->delivered == NULL) {
			m->delivered_e = e;
			m->delivered = &m->delivered_e;
		}
		if (m->s0 == NULL) {
			m->s0_e = e;
			m->s0 = &m->s0_e;
		}
		if (e.event == MLA_AUDIT_RESEALED && m->nresealed++ < SEALS_HELD)
			memcpy(m->seals[m->nresealed - 1], e.prev_envelope_sha256, 32);
		m->ns++;
		sp->at++;
	}
	return got < 0 ? -1 : 0;
}

/* The receiver's rows of the message: their number, the first received entry, the first
 * received entry with an envelope-sha256 and the first with another one. -1 unreadable. */
static int read_receiver(struct report *rp, struct span *sp, struct msg *m)
{
	struct rrow row;
	struct rentry e;
	int got;

	m->r_at = sp->at;
	while ((got = span_head(rp, sp, &row)) == 1 && memcmp(row.id, m->id, sizeof(m->id)) == 0) {
		unpack(&row, &e);
		if (e.event == MLA_AUDIT_RECEIVED && m->received == NULL) {
			m->received_e = e;
			m->received = &m->received_e;
		}
		if (e.event == MLA_AUDIT_RECEIVED && e.has_envelope_sha256) {
			if (m->b1 == NULL) {
				m->b1_e = e;
				m->b1 = &m->b1_e;
			} else if (m->b2 == NULL &&
				   memcmp(e.envelope_sha256, m->b1->envelope_sha256, 32) != 0) {
				m->b2_e = e;
				m->b2 = &m->b2_e;
			}
		}
		m->nr++;
		sp->at++;
	}
	return got < 0 ? -1 : 0;
}

/* No received entry: 1 nothing exchanged, 0 in flight, 2 refused by the receiver, -1 a
 * one-sided delivery. */
static int not_received(struct report *rp, const struct msg *m)
{
	if (m->delivered != NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m, m->delivered, NULL,
		     "%s delivered %s to %s (%s seq %llu) but %s has no received entry", m->x,
		     m->id, m->y, m->x, (unsigned long long)m->delivered->seq, m->y);
		return -1;
	}
	if (m->s0 != NULL && m->nr > 0)
		return 2; /* refused by the receiver: a receipt, no reception */
	if (m->s0 != NULL) {
		note(rp, MLA_AUDIT_IN_FLIGHT, m, m->s0, NULL,
		     "%s sent %s to %s (%s seq %llu), not delivered and %s has no received "
		     "entry: in flight", m->x, m->id, m->y, m->x, (unsigned long long)m->s0->seq,
		     m->y);
		return 0;
	}
	return 1; /* only receipt-issued entries (e.g. refusals): nothing exchanged */
}

/* Whether the sender sealed the message again in place of the seal with digest d (its
 * sends of that seal were refused, SPEC 13 Time): those sends are not compared. */
static int replaced_seal(struct report *rp, const struct msg *m, const uint8_t d[32])
{
	struct rrow row;

	for (uint64_t i = 0; i < m->nresealed && i < SEALS_HELD; i++)
		if (memcmp(m->seals[i], d, 32) == 0)
			return 1;
	for (uint64_t i = 0; m->nresealed > SEALS_HELD && i < m->ns; i++) {
		if (row_at(rp, m->xs, m->s_at + i, &row) != 0)
			return 0;
		if (row.event == MLA_AUDIT_RESEALED && memcmp(row.dig, d, 32) == 0)
			return 1;
	}
	return 0;
}

/* The first received entry with an envelope-sha256 other than d (NULL: none). */
static const struct rentry *received_other(const struct msg *m, const uint8_t d[32])
{
	if (m->b1 != NULL && memcmp(m->b1->envelope_sha256, d, 32) != 0)
		return m->b1;
	return m->b2; /* the first whose digest is not b1's, which is d */
}

/* Envelope digests: every sent/delivered entry (but sends of a replaced seal) against every
 * received entry; 1 on the first that differs. */
static int envelope_digests(struct report *rp, const struct msg *m)
{
	char h1[65], h2[65];
	struct rrow row;
	struct rentry a;
	const struct rentry *b;

	for (uint64_t i = 0; i < m->ns; i++) {
		if (row_at(rp, m->xs, m->s_at + i, &row) != 0)
			return 0;
		unpack(&row, &a);
		if (a.event == MLA_AUDIT_RESEALED || !a.has_envelope_sha256 ||
		    (a.event == MLA_AUDIT_SENT && replaced_seal(rp, m, a.envelope_sha256)))
			continue;
		if ((b = received_other(m, a.envelope_sha256)) == NULL)
			continue;
		hex(a.envelope_sha256, h1);
		hex(b->envelope_sha256, h2);
		note(rp, MLA_AUDIT_ENVELOPE_DIGEST, m, &a, b,
		     "%s %s -> %s: envelope digest differs: %s %s (seq %llu) has %.16s…, "
		     "%s received (seq %llu) has %.16s…", m->id, m->x, m->y, m->x,
		     mla_audit_event_name(a.event), (unsigned long long)a.seq, h1, m->y,
		     (unsigned long long)b->seq, h2);
		return 1;
	}
	return 0;
}

/* The receiver's receipt-issued entry whose receipt is the one delivered names (*issued), or
 * else the first other one (*other); both point into store. */
static void find_issued(struct report *rp, const struct msg *m, struct rentry store[2],
			const struct rentry **issued, const struct rentry **other)
{
	struct rrow row;
	struct rentry b;

	*issued = *other = NULL;
	for (uint64_t k = 0; k < m->nr && *issued == NULL; k++) {
		if (row_at(rp, m->ys, m->r_at + k, &row) != 0)
			return;
		unpack(&row, &b);
		if (b.event != MLA_AUDIT_RECEIPT_ISSUED || !b.has_receipt_sha256)
			continue;
		if (memcmp(b.receipt_sha256, m->delivered->receipt_sha256, 32) == 0) {
			store[0] = b;
			*issued = &store[0];
		} else if (*other == NULL) {
			store[1] = b;
			*other = &store[1];
		}
	}
}

/* The receipt the sender holds must be one the receiver issued; 1 when it is not (bad: the
 * envelope digests already differ). */
static int receipt_digest(struct report *rp, const struct msg *m, int bad)
{
	const struct rentry *d = m->delivered, *issued, *other;
	struct rentry store[2];
	char h1[65], h2[65];

	find_issued(rp, m, store, &issued, &other);
	hex(d->receipt_sha256, h1);
	if (issued != NULL && issued->has_envelope_sha256 && d->has_envelope_sha256 &&
	    memcmp(issued->envelope_sha256, d->envelope_sha256, 32) != 0 && !bad) {
		hex(issued->envelope_sha256, h2);
		note(rp, MLA_AUDIT_ENVELOPE_DIGEST, m, d, issued,
		     "%s %s -> %s: envelope digest differs: %s delivered (seq %llu) and %s "
		     "receipt-issued (seq %llu, %.16s…)", m->id, m->x, m->y, m->x,
		     (unsigned long long)d->seq, m->y, (unsigned long long)issued->seq, h2);
		return 1;
	}
	if (issued == NULL && other != NULL) {
		hex(other->receipt_sha256, h2);
		note(rp, MLA_AUDIT_RECEIPT_DIGEST, m, d, other,
		     "%s %s -> %s: receipt digest differs: %s delivered (seq %llu) has %.16s…, %s "
		     "receipt-issued (seq %llu) has %.16s…", m->id, m->x, m->y, m->x,
		     (unsigned long long)d->seq, h1, m->y, (unsigned long long)other->seq, h2);
		return 1;
	}
	if (issued == NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m, d, NULL,
		     "%s delivered %s to %s (%s seq %llu, receipt %.16s…) but %s has no "
		     "receipt-issued entry", m->x, m->id, m->y, m->x, (unsigned long long)d->seq,
		     h1, m->y);
		return 1;
	}
	return 0;
}

/* One message: 1 when matched, 0 in flight, 2 refused by the receiver, -1 with problems. */
static int one_message(struct report *rp, const struct msg *m)
{
	int bad;

	if (m->received == NULL)
		return not_received(rp, m);
	if (m->s0 == NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m, NULL, m->received,
		     "%s received %s from %s (%s seq %llu) that %s never sent", m->y, m->id, m->x,
		     m->y, (unsigned long long)m->received->seq, m->x);
		return -1;
	}
	bad = envelope_digests(rp, m);
	if (m->delivered != NULL && m->delivered->has_receipt_sha256)
		bad |= receipt_digest(rp, m, bad);
	return bad ? -1 : 1;
}

/* ---- a direction: the merge ---- */

/* The next message of the direction, the lower id of the two spans' heads, read into *m:
 * 1, 0 when both spans are done, -1 unreadable. */
static int next_message(struct report *rp, struct span *snd, struct span *rcv, struct msg *m)
{
	struct rrow hs, hr;
	int gs, gr;

	if ((gs = span_head(rp, snd, &hs)) < 0 || (gr = span_head(rp, rcv, &hr)) < 0)
		return -1;
	if (!gs && !gr)
		return 0;
	if (gs && (!gr || memcmp(hs.id, hr.id, sizeof(hs.id)) <= 0))
		memcpy(m->id, hs.id, sizeof(m->id));
	else
		memcpy(m->id, hr.id, sizeof(m->id));
	if (read_sender(rp, snd, m) != 0 || read_receiver(rp, rcv, m) != 0)
		return -1;
	return 1;
}

/* The direction x -> y, message by message in id order, into d: x's sent/delivered/resealed
 * entries to y against y's received/receipt-issued entries from x. -1 on a failure. */
static int direction(struct report *rp, const mla_audit_side *sx, const mla_audit_side *sy,
		     mla_audit_direction *d)
{
	struct span snd, rcv;
	int got = 0;

	memcpy(d->from, sx->state, 3);
	memcpy(d->to, sy->state, 3);
	if (span_open(rp, &snd, sx, RR_SENDER, sy->state) != 0 ||
	    span_open(rp, &rcv, sy, RR_RECEIVER, sx->state) != 0)
		return -1;
	while (!rp->nomem && !rp->io) {
		struct msg m;
		int k;

		memset(&m, 0, sizeof(m));
		m.x = sx->state;
		m.y = sy->state;
		m.xs = snd.s;
		m.ys = rcv.s;
		if ((got = next_message(rp, &snd, &rcv, &m)) != 1)
			break;
		k = one_message(rp, &m);
		d->matched += k == 1 && m.ns > 0;
		d->in_flight += k == 0;
		d->problems += k < 0;
	}
	rp->r->problem_messages += d->problems;
	rp->r->exchanges += d->matched;
	return rp->nomem || rp->io || got < 0 ? -1 : 0;
}

void mla_audit_reconciliation_free(mla_audit_reconciliation *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nproblems; i++)
		free(r->problems[i].message);
	for (size_t i = 0; i < r->nin_flight; i++)
		free(r->in_flight[i].message);
	free(r->problems);
	free(r->in_flight);
	free(r);
}

mla_err mla_audit_reconcile(const mla_audit_side *a, const mla_audit_side *b,
			    mla_audit_reconciliation **out, mla_diag *diag)
{
	struct report rp = {calloc(1, sizeof(*rp.r)), 0, 0, 0, 0};
	mla_err r = MLA_ERR_ARG;

	*out = NULL;
	if (a->refusal != MLA_AUDIT_R_NONE || b->refusal != MLA_AUDIT_R_NONE || a->rows == NULL ||
	    b->rows == NULL) {
		(void)mla_fail(diag, r, "a bundle that could not be read or verified");
		goto out;
	}
	if (strcmp(a->state, b->state) == 0) {
		(void)mla_fail(diag, r, "both bundles are State %s's: give two States' bundles",
			       a->state);
		goto out;
	}
	r = MLA_ERR_NOMEM;
	if (rp.r == NULL || direction(&rp, a, b, &rp.r->directions[0]) != 0 ||
	    direction(&rp, b, a, &rp.r->directions[1]) != 0) {
		if (rp.io)
			r = mla_fail(diag, MLA_ERR_IO, "the temporary file of a bundle's sorted "
				     "entries (TMPDIR, else /tmp) cannot be read");
		else
			(void)mla_fail(diag, r, "out of memory");
		goto out;
	}
	*out = rp.r;
	rp.r = NULL;
	r = MLA_OK;
out:
	mla_audit_reconciliation_free(rp.r);
	return r;
}
