/* Unit tests of the audit bundle container (protocol/bundle.c, SPEC section 15): round trip,
 * and the strict parser's refusals (format line, header, length, order, truncation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/bundle.h"
#include "mlagw/codec.h"

static mla_buf sample(void)
{
	mla_buf b;

	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_bundle_begin(&b), MLA_OK);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_MANIFEST, "manifest", "{}", 2, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CERTIFICATE, "audit", "PEM\n", 4, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "0", "e\n0", 3, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "1", "", 0, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CHECKPOINT, "2", "cp", 2, NULL), 0);
	return b;
}

static void expect_refused(const char *s, const char *what)
{
	mla_bundle bd;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_bundle_parse((const uint8_t *)s, strlen(s), &bd, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, what));
	assert_null(bd.rec);
}

static void test_round_trip(void **state)
{
	mla_buf b = sample();
	mla_bundle bd;

	(void)state;
	assert_int_equal(mla_bundle_parse(b.data, b.len, &bd, NULL), MLA_OK);
	assert_int_equal(bd.n, 5);
	assert_int_equal(bd.rec[2].type, MLA_BUNDLE_ENTRY);
	assert_string_equal(bd.rec[2].name, "0");
	assert_int_equal(bd.rec[2].len, 3);
	assert_memory_equal(bd.rec[2].data, "e\n0", 3);
	assert_int_equal(bd.rec[3].len, 0);
	assert_string_equal(bd.rec[4].name, "2");
	size_t ends[5];
	for (size_t i = 0; i < 5; i++)
		ends[i] = (size_t)(bd.rec[i].data - b.data) + bd.rec[i].len + 1;
	mla_bundle_free(&bd);
	/* every truncation inside a record is refused; one at a record boundary after the
	 * certificate is a shorter bundle (the verifier checks the manifest's counts) */
	for (size_t n = 0; n < b.len; n++) {
		int boundary = n == ends[1] || n == ends[2] || n == ends[3];
		mla_err r = mla_bundle_parse(b.data, n, &bd, NULL);

		assert_int_equal(r == MLA_OK, boundary);
		mla_bundle_free(&bd);
	}
	mla_buf_free(&b);
}

static void test_refusals(void **state)
{
	const char *m = "mlagw-audit-bundle/2\nmanifest manifest 2\n{}\ncertificate audit 1\nC\n";

	(void)state;
	expect_refused("mlagw-audit-bundle/1\n", "not an audit bundle"); /* before witnessing */
	expect_refused("mlagw-audit-bundle/2\n", "no manifest");
	expect_refused("mlagw-audit-bundle/2\ncertificate audit 1\nC\n", "missing manifest");
	expect_refused("mlagw-audit-bundle/2\nmanifest manifest 2\n{}\n", "no certificate");
	char buf[512];
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 01\nx\n", m), MLA_OK);
	expect_refused(buf, "canonical decimal");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 2000\nx\n", m), MLA_OK);
	expect_refused(buf, "limit");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1\nxy\n", m), MLA_OK);
	expect_refused(buf, "newline");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 5\nx\n", m), MLA_OK);
	expect_refused(buf, "truncated");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry a/b 1\nx\n", m), MLA_OK);
	expect_refused(buf, "bad name");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sblob 0 1\nx\n", m), MLA_OK);
	expect_refused(buf, "unknown record type");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1 2\nx\n", m), MLA_OK);
	expect_refused(buf, "header line");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%scheckpoint 1 1\nx\nentry 0 1\nx\n", m),
			MLA_OK);
	expect_refused(buf, "out of order");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%smanifest manifest 2\n{}\n", m), MLA_OK);
	expect_refused(buf, "a second manifest");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1\nx", m), MLA_OK);
	expect_refused(buf, "truncated");
}

static void test_add_refusals(void **state)
{
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 64);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "a b", "x", 1, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "0", "x", 2000, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_MANIFEST, "m", "0123456789012345678901234"
					"567890123456789012345678901234567890123456789", 70, NULL),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_add_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
