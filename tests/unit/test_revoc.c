/* Unit tests of revocation (SPEC 18.7): the test PKI's revoke and CRL (certs/pki_revoke.c)
 * and the decisions of protocol/revoc on CRLs and OCSP answers: good, revoked (named with its
 * time), stale, unknown, signed by the wrong CA. OCSP answers are made here with OpenSSL's
 * responder API; the integration test (gw-revocation) asks a real `openssl ocsp`. */
#define _XOPEN_SOURCE 700 /* nftw() */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/ocsp.h>

#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "mlagw/privkey.h"
#include "mlagw/revoc.h"

#define CRL_URL "http://127.0.0.1:9/es.crl"
#define OCSP_URL "http://127.0.0.1:9/ocsp"

static char g_dir[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void path_of(char *buf, size_t len, const char *state, const char *file)
{
	int n = snprintf(buf, len, "%s/%s/%s", g_dir, state, file);
	assert_true(n > 0 && (size_t)n < len);
}

static X509 *cert(const char *state, const char *name)
{
	char path[256];
	X509 *x = NULL;

	path_of(path, sizeof(path), state, name);
	assert_int_equal(mla_pem_load_cert(path, &x, NULL), MLA_OK);
	return x;
}

static mla_privkey *root_key(const char *state)
{
	char path[256];
	mla_privkey *k = NULL;

	path_of(path, sizeof(path), state, "root.key");
	assert_int_equal(mla_privkey_load(path, &k, NULL), MLA_OK);
	return k;
}

static int group_setup(void **state)
{
	mla_pki_opts o;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	memcpy(g_dir, "/tmp/mlagw-test-revoc-XXXXXX", 29);
	if (mkdtemp(g_dir) == NULL)
		return -1;
	memset(&o, 0, sizeof(o));
	o.out_dir = g_dir;
	o.rsa_bits = 2048;
	o.urls.crl = CRL_URL;
	o.urls.ocsp = OCSP_URL;
	o.state = "ES";
	if (mla_pki_init(&o, &d) != MLA_OK) {
		fprintf(stderr, "setup: %s\n", d.msg);
		return -1;
	}
	o.state = "CO";
	return mla_pki_init(&o, &d) == MLA_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	(void)nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Writes and reads back the State's CRL for [from, to]. */
static X509_CRL *make_crl(const char *state, time_t from, time_t to)
{
	char dir[128], path[256];
	mla_diag d = {MLA_OK, ""};
	X509_CRL *crl = NULL;
	FILE *fp;
	uint8_t buf[65536];
	size_t n;

	assert_true(snprintf(dir, sizeof(dir), "%s/%s", g_dir, state) < (int)sizeof(dir));
	path_of(path, sizeof(path), state, "crl.pem");
	assert_int_equal(mla_pki_crl(dir, from, to, path, &d), MLA_OK);
	assert_non_null(fp = fopen(path, "rb"));
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(mla_crl_parse(buf, n, &crl, &d), MLA_OK);
	return crl;
}

static void test_urls_in_leaves(void **state)
{
	X509 *tls = cert("ES", "tls.crt"), *root = cert("ES", "root.crt");
	char crl[128], ocsp[128];

	(void)state;
	mla_cert_revoc_urls(tls, crl, sizeof(crl), ocsp, sizeof(ocsp));
	assert_string_equal(crl, CRL_URL);
	assert_string_equal(ocsp, OCSP_URL);
	mla_cert_revoc_urls(root, crl, sizeof(crl), ocsp, sizeof(ocsp));
	assert_string_equal(crl, ""); /* the root names none */
	assert_string_equal(ocsp, "");
	X509_free(tls);
	X509_free(root);
}

/* Revoked at a known time, listed in the next CRL; the others stay good. */
static void test_crl_revoked_and_good(void **state)
{
	X509 *sign = cert("ES", "sign.crt"), *tls = cert("ES", "tls.crt");
	X509 *root = cert("ES", "root.crt");
	char dir[128];
	time_t now = time(NULL), at = now - 3600;
	mla_diag d = {MLA_OK, ""};
	mla_revoc_status st;
	X509_CRL *crl;

	(void)state;
	assert_true(snprintf(dir, sizeof(dir), "%s/ES", g_dir) < (int)sizeof(dir));
	assert_int_equal(mla_pki_revoke(dir, sign, at, &d), MLA_OK);
	assert_int_equal(mla_pki_revoke(dir, sign, at, &d), MLA_ERR_EXISTS);
	crl = make_crl("ES", now - 60, now + 3600);
	assert_int_equal(mla_crl_verify(crl, root, now, &d), MLA_OK);
	mla_crl_status(crl, sign, &st);
	assert_int_equal(st.revoked, 1);
	assert_int_equal((long long)st.revoked_at, (long long)at);
	mla_crl_status(crl, tls, &st);
	assert_int_equal(st.revoked, 0);
	assert_int_equal(mla_revoc_refuse(sign, "signer", &st, &d), MLA_ERR_CERT_REVOKED);
	st.revoked_at = 1764806400; /* 2025-12-04T00:00:00Z */
	(void)mla_revoc_refuse(sign, "signer", &st, &d);
	assert_non_null(strstr(d.msg, "signer certificate C=ES"));
	assert_non_null(strstr(d.msg, "envelope signing serial "));
	assert_non_null(strstr(d.msg, "revoked at 2025-12-04T00:00:00Z"));
	X509_CRL_free(crl);
	X509_free(sign);
	X509_free(tls);
	X509_free(root);
}

static void test_crl_stale_and_wrong_signer(void **state)
{
	X509 *root = cert("ES", "root.crt"), *co_root = cert("CO", "root.crt");
	X509 *co_tls = cert("CO", "tls.crt");
	time_t now = time(NULL);
	mla_diag d = {MLA_OK, ""};
	X509_CRL *crl = make_crl("ES", now - 7200, now - 3600);
	char dir[128];

	(void)state;
	assert_int_equal(mla_crl_verify(crl, root, now, &d), MLA_ERR_REVOCATION_UNKNOWN);
	assert_non_null(strstr(d.msg, "stale"));
	assert_int_equal(mla_crl_verify(crl, co_root, now, &d), MLA_ERR_SIG_INVALID);
	/* and a CRL whose name is right but whose signature is not: CO's key under ES's name */
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(co_root)), 1);
	assert_int_equal(mla_crl_verify(crl, co_root, now - 5000, &d), MLA_ERR_SIG_INVALID);
	/* ES's index does not take CO's certificate */
	assert_true(snprintf(dir, sizeof(dir), "%s/ES", g_dir) < (int)sizeof(dir));
	assert_int_equal(mla_pki_revoke(dir, co_tls, now, &d), MLA_ERR_CERT_UNTRUSTED);
	X509_CRL_free(crl);
	assert_int_equal(mla_crl_parse((const uint8_t *)"junk", 4, &crl, &d) == MLA_OK, 0);
	assert_null(crl);
	X509_free(root);
	X509_free(co_root);
	X509_free(co_tls);
}

/* An OCSP answer for leaf, signed with signer_key as signer, status and dates given. */
static size_t make_ocsp(X509 *leaf, X509 *issuer, X509 *signer, mla_privkey *signer_key,
			int status, time_t revoked_at, time_t this_upd, time_t next_upd,
			uint8_t **der)
{
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, leaf, issuer);
	ASN1_TIME *rev = ASN1_TIME_set(NULL, revoked_at), *tu = ASN1_TIME_set(NULL, this_upd);
	ASN1_TIME *nu = ASN1_TIME_set(NULL, next_upd);
	OCSP_RESPONSE *resp;
	int n;

	assert_non_null(OCSP_basic_add1_status(bs, id, status, OCSP_REVOKED_STATUS_UNSPECIFIED,
					       rev, tu, nu));
	assert_int_equal(OCSP_basic_sign(bs, signer, mla_privkey_evp(signer_key), EVP_sha256(),
					 NULL, OCSP_NOCERTS),
			 1);
	assert_non_null(resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs));
	*der = NULL;
	assert_true((n = i2d_OCSP_RESPONSE(resp, der)) > 0);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_CERTID_free(id);
	ASN1_TIME_free(rev);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	return (size_t)n;
}

static mla_err ocsp_case(int status, time_t this_upd, time_t next_upd, const char *signer_state,
			 mla_revoc_status *st, mla_diag *d)
{
	X509 *leaf = cert("ES", "tls.crt"), *root = cert("ES", "root.crt");
	X509 *signer = cert(signer_state, "root.crt");
	mla_privkey *key = root_key(signer_state);
	uint8_t *der = NULL;
	size_t n = make_ocsp(leaf, root, signer, key, status, 1764806400, this_upd, next_upd, &der);
	mla_err r = mla_ocsp_check(der, n, leaf, root, time(NULL), st, d);

	OPENSSL_free(der);
	mla_privkey_free(key);
	X509_free(leaf);
	X509_free(root);
	X509_free(signer);
	return r;
}

static void test_ocsp_decisions(void **state)
{
	time_t now = time(NULL);
	mla_diag d = {MLA_OK, ""};
	mla_revoc_status st;

	(void)state;
	assert_int_equal(ocsp_case(V_OCSP_CERTSTATUS_GOOD, now - 10, now + 600, "ES", &st, &d),
			 MLA_OK);
	assert_int_equal(st.revoked, 0);
	assert_int_equal((long long)st.next_update, (long long)(now + 600));
	assert_int_equal(ocsp_case(V_OCSP_CERTSTATUS_REVOKED, now - 10, now + 600, "ES", &st,
				   &d),
			 MLA_OK);
	assert_int_equal(st.revoked, 1);
	assert_int_equal((long long)st.revoked_at, 1764806400LL);
	assert_int_equal(ocsp_case(V_OCSP_CERTSTATUS_UNKNOWN, now - 10, now + 600, "ES", &st,
				   &d),
			 MLA_ERR_REVOCATION_UNKNOWN);
	assert_int_equal(ocsp_case(V_OCSP_CERTSTATUS_GOOD, now - 7200, now - 3600, "ES", &st,
				   &d),
			 MLA_ERR_REVOCATION_UNKNOWN);
	assert_non_null(strstr(d.msg, "stale"));
	assert_int_equal(ocsp_case(V_OCSP_CERTSTATUS_GOOD, now - 10, now + 600, "CO", &st, &d),
			 MLA_ERR_SIG_INVALID);
}

static void test_ocsp_request_is_der(void **state)
{
	X509 *leaf = cert("ES", "tls.crt"), *root = cert("ES", "root.crt");
	mla_buf b;
	const unsigned char *p;
	OCSP_REQUEST *req;
	mla_revoc_status st;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	mla_buf_init(&b, MLA_OCSP_MAX_BYTES);
	assert_int_equal(mla_ocsp_request(leaf, root, &b, NULL), MLA_OK);
	p = b.data;
	assert_non_null(req = d2i_OCSP_REQUEST(NULL, &p, (long)b.len));
	assert_int_equal(OCSP_request_onereq_count(req), 1);
	OCSP_REQUEST_free(req);
	/* an answer of another kind (a try-later) or no DER at all says nothing */
	assert_int_equal(mla_ocsp_check((const uint8_t *)"\x30\x03\x0a\x01\x03", 5, leaf, root,
					time(NULL), &st, &d),
			 MLA_ERR_REVOCATION_UNKNOWN);
	assert_non_null(strstr(d.msg, "trylater"));
	assert_int_equal(mla_ocsp_check(b.data, b.len, leaf, root, time(NULL), &st, &d),
			 MLA_ERR_REVOCATION_UNKNOWN);
	mla_buf_free(&b);
	X509_free(leaf);
	X509_free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls_in_leaves),
		cmocka_unit_test(test_crl_revoked_and_good),
		cmocka_unit_test(test_crl_stale_and_wrong_signer),
		cmocka_unit_test(test_ocsp_decisions),
		cmocka_unit_test(test_ocsp_request_is_der),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
