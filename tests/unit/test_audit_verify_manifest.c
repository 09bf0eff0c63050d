/* mla_audit_verify refuses proof records out of export's order, and a manifest (SPEC 15 step 1, SPEC 11 rule 3) whose JSON has a
 * duplicated key, a member format 2 and 3 do not name (at the top, in counts, in filter) or
 * lacks one, or a member of another type or out of range; each as `manifest`, family bundle.
 * ES's bundle is built in memory (audit_testbundle.c) and its manifest edited as text. */
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
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"

static struct tv_trust tt;
static struct tb_state es;

static int setup(void **state)
{
	(void)state;
	if (mla_crypto_init(NULL) != MLA_OK)
		return -1;
	if (tv_trust_es(&tt, &es) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_es_end(&tt, &es);
	return 0;
}

/* ES's bundle of two reloads, its manifest's first `from` replaced by `to` (from NULL: as
 * written), verified. */
static mla_audit_result *verify_edited(const char *from, const char *to, struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {b};
	mla_audit_entry e[2];
	uint64_t cp = 2;
	struct tb_rec *m;
	char text[2048];
	const char *at;
	size_t pre;

	for (size_t i = 0; i < 2; i++)
		tb_entry(&e[i], i, (int64_t)time(NULL) * 1000 - 1000 + (int64_t)i,
			 MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(b, &es, e, 2, &cp, 1, NULL), 0);
	assert_int_equal(tb_manifest(b, "ES", NULL), 0);
	assert_non_null(m = tb_find(b, MLA_BUNDLE_MANIFEST, "manifest"));
	if (from != NULL) {
		assert_true(m->data.len < sizeof(text));
		memcpy(text, m->data.data, m->data.len);
		text[m->data.len] = '\0';
		assert_non_null(at = strstr(text, from));
		pre = (size_t)(at - text);
		mla_buf_reset(&m->data);
		assert_int_equal(mla_buf_append(&m->data, text, pre), MLA_OK);
		assert_int_equal(mla_buf_append(&m->data, to, strlen(to)), MLA_OK);
		assert_int_equal(mla_buf_append(&m->data, at + strlen(from),
						strlen(at + strlen(from))), MLA_OK);
	}
	return tv_verify(tt.trust, bs, 1);
}

static void expect_ok(const char *from, const char *to)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_edited(from, to, &b);

	if (r->failures != 0)
		fail_msg("unexpected: %s", r->bundles[0].failures[0].message);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* Refused as `manifest`. A manifest that is no JSON object (a duplicated key, an integer
 * beyond 64 bits) names no State either: the certificate and what needs it fail after. */
static void expect_refused(const char *from, const char *to)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_edited(from, to, &b);

	tv_expect(r, 0, MLA_AUDIT_R_MANIFEST, MLA_AUDIT_CHECK_BUNDLE, MLA_BUNDLE_MANIFEST,
		  "manifest");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_good(void **state)
{
	(void)state;
	expect_ok(NULL, NULL);
	expect_ok("\"first_seq\": 0", "\"first_seq\" : 0"); /* whitespace is JSON's own */
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	expect_refused("\"first_seq\": 0", "\"first_seq\": 0, \"first_seq\": 0");
	expect_refused("\"entries\": 2", "\"entries\": 2, \"entries\": 2");
	expect_refused("\"from\": null", "\"from\": null, \"from\": null");
}

static void test_unknown_keys(void **state)
{
	(void)state;
	expect_refused("\"first_seq\": 0", "\"first_seq\": 0, \"signed\": true");
	expect_refused("\"entries\": 2", "\"entries\": 2, \"deleted\": 0");
	expect_refused("\"from\": null", "\"from\": null, \"state\": null");
}

static void test_missing_keys(void **state)
{
	(void)state;
	expect_refused("\"first_seq\": 0, ", "");
	expect_refused("\"checkpoints\": 1, ", "");
	expect_refused("\"from\": null, ", "");
}

/* Counts and seqs are JSON integers equal to what the bundle holds: not strings, reals or
 * values beyond it (a 64-bit wrap included). */
static void test_types_and_ranges(void **state)
{
	(void)state;
	expect_refused("\"entries\": 2", "\"entries\": \"2\"");
	expect_refused("\"entries\": 2", "\"entries\": 2.0");
	expect_refused("\"first_seq\": 0", "\"first_seq\": -0.0");
	expect_refused("\"last_seq\": 1", "\"last_seq\": 18446744073709551617");
	expect_refused("\"checkpoint_sizes\": [2]", "\"checkpoint_sizes\": [\"2\"]");
	expect_refused("\"filter\": {", "\"filter\": [], \"x\": {");
	expect_refused("\"case\": null", "\"case\": 7");
}

/* Proof records in export's order (c by m, then i by seq): two consistency proofs swapped
 * are refused as `order`, family proofs (the one skipped then lacks: proof-missing). */
static void test_proof_order(void **state)
{
	const struct tb_bundle *bs[1];
	struct tb_bundle b;
	mla_audit_entry e[3];
	static const uint64_t cps[] = {1, 2, 3};
	struct tb_rec *p1, *p2, tmp;
	mla_audit_result *r;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		tb_entry(&e[i], i, (int64_t)time(NULL) * 1000 - 1000 + (int64_t)i,
			 MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(&b, &es, e, 3, cps, 3, NULL), 0);
	assert_non_null(p1 = tb_find(&b, MLA_BUNDLE_PROOF, "c.1.2"));
	assert_non_null(p2 = tb_find(&b, MLA_BUNDLE_PROOF, "c.2.3"));
	assert_true(p1 < p2); /* as written */
	tmp = *p1;
	*p1 = *p2;
	*p2 = tmp;
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	bs[0] = &b;
	r = tv_verify(tt.trust, bs, 1);
	tv_expect(r, 0, MLA_AUDIT_R_ORDER, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_PROOF, "c.1.2");
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_ORDER), 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_types_and_ranges),
		cmocka_unit_test(test_proof_order),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
