/* Seal and open round trips for documents of 0 B, 2 KiB, 1 MiB and 20 MiB, and the facts
 * verification reports about them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "fixture.h"

static void round_trip(void **state, size_t len)
{
	struct fixture *f = *state;
	uint8_t *doc = malloc(len > 0 ? len : 1);
	mla_buf env, out;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	uint8_t digest[32];

	assert_non_null(doc);
	fixture_document(doc, len, (unsigned)len);
	assert_int_equal(fixture_seal(f, doc, len, &env), MLA_OK);
	if (mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO", &f->limits, &v, &out,
			      &d) != MLA_OK)
		fail_msg("open %zu bytes: %s", len, d.msg);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data != NULL ? out.data : (uint8_t *)"", doc, len);
	SHA256(env.data, env.len, digest);
	assert_memory_equal(v.digest, digest, 32);
	assert_string_equal(v.header.from_state, "ES");
	assert_string_equal(v.header.to_state, "CO");
	assert_string_equal(v.header.kind, "mla");
	assert_non_null(strstr(v.signer_subject, "C=ES"));
	assert_int_equal(strncmp(v.recipient_key, "sha256:", 7), 0);
	mla_buf_free(&out);
	mla_buf_free(&env);
	free(doc);
}

static void test_empty_document(void **state) { round_trip(state, 0); }
static void test_2k_document(void **state) { round_trip(state, 2048); }
static void test_1m_document(void **state) { round_trip(state, (size_t)1 << 20); }
static void test_20m_document(void **state) { round_trip(state, (size_t)20 << 20); }

/* The payload is really encrypted: no document text appears in the envelope. */
static void test_payload_is_not_in_clear(void **state)
{
	struct fixture *f = *state;
	const char doc[] = "<Request><Victim>Maria Example</Victim></Request>";
	mla_buf env;

	assert_int_equal(fixture_seal(f, doc, sizeof(doc) - 1, &env), MLA_OK);
	assert_int_equal(mla_buf_terminate(&env), MLA_OK);
	assert_null(strstr((char *)env.data, "Maria"));
	assert_null(strstr((char *)env.data, "Victim"));
	mla_buf_free(&env);
}

/* Every header field survives the trip, including the optional ones. */
static void test_header_fields_round_trip(void **state)
{
	struct fixture *f = *state;
	mla_header h, *g;
	mla_buf env, out;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	assert_int_equal(mla_snprintf(h.case_id, sizeof(h.case_id), "ES-2026/0042"), MLA_OK);
	memcpy(h.in_reply_to, h.message_id, sizeof(h.in_reply_to));
	assert_int_equal(mla_snprintf(h.kind, sizeof(h.kind), "extradition"), MLA_OK);
	assert_int_equal(mla_snprintf(h.action, sizeof(h.action), "partially-executed"), MLA_OK);
	assert_int_equal(mla_snprintf(h.handling, sizeof(h.handling), "secret"), MLA_OK);
	h.priority = MLA_PRIORITY_CRISIS;
	assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"x", 1, f->es_signer, f->co_rcpt, &f->limits, &env,
					   &d), MLA_OK);
	assert_int_equal(mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO",
					   &f->limits, &v, &out, &d), MLA_OK);
	g = &v.header;
	assert_string_equal(g->message_id, h.message_id);
	assert_string_equal(g->case_id, "ES-2026/0042");
	assert_string_equal(g->in_reply_to, h.in_reply_to);
	assert_string_equal(g->kind, "extradition");
	assert_string_equal(g->action, "partially-executed");
	assert_string_equal(g->handling, "secret");
	assert_string_equal(g->from_authority, "Ministerio de Justicia");
	assert_string_equal(g->to_authority, "Fiscalia General de la Nacion");
	assert_int_equal(g->priority, MLA_PRIORITY_CRISIS);
	assert_int_equal(g->created, h.created);
	mla_buf_free(&out);
	mla_buf_free(&env);
}

/* Issue 10 finding 8: authority names are text without C0, DEL or C1 controls (SPEC 3), in
 * valid UTF-8; accented names stay allowed. */
static void test_authority_controls_refused(void **state)
{
	const char *bad[] = {"\x01", "\x7f", "\xc2\x85", "\xc2\x9b", "\xff", "\xc3"};
	mla_header h;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fixture_header(&h);
		assert_true(snprintf(h.from_authority, sizeof(h.from_authority), "Fiscal%s", bad[i]) > 0);
		assert_int_equal(mla_header_check(&h, &d), MLA_ERR_HEADER);
		fixture_header(&h);
		assert_true(snprintf(h.to_authority, sizeof(h.to_authority), "Fiscal%s", bad[i]) > 0);
		assert_int_equal(mla_header_check(&h, &d), MLA_ERR_HEADER);
	}
	fixture_header(&h);
	assert_true(snprintf(h.to_authority, sizeof(h.to_authority), "Fiscal\xc3\xad" "a") > 0);
	assert_int_equal(mla_header_check(&h, &d), MLA_OK);
}

/* Verification alone needs no key and gives the same facts as opening. */
static void test_verify_without_keys(void **state)
{
	struct fixture *f = *state;
	mla_buf env;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(fixture_seal(f, "<a/>", 4, &env), MLA_OK);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	assert_string_equal(v.header.from_state, "ES");
	assert_int_equal(strlen(v.signer_fingerprint), 64);
	mla_buf_free(&env);
}

/* The signer chain is cached after the first verification; the cached result must not
 * outlive the certificates: verified again 10 years later it is refused as expired. */
static void test_cached_chain_still_checks_time(void **state)
{
	struct fixture *f = *state;
	mla_limits later = f->limits;
	mla_buf env;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(fixture_seal(f, "<a/>", 4, &env), MLA_OK);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	later.verify_time = time(NULL) + 10L * 366 * 24 * 3600;
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &later, &v, &d),
			 MLA_ERR_CERT_EXPIRED);
	assert_non_null(strstr(d.msg, "expired on"));
	mla_buf_free(&env);
}

/* A header that breaks the vocabulary is refused at sealing, naming the field. */
static void test_seal_refuses_bad_header(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	assert_int_equal(mla_snprintf(h.kind, sizeof(h.kind), "ransom"), MLA_OK);
	assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"x", 1, f->es_signer, f->co_rcpt, &f->limits, &env,
					   &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Kind"));
	fixture_header(&h);
	memcpy(h.to_state, "co", 3);
	assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"x", 1, f->es_signer, f->co_rcpt, &f->limits, &env,
					   &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "To"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_document),
		cmocka_unit_test(test_2k_document),
		cmocka_unit_test(test_1m_document),
		cmocka_unit_test(test_20m_document),
		cmocka_unit_test(test_payload_is_not_in_clear),
		cmocka_unit_test(test_header_fields_round_trip),
		cmocka_unit_test(test_authority_controls_refused),
		cmocka_unit_test(test_verify_without_keys),
		cmocka_unit_test(test_seal_refuses_bad_header),
		cmocka_unit_test(test_cached_chain_still_checks_time),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
