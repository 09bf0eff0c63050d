/* mla_audit_verify's OCSP answers (SPEC 15 step 1a and "Revocation", family `revocation`):
 * the ocsp records of a format 6 bundle are verified against the roots, and a certificate an
 * answer says is revoked is judged as with a CRL: the audit key revoked before the last entry
 * its checkpoint covers fails (`revoked`, naming its serial), revoked after it passes, and a
 * good answer verifies and counts as evidence. Signed by the root itself or by a responder
 * certificate the root issued for OCSP signing; a responder without id-kp-OCSPSigning, a
 * forged answer (another key under the root's name), bytes that are no OCSPResponse, a
 * non-successful response and a record whose bytes are not its name are each refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/pki.h"

static struct tv_trust tt;
static struct tb_state es;
static EVP_PKEY *other_key, *resp_key; /* a key no root holds; the responder's */
static X509 *forged_root, *responder, *plain_signer; /* see setup */

/* cert, issued by root, with an extendedKeyUsage of OCSPSigning, signed again by root. */
static void add_ocsp_signing(X509 *cert, EVP_PKEY *root_key)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "OCSPSigning");

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(cert, ext, -1), 1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(cert, root_key, EVP_sha256()) > 0);
}

static int setup(void **state)
{
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(tv_trust_es(&tt, &es), 0);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &other_key, NULL), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &resp_key, NULL), MLA_OK);
	/* a self-signed certificate of other_key under the root's very name */
	assert_non_null(forged_root = X509_dup(es.root));
	assert_int_equal(X509_set_pubkey(forged_root, other_key), 1);
	assert_true(X509_sign(forged_root, other_key, EVP_sha256()) > 0);
	assert_int_equal(mla_pki_issue(MLA_ROLE_SIGN, "ES", "ES OCSP responder", resp_key, es.root,
				       es.root_key, now - 3600, now + 86400, NULL, &responder,
				       NULL), MLA_OK);
	add_ocsp_signing(responder, es.root_key);
	assert_int_equal(mla_pki_issue(MLA_ROLE_SIGN, "ES", "ES signer", resp_key, es.root,
				       es.root_key, now - 3600, now + 86400, NULL, &plain_signer,
				       NULL), MLA_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_es_end(&tt, &es);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(resp_key);
	X509_free(forged_root);
	X509_free(responder);
	X509_free(plain_signer);
	return 0;
}

/* A DER OCSPResponse (status rstatus) about the audit certificate: revoked at revoked_at, or
 * good when revoked_at is 0; signed by signer with key. */
static size_t make_answer(int rstatus, time_t revoked_at, X509 *signer, EVP_PKEY *key,
			  uint8_t **der)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, es.audit_cert, es.root);
	ASN1_TIME *thisupd = X509_gmtime_adj(NULL, -600), *next = X509_gmtime_adj(NULL, 86400);
	ASN1_TIME *rev = ASN1_TIME_set(NULL, revoked_at);
	OCSP_RESPONSE *resp;
	int n;

	assert_non_null(bs);
	assert_non_null(id);
	assert_non_null(OCSP_basic_add1_status(bs, id, revoked_at != 0 ? V_OCSP_CERTSTATUS_REVOKED
								       : V_OCSP_CERTSTATUS_GOOD,
					       -1, rev, thisupd, next));
	assert_int_equal(OCSP_basic_sign(bs, signer, key, EVP_sha256(), NULL, 0), 1);
	resp = OCSP_response_create(rstatus,
				    rstatus == OCSP_RESPONSE_STATUS_SUCCESSFUL ? bs : NULL);
	assert_non_null(resp);
	*der = NULL;
	assert_true((n = i2d_OCSP_RESPONSE(resp, der)) > 0);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(next);
	ASN1_TIME_free(rev);
	return (size_t)n;
}

/* One answer in a bundle of ES's log, verified. */
static mla_audit_result *verify_one(const uint8_t *der, size_t len)
{
	char name[65];
	const char *names[] = {name};
	const uint8_t *docs[] = {der};

	tv_sha_name(der, len, name);
	return tv_verify_revoc(tt.trust, &es, MLA_BUNDLE_OCSP, docs, &len, names, 1);
}

/* The audit key revoked 5 minutes ago by the root's own answer: its checkpoint covers an
 * entry of a minute ago; the same by a delegated responder. */
static void test_revoked_fails(void **state)
{
	X509 *signers[] = {es.root, responder};
	EVP_PKEY *keys[] = {es.root_key, resp_key};

	(void)state;
	for (int i = 0; i < 2; i++) {
		uint8_t *der;
		size_t len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, time(NULL) - 300,
					 signers[i], keys[i], &der);
		mla_audit_result *r = verify_one(der, len);

		tv_expect_audit_revoked(r);
		assert_int_equal(r->bundles[0].ocsps, 1);
		mla_audit_result_free(r);
		OPENSSL_free(der);
	}
}

/* Revoked a minute from now, or good: what it signed before verifies, and the answer counts. */
static void test_earlier_and_good_pass(void **state)
{
	time_t when[] = {time(NULL) + 60, 0};

	(void)state;
	for (int i = 0; i < 2; i++) {
		uint8_t *der;
		size_t len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, when[i], es.root,
					 es.root_key, &der);
		mla_audit_result *r = verify_one(der, len);

		assert_int_equal(r->failures, 0);
		assert_int_equal(r->bundles[0].ocsps, 1);
		assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_REVOCATION], 1);
		mla_audit_result_free(r);
		OPENSSL_free(der);
	}
}

/* Refused, class `ocsp`, and nothing of it used (no `revoked`): message says why. */
static void expect_refused(const uint8_t *der, size_t len, const char *why)
{
	mla_audit_result *r = verify_one(der, len);
	const mla_audit_failure *f;

	assert_int_equal(r->failures, 1);
	f = &r->bundles[0].failures[0];
	assert_int_equal(f->refusal, MLA_AUDIT_R_OCSP);
	assert_int_equal(f->check, MLA_AUDIT_CHECK_REVOCATION);
	assert_int_equal(f->record_type, MLA_BUNDLE_OCSP);
	if (strstr(f->message, why) == NULL)
		fail_msg("message '%s' does not say '%s'", f->message, why);
	assert_int_equal(r->bundles[0].ocsps, 0);
	mla_audit_result_free(r);
}

static void test_bad_answers(void **state)
{
	static const uint8_t junk[] = "not an OCSP answer";
	const time_t t = time(NULL) - 300;
	uint8_t *der, *with_tail;
	size_t len;

	(void)state;
	len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, t, forged_root, other_key, &der);
	expect_refused(der, len, "not signed by it or by a responder it certified");
	OPENSSL_free(der);
	len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, t, plain_signer, resp_key, &der);
	expect_refused(der, len, "not signed by it or by a responder it certified");
	OPENSSL_free(der);
	len = make_answer(OCSP_RESPONSE_STATUS_TRYLATER, t, es.root, es.root_key, &der);
	expect_refused(der, len, "not successful");
	OPENSSL_free(der);
	expect_refused(junk, sizeof(junk) - 1, "not a DER OCSPResponse");
	len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, t, es.root, es.root_key, &der);
	assert_non_null(with_tail = malloc(len + 1));
	memcpy(with_tail, der, len);
	with_tail[len] = 0;
	expect_refused(with_tail, len + 1, "1 bytes after the DER OCSPResponse");
	free(with_tail);
	OPENSSL_free(der);
}

/* A revoked answer under another answer's name: `digest`, and it revokes nothing. */
static void test_renamed(void **state)
{
	uint8_t *der;
	size_t len = make_answer(OCSP_RESPONSE_STATUS_SUCCESSFUL, time(NULL) - 300, es.root,
				 es.root_key, &der);
	char name[65];
	const char *names[] = {name};
	const uint8_t *docs[] = {der};
	mla_audit_result *r;

	(void)state;
	memset(name, 'a', 64);
	name[64] = '\0';
	r = tv_verify_revoc(tt.trust, &es, MLA_BUNDLE_OCSP, docs, &len, names, 1);
	tv_expect(r, 0, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_REVOCATION, MLA_BUNDLE_OCSP, name);
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_REVOKED), 0);
	assert_int_equal(r->failures, 1);
	assert_int_equal(r->bundles[0].ocsps, 0);
	mla_audit_result_free(r);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_revoked_fails),
		cmocka_unit_test(test_earlier_and_good_pass),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_renamed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
