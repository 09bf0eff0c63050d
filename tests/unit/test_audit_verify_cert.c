/* mla_audit_verify reads the bundle's own audit certificate (SPEC 15 step 2) as strictly as
 * the peers' (step 6, verify_cert.c): exactly one PEM block CERTIFICATE holding exactly one
 * DER certificate, nothing before it and only whitespace after it, an Ed25519 key whose key
 * usage allows digitalSignature. ES's audit certificate is issued as `mlagw pki init` issues
 * one (mla_pki_issue, MLA_ROLE_AUDIT) and passes; each test alters the record "audit". */
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
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

/* The PEM of cert, as export and PEM_write write it. */
static void pem_of(X509 *cert, mla_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_X509(bio, cert), 1);
	assert_true((n = BIO_get_mem_data(bio, &p)) > 0);
	mla_buf_init(out, 1 << 16);
	assert_int_equal(mla_buf_append(out, p, (size_t)n), MLA_OK);
	BIO_free(bio);
}

/* ES's bundle of two reloads with "audit" = before, the record's PEM (cert, or ES's audit
 * certificate), after; verified. */
static mla_audit_result *verify_with(const char *before, X509 *cert, const char *after,
				     struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {b};
	mla_audit_entry e[2];
	uint64_t cp = 2;
	mla_buf pem, rec;

	for (size_t i = 0; i < 2; i++)
		tb_entry(&e[i], i, (int64_t)time(NULL) * 1000 - 1000 + (int64_t)i,
			 MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(b, &es, e, 2, &cp, 1, NULL), 0);
	pem_of(cert != NULL ? cert : es.audit_cert, &pem);
	mla_buf_init(&rec, 1 << 16);
	assert_int_equal(mla_buf_append(&rec, before, strlen(before)), MLA_OK);
	assert_int_equal(mla_buf_append(&rec, pem.data, pem.len), MLA_OK);
	assert_int_equal(mla_buf_append(&rec, after, strlen(after)), MLA_OK);
	assert_int_equal(tb_set(b, MLA_BUNDLE_CERTIFICATE, "audit", rec.data, rec.len), 0);
	mla_buf_free(&pem);
	mla_buf_free(&rec);
	return tv_verify(tt.trust, bs, 1);
}

/* The audit certificate is refused as cert-form (message naming what), so no checkpoint
 * opens: those failures follow and are not counted here. */
static void expect_form(const char *before, X509 *cert, const char *after, const char *what)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_with(before, cert, after, &b);
	const mla_audit_failure *f = tv_expect(r, 0, MLA_AUDIT_R_CERT_FORM,
					       MLA_AUDIT_CHECK_CERTIFICATE,
					       MLA_BUNDLE_CERTIFICATE, "audit");

	assert_non_null(strstr(f->message, what));
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_CERTIFICATE], 1);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_CERTIFICATE], 0);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void expect_ok(const char *before, const char *after)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_with(before, NULL, after, &b);

	if (r->failures != 0)
		fail_msg("unexpected: %s", r->bundles[0].failures[0].message);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* As export writes it (one block, its final newline), and with whitespace after: accepted,
 * as for the peers' certificates. */
static void test_good(void **state)
{
	(void)state;
	expect_ok("", "");
	expect_ok("", "\n \t\r\n");
}

/* Text before or after the block, and a second block (another copy): each was read past by
 * the first-certificate-wins reader. */
static void test_not_one_pem(void **state)
{
	mla_buf second;

	(void)state;
	expect_form("subject=C=ES\n", NULL, "", "not one PEM certificate");
	expect_form("", NULL, "trailer\n", "not one PEM certificate");
	pem_of(es.root, &second);
	assert_int_equal(mla_buf_append(&second, "", 1), MLA_OK); /* NUL-terminated */
	expect_form("", NULL, (const char *)second.data, "not one PEM certificate");
	mla_buf_free(&second);
}

/* The block's DER with two bytes after the certificate (OpenSSL's reader ignores them). */
static void test_der_trailer(void **state)
{
	struct tb_bundle b;
	const struct tb_bundle *bs[] = {&b};
	unsigned char *der = NULL, *p;
	int n = i2d_X509(es.audit_cert, &der);
	BIO *bio = BIO_new(BIO_s_mem());
	mla_audit_entry e[1];
	uint64_t cp = 1;
	char *pem;
	long len;
	mla_audit_result *r;

	(void)state;
	assert_true(n > 0);
	assert_non_null(p = OPENSSL_malloc((size_t)n + 2));
	memcpy(p, der, (size_t)n);
	p[n] = p[n + 1] = 0;
	assert_true(PEM_write_bio(bio, "CERTIFICATE", "", p, n + 2) > 0);
	assert_true((len = BIO_get_mem_data(bio, &pem)) > 0);
	tb_entry(&e[0], 0, (int64_t)time(NULL) * 1000 - 1000, MLA_AUDIT_CONFIG_RELOADED, NULL,
		 NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(&b, &es, e, 1, &cp, 1, NULL), 0);
	assert_int_equal(tb_set(&b, MLA_BUNDLE_CERTIFICATE, "audit", pem, (size_t)len), 0);
	r = tv_verify(tt.trust, bs, 1);
	tv_expect(r, 0, MLA_AUDIT_R_CERT_FORM, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_CERTIFICATE,
		  "audit");
	mla_audit_result_free(r);
	tb_free(&b);
	BIO_free(bio);
	OPENSSL_free(der);
	OPENSSL_free(p);
}

/* ES's audit certificate without its key usage (re-signed by ES's root): refused, though it
 * chains and its key is Ed25519. */
static void test_no_digital_signature(void **state)
{
	X509 *c = X509_dup(es.audit_cert);
	int at;

	(void)state;
	assert_non_null(c);
	assert_true((at = X509_get_ext_by_NID(c, NID_key_usage, -1)) >= 0);
	X509_EXTENSION_free(X509_delete_ext(c, at));
	assert_true(X509_sign(c, es.root_key, EVP_sha256()) > 0);
	expect_form("", c, "", "digitalSignature");
	X509_free(c);
}

/* The root as the audit certificate: EC P-256, not Ed25519. */
static void test_not_ed25519(void **state)
{
	(void)state;
	expect_form("", es.root, "", "not an Ed25519 audit key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_not_one_pem),
		cmocka_unit_test(test_der_trailer),
		cmocka_unit_test(test_no_digital_signature),
		cmocka_unit_test(test_not_ed25519),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
