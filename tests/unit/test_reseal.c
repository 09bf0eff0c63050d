/* Re-sealing (mla_envelope_reseal, SPEC 13 Time): the new seal verifies and opens to the same
 * document, differs from the old only in Created and the signature, and both carry the same
 * signed Payload digest; an envelope that does not verify is not sealed again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "fixture.h"

static void test_reseal_keeps_all_but_created(void **state)
{
	struct fixture *f = *state;
	const char doc[] = "<Request>tracing of proceeds</Request>";
	mla_buf env, again, out;
	mla_verified v1, v2;
	mla_header h1;
	mla_diag d = {MLA_OK, ""};
	time_t later;

	assert_int_equal(fixture_seal(f, doc, sizeof(doc) - 1, &env), MLA_OK);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v1, &d),
			 MLA_OK);
	later = v1.header.created + 8 * 86400;
	if (mla_envelope_reseal(env.data, env.len, f->trust, f->es_signer, later, &f->limits,
				&again, &d) != MLA_OK)
		fail_msg("reseal: %s", d.msg);
	if (mla_envelope_open(again.data, again.len, f->trust, f->co_keys, "CO", &f->limits, &v2,
			      &out, &d) != MLA_OK)
		fail_msg("open the new seal: %s", d.msg);
	assert_int_equal(out.len, sizeof(doc) - 1);
	assert_memory_equal(out.data, doc, out.len);
	assert_int_equal(v2.header.created, later);
	h1 = v1.header;
	h1.created = later;
	assert_memory_equal(&h1, &v2.header, sizeof(h1));
	assert_memory_equal(v1.payload_digest, v2.payload_digest, 32);
	assert_memory_not_equal(v1.digest, v2.digest, 32);
	mla_buf_free(&out);
	mla_buf_free(&again);
	mla_buf_free(&env);
}

/* Two different messages have different Payload digests (the check means something). */
static void test_payload_digest_differs(void **state)
{
	struct fixture *f = *state;
	mla_buf a, b;
	mla_verified va, vb;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(fixture_seal(f, "x", 1, &a), MLA_OK);
	assert_int_equal(fixture_seal(f, "x", 1, &b), MLA_OK);
	assert_int_equal(mla_envelope_verify(a.data, a.len, f->trust, &f->limits, &va, &d), MLA_OK);
	assert_int_equal(mla_envelope_verify(b.data, b.len, f->trust, &f->limits, &vb, &d), MLA_OK);
	assert_memory_not_equal(va.payload_digest, vb.payload_digest, 32);
	mla_buf_free(&a);
	mla_buf_free(&b);
}

static void test_reseal_refuses_tampered(void **state)
{
	struct fixture *f = *state;
	mla_buf env, again;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(fixture_seal(f, "doc", 3, &env), MLA_OK);
	fixture_replace(&env, "<mla:Kind>mla</mla:Kind>", "<mla:Kind>crisis</mla:Kind>");
	assert_int_equal(mla_envelope_reseal(env.data, env.len, f->trust, f->es_signer, 1,
					     &f->limits, &again, &d),
			 MLA_ERR_SIG_INVALID);
	assert_int_equal(again.len, 0);
	mla_buf_free(&again);
	mla_buf_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reseal_keeps_all_but_created),
		cmocka_unit_test(test_payload_digest_differs),
		cmocka_unit_test(test_reseal_refuses_tampered),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
