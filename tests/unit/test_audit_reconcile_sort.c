/* mla_audit_reconcile as a merge of sorted rows (issue 12, SPEC 15 "Verifier memory"): on
 * random pairs of States' bundles (messages both ways and with a third State, digests drawn
 * from a few, entries left out, doubled or sealed again, each log shuffled), the report is
 * the one the in-memory comparison it replaced gave (a copy of it below, over the entries as
 * written: the differential check), and the same whether the rows stay in memory or spill to
 * disk in runs of 4 KiB (MLAGW_VERIFY_SORT_MEM); the findings listed are capped, the rest
 * counted; rows that cannot spill (TMPDIR unwritable) refuse the side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"

static char trust_dir[64];
static struct tb_state es, co;
static int64_t t0;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-trs-XXXXXX"), MLA_OK);
	t0 = (int64_t)time(NULL) * 1000 - 60000;
	if (mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    tb_state_make("ES", trust_dir, &es) != 0 || tb_state_make("CO", trust_dir, &co) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	tb_state_free(&es);
	tb_state_free(&co);
	assert_int_equal(mla_snprintf(p, sizeof(p), "%s/ES.crt", trust_dir), MLA_OK);
	(void)unlink(p);
	assert_int_equal(mla_snprintf(p, sizeof(p), "%s/CO.crt", trust_dir), MLA_OK);
	(void)unlink(p);
	(void)rmdir(trust_dir);
	return 0;
}

/* ---- the comparison as it was, over arrays of entries (the reference) ---- */

struct ref_side {
	char state[3];
	const mla_audit_entry *entries;
	size_t n;
};

struct ref {
	const mla_audit_entry *e;
	int recv_side;
};

struct report {
	mla_audit_reconciliation *r;
	size_t capp, capf;
	int nomem;
};

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
		 const char *id, const mla_audit_entry *xs, const mla_audit_entry *ys,
		 const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void note(struct report *rp, mla_audit_mismatch kind, const char *x, const char *y,
		 const char *id, const mla_audit_entry *xs, const mla_audit_entry *ys,
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
	const mla_audit_entry *delivered, *received, *s0; /* the first of each */
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
			const mla_audit_entry *a = m->snd[i].e, *b = m->rcv[k].e;
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
static void find_issued(const struct msg *m, const mla_audit_entry **issued,
			const mla_audit_entry **other)
{
	*issued = *other = NULL;
	for (size_t k = 0; k < m->nr && *issued == NULL; k++) {
		const mla_audit_entry *b = m->rcv[k].e;
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
	const mla_audit_entry *d = m->delivered, *issued, *other;
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
static size_t direction_refs(const struct ref_side *sx, const struct ref_side *sy, struct ref *r)
{
	size_t n = 0;

	for (size_t i = 0; i < sx->n; i++) {
		const mla_audit_entry *e = &sx->entries[i];
		if ((e->event == MLA_AUDIT_SENT || e->event == MLA_AUDIT_DELIVERED ||
		     e->event == MLA_AUDIT_RESEALED) &&
		    e->message_id[0] && strcmp(e->to, sy->state) == 0)
			r[n++] = (struct ref){e, 0};
	}
	for (size_t i = 0; i < sy->n; i++) {
		const mla_audit_entry *e = &sy->entries[i];
		if ((e->event == MLA_AUDIT_RECEIVED || e->event == MLA_AUDIT_RECEIPT_ISSUED) &&
		    e->message_id[0] && strcmp(e->from, sx->state) == 0)
			r[n++] = (struct ref){e, 1};
	}
	qsort(r, n, sizeof(*r), ref_cmp);
	return n;
}

/* The direction x -> y, message by message, into d. -1 when out of memory. */
static int direction(struct report *rp, const struct ref_side *sx, const struct ref_side *sy,
		     mla_audit_direction *d)
{
	struct ref *r = calloc(sx->n + sy->n + 1, sizeof(*r));
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


static mla_audit_reconciliation *ref_reconcile(const struct ref_side *a, const struct ref_side *b)
{
	struct report rp = {calloc(1, sizeof(*rp.r)), 0, 0, 0};

	assert_non_null(rp.r);
	assert_int_equal(direction(&rp, a, b, &rp.r->directions[0]), 0);
	assert_int_equal(direction(&rp, b, a, &rp.r->directions[1]), 0);
	return rp.r;
}

/* ---- bundles of many entries ---- */

/* State s's bundle of entries e[0..n) (seq = index): one entry built and checkpointed, then
 * replaced by all of them (reconciliation without a trust set reads the manifest and the
 * entries only). */
static void bundle_of(const struct tb_state *s, const mla_audit_entry *e, size_t n, mla_buf *out)
{
	const uint64_t cp[] = {1};
	struct tb_bundle b;
	mla_buf d, one;
	const char *at, *nl;
	uint64_t len = 0;

	assert_int_equal(tb_build(&b, s, e, 1, cp, 1, NULL), 0);
	assert_int_equal(tb_write(&b, &d), 0);
	assert_non_null(at = strstr((const char *)d.data, "\nentry 0 "));
	at++;
	assert_non_null(nl = strchr(at, '\n'));
	assert_int_equal(mla_parse_u64n(at + 8, (size_t)(nl - at - 8), 0, 4096, &len), MLA_OK);
	mla_buf_init(out, MLA_BUNDLE_MAX);
	mla_buf_init(&one, MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_buf_append(out, d.data, (size_t)(at - (const char *)d.data)), 0);
	for (size_t i = 0; i < n; i++) {
		char name[24];

		mla_diag dg = {MLA_OK, ""};

		one.len = 0;
		if (mla_audit_entry_serialize(&e[i], &one, &dg) != MLA_OK)
			fail_msg("entry %zu: %s", i, mla_diag_message(&dg));
		assert_int_equal(mla_snprintf(name, sizeof(name), "%zu", i), MLA_OK);
		assert_int_equal(mla_bundle_add(out, MLA_BUNDLE_ENTRY, name, one.data, one.len,
						NULL), MLA_OK);
	}
	at = nl + 1 + len + 1; /* the rest: the checkpoint */
	assert_int_equal(mla_buf_append(out, at, d.len - (size_t)(at - (const char *)d.data)), 0);
	mla_buf_free(&one);
	mla_buf_free(&d);
	tb_free(&b);
}

static mla_audit_side *side_of(const mla_buf *b, const char *name)
{
	mla_audit_input in = {name, b->data, b->len, NULL};
	mla_audit_side *s = NULL;

	assert_int_equal(mla_audit_side_load(&in, NULL, &s, NULL), MLA_OK);
	return s;
}

/* ---- random pairs ---- */

struct gen {
	uint64_t s;
};

static uint32_t rnd(struct gen *g, uint32_t n)
{
	g->s = g->s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(g->s >> 33) % n;
}

static const uint8_t *digest(struct gen *g)
{
	static uint8_t pool[6][32];

	for (int i = 0; i < 6; i++)
		pool[i][0] = (uint8_t)(i + 1);
	return pool[rnd(g, 6)];
}

/* A growing log of one State. */
struct log {
	mla_audit_entry *e;
	size_t n, cap;
};

static mla_audit_entry *push(struct log *l, mla_audit_event ev, const char *id, const char *from,
			     const char *to, const uint8_t *env, const uint8_t *rec)
{
	mla_audit_entry *p = mla_grow(l->e, &l->cap, l->n, sizeof(*p));

	assert_non_null(p);
	l->e = p;
	tb_entry(&l->e[l->n], 0, t0, ev, id, from, to, env, rec);
	return &l->e[l->n++];
}

/* The sender's entries of message id, sealed as *envp (sealed again at times: *envp the new
 * seal), receipted as rec. */
static void sender_entries(struct gen *g, struct log *l, const char *id, const char *x,
			   const char *y, const uint8_t **envp, const uint8_t *rec)
{
	const uint8_t *env = *envp;
	mla_audit_entry *e;

	if (rnd(g, 100) < 85)
		(void)push(l, MLA_AUDIT_SENT, id, x, y, env, NULL);
	if (rnd(g, 100) < 15) { /* sealed again: the new seal sent */
		const uint8_t *prev = env;
		env = digest(g);
		e = push(l, MLA_AUDIT_RESEALED, id, x, y, env, digest(g));
		e->has_prev_envelope_sha256 = 1;
		memcpy(e->prev_envelope_sha256, prev, 32);
		assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "replay"), MLA_OK);
		(void)push(l, MLA_AUDIT_SENT, id, x, y, env, NULL);
		*envp = env;
	}
	if (rnd(g, 100) < 70)
		(void)push(l, MLA_AUDIT_DELIVERED, id, x, y, rnd(g, 10) ? env : digest(g),
			   rnd(g, 10) ? rec : NULL);
	if (rnd(g, 100) < 5)
		(void)push(l, MLA_AUDIT_SENT, id, x, y, rnd(g, 4) ? digest(g) : NULL, NULL);
}

/* The receiver's entries of the message the sender sealed as env, receipted as rec (other
 * digests drawn now and then). */
static void receiver_entries(struct gen *g, struct log *l, const char *id, const char *x,
			     const char *y, const uint8_t *env, const uint8_t *rec)
{
	if (rnd(g, 10) == 0)
		return; /* not received (in flight, or a one-sided delivery) */

	if (rnd(g, 100) < 80)
		(void)push(l, MLA_AUDIT_RECEIVED, id, x, y, rnd(g, 8) ? env : digest(g), NULL);
	if (rnd(g, 100) < 75)
		(void)push(l, MLA_AUDIT_RECEIPT_ISSUED, id, x, y,
			   rnd(g, 8) ? env : rnd(g, 2) ? digest(g) : NULL,
			   rnd(g, 8) ? rec : rnd(g, 2) ? digest(g) : NULL);
	if (rnd(g, 100) < 5)
		(void)push(l, MLA_AUDIT_RECEIVED, id, x, y, digest(g), NULL);
}

/* The log shuffled, then numbered: entries of a message come in any order. */
static void shuffle(struct gen *g, struct log *l)
{
	for (size_t i = l->n; i > 1; i--) {
		size_t k = rnd(g, (uint32_t)i);
		mla_audit_entry t = l->e[i - 1];
		l->e[i - 1] = l->e[k];
		l->e[k] = t;
	}
	for (size_t i = 0; i < l->n; i++) {
		l->e[i].seq = i;
		l->e[i].time_ms = t0 + (int64_t)i;
	}
}

/* ES's and CO's logs of n random messages: ES -> CO, CO -> ES, ES -> FR, FR -> CO, the
 * sender's and the receiver's entries drawn apart (so that they differ now and then). */
static void random_logs(uint64_t seed, size_t n, struct log *les, struct log *lco)
{
	static const char *const pairs[][2] = {
		{"ES", "CO"}, {"ES", "CO"}, {"ES", "CO"}, {"CO", "ES"}, {"CO", "ES"},
		{"ES", "FR"}, {"FR", "CO"},
	};
	struct gen g = {seed * 2654435761u + 1};

	memset(les, 0, sizeof(*les));
	memset(lco, 0, sizeof(*lco));
	(void)push(les, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	(void)push(lco, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		const char *const *p = pairs[rnd(&g, 7)];
		char id[MLA_UUID_LEN + 1];

		assert_int_equal(mla_snprintf(id, sizeof(id), "%08x-%04x-4%03x-8%03x-%04x%08x",
					      rnd(&g, 1u << 31), rnd(&g, 1u << 16), rnd(&g, 4096),
					      rnd(&g, 4096), rnd(&g, 1u << 16), (unsigned)i),
				 MLA_OK);
		const uint8_t *env = digest(&g), *rec = digest(&g);
		if (strcmp(p[0], "FR") != 0)
			sender_entries(&g, strcmp(p[0], "ES") == 0 ? les : lco, id, p[0], p[1], &env,
				       rec);
		if (strcmp(p[1], "FR") != 0)
			receiver_entries(&g, strcmp(p[1], "ES") == 0 ? les : lco, id, p[0], p[1], env,
					 rec);
	}
	shuffle(&g, les);
	shuffle(&g, lco);
}

static void same_findings(const mla_audit_finding *a, const mla_audit_finding *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a[i].kind, b[i].kind);
		assert_string_equal(a[i].from, b[i].from);
		assert_string_equal(a[i].to, b[i].to);
		assert_string_equal(a[i].message_id, b[i].message_id);
		assert_true(a[i].from_seq == b[i].from_seq);
		assert_true(a[i].to_seq == b[i].to_seq);
		assert_string_equal(a[i].message, b[i].message);
	}
}

static void same_report(const mla_audit_reconciliation *a, const mla_audit_reconciliation *b)
{
	for (int k = 0; k < 2; k++) {
		assert_string_equal(a->directions[k].from, b->directions[k].from);
		assert_string_equal(a->directions[k].to, b->directions[k].to);
		assert_int_equal(a->directions[k].matched, b->directions[k].matched);
		assert_int_equal(a->directions[k].in_flight, b->directions[k].in_flight);
		assert_int_equal(a->directions[k].problems, b->directions[k].problems);
	}
	assert_int_equal(a->exchanges, b->exchanges);
	assert_int_equal(a->problem_messages, b->problem_messages);
	assert_int_equal(a->nproblems, b->nproblems);
	assert_int_equal(a->nin_flight, b->nin_flight);
	assert_int_equal(a->problems_unlisted, b->problems_unlisted);
	assert_int_equal(a->in_flight_unlisted, b->in_flight_unlisted);
	same_findings(a->problems, b->problems, a->nproblems);
	same_findings(a->in_flight, b->in_flight, a->nin_flight);
}

/* The sides of the two bundles reconciled, with runs of sort_mem bytes (NULL: the default). */
static mla_audit_reconciliation *reconciled(const mla_buf *a, const mla_buf *b,
					    const char *sort_mem, int a_first)
{
	mla_audit_side *sa, *sb;
	mla_audit_reconciliation *rc = NULL;

	if (sort_mem != NULL)
		assert_int_equal(setenv("MLAGW_VERIFY_SORT_MEM", sort_mem, 1), 0);
	sa = side_of(a, "a.mab");
	sb = side_of(b, "b.mab");
	(void)unsetenv("MLAGW_VERIFY_SORT_MEM");
	assert_int_equal(mla_audit_reconcile(a_first ? sa : sb, a_first ? sb : sa, &rc, NULL),
			 MLA_OK);
	mla_audit_side_free(sa);
	mla_audit_side_free(sb);
	return rc;
}

/* The logs' bundles: the reference's report, the merge's in memory and spilled, both orders;
 * the number of problems. */
static size_t compare_logs(struct log *les, struct log *lco, uint64_t seed, int need_all)
{
	mla_buf a, b;
	size_t problems = 0;

	bundle_of(&es, les->e, les->n, &a);
	bundle_of(&co, lco->e, lco->n, &b);
	for (int order = 0; order < 2; order++) {
		struct ref_side ra = {"ES", les->e, les->n}, rb = {"CO", lco->e, lco->n};
		mla_audit_reconciliation *want = order ? ref_reconcile(&rb, &ra)
						       : ref_reconcile(&ra, &rb);
		mla_audit_reconciliation *mem = reconciled(&a, &b, NULL, !order);
		mla_audit_reconciliation *disk = reconciled(&a, &b, "4096", !order);

		problems = want->nproblems;
		if (need_all && !(want->nproblems > 0 && want->nin_flight > 0 && want->exchanges > 0))
			fail_msg("seed %llu: %zu problems, %zu in flight, %zu exchanges",
				 (unsigned long long)seed, want->nproblems, want->nin_flight,
				 want->exchanges);
		same_report(want, mem);
		same_report(want, disk);
		mla_audit_reconciliation_free(want);
		mla_audit_reconciliation_free(mem);
		mla_audit_reconciliation_free(disk);
	}
	mla_buf_free(&a);
	mla_buf_free(&b);
	return problems;
}

/* One random pair of n messages. */
static void one_pair(uint64_t seed, size_t n)
{
	struct log les, lco;

	random_logs(seed, n, &les, &lco);
	(void)compare_logs(&les, &lco, seed, 1);
	free(les.e);
	free(lco.e);
}

static void test_random_pairs(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 24; seed++)
		one_pair(seed, 150 + 10 * seed);
}

/* Enough rows that the runs of 4 KiB are merged in two levels (more than 64 runs). */
static void test_spilled_levels(void **state)
{
	(void)state;
	one_pair(1000, 3000);
}

/* Beyond MLA_AUDIT_FAILURES_LISTED findings of each kind: the first listed, the rest counted
 * (and every message still counted). */
static void test_findings_capped(void **state)
{
	const size_t n = MLA_AUDIT_FAILURES_LISTED + 25;
	struct log les, lco;
	mla_buf a, b;
	mla_audit_reconciliation *rc;

	(void)state;
	memset(&les, 0, sizeof(les));
	memset(&lco, 0, sizeof(lco));
	for (size_t i = 0; i < 2 * n; i++) {
		char id[MLA_UUID_LEN + 1];
		uint8_t d[32] = {1};

		assert_int_equal(mla_snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012zu", i),
				 MLA_OK);
		(void)push(&les, i < n ? MLA_AUDIT_DELIVERED : MLA_AUDIT_SENT, id, "ES", "CO", d,
			   i < n ? d : NULL);
		les.e[i].seq = i;
	}
	(void)push(&lco, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	bundle_of(&es, les.e, les.n, &a);
	bundle_of(&co, lco.e, lco.n, &b);
	rc = reconciled(&a, &b, "65536", 1);
	assert_int_equal(rc->directions[0].problems, n);
	assert_int_equal(rc->directions[0].in_flight, n);
	assert_int_equal(rc->problem_messages, n);
	assert_int_equal(rc->nproblems, MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(rc->problems_unlisted, n - MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(rc->nin_flight, MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(rc->in_flight_unlisted, n - MLA_AUDIT_FAILURES_LISTED);
	/* the first ones, in message id order */
	assert_string_equal(rc->problems[0].message_id, "00000000-0000-4000-8000-000000000000");
	assert_string_equal(rc->in_flight[MLA_AUDIT_FAILURES_LISTED - 1].message_id,
			    "00000000-0000-4000-8000-000000020024");
	mla_audit_reconciliation_free(rc);
	mla_buf_free(&a);
	mla_buf_free(&b);
	free(les.e);
	free(lco.e);
}

/* Rows that must spill with nowhere to write them: the side is refused with an I/O error
 * naming the temporary file, not reconciled on part of its entries. */
static void test_tmp_unwritable(void **state)
{
	struct log les, lco;
	mla_buf a, b;
	mla_audit_input in;
	mla_audit_side *s = NULL;
	mla_diag d = {MLA_OK, ""};
	const char *old = getenv("TMPDIR");
	char *keep = old != NULL ? strdup(old) : NULL;

	(void)state;
	random_logs(7, 300, &les, &lco);
	bundle_of(&es, les.e, les.n, &a);
	bundle_of(&co, lco.e, lco.n, &b);
	in = (mla_audit_input){"a.mab", a.data, a.len, NULL};
	assert_int_equal(setenv("TMPDIR", "/nonexistent/mlagw-test", 1), 0);
	assert_int_equal(setenv("MLAGW_VERIFY_SORT_MEM", "4096", 1), 0);
	assert_int_equal(mla_audit_side_load(&in, NULL, &s, &d), MLA_ERR_IO);
	(void)unsetenv("MLAGW_VERIFY_SORT_MEM");
	if (keep != NULL)
		assert_int_equal(setenv("TMPDIR", keep, 1), 0);
	else
		(void)unsetenv("TMPDIR");
	free(keep);
	assert_non_null(s);
	assert_int_equal(s->refusal, MLA_AUDIT_R_CONTAINER);
	assert_non_null(strstr(d.msg, "temporary file"));
	mla_audit_side_free(s);
	mla_buf_free(&a);
	mla_buf_free(&b);
	free(les.e);
	free(lco.e);
}

/* A message sealed again more times than the merge holds the replaced seals of (then it reads
 * them from its rows): the sends of every replaced seal are left out, the last one compared,
 * and a send of a seal nothing replaced is a problem, as before. */
static void test_many_seals(void **state)
{
	static uint8_t seal[24][32];
	const char *id = "5eab1e00-0000-4000-8000-000000000001";
	struct log les, lco;
	mla_audit_entry *e;
	const size_t n = 20;

	(void)state;
	memset(&les, 0, sizeof(les));
	memset(&lco, 0, sizeof(lco));
	(void)push(&les, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	(void)push(&lco, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	for (size_t k = 0; k < 24; k++)
		seal[k][0] = (uint8_t)(k + 1);
	for (size_t k = 0; k < n; k++) {
		(void)push(&les, MLA_AUDIT_SENT, id, "ES", "CO", seal[k], NULL);
		e = push(&les, MLA_AUDIT_RESEALED, id, "ES", "CO", seal[k + 1], seal[23]);
		e->has_prev_envelope_sha256 = 1;
		memcpy(e->prev_envelope_sha256, seal[k], 32);
		assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "replay"), MLA_OK);
	}
	(void)push(&les, MLA_AUDIT_DELIVERED, id, "ES", "CO", seal[n], seal[22]);
	(void)push(&lco, MLA_AUDIT_RECEIVED, id, "ES", "CO", seal[n], NULL);
	(void)push(&lco, MLA_AUDIT_RECEIPT_ISSUED, id, "ES", "CO", seal[n], seal[22]);
	for (size_t i = 0; i < les.n; i++)
		les.e[i].seq = i;
	for (size_t i = 0; i < lco.n; i++)
		lco.e[i].seq = i;
	assert_int_equal(compare_logs(&les, &lco, 0, 0), 0); /* every replaced seal recognised */
	/* the last replaced seal's send is first, nothing replaced the one sent now */
	(void)push(&les, MLA_AUDIT_SENT, id, "ES", "CO", seal[21], NULL);
	les.e[les.n - 1].seq = les.n - 1;
	assert_int_equal(compare_logs(&les, &lco, 0, 0), 1);
	free(les.e);
	free(lco.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_pairs),
		cmocka_unit_test(test_spilled_levels),
		cmocka_unit_test(test_findings_capped),
		cmocka_unit_test(test_tmp_unwritable),
		cmocka_unit_test(test_many_seals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
