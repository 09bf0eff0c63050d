/* mla_audit_verify on a message sealed again (SPEC 13 Time, Re-sealing; SPEC 15 format 3):
 * ES's log holds submitted and sent of seal A0, resealed (A0 -> A1, CO's refusal R0 of A0),
 * sent and delivered of A1; the bundle holds A1 as envelope <id>, A0 as <id>.1, R0 as receipt
 * <id>.1. Each test alters one thing and asserts the failure's class, family and record. */
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

struct blob {
	mla_buf b;
	uint8_t sha[32];
};

static void *fx;
static struct fixture *F;
static char id[MLA_UUID_LEN + 1], seal1[MLA_UUID_LEN + 3];
static struct tb_state es, co;
static struct tv_trust tt;
static struct blob a0, a1, r0, r1, other_payload, accepted_r0;
static int64_t t0;

static void keep(struct blob *x)
{
	SHA256(x->b.data, x->b.len, x->sha);
}

/* CO's receipt of id over digest: accepted, or refused for replay. */
static void receipt(const uint8_t digest[32], mla_outcome outcome, struct blob *out)
{
	tv_receipt(id, digest, "CO", outcome, MLA_ERR_REPLAY, F->co_signer, &F->limits, &out->b,
		   out->sha);
}

/* A0, its reseal A1, CO's refusal R0 of A0 and receipt R1 of A1; and a seal under the same
 * id of another document (same Header, another Payload). */
static void seal_all(void)
{
	uint8_t doc[256];
	mla_header h;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	fixture_document(doc, sizeof(doc), 7);
	assert_int_equal(mla_envelope_seal(&h, doc, sizeof(doc), F->es_signer, F->co_rcpt,
					   &F->limits, &a0.b, &d), MLA_OK);
	assert_int_equal(mla_strcpy(id, sizeof(id), h.message_id), MLA_OK);
	assert_int_equal(mla_snprintf(seal1, sizeof(seal1), "%s.1", id), MLA_OK);
	keep(&a0);
	assert_int_equal(mla_envelope_verify(a0.b.data, a0.b.len, F->trust, &F->limits, &v, &d),
			 MLA_OK);
	assert_int_equal(mla_envelope_reseal(a0.b.data, a0.b.len, F->trust, F->es_signer,
					     v.header.created + 60, &F->limits, &a1.b, &d),
			 MLA_OK);
	keep(&a1);
	fixture_document(doc, sizeof(doc), 8);
	assert_int_equal(mla_envelope_seal(&h, doc, sizeof(doc), F->es_signer, F->co_rcpt,
					   &F->limits, &other_payload.b, &d), MLA_OK);
	keep(&other_payload);
	receipt(a0.sha, MLA_OUTCOME_REJECTED, &r0);
	receipt(a0.sha, MLA_OUTCOME_ACCEPTED, &accepted_r0);
	receipt(a1.sha, MLA_OUTCOME_ACCEPTED, &r1);
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
	struct blob *all[] = {&a0, &a1, &r0, &r1, &other_payload, &accepted_r0};

	(void)state;
	tv_trust_close(&tt);
	tb_state_free(&es);
	tb_state_free(&co);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		mla_buf_free(&all[i]->b);
	return fixture_teardown(&fx);
}

/* What a test changes of the good bundle. */
struct variant {
	unsigned format;	 /* 0: 3 */
	const uint8_t *prev;	 /* the resealed entry's prev-envelope-sha256; NULL: A0's */
	const struct blob *seal; /* record <id>.1's envelope; NULL: none */
	const struct blob *refusal;
	const struct blob *extra; /* a record <id>.2 no entry names */
	int answered;		  /* an answer: its first entry is answered, not submitted */
};

static mla_audit_result *verify_variant(const struct variant *x, struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {b};
	mla_audit_entry e[6];
	uint64_t cp = 6;
	char seal2[MLA_UUID_LEN + 3];

	tb_entry(&e[0], 0, t0, x->answered ? MLA_AUDIT_ANSWERED : MLA_AUDIT_SUBMITTED, id, "ES", "CO", a0.sha, NULL);
	tb_entry(&e[1], 1, t0 + 10, MLA_AUDIT_SENT, id, "ES", "CO", a0.sha, NULL);
	tb_entry(&e[2], 2, t0 + 20, MLA_AUDIT_RESEALED, id, "ES", "CO", a1.sha, r0.sha);
	assert_int_equal(mla_strcpy(e[2].error, sizeof(e[2].error), "replay"), MLA_OK);
	assert_int_equal(mla_strcpy(e[2].actor, sizeof(e[2].actor), "gateway"), MLA_OK);
	e[2].has_prev_envelope_sha256 = 1;
	memcpy(e[2].prev_envelope_sha256, x->prev != NULL ? x->prev : a0.sha, 32);
	tb_entry(&e[3], 3, t0 + 30, MLA_AUDIT_SENT, id, "ES", "CO", a1.sha, NULL);
	tb_entry(&e[4], 4, t0 + 40, MLA_AUDIT_DELIVERED, id, "ES", "CO", a1.sha, r1.sha);
	tb_entry(&e[5], 5, t0 + 50, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(b, &es, e, 6, &cp, 1, NULL), 0);
	b->format = x->format != 0 ? x->format : 3;
	assert_int_equal(tb_set(b, MLA_BUNDLE_ENVELOPE, id, a1.b.data, a1.b.len), 0);
	if (x->seal != NULL)
		assert_int_equal(tb_set(b, MLA_BUNDLE_ENVELOPE, seal1, x->seal->b.data,
					x->seal->b.len), 0);
	assert_int_equal(mla_snprintf(seal2, sizeof(seal2), "%s.2", id), MLA_OK);
	if (x->extra != NULL)
		assert_int_equal(tb_set(b, MLA_BUNDLE_ENVELOPE, seal2, x->extra->b.data,
					x->extra->b.len), 0);
	assert_int_equal(tb_set(b, MLA_BUNDLE_RECEIPT, id, r1.b.data, r1.b.len), 0);
	if (x->refusal != NULL)
		assert_int_equal(tb_set(b, MLA_BUNDLE_RECEIPT, seal1, x->refusal->b.data,
					x->refusal->b.len), 0);
	assert_int_equal(tb_manifest(b, "ES", NULL), 0);
	return tv_verify(tt.trust, bs, 1);
}

static void expect_only(const struct variant *x, mla_audit_refusal why, mla_audit_check fam,
			mla_bundle_type t, const char *rec)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_variant(x, &b);

	tv_expect(r, 0, why, fam, t, rec);
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* Whether r's bundle has a failure of class why about record t/rec. */
static int has_failure(const mla_audit_result *r, mla_audit_refusal why, mla_bundle_type t,
		       const char *rec)
{
	const mla_audit_bundle_result *x = &r->bundles[0];

	for (size_t i = 0; i < x->nfailures; i++)
		if (x->failures[i].refusal == why && x->failures[i].record_type == t &&
		    strcmp(x->failures[i].record, rec) == 0)
			return 1;
	return 0;
}

static void test_good(void **state)
{
	struct variant x = {0, NULL, &a0, &r0, NULL, 0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	if (r->failures != 0)
		fail_msg("good bundle: %s", r->bundles[0].failures[0].message);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_ENVELOPES], 2);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_RECEIPTS], 2);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_DELIVERED], 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* Format 2 has no seal records: the envelope's and the receipt's are refused. */
static void test_format2_refuses_seals(void **state)
{
	struct variant x = {2, NULL, &a0, &r0, NULL, 0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	assert_true(has_failure(r, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENVELOPE, seal1));
	assert_true(has_failure(r, MLA_AUDIT_R_SEAL, MLA_BUNDLE_RECEIPT, seal1));
	assert_int_equal(r->failures, 2);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_missing_seal(void **state)
{
	struct variant x = {0, NULL, NULL, &r0, NULL, 0};

	(void)state;
	expect_only(&x, MLA_AUDIT_R_MISSING, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE,
		    seal1);
}

static void test_missing_refusal(void **state)
{
	struct variant x = {0, NULL, &a0, NULL, NULL, 0};

	(void)state;
	expect_only(&x, MLA_AUDIT_R_MISSING, MLA_AUDIT_CHECK_RECEIPTS, MLA_BUNDLE_RECEIPT, seal1);
}

/* A positive receipt of the old seal is no refusal (its digest is not the entry's either:
 * the first failure named is the digest). */
static void test_refusal_not_a_refusal(void **state)
{
	struct variant x = {0, NULL, &a0, &accepted_r0, NULL, 0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	tv_expect(r, 0, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_RECEIPTS, MLA_BUNDLE_RECEIPT, seal1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* A seal of another document under the same id and Header, named by the resealed entry: not
 * a seal of the same message (its Payload differs); the chain breaks too, since it is not
 * the seal submitted and sent. */
static void test_other_payload(void **state)
{
	struct variant x = {0, other_payload.sha, &other_payload, &r0, NULL, 0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	assert_true(has_failure(r, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENVELOPE, seal1));
	assert_true(has_failure(r, MLA_AUDIT_R_SEAL, MLA_BUNDLE_ENTRY, "2"));
	mla_audit_result_free(r);
	tb_free(&b);
}

/* resealed names a seal that was never current: the chain breaks there. */
static void test_chain_broken(void **state)
{
	struct variant x = {0, a1.sha, &a0, &r0, NULL, 0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	assert_true(tv_count(r, 0, MLA_AUDIT_R_SEAL) >= 1);
	tv_expect(r, 0, MLA_AUDIT_R_SEAL, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENTRY, "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

/* An answer sealed again: answered names the first seal as submitted would; the bundle
 * verifies, and a resealed entry replacing a seal that was never current breaks the chain. */
static void test_answer_resealed(void **state)
{
	struct variant good = {0, NULL, &a0, &r0, NULL, 1}, broken = {0, a1.sha, &a0, &r0, NULL, 1};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&good, &b);
	if (r->failures != 0)
		fail_msg("answer sealed again: %s", r->bundles[0].failures[0].message);
	mla_audit_result_free(r);
	tb_free(&b);
	r = verify_variant(&broken, &b);
	tv_expect(r, 0, MLA_AUDIT_R_SEAL, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENTRY, "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_unreferenced_seal(void **state)
{
	struct variant x = {0, NULL, &a0, &r0, &a0, 0};
	char seal2[MLA_UUID_LEN + 3];

	(void)state;
	assert_int_equal(mla_snprintf(seal2, sizeof(seal2), "%s.2", id), MLA_OK);
	expect_only(&x, MLA_AUDIT_R_UNREFERENCED, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE,
		    seal2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_format2_refuses_seals),
		cmocka_unit_test(test_missing_seal),
		cmocka_unit_test(test_missing_refusal),
		cmocka_unit_test(test_refusal_not_a_refusal),
		cmocka_unit_test(test_other_payload),
		cmocka_unit_test(test_chain_broken),
		cmocka_unit_test(test_unreferenced_seal),
		cmocka_unit_test(test_answer_resealed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
