/* mla_audit_verify's revocation checks (SPEC 15 step 1a and "Revocation", family
 * `revocation`): the crl records of a format 6 bundle are verified against the roots (a CRL
 * by another key, bytes that are no DER CRL, and a record whose bytes are not its name are
 * each refused), and a signer revoked at or before the time it signed fails: here the audit
 * key, revoked before the last entry its checkpoint covers (`revoked`, naming its serial),
 * while a revocation after it passes. A bundle without CRLs verifies and reports no
 * evidence. (Envelopes and receipts: tests/integration/gw-revocation-audit.sh.) */
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
#include <openssl/x509.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/pki.h"

static struct tv_trust tt;
static struct tb_state es;
static EVP_PKEY *other_key; /* a key no root holds */

static int setup(void **state)
{
	(void)state;
	assert_int_equal(tv_trust_es(&tt, &es), 0);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &other_key, NULL), MLA_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_es_end(&tt, &es);
	EVP_PKEY_free(other_key);
	return 0;
}

/* A DER CRL by key under issuer's name, listing cert revoked at revoked_at (none if NULL). */
static size_t make_crl(X509 *issuer, EVP_PKEY *key, X509 *cert, time_t revoked_at,
		       uint8_t **der)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_new();
	int n;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
	assert_non_null(ASN1_TIME_set(t, time(NULL) - 600));
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, t), 1);
	assert_non_null(ASN1_TIME_set(t, time(NULL) + 7 * 86400));
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, t), 1);
	if (cert != NULL) {
		X509_REVOKED *rv = X509_REVOKED_new();

		assert_non_null(ASN1_TIME_set(t, revoked_at));
		assert_int_equal(X509_REVOKED_set_serialNumber(rv, X509_get_serialNumber(cert)),
				 1);
		assert_int_equal(X509_REVOKED_set_revocationDate(rv, t), 1);
		assert_int_equal(X509_CRL_add0_revoked(crl, rv), 1);
	}
	assert_true(X509_CRL_sort(crl) == 1);
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	*der = NULL;
	assert_true((n = i2d_X509_CRL(crl, der)) > 0);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return (size_t)n;
}

/* A format 6 log of three entries, its last a minute ago, holding the given CRLs. */
static mla_audit_result *verify_with(const uint8_t *const *crl, const size_t *len,
				     const char *const *names, size_t n)
{
	return tv_verify_revoc(tt.trust, &es, MLA_BUNDLE_CRL, crl, len, names, n);
}

/* The audit key revoked 5 minutes ago: its checkpoint covers an entry of a minute ago. */
static void test_audit_key_revoked(void **state)
{
	uint8_t *der;
	size_t len = make_crl(es.root, es.root_key, es.audit_cert, time(NULL) - 300, &der);
	char name[65];
	const char *names[] = {name};
	const uint8_t *crls[] = {der};
	mla_audit_result *r;

	(void)state;
	tv_sha_name(der, len, name);
	r = verify_with(crls, &len, names, 1);
	tv_expect_audit_revoked(r);
	assert_int_equal(r->bundles[0].crls, 1);
	mla_audit_result_free(r);
	OPENSSL_free(der);
}

/* Revoked a minute from now: what it signed before verifies. */
static void test_revoked_later_passes(void **state)
{
	uint8_t *der;
	size_t len = make_crl(es.root, es.root_key, es.audit_cert, time(NULL) + 60, &der);
	char name[65];
	const char *names[] = {name};
	const uint8_t *crls[] = {der};
	mla_audit_result *r;

	(void)state;
	tv_sha_name(der, len, name);
	r = verify_with(crls, &len, names, 1);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].crls, 1);
	mla_audit_result_free(r);
	OPENSSL_free(der);
}

/* A CRL under the root's name signed by another key, bytes that are no CRL, and a CRL under
 * another digest's name: each `crl` or `digest`, and nothing of them is used. */
static void test_bad_crls(void **state)
{
	static const uint8_t junk[] = "not a CRL at all";
	uint8_t *forged, *good;
	size_t lens[3];
	char n_forged[65], n_junk[65], n_alt[65];
	const char *names[3];
	const uint8_t *crls[3];
	mla_audit_result *r;

	(void)state;
	lens[0] = make_crl(es.root, other_key, es.audit_cert, time(NULL) - 300, &forged);
	lens[1] = sizeof(junk) - 1;
	lens[2] = make_crl(es.root, es.root_key, es.audit_cert, time(NULL) - 300, &good);
	tv_sha_name(forged, lens[0], n_forged);
	tv_sha_name(junk, lens[1], n_junk);
	memset(n_alt, 'a', 64);
	n_alt[64] = '\0';
	/* ascending names: the altered one ("aaa...") is placed by sorting the three */
	names[0] = n_forged, crls[0] = forged;
	names[1] = n_junk, crls[1] = junk;
	names[2] = n_alt, crls[2] = good;
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (strcmp(names[j], names[i]) < 0) {
				const char *tn = names[i];
				const uint8_t *tc = crls[i];
				size_t tl = lens[i];
				names[i] = names[j], crls[i] = crls[j], lens[i] = lens[j];
				names[j] = tn, crls[j] = tc, lens[j] = tl;
			}
	r = verify_with(crls, lens, names, 3);
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_CRL), 2); /* the forged one, the junk */
	for (size_t i = 0; i < r->bundles[0].nfailures; i++) {
		const mla_audit_failure *f = &r->bundles[0].failures[i];

		if (f->refusal != MLA_AUDIT_R_CRL)
			continue;
		assert_true(strcmp(f->record, n_forged) == 0 || strcmp(f->record, n_junk) == 0);
		assert_non_null(strstr(f->message, strcmp(f->record, n_junk) == 0
							   ? "not a DER CRL"
							   : "signature does not verify"));
	}
	tv_expect(r, 0, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_REVOCATION, MLA_BUNDLE_CRL, n_alt);
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_REVOKED), 0); /* no refused CRL is used */
	assert_int_equal(r->failures, 3);
	assert_int_equal(r->bundles[0].crls, 0);
	mla_audit_result_free(r);
	OPENSSL_free(forged);
	OPENSSL_free(good);
}

/* No CRL: verified, with no revocation evidence (reported, not a failure). */
static void test_no_evidence(void **state)
{
	mla_audit_result *r;

	(void)state;
	r = verify_with(NULL, NULL, NULL, 0);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].crls, 0);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_REVOCATION], 0);
	mla_audit_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_key_revoked),
		cmocka_unit_test(test_revoked_later_passes),
		cmocka_unit_test(test_bad_crls),
		cmocka_unit_test(test_no_evidence),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
