/* mla_audit_verify: what a bundle must hold for its entries (SPEC 15 step 8). Every envelope a
 * submitted, answered, sent, delivered or received entry names is in the bundle, and every
 * receipt such an entry names; the refused envelopes a receiving gateway does not store
 * (rejected) are the exception. Real envelopes (ES -> CO) and receipts of the fixture's PKI in
 * bundles built in memory (audit_testbundle.c); a filtered bundle owes this for the messages
 * its filter selects. */
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
#include <openssl/sha.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "fixture.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"

static void *fx;
static struct fixture *F;
static char id[MLA_UUID_LEN + 1];
static struct tb_state es, co;
static struct tv_trust tt;
static mla_buf env, rcpt;
static uint8_t env_sha[32], rcpt_sha[32];
static int64_t t0;

static void seal_all(void)
{
	mla_header h;
	uint8_t doc[512];
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	fixture_document(doc, sizeof(doc), 7);
	if (mla_envelope_seal(&h, doc, sizeof(doc), F->es_signer, F->co_rcpt, &F->limits, &env,
			      &d) != MLA_OK)
		fail_msg("seal: %s", d.msg);
	assert_int_equal(mla_strcpy(id, sizeof(id), h.message_id), MLA_OK);
	SHA256(env.data, env.len, env_sha);
	tv_receipt(id, env_sha, "CO", MLA_OUTCOME_ACCEPTED, MLA_OK, F->co_signer, &F->limits,
		   &rcpt, rcpt_sha);
}

static int setup(void **state)
{
	(void)state;
	if (fixture_setup(&fx) != 0)
		return -1;
	F = fx;
	tv_trust_pki(&tt, F->dir, &es, &co);
	seal_all();
	t0 = (int64_t)time(NULL) * 1000;
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	tv_trust_close(&tt);
	tb_state_free(&es);
	tb_state_free(&co);
	mla_buf_free(&env);
	mla_buf_free(&rcpt);
	return fixture_teardown(&fx);
}

/* Which records a test's bundle holds, and its filter (NULL: none). */
struct held {
	int env, rcpt;
	const char *filter_case;
};

/* A log of events ev[0..n) of the message (seq i at t0 + 10 i; a digest where the event
 * names one), then a reload; one checkpoint over all; the records h says. Entries of the
 * message have case ES-T/2026.000<seq mod 3> (tb_entry). */
static mla_audit_result *run(struct tb_bundle *b, const struct tb_state *s,
			     const mla_audit_event *ev, size_t n, const struct held *h)
{
	const struct tb_bundle *bs[] = {b};
	mla_audit_entry e[8];
	uint64_t cp = n + 1;

	for (size_t i = 0; i < n; i++) {
		int names_rcpt = ev[i] == MLA_AUDIT_DELIVERED || ev[i] == MLA_AUDIT_RECEIVED;
		tb_entry(&e[i], i, t0 + (int64_t)i * 10, ev[i], id, "ES", "CO", env_sha,
			 names_rcpt ? rcpt_sha : NULL);
		if (ev[i] == MLA_AUDIT_REJECTED) /* a refusal names its error */
			assert_int_equal(mla_strcpy(e[i].error, sizeof(e[i].error), "replay"),
					 MLA_OK);
	}
	tb_entry(&e[n], n, t0 + (int64_t)n * 10, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL,
		 NULL, NULL);
	assert_int_equal(tb_build(b, s, e, n + 1, &cp, 1, NULL), 0);
	if (h->env)
		assert_int_equal(tb_set(b, MLA_BUNDLE_ENVELOPE, id, env.data, env.len), 0);
	if (h->rcpt)
		assert_int_equal(tb_set(b, MLA_BUNDLE_RECEIPT, id, rcpt.data, rcpt.len), 0);
	assert_int_equal(tb_manifest(b, s->state, h->filter_case), 0);
	return tv_verify(tt.trust, bs, 1);
}

static void expect_ok(const struct tb_state *s, const mla_audit_event *ev, size_t n,
		      const struct held *h)
{
	struct tb_bundle b;
	mla_audit_result *r = run(&b, s, ev, n, h);

	if (r->failures != tv_count(r, 0, MLA_AUDIT_R_PROOF_MISSING))
		fail_msg("unexpected failure: %s", r->bundles[0].failures[0].message);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* The one failure: MLA_AUDIT_R_MISSING of record t (the message's), naming entry seq. */
static void expect_missing(const struct tb_state *s, const mla_audit_event *ev, size_t n,
			   const struct held *h, mla_bundle_type t, const char *seq)
{
	struct tb_bundle b;
	mla_audit_result *r = run(&b, s, ev, n, h);
	const mla_audit_failure *f =
		tv_expect(r, 0, MLA_AUDIT_R_MISSING,
			  t == MLA_BUNDLE_ENVELOPE ? MLA_AUDIT_CHECK_ENVELOPES
						   : MLA_AUDIT_CHECK_RECEIPTS, t, id);

	assert_non_null(strstr(f->message, seq));
	/* a filtered test bundle has no inclusion proofs (tb_build): those are step 7's */
	assert_int_equal(r->failures, 1 + tv_count(r, 0, MLA_AUDIT_R_PROOF_MISSING));
	mla_audit_result_free(r);
	tb_free(&b);
}

/* An answer (answered, sent, delivered: no submitted) with its envelope and receipt. */
static void test_answer_held(void **state)
{
	static const mla_audit_event ev[] = {MLA_AUDIT_ANSWERED, MLA_AUDIT_SENT,
					     MLA_AUDIT_DELIVERED};
	const struct held h = {1, 1, NULL};

	(void)state;
	expect_ok(&es, ev, 3, &h);
}

/* The gap: the answer's envelope deleted (its receipt stays, and still verifies). */
static void test_answer_envelope_missing(void **state)
{
	static const mla_audit_event ev[] = {MLA_AUDIT_ANSWERED, MLA_AUDIT_SENT,
					     MLA_AUDIT_DELIVERED};
	const struct held h = {0, 1, NULL};

	(void)state;
	expect_missing(&es, ev, 3, &h, MLA_BUNDLE_ENVELOPE, "entry 0 (answered)");
}

/* Each of answered, sent, delivered alone names an envelope the bundle must hold (a
 * delivered entry's missing receipt is step 10's; here it is held). */
static void test_each_event_needs_envelope(void **state)
{
	static const mla_audit_event one[] = {MLA_AUDIT_ANSWERED, MLA_AUDIT_SENT,
					      MLA_AUDIT_DELIVERED};
	const struct held h = {0, 1, NULL};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const struct held hr = {0, one[i] == MLA_AUDIT_DELIVERED, NULL};
		char what[40];

		assert_int_equal(mla_snprintf(what, sizeof(what), "entry 0 (%s)",
					      mla_audit_event_name(one[i])), MLA_OK);
		expect_missing(&es, &one[i], 1, one[i] == MLA_AUDIT_DELIVERED ? &h : &hr,
			       MLA_BUNDLE_ENVELOPE, what);
	}
}

/* An answer's entry names other bytes than the envelope held: as for sent (digest). */
static void test_answer_digest(void **state)
{
	const struct tb_bundle *bs[1];
	struct tb_bundle b;
	mla_audit_entry e[3];
	static const uint8_t other[32] = {0xee};
	uint64_t cp = 3;
	mla_audit_result *r;

	(void)state;
	tb_entry(&e[0], 0, t0, MLA_AUDIT_ANSWERED, id, "ES", "CO", other, NULL);
	tb_entry(&e[1], 1, t0 + 10, MLA_AUDIT_SENT, id, "ES", "CO", env_sha, NULL);
	tb_entry(&e[2], 2, t0 + 20, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(&b, &es, e, 3, &cp, 1, NULL), 0);
	assert_int_equal(tb_set(&b, MLA_BUNDLE_ENVELOPE, id, env.data, env.len), 0);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	bs[0] = &b;
	r = tv_verify(tt.trust, bs, 1);
	tv_expect(r, 0, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE, id);
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* The receiver: received names the envelope and the receipt it issued; both must be held.
 * A rejected entry (a refused envelope, not stored) owes neither. */
static void test_receiver(void **state)
{
	static const mla_audit_event rcv[] = {MLA_AUDIT_RECEIVED};
	static const mla_audit_event rej[] = {MLA_AUDIT_REJECTED};
	const struct held both = {1, 1, NULL}, no_env = {0, 1, NULL}, no_rcpt = {1, 0, NULL};
	const struct held none = {0, 0, NULL};

	(void)state;
	expect_ok(&co, rcv, 1, &both);
	expect_missing(&co, rcv, 1, &no_env, MLA_BUNDLE_ENVELOPE, "entry 0 (received)");
	expect_missing(&co, rcv, 1, &no_rcpt, MLA_BUNDLE_RECEIPT, "entry 0 (received)");
	expect_ok(&co, rej, 1, &none);
}

/* Filtered on the case of entry 1 (ES-T/2026.0001): the answer is selected, so its
 * envelope is owed; filtered on a case none of its entries has, it is not, and may not be
 * held. */
static void test_filtered(void **state)
{
	static const mla_audit_event ev[] = {MLA_AUDIT_ANSWERED, MLA_AUDIT_SENT,
					     MLA_AUDIT_DELIVERED};
	const struct held sel = {0, 1, "ES-T/2026.0001"}, unsel = {0, 0, "ES-T/2026.0009"};

	(void)state;
	expect_missing(&es, ev, 3, &sel, MLA_BUNDLE_ENVELOPE, "entry 0 (answered)");
	expect_ok(&es, ev, 3, &unsel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_held),
		cmocka_unit_test(test_answer_envelope_missing),
		cmocka_unit_test(test_each_event_needs_envelope),
		cmocka_unit_test(test_answer_digest),
		cmocka_unit_test(test_receiver),
		cmocka_unit_test(test_filtered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
