/* Hostile envelopes, confidentiality, algorithms, schema, unknown States and part Ids, and a
 * valid envelope that still opens (helpers: hostile_fx.h). */
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

/* ---- 11-14: confidentiality ---- */

static void test_wrong_recipient(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	expect_open(f, env.data, env.len, f->co_keys, "MX", &f->limits, MLA_ERR_WRONG_RECIPIENT,
		    "addressed to CO, this gateway is MX");
	mla_buf_free(&env);
}

static void test_no_decrypt_key(void **state)
{
	struct fixture *f = *state;
	char cp[PATH_MAX], kp[PATH_MAX];
	mla_keyring *mx = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;

	assert_int_equal(mla_keyring_new(&mx), MLA_OK);
	assert_int_equal(mla_keyring_add_file(mx, fixture_path(f, "MX/encrypt.crt", cp),
					      fixture_path(f, "MX/encrypt.key", kp), &d),
			 MLA_OK);
	seal_small(f, &env);
	expect_open(f, env.data, env.len, mx, "CO", &f->limits, MLA_ERR_NO_DECRYPT_KEY,
		    "which this gateway does not hold");
	mla_buf_free(&env);
	mla_keyring_free(mx);
}

static void test_tampered_ciphertext_gcm(void **state)
{
	struct fixture *f = *state;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;

	seal_small(f, &env);
	resign(&env, f->es_signer, edit_flip_payload, NULL);
	/* the signature is good: only the GCM tag can tell */
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	expect_open(f, env.data, env.len, f->co_keys, "CO", &f->limits, MLA_ERR_DECRYPT,
		    "GCM tag");
	mla_buf_free(&env);
}

static void test_tampered_ciphertext_unsigned(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	flip_payload_text(&env);
	expect_refused(f, &env, MLA_ERR_SIG_INVALID, "payload altered");
	mla_buf_free(&env);
}

static void test_zip_bomb(void **state)
{
	struct fixture *f = *state;
	size_t len = (size_t)50 << 20;
	uint8_t *zeros = calloc(1, len);
	mla_limits big = f->limits;
	mla_buf env;

	assert_non_null(zeros);
	big.max_document_bytes = len;
	seal_as(f, f->es_signer, zeros, len, &big, &env);
	free(zeros);
	expect_open(f, env.data, env.len, f->co_keys, "CO", &f->limits, MLA_ERR_ZIP_BOMB,
		    "expands more than 100:1");
	mla_buf_free(&env);
}

static void test_zip_bomb_size_limit(void **state)
{
	struct fixture *f = *state;
	size_t len = f->limits.max_document_bytes + 1;
	uint8_t *doc = malloc(len);
	mla_limits big = f->limits;
	mla_buf env;

	assert_non_null(doc);
	fixture_document(doc, len, 7);
	big.max_document_bytes = len;
	seal_as(f, f->es_signer, doc, len, &big, &env);
	free(doc);
	expect_open(f, env.data, env.len, f->co_keys, "CO", &f->limits, MLA_ERR_ZIP_BOMB,
		    "beyond the document limit");
	mla_buf_free(&env);
}

/* ---- 15: algorithms ---- */

static void expect_alg(void **state, const char *from, const char *to, mla_err want,
		       const char *msg)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, from, to);
	expect_refused(f, &env, want, msg);
	mla_buf_free(&env);
}

#define SIGMETHOD "<ds:SignatureMethod Algorithm=\""
#define DIGEST "<ds:DigestMethod Algorithm=\""
#define DSIG_MORE "http://www.w3.org/2001/04/xmldsig-more#"

static void test_alg_rsa_sha1(void **state)
{
	expect_alg(state, SIGMETHOD DSIG_MORE "ecdsa-sha256", SIGMETHOD DS_NS "rsa-sha1",
		   MLA_ERR_ALG_WEAK, "weak algorithm rsa-sha1 refused in SignatureMethod");
}

static void test_alg_md5_digest(void **state)
{
	expect_alg(state, DIGEST ALG_SHA256, DIGEST DSIG_MORE "md5", MLA_ERR_ALG_WEAK,
		   "weak algorithm md5 refused in DigestMethod");
}

static void test_alg_sha1_digest(void **state)
{
	expect_alg(state, DIGEST ALG_SHA256, DIGEST DS_NS "sha1", MLA_ERR_ALG_WEAK,
		   "weak algorithm sha1 refused in DigestMethod");
}

static void test_alg_rsa_1_5(void **state)
{
	expect_alg(state, ALG_RSA_OAEP, XENC_NS "rsa-1_5", MLA_ERR_ALG_WEAK,
		   "weak algorithm rsa-1_5");
}

static void test_alg_aes256_cbc(void **state)
{
	expect_alg(state, ALG_AES256_GCM, XENC_NS "aes256-cbc", MLA_ERR_ALG_WEAK,
		   "weak algorithm aes256-cbc");
}

static void test_alg_unknown(void **state)
{
	expect_alg(state, SIGMETHOD DSIG_MORE "ecdsa-sha256", SIGMETHOD "urn:example:rot13",
		   MLA_ERR_ALG_UNKNOWN,
		   "algorithm urn:example:rot13 not allowed in SignatureMethod");
}

static void test_alg_xslt_transform(void **state)
{
	expect_alg(state, "<ds:Transform Algorithm=\"" ALG_EXC_C14N,
		   "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116",
		   MLA_ERR_ALG_WEAK, "weak algorithm xslt refused in Transform");
}

/* ---- 16: schema and malformed input ---- */

static void test_schema_extra_header_element(void **state)
{
	expect_alg(state, "</mla:Header>", "<mla:Note>call me</mla:Note></mla:Header>",
		   MLA_ERR_SCHEMA, "does not match the schema");
}

static void test_schema_foreign_object(void **state)
{
	expect_alg(state, "</ds:Signature>",
		   "<ds:Object><x:Junk xmlns:x=\"urn:example:junk\">hi</x:Junk></ds:Object>"
		   "</ds:Signature>",
		   MLA_ERR_SCHEMA, "Object");
}

static void test_malformed_truncated(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	expect_refused_l(f, env.data, env.len / 2, &f->limits, MLA_ERR_XML_MALFORMED,
			 "malformed XML");
	mla_buf_free(&env);
}

static void test_malformed_empty(void **state)
{
	struct fixture *f = *state;

	expect_refused_l(f, "", 0, &f->limits, MLA_ERR_XML_MALFORMED, "malformed XML");
	expect_refused_l(f, NULL, 0, &f->limits, MLA_ERR_XML_MALFORMED, "malformed XML");
}

/* A comment inside signed header text (canonicalisation drops it) must not truncate what
 * the reader sees: the whole text is read, as signed. */
static void test_comment_in_header_text(void **state)
{
	struct fixture *f = *state;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;

	seal_small(f, &env);
	fixture_replace(&env, "Fiscalia General", "Fiscalia<!-- x --> General");
	if (mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d) != MLA_OK)
		fail_msg("verify: %s", d.msg);
	assert_string_equal(v.header.to_authority, "Fiscalia General de la Nacion");
	mla_buf_free(&env);
}

/* ---- 17: unknown State ---- */

static void test_unknown_state(void **state)
{
	struct fixture *f = *state;
	mla_buf env;

	seal_small(f, &env);
	resign(&env, f->es_signer, edit_from_state, "FR");
	expect_refused(f, &env, MLA_ERR_UNKNOWN_STATE, "no trusted root for State FR");
	mla_buf_free(&env);
}

/* ---- 18: Ids that are not the MessageId's (issue 10 finding 9) ---- */

/* Sets the Id of part ("Header" or "Payload") to arg, before re-signing. */
static void edit_part_id(xmlDocPtr doc, void *arg)
{
	const char *const *a = arg;

	assert_non_null(xmlSetProp(env_part(doc, a[0]), BAD_CAST "Id", BAD_CAST a[1]));
}

static void test_part_id_not_message_id(void **state)
{
	struct fixture *f = *state;
	const char *header[] = {"Header", "H-00000000-0000-4000-8000-000000000001"};
	const char *payload[] = {"Payload", "P-00000000-0000-4000-8000-000000000001"};
	mla_buf env;

	seal_small(f, &env);
	resign(&env, f->es_signer, edit_part_id, header);
	expect_refused(f, &env, MLA_ERR_HEADER, "Header Id is not H- and its MessageId");
	mla_buf_free(&env);
	seal_small(f, &env);
	resign(&env, f->es_signer, edit_part_id, payload);
	expect_refused(f, &env, MLA_ERR_HEADER, "Payload Id is not P- and its MessageId");
	mla_buf_free(&env);
}

/* ---- sanity ---- */

/* After all of the above, a valid envelope still opens, also after a no-op re-signing. */
static void test_valid_still_opens(void **state)
{
	struct fixture *f = *state;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env, doc;

	seal_small(f, &env);
	resign(&env, f->es_signer, NULL, NULL);
	if (mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO", &f->limits, &v, &doc,
			      &d) != MLA_OK)
		fail_msg("open: %s", d.msg);
	assert_int_equal(doc.len, sizeof(SMALL_DOC) - 1);
	assert_memory_equal(doc.data, SMALL_DOC, doc.len);
	mla_buf_free(&doc);
	mla_buf_free(&env);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_recipient),
		cmocka_unit_test(test_no_decrypt_key),
		cmocka_unit_test(test_tampered_ciphertext_gcm),
		cmocka_unit_test(test_tampered_ciphertext_unsigned),
		cmocka_unit_test(test_zip_bomb),
		cmocka_unit_test(test_zip_bomb_size_limit),
		cmocka_unit_test(test_alg_rsa_sha1),
		cmocka_unit_test(test_alg_md5_digest),
		cmocka_unit_test(test_alg_sha1_digest),
		cmocka_unit_test(test_alg_rsa_1_5),
		cmocka_unit_test(test_alg_aes256_cbc),
		cmocka_unit_test(test_alg_unknown),
		cmocka_unit_test(test_alg_xslt_transform),
		cmocka_unit_test(test_schema_extra_header_element),
		cmocka_unit_test(test_schema_foreign_object),
		cmocka_unit_test(test_malformed_truncated),
		cmocka_unit_test(test_malformed_empty),
		cmocka_unit_test(test_comment_in_header_text),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_part_id_not_message_id),
		cmocka_unit_test(test_valid_still_opens),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
