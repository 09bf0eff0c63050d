/* An envelope of a version this reader does not implement (SPEC 11 rules 1, 2, 8): its root
 * Envelope in urn:mlagw:envelope:<n> is refused as unsupported-version right after the
 * hardened parse, before schema and signature, naming the version found and the versions
 * read; a namespace that is no version marker stays a schema error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "fixture.h"

static void sealed(const struct fixture *f, int version, mla_buf *env)
{
	mla_header h;
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	h.version = version;
	if (mla_envelope_seal(&h, (const uint8_t *)"<a/>", 4, f->es_signer, f->co_rcpt,
			      &f->limits, env, &d) != MLA_OK)
		fail_msg("seal: %s", d.msg);
}

static mla_err verify(const struct fixture *f, const mla_buf *env, mla_verified *v,
		      mla_diag *d)
{
	return mla_envelope_verify(env->data, env->len, f->trust, &f->limits, v, d);
}

/* A sealed version 2 envelope whose root namespace says 3: its signature is intact but never
 * looked at; nothing of its header is read. */
static void test_unknown_version_refused_at_root(void **state)
{
	struct fixture *f = *state;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;

	sealed(f, 2, &env);
	fixture_replace(&env, "xmlns:mla=\"urn:mlagw:envelope:2\"",
			"xmlns:mla=\"urn:mlagw:envelope:3\"");
	assert_int_equal(verify(f, &env, &v, &d), MLA_ERR_UNSUPPORTED_VERSION);
	assert_string_equal(d.msg, "envelope version 3; this reader reads versions 1 to 2");
	assert_int_equal(v.authenticated, 0);
	assert_string_equal(v.header.message_id, "");
	/* the version attribute raised too: the same */
	fixture_replace(&env, "version=\"2\"", "version=\"3\"");
	assert_int_equal(verify(f, &env, &v, &d), MLA_ERR_UNSUPPORTED_VERSION);
	mla_buf_free(&env);

	sealed(f, 1, &env);
	fixture_replace(&env, "xmlns:mla=\"urn:mlagw:envelope:1\"",
			"xmlns:mla=\"urn:mlagw:envelope:17\"");
	assert_int_equal(verify(f, &env, &v, &d), MLA_ERR_UNSUPPORTED_VERSION);
	assert_string_equal(d.msg, "envelope version 17; this reader reads versions 1 to 2");
	mla_buf_free(&env);
}

/* Before anything else: a bare root of an unknown version, no Header, no Signature. */
static void test_before_structure(void **state)
{
	static const char bare[] = "<?xml version=\"1.0\"?>\n<x:Envelope "
				   "xmlns:x=\"urn:mlagw:envelope:9\" version=\"9\"/>";
	struct fixture *f = *state;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_envelope_verify((const uint8_t *)bare, sizeof(bare) - 1, f->trust,
					     &f->limits, &v, &d), MLA_ERR_UNSUPPORTED_VERSION);
	assert_non_null(strstr(d.msg, "envelope version 9"));
}

/* What is no version marker is not a version: the schema (or the wrapping check) refuses it,
 * and versions 1 and 2 still verify. */
static void test_not_a_version(void **state)
{
	static const char *const bad[] = {"urn:mlagw:envelope:x", "urn:mlagw:envelope:0",
					  "urn:mlagw:envelope:02", "urn:mlagw:envelope:",
					  "urn:mlagw:envelope:12345678901"};
	struct fixture *f = *state;
	char ns[96];
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;
	mla_err r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sealed(f, 2, &env);
		assert_int_equal(mla_snprintf(ns, sizeof(ns), "xmlns:mla=\"%s\"", bad[i]), MLA_OK);
		fixture_replace(&env, "xmlns:mla=\"urn:mlagw:envelope:2\"", ns);
		r = verify(f, &env, &v, &d);
		if (r == MLA_OK || r == MLA_ERR_UNSUPPORTED_VERSION)
			fail_msg("%s: %s", bad[i], mla_errname(r));
		mla_buf_free(&env);
	}
	for (int version = 1; version <= 2; version++) {
		sealed(f, version, &env);
		assert_int_equal(verify(f, &env, &v, &d), MLA_OK);
		mla_buf_free(&env);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_version_refused_at_root),
		cmocka_unit_test(test_before_structure),
		cmocka_unit_test(test_not_a_version),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
