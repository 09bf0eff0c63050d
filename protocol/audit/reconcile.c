/* Reconciliation of two States' audit bundles (include/mlagw/audit.h): bundle A is State X's,
 * B is State Y's. For every message between X and Y, the sender's sent/delivered entries must
 * match the receiver's received and receipt-issued entries on message id and envelope-sha256,
 * and the receipt-sha256 of the sender's delivered entry must be the receiver's receipt-issued
 * one. Every one-sided or differing entry is a finding with both States, the message id and
 * the entries' seqs. With a trust set, each bundle must first verify (verify.c). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

/* An entry of interest, on the sending (X) or receiving (Y) side of one direction. */
struct ref {
	const mla_audit_side_entry *e;
	int recv_side;
};

/* The findings being gathered, with room to grow. */
struct report {
	mla_audit_reconciliation *r;
	size_t capp, capf;
	int nomem;
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

void mla_audit_side_free(mla_audit_side *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->entries);
	for (size_t i = 0; i < s->nskipped; i++)
		free(s->skipped[i].message);
	free(s->skipped);
	audit_bundle_result_free(s->verified);
	free(s->verified);
	free(s);
}

/* Whether reconciliation compares entry e (direction_refs picks among these). */
static int compared(const mla_audit_entry *e)
{
	return e->message_id[0] != '\0' &&
	       (e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED ||
		e->event == MLA_AUDIT_RESEALED || e->event == MLA_AUDIT_RECEIVED ||
		e->event == MLA_AUDIT_RECEIPT_ISSUED);
}

struct side_read {
	mla_audit_side *s;
	size_t capk, caps;
	mla_audit_entry e;
};

/* An entry record that does not parse, listed (the first MLA_AUDIT_FAILURES_LISTED). */
static int skip(struct side_read *sr, const mla_bundle_record *r, const mla_diag *d)
{
	mla_audit_side *s = sr->s;
	mla_audit_failure *f;

	if (s->nskipped >= MLA_AUDIT_FAILURES_LISTED) {
		s->skipped_unlisted++;
		return 0;
	}
	if ((f = mla_grow(s->skipped, &sr->caps, s->nskipped, sizeof(*f))) == NULL)
		return -1;
	s->skipped = f;
	f = &s->skipped[s->nskipped];
	memset(f, 0, sizeof(*f));
	if ((f->message = strdup(mla_diag_message(d))) == NULL)
		return -1;
	f->check = MLA_AUDIT_CHECK_ENTRIES;
	f->refusal = MLA_AUDIT_R_ENTRY_FORM;
	f->record_type = MLA_BUNDLE_ENTRY;
	memcpy(f->record, r->name, sizeof(f->record));
	s->nskipped++;
	return 0;
}

/* One entry record: counted when it parses, kept when reconciliation compares it. */
static int read_entry(void *arg, const mla_bundle_record *r)
{
	struct side_read *sr = arg;
	mla_audit_side *s = sr->s;
	mla_diag d = {MLA_OK, ""};
	const mla_audit_entry *e = &sr->e;
	mla_audit_side_entry *p;

	if (mla_audit_entry_parse(r->data, r->len, &sr->e, &d) != MLA_OK)
		return skip(sr, r, &d);
	s->nentries++;
	if (!compared(e))
		return 0;
	if ((p = mla_grow(s->entries, &sr->capk, s->nkept, sizeof(*p))) == NULL)
		return -1;
	s->entries = p;
	p = &s->entries[s->nkept++];
	_Static_assert(sizeof(p->message_id) == sizeof(e->message_id) &&
			       sizeof(p->from) == sizeof(e->from) && sizeof(p->to) == sizeof(e->to),
		       "the kept fields are the parsed ones");
	memset(p, 0, sizeof(*p));
	p->seq = e->seq;
	p->event = e->event;
	memcpy(p->message_id, e->message_id, sizeof(p->message_id));
	memcpy(p->from, e->from, sizeof(p->from));
	memcpy(p->to, e->to, sizeof(p->to));
	p->has_envelope_sha256 = e->has_envelope_sha256;
	p->has_receipt_sha256 = e->has_receipt_sha256;
	memcpy(p->envelope_sha256, e->envelope_sha256, 32);
	memcpy(p->receipt_sha256, e->receipt_sha256, 32);
	memcpy(p->prev_envelope_sha256, e->prev_envelope_sha256, 32);
	return 0;
}

/* The bundle of in as a stream: its bytes, or its file. */
static FILE *open_side(const mla_audit_input *in, mla_diag *diag)
{
	FILE *f = in->data != NULL ? fmemopen((void *)in->data, in->len, "rb")
				   : fopen(in->path != NULL ? in->path : "", "rb");

	if (f == NULL)
		(void)mla_fail(diag, MLA_ERR_IO, "cannot read %s: %s", in->name, strerror(errno));
	else if (in->data == NULL)
		(void)setvbuf(f, NULL, _IOFBF, (size_t)1 << 20); /* fewer reads; a hint only */
	return f;
}

/* The checks of the bundle f (its index idx): all of them with a trust set, else the manifest
 * alone (for the State); then the entries, read once more (against the verification's read
 * of them, when there was one: a file that changed meanwhile is not reconciled). */
static mla_err load_checked(mla_audit_side *s, FILE *f, const mla_bundle *idx,
			    const mla_audit_trust *trust, mla_diag *diag)
{
	struct side_read sr;
	struct vctx v;
	mla_err r = MLA_ERR_NOMEM;
	int got;

	memset(&sr, 0, sizeof(sr));
	sr.s = s;
	audit_vctx_init(&v, idx, f, trust);
	if ((trust != NULL ? audit_run_checks(&v) : verify_manifest(&v)) != 0) {
		if (v.tmp_failed)
			r = mla_fail(diag, MLA_ERR_IO, "%s: the verifier's temporary file (TMPDIR, "
				     "else /tmp) cannot be written or read", s->name);
		goto out;
	}
	memcpy(s->state, v.state, sizeof(s->state));
	if (trust != NULL && (s->verified = audit_vctx_result(&v, s->name)) == NULL)
		goto out;
	if (trust != NULL && s->verified->nfailures > 0) {
		s->refusal = MLA_AUDIT_R_UNVERIFIED;
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "%s does not verify", s->name);
	} else if (s->state[0] == '\0') {
		s->refusal = MLA_AUDIT_R_NO_STATE;
		r = mla_fail(diag, MLA_ERR_HEADER, "%s: the manifest names no State", s->name);
	} else if ((got = audit_entries_each(&v, read_entry, &sr)) > 0) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		r = mla_fail(diag, MLA_ERR_SCHEMA, "%s: its entries changed while it was read",
			     s->name);
	} else {
		r = got == 0 ? MLA_OK : MLA_ERR_NOMEM;
	}
out:
	audit_vctx_free(&v);
	return r == MLA_ERR_NOMEM ? mla_fail(diag, r, "out of memory") : r;
}

mla_err mla_audit_side_load(const mla_audit_input *in, const mla_audit_trust *trust,
			    mla_audit_side **out, mla_diag *diag)
{
	mla_audit_side *s = calloc(1, sizeof(*s));
	mla_bundle idx;
	FILE *f = NULL;
	mla_err r = MLA_ERR_NOMEM;

	memset(&idx, 0, sizeof(idx));
	*out = NULL;
	if (s == NULL || (s->name = strdup(in->name)) == NULL) {
		r = mla_fail(diag, r, "out of memory");
		goto out;
	}
	if ((f = open_side(in, diag)) == NULL) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		r = MLA_ERR_IO;
	} else if ((r = mla_bundle_index(f, &idx, diag)) != MLA_OK) {
		s->refusal = MLA_AUDIT_R_CONTAINER;
		if (r != MLA_ERR_NOMEM && r != MLA_ERR_IO)
			r = MLA_ERR_SCHEMA; /* diag: the parser's message */
	} else {
		r = load_checked(s, f, &idx, trust, diag);
	}
	if (r != MLA_ERR_NOMEM) {
		*out = s; /* ready, or saying why not */
		s = NULL;
	}
out:
	mla_bundle_free(&idx);
	if (f != NULL)
		fclose(f);
	mla_audit_side_free(s);
	return r;
}

static mla_audit_finding *add_finding(struct report *rp, int in_flight)
{
	mla_audit_finding **list = in_flight ? &rp->r->in_flight : &rp->r->problems;
	size_t *n = in_flight ? &rp->r->nin_flight : &rp->r->nproblems;
	mla_audit_finding *p = mla_grow(*list, in_flight ? &rp->capf : &rp->capp, *n, sizeof(*p));

	if (p == NULL)
		return NULL;
	*list = p;
	p = &p[(*n)++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Adds one problem or in-flight note: the text and the entries' seqs on each side (x's
 * entry xs, y's entry ys, NULL for none). */
static void note(struct report *rp, mla_audit_mismatch kind, const char *x, const char *y,
		 const char *id, const mla_audit_side_entry *xs, const mla_audit_side_entry *ys,
		 const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void note(struct report *rp, mla_audit_mismatch kind, const char *x, const char *y,
		 const char *id, const mla_audit_side_entry *xs, const mla_audit_side_entry *ys,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	mla_audit_finding *f = add_finding(rp, kind == MLA_AUDIT_IN_FLIGHT);

	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a diagnostic: a marked cut is fine */
	va_end(ap);
	if (f == NULL || (f->message = strdup(msg)) == NULL) {
		rp->nomem = 1;
		return;
	}
	f->kind = kind;
	memcpy(f->from, x, 3);
	memcpy(f->to, y, 3);
	/* an entry's message id, of the same size */
	mla_require(mla_strcpy(f->message_id, sizeof(f->message_id), id) == MLA_OK);
	f->from_seq = xs != NULL ? xs->seq : MLA_AUDIT_NO_SEQ;
	f->to_seq = ys != NULL ? ys->seq : MLA_AUDIT_NO_SEQ;
}

static void hex(const uint8_t d[32], char out[65])
{
	mla_require(mla_hex_encode(d, 32, out, 65) == MLA_OK);
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->e->message_id, y->e->message_id);

	if (c != 0)
		return c;
	if (x->recv_side != y->recv_side)
		return x->recv_side - y->recv_side;
	return x->e->seq < y->e->seq ? -1 : x->e->seq > y->e->seq;
}

/* One message from x to y, as the entries on each side name it. */
struct msg {
	const char *x, *y, *id;
	const struct ref *snd, *rcv;
	size_t ns, nr;
	const mla_audit_side_entry *delivered, *received, *s0; /* the first of each */
};

/* No received entry: 1 nothing exchanged, 0 in flight, 2 refused by the receiver, -1 a
 * one-sided delivery. */
static int not_received(struct report *rp, const struct msg *m)
{
	if (m->delivered != NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m->x, m->y, m->id, m->delivered, NULL,
		     "%s delivered %s to %s (%s seq %llu) but %s has no received entry", m->x,
		     m->id, m->y, m->x, (unsigned long long)m->delivered->seq, m->y);
		return -1;
	}
	if (m->s0 != NULL && m->nr > 0)
		return 2; /* refused by the receiver: a receipt, no reception */
	if (m->s0 != NULL) {
		note(rp, MLA_AUDIT_IN_FLIGHT, m->x, m->y, m->id, m->s0, NULL,
		     "%s sent %s to %s (%s seq %llu), not delivered and %s has no received "
		     "entry: in flight", m->x, m->id, m->y, m->x, (unsigned long long)m->s0->seq,
		     m->y);
		return 0;
	}
	return 1; /* only receipt-issued entries (e.g. refusals): nothing exchanged */
}

/* Whether the sender sealed the message again in place of the seal with digest d (its
 * sends of that seal were refused, SPEC 13 Time): those sends are not compared. */
static int replaced_seal(const struct msg *m, const uint8_t d[32])
{
	for (size_t i = 0; i < m->ns; i++)
		if (m->snd[i].e->event == MLA_AUDIT_RESEALED &&
		    memcmp(m->snd[i].e->prev_envelope_sha256, d, 32) == 0)
			return 1;
	return 0;
}

/* Envelope digests: every sent/delivered entry (but sends of a replaced seal) against every
 * received entry; 1 on the first that differs. */
static int envelope_digests(struct report *rp, const struct msg *m)
{
	char h1[65], h2[65];

	for (size_t i = 0; i < m->ns; i++)
		for (size_t k = 0; k < m->nr; k++) {
			const mla_audit_side_entry *a = m->snd[i].e, *b = m->rcv[k].e;
			if (a->event == MLA_AUDIT_RESEALED ||
			    (a->event == MLA_AUDIT_SENT && a->has_envelope_sha256 &&
			     replaced_seal(m, a->envelope_sha256)))
				continue;
			if (b->event != MLA_AUDIT_RECEIVED || !a->has_envelope_sha256 ||
			    !b->has_envelope_sha256 ||
			    memcmp(a->envelope_sha256, b->envelope_sha256, 32) == 0)
				continue;
			hex(a->envelope_sha256, h1);
			hex(b->envelope_sha256, h2);
			note(rp, MLA_AUDIT_ENVELOPE_DIGEST, m->x, m->y, m->id, a, b,
			     "%s %s -> %s: envelope digest differs: %s %s (seq %llu) has %.16s…, "
			     "%s received (seq %llu) has %.16s…", m->id, m->x, m->y, m->x,
			     mla_audit_event_name(a->event), (unsigned long long)a->seq, h1, m->y,
			     (unsigned long long)b->seq, h2);
			return 1;
		}
	return 0;
}

/* The receiver's receipt-issued entry whose receipt is the one delivered names (*issued), or
 * else the first other one (*other). */
static void find_issued(const struct msg *m, const mla_audit_side_entry **issued,
			const mla_audit_side_entry **other)
{
	*issued = *other = NULL;
	for (size_t k = 0; k < m->nr && *issued == NULL; k++) {
		const mla_audit_side_entry *b = m->rcv[k].e;
		if (b->event != MLA_AUDIT_RECEIPT_ISSUED || !b->has_receipt_sha256)
			continue;
		if (memcmp(b->receipt_sha256, m->delivered->receipt_sha256, 32) == 0)
			*issued = b;
		else if (*other == NULL)
			*other = b;
	}
}

/* The receipt the sender holds must be one the receiver issued; 1 when it is not (bad: the
 * envelope digests already differ). */
static int receipt_digest(struct report *rp, const struct msg *m, int bad)
{
	const mla_audit_side_entry *d = m->delivered, *issued, *other;
	char h1[65], h2[65];

	find_issued(m, &issued, &other);
	hex(d->receipt_sha256, h1);
	if (issued != NULL && issued->has_envelope_sha256 && d->has_envelope_sha256 &&
	    memcmp(issued->envelope_sha256, d->envelope_sha256, 32) != 0 && !bad) {
		hex(issued->envelope_sha256, h2);
		note(rp, MLA_AUDIT_ENVELOPE_DIGEST, m->x, m->y, m->id, d, issued,
		     "%s %s -> %s: envelope digest differs: %s delivered (seq %llu) and %s "
		     "receipt-issued (seq %llu, %.16s…)", m->id, m->x, m->y, m->x,
		     (unsigned long long)d->seq, m->y, (unsigned long long)issued->seq, h2);
		return 1;
	}
	if (issued == NULL && other != NULL) {
		hex(other->receipt_sha256, h2);
		note(rp, MLA_AUDIT_RECEIPT_DIGEST, m->x, m->y, m->id, d, other,
		     "%s %s -> %s: receipt digest differs: %s delivered (seq %llu) has %.16s…, %s "
		     "receipt-issued (seq %llu) has %.16s…", m->id, m->x, m->y, m->x,
		     (unsigned long long)d->seq, h1, m->y, (unsigned long long)other->seq, h2);
		return 1;
	}
	if (issued == NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m->x, m->y, m->id, d, NULL,
		     "%s delivered %s to %s (%s seq %llu, receipt %.16s…) but %s has no "
		     "receipt-issued entry", m->x, m->id, m->y, m->x, (unsigned long long)d->seq,
		     h1, m->y);
		return 1;
	}
	return 0;
}

/* One message: 1 when matched, 0 in flight, 2 refused by the receiver, -1 with problems. */
static int one_message(struct report *rp, struct msg *m)
{
	int bad;

	m->id = (m->ns ? m->snd : m->rcv)[0].e->message_id;
	m->delivered = m->received = m->s0 = NULL;
	for (size_t i = 0; i < m->ns; i++) {
		if (m->snd[i].e->event == MLA_AUDIT_DELIVERED && m->delivered == NULL)
			m->delivered = m->snd[i].e;
		if (m->s0 == NULL)
			m->s0 = m->snd[i].e;
	}
	for (size_t i = 0; i < m->nr; i++)
		if (m->rcv[i].e->event == MLA_AUDIT_RECEIVED && m->received == NULL)
			m->received = m->rcv[i].e;
	if (m->received == NULL)
		return not_received(rp, m);
	if (m->s0 == NULL) {
		note(rp, MLA_AUDIT_ONE_SIDED, m->x, m->y, m->id, NULL, m->received,
		     "%s received %s from %s (%s seq %llu) that %s never sent", m->y, m->id, m->x,
		     m->y, (unsigned long long)m->received->seq, m->x);
		return -1;
	}
	bad = envelope_digests(rp, m);
	if (m->delivered != NULL && m->delivered->has_receipt_sha256)
		bad |= receipt_digest(rp, m, bad);
	return bad ? -1 : 1;
}

/* The entries of the direction x -> y: x's sent/delivered/resealed to y, y's received/receipt-issued
 * from x, sorted by message id, side, seq; their number. */
static size_t direction_refs(const mla_audit_side *sx, const mla_audit_side *sy, struct ref *r)
{
	size_t n = 0;

	for (size_t i = 0; i < sx->nkept; i++) {
		const mla_audit_side_entry *e = &sx->entries[i];
		if ((e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED ||
		     e->event == MLA_AUDIT_RESEALED) &&
		    e->message_id[0] && strcmp(e->to, sy->state) == 0)
			r[n++] = (struct ref){e, 0};
	}
	for (size_t i = 0; i < sy->nkept; i++) {
		const mla_audit_side_entry *e = &sy->entries[i];
		if ((e->event == MLA_AUDIT_RECEIVED || e->event == MLA_AUDIT_RECEIPT_ISSUED) &&
		    e->message_id[0] && strcmp(e->from, sx->state) == 0)
			r[n++] = (struct ref){e, 1};
	}
	qsort(r, n, sizeof(*r), ref_cmp);
	return n;
}

/* The direction x -> y, message by message, into d. -1 when out of memory. */
static int direction(struct report *rp, const mla_audit_side *sx, const mla_audit_side *sy,
		     mla_audit_direction *d)
{
	struct ref *r = calloc(sx->nkept + sy->nkept + 1, sizeof(*r));
	size_t n;

	if (r == NULL)
		return -1;
	memcpy(d->from, sx->state, 3);
	memcpy(d->to, sy->state, 3);
	n = direction_refs(sx, sy, r);
	for (size_t i = 0; i < n;) {
		size_t j = i, ns = 0;
		while (j < n && strcmp(r[j].e->message_id, r[i].e->message_id) == 0)
			ns += !r[j++].recv_side;
		struct msg m = {sx->state, sy->state, NULL, r + i, r + i + ns, ns, j - i - ns,
				NULL, NULL, NULL};
		int k = one_message(rp, &m);
		d->matched += k == 1 && ns > 0;
		d->in_flight += k == 0;
		d->problems += k < 0;
		i = j;
	}
	free(r);
	rp->r->problem_messages += d->problems;
	rp->r->exchanges += d->matched;
	return rp->nomem ? -1 : 0;
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
	struct report rp = {calloc(1, sizeof(*rp.r)), 0, 0, 0};
	mla_err r = MLA_ERR_ARG;

	*out = NULL;
	if (a->refusal != MLA_AUDIT_R_NONE || b->refusal != MLA_AUDIT_R_NONE) {
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
