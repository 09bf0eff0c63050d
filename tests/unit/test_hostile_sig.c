/* Hostile envelopes, signatures: wrapping, coverage and signer certificates, each refused with
 * its own error code and a message naming what was wrong (helpers: hostile_fx.h). */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libxml/tree.h>

#include "fixture.h"
#include "hostile_fx.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"
#include "mlagw/privkey.h"
#include "protocol_ns.h"
#include "xml_safe.h"

/* ---- 7: signature wrapping and coverage ---- */

static void wrapped(void **state, void (*edit)(xmlDocPtr, void *), void *arg, const char *msg)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	mutate(&env, edit, arg);
	expect_refused(f, &env, MLA_ERR_SIG_WRAPPING, msg);
	mla_buf_free(&env);
}

static void test_wrapping_second_header(void **state)
{
	wrapped(state, edit_duplicate_part, "Header", "2 Header elements");
}

static void test_wrapping_header_in_keyinfo(void **state)
{
	wrapped(state, edit_header_in_signature, "KeyInfo", "2 Header elements");
}

static void test_wrapping_header_in_object(void **state)
{
	wrapped(state, edit_header_in_signature, NULL, "2 Header elements");
}

static void test_wrapping_second_payload(void **state)
{
	wrapped(state, edit_duplicate_part, "Payload", "2 Payload elements");
}

static void test_wrapping_swapped(void **state)
{
	wrapped(state, edit_swap_parts, NULL, "Header, Payload, Signature in that order");
}

/* Points the Reference to the part named by from at the part named by to. */
static void retarget(mla_buf *env, const char *from, const char *to)
{
	char a[64], b[64], uri_a[80], uri_b[80];
	char sa[32], sb[32];

	assert_int_equal(mla_snprintf(sa, sizeof(sa), "<mla:%s Id=\"", from), MLA_OK);
	assert_int_equal(mla_snprintf(sb, sizeof(sb), "<mla:%s Id=\"", to), MLA_OK);
	copy_value(env, sa, "\"", a, sizeof(a));
	copy_value(env, sb, "\"", b, sizeof(b));
	assert_int_equal(mla_snprintf(uri_a, sizeof(uri_a), "URI=\"#%s\"", a), MLA_OK);
	assert_int_equal(mla_snprintf(uri_b, sizeof(uri_b), "URI=\"#%s\"", b), MLA_OK);
	fixture_replace(env, uri_a, uri_b);
}

static void test_signature_not_covering_header(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	retarget(&env, "Header", "Payload");
	expect_refused(f, &env, MLA_ERR_SIG_NOT_COVERED, "does not cover the header");
	mla_buf_free(&env);
}

static void test_signature_not_covering_payload(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	retarget(&env, "Payload", "Header");
	expect_refused(f, &env, MLA_ERR_SIG_NOT_COVERED, "does not cover the encrypted payload");
	mla_buf_free(&env);
}

/* An xml:id (an ID libxml2 registers by itself) naming the Payload's Id on another element. */
static void test_wrapping_xml_id(void **state)
{
	struct fixture *f = *state;
	char pid[64], attr[96];
	mla_buf env;

	seal_small(f, &env);
	copy_value(&env, "<mla:Payload Id=\"", "\"", pid, sizeof(pid));
	assert_int_equal(mla_snprintf(attr, sizeof(attr), "<ds:KeyInfo xml:id=\"%s\">", pid),
			MLA_OK);
	fixture_replace(&env, "<ds:KeyInfo>", attr);
	expect_refused(f, &env, MLA_ERR_SCHEMA, "XML/1998/namespace}id");
	mla_buf_free(&env);
}

static void test_header_altered(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "state=\"CO\"", "state=\"MX\"");
	expect_refused(f, &env, MLA_ERR_SIG_INVALID, "header altered");
	mla_buf_free(&env);
}

/* ---- 8-10: signer certificates ---- */

static void expect_signed_by(void **state, const mla_signer *s, mla_err want, const char *msg)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_as(f, s, SMALL_DOC, sizeof(SMALL_DOC) - 1, &f->limits, &env);
	expect_refused(f, &env, want, msg);
	mla_buf_free(&env);
}

static void test_signer_not_chaining(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *root_key = NULL;
	X509 *root = NULL;
	mla_signer *s;
	mla_diag d = {MLA_OK, ""};
	time_t now = time(NULL);

	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &root_key, &d), MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_ROOT, "ES", "ES rogue root", root_key, NULL, NULL,
				       now - DAY, now + 30 * DAY, NULL, &root, &d),
			 MLA_OK);
	s = make_signer(f, "rogue-sign", root, root_key, now - DAY, now + 30 * DAY);
	expect_signed_by(state, s, MLA_ERR_CERT_UNTRUSTED, "does not chain to the root of ES");
	mla_signer_free(s);
	X509_free(root);
	EVP_PKEY_free(root_key);
}

static void test_signer_other_state(void **state)
{
	struct fixture *f = *state;

	expect_signed_by(state, f->co_signer, MLA_ERR_CERT_WRONG_STATE,
			 "chains to the root of CO, but the envelope is from ES");
}

static void test_signer_expired(void **state)
{
	time_t now = time(NULL), na = now - 10 * DAY;
	char want[40], date[11];
	struct tm tm;
	mla_signer *s = make_es_signer(*state, "expired-sign", now - 400 * DAY, na);

	assert_non_null(gmtime_r(&na, &tm));
	assert_true(strftime(date, sizeof(date), "%Y-%m-%d", &tm) > 0);
	assert_int_equal(mla_snprintf(want, sizeof(want), "expired on %s", date), MLA_OK);
	expect_signed_by(state, s, MLA_ERR_CERT_EXPIRED, want);
	mla_signer_free(s);
}

static void test_signer_not_yet_valid(void **state)
{
	time_t now = time(NULL);
	mla_signer *s = make_es_signer(*state, "future-sign", now + 10 * DAY, now + 400 * DAY);

	expect_signed_by(state, s, MLA_ERR_CERT_NOT_YET_VALID, "not valid before");
	mla_signer_free(s);
}

static void test_verify_time_in_future(void **state)
{
	struct fixture *f = *state;
	mla_limits l = f->limits;
	mla_buf env;

	seal_small(f, &env);
	l.verify_time = time(NULL) + 5 * 365 * DAY; /* past the leaf, before the root expires */
	expect_refused_l(f, env.data, env.len, &l, MLA_ERR_CERT_EXPIRED,
			 "signer certificate expired on");
	mla_buf_free(&env);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrapping_second_header),
		cmocka_unit_test(test_wrapping_header_in_keyinfo),
		cmocka_unit_test(test_wrapping_header_in_object),
		cmocka_unit_test(test_wrapping_second_payload),
		cmocka_unit_test(test_wrapping_swapped),
		cmocka_unit_test(test_signature_not_covering_header),
		cmocka_unit_test(test_signature_not_covering_payload),
		cmocka_unit_test(test_wrapping_xml_id),
		cmocka_unit_test(test_header_altered),
		cmocka_unit_test(test_signer_not_chaining),
		cmocka_unit_test(test_signer_other_state),
		cmocka_unit_test(test_signer_expired),
		cmocka_unit_test(test_signer_not_yet_valid),
		cmocka_unit_test(test_verify_time_in_future),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
