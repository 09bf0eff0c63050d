/* Envelope version 2 (protocol/SPEC.md 16.7): sealed and read beside version 1; its Kinds and
 * Actions only in it; the version fixed by namespace and attribute together; a part of the
 * other version inside refused as wrapping; re-sealing keeps the version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "mlagw/receipt.h"
#include "fixture.h"

static void set(char *dst, size_t n, const char *v)
{
	assert_int_equal(mla_snprintf(dst, n, "%s", v), MLA_OK);
}

/* A header ES -> CO of envelope version `version`, Kind and Action as given. */
static void header(mla_header *h, int version, const char *kind, const char *action)
{
	fixture_header(h);
	h->version = version;
	set(h->kind, sizeof(h->kind), kind);
	set(h->action, sizeof(h->action), action);
}

static mla_err seal(const struct fixture *f, const mla_header *h, mla_buf *env, mla_diag *d)
{
	return mla_envelope_seal(h, (const uint8_t *)"<a/>", 4, f->es_signer, f->co_rcpt,
				 &f->limits, env, d);
}

static int contains(mla_buf *env, const char *s)
{
	assert_int_equal(mla_buf_terminate(env), MLA_OK);
	return strstr((const char *)env->data, s) != NULL;
}

/* Every Kind and Action of version 2 travels in a version 2 envelope and comes out as sent. */
static void test_v2_round_trip(void **state)
{
	static const char *const pairs[][2] = {
		{"production-order", "request"},  {"preservation-order", "request"},
		{"spontaneous-information", "request"}, {"production-order", "postponed"},
		{"mla", "forwarded"},             {"mla", "in-execution"},
		{"extradition", "closed"},        {"mla", "request"},
		{"preservation-order", "deadline-extended"},
		{"mla", "retrieved"},             {"extradition", "not-retrieved"},
		{"mla", "other-channel"},
		{"extradition", "person-arrested"}, {"provisional-arrest", "surrender-consented"},
	};
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env, doc;
	mla_diag d = {MLA_OK, ""};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		header(&h, 2, pairs[i][0], pairs[i][1]);
		if (seal(f, &h, &env, &d) != MLA_OK)
			fail_msg("seal %s/%s: %s", pairs[i][0], pairs[i][1], d.msg);
		assert_true(contains(&env, "\"urn:mlagw:envelope:2\""));
		assert_true(contains(&env, "version=\"2\""));
		assert_false(contains(&env, "urn:mlagw:envelope:1"));
		assert_int_equal(mla_envelope_sealed_version(env.data, env.len), 2);
		if (mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO", &f->limits, &v,
				      &doc, &d) != MLA_OK)
			fail_msg("open %s/%s: %s", pairs[i][0], pairs[i][1], d.msg);
		assert_int_equal(v.header.version, 2);
		assert_string_equal(v.header.kind, pairs[i][0]);
		assert_string_equal(v.header.action, pairs[i][1]);
		assert_int_equal(doc.len, 4);
		mla_buf_free(&doc);
		mla_buf_free(&env);
	}
}

/* Version 1 stays as it was: its namespace, version="1", read back as version 1. */
static void test_v1_unchanged(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};

	header(&h, 1, "evidence", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	assert_true(contains(&env, "\"urn:mlagw:envelope:1\""));
	assert_true(contains(&env, "version=\"1\""));
	assert_int_equal(mla_envelope_sealed_version(env.data, env.len), 1);
	assert_int_equal(mla_envelope_sealed_version(env.data, 40), 0);
	assert_int_equal(mla_envelope_sealed_version((const uint8_t *)"<a/>", 4), 0);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	assert_int_equal(v.header.version, 1);
	mla_buf_free(&env);
	header(&h, 0, "evidence", "request"); /* a zeroed version is version 1 */
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	assert_true(contains(&env, "\"urn:mlagw:envelope:1\""));
	mla_buf_free(&env);
}

/* A version 2 value cannot be sealed in version 1, and no version beyond 2 exists. */
static void test_v1_refuses_v2_values(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};

	header(&h, 1, "production-order", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Kind 'production-order' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "evidence", "postponed");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'postponed' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "evidence", "deadline-extended");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'deadline-extended' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "mla", "retrieved");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'retrieved' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "mla", "other-channel");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'other-channel' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "extradition", "person-arrested");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'person-arrested' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 1, "extradition", "surrender-consented");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Action 'surrender-consented' needs envelope version 2"));
	mla_buf_free(&env);
	header(&h, 3, "evidence", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_ERR_HEADER);
	mla_buf_free(&env);
	header(&h, -1, "evidence", "request");
	assert_int_equal(mla_header_check(&h, &d), MLA_ERR_HEADER);
}

/* Namespace and attribute name one version together (SPEC 11 rule 1): either changed alone
 * is refused by the schema, before any cryptography. */
static void test_version_marks_agree(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};

	header(&h, 2, "mla", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	fixture_replace(&env, "version=\"2\"", "version=\"1\"");
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&env);

	header(&h, 1, "mla", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	fixture_replace(&env, "version=\"1\"", "version=\"2\"");
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&env);

	header(&h, 2, "mla", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	fixture_replace(&env, "version=\"2\"", "version=\"3\"");
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&env);
}

static void set_kind(xmlDocPtr doc, void *arg)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	for (xmlNodePtr hd = root->children; hd != NULL; hd = hd->next)
		if (hd->type == XML_ELEMENT_NODE && xmlStrEqual(hd->name, BAD_CAST "Header"))
			for (xmlNodePtr c = hd->children; c != NULL; c = c->next)
				if (c->type == XML_ELEMENT_NODE &&
				    xmlStrEqual(c->name, BAD_CAST "Kind"))
					xmlNodeSetContent(c, BAD_CAST arg);
}

/* A version 1 envelope naming a version 2 Kind, signed by its legitimate sender, is refused:
 * version 1's schema does not name it. */
static void test_v1_with_v2_kind_refused(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};
	xmlDocPtr doc;

	header(&h, 1, "evidence", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	doc = fixture_parse(&env);
	fixture_resign(doc, f->es_signer, set_kind, (void *)"production-order", &env);
	xmlFreeDoc(doc);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&env);
}

/* A Header of the other version anywhere in the document is wrapping, both ways. */
static void test_other_version_part_is_wrapping(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env;
	mla_diag d = {MLA_OK, ""};

	header(&h, 2, "mla", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	fixture_replace(&env, "<mla:Handling>",
			"<o:Header xmlns:o=\"urn:mlagw:envelope:1\"/><mla:Handling>");
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SIG_WRAPPING);
	mla_buf_free(&env);

	header(&h, 1, "mla", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	fixture_replace(&env, "<mla:Handling>",
			"<o:Payload xmlns:o=\"urn:mlagw:envelope:2\"/><mla:Handling>");
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SIG_WRAPPING);
	mla_buf_free(&env);
}

/* Re-sealing (SPEC 13 Time) keeps the envelope's version. */
static void test_reseal_keeps_version(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_buf env, again;
	mla_diag d = {MLA_OK, ""};

	header(&h, 2, "preservation-order", "closed");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	if (mla_envelope_reseal(env.data, env.len, f->trust, f->es_signer, h.created + 60,
				&f->limits, &again, &d) != MLA_OK)
		fail_msg("reseal: %s", d.msg);
	assert_true(contains(&again, "\"urn:mlagw:envelope:2\""));
	assert_int_equal(mla_envelope_verify(again.data, again.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	assert_int_equal(v.header.version, 2);
	assert_string_equal(v.header.action, "closed");
	mla_buf_free(&again);
	mla_buf_free(&env);
}

/* Receipts follow the envelope (SPEC 11 rule 7): a version 2 envelope is answered in
 * receipt version 2, positive too, and a sender refuses version 1 for it; version 1 envelopes
 * take either (version 2 only for a refusal listing problems). */
static void test_receipt_pairing(void **state)
{
	struct fixture *f = *state;
	mla_header h;
	mla_verified v;
	mla_receipt r, back;
	mla_buf env, rc;
	mla_diag d = {MLA_OK, ""};

	header(&h, 2, "production-order", "request");
	assert_int_equal(seal(f, &h, &env, &d), MLA_OK);
	assert_int_equal(mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO",
					   &f->limits, &v, &rc, &d), MLA_OK);
	mla_buf_free(&rc);
	assert_int_equal(mla_receipt_init(&r), MLA_OK);
	memcpy(r.message_id, h.message_id, sizeof(r.message_id));
	memcpy(r.envelope_digest, v.digest, 32);
	memcpy(r.receiver_state, "CO", 3);
	memcpy(r.sender_state, "ES", 3);
	r.outcome = MLA_OUTCOME_ACCEPTED;
	r.version = 2;
	assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &rc, &d), MLA_OK);
	assert_int_equal(mla_receipt_verify(rc.data, rc.len, f->trust, &f->limits, &back, &d),
			 MLA_OK);
	assert_int_equal(back.version, 2);
	assert_int_equal(mla_receipt_match(&back, "CO", h.message_id, v.digest, &d), MLA_OK);
	assert_int_equal(mla_receipt_match_version(
				 &back, mla_envelope_sealed_version(env.data, env.len), &d),
			 MLA_OK);
	back.version = 1;
	assert_int_equal(mla_receipt_match_version(&back, 2, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "receipt version 1 for an envelope of version 2"));
	assert_int_equal(mla_receipt_match_version(&back, 1, &d), MLA_OK);
	back.version = 2;
	assert_int_equal(mla_receipt_match_version(&back, 1, &d), MLA_OK);
	assert_int_equal(mla_receipt_match_version(&back, 0, &d), MLA_OK);
	mla_buf_free(&rc);
	mla_buf_free(&env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_round_trip),
		cmocka_unit_test(test_v1_unchanged),
		cmocka_unit_test(test_v1_refuses_v2_values),
		cmocka_unit_test(test_version_marks_agree),
		cmocka_unit_test(test_v1_with_v2_kind_refused),
		cmocka_unit_test(test_other_version_part_is_wrapping),
		cmocka_unit_test(test_reseal_keeps_version),
		cmocka_unit_test(test_receipt_pairing),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
