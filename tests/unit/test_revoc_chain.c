/* Revocation along a signer's whole path (SPEC 18.7): an envelope signed under an
 * intermediate CA (root -> CA -> signer, the CA carried in the signature) asks the trust
 * set's revocation check about the signer against the CA and about the CA against the root,
 * on the first verification and again when the path comes from the cache; a revoked CA
 * refuses the envelope, naming the CA's role. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "fixture.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/revoc.h"

struct call {
	char cert[64], issuer[64], role[96];
};

static struct call calls[8];
static size_t ncalls;
static const char *refuse_cn; /* the hook says this CN is revoked */

static void cn_of(X509 *x, char *out, size_t len)
{
	out[0] = '\0';
	(void)X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len);
}

static mla_err hook(void *arg, X509 *leaf, X509 *issuer, time_t at, const char *role,
		    mla_diag *diag)
{
	mla_revoc_status st = {1, 1764806400, 0, 0};
	struct call *c = &calls[ncalls < 8 ? ncalls++ : 7];

	(void)arg;
	(void)at;
	cn_of(leaf, c->cert, sizeof(c->cert));
	cn_of(issuer, c->issuer, sizeof(c->issuer));
	assert_int_equal(mla_strcpy(c->role, sizeof(c->role), role), MLA_OK);
	if (refuse_cn != NULL && strcmp(c->cert, refuse_cn) == 0)
		return mla_revoc_refuse(leaf, role, &st, diag);
	return MLA_OK;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	assert_non_null(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A CA of ES named cn under root (its key rkey), or self-signed when root is NULL (the test
 * PKI's roots allow no intermediate: pathlen 0). */
static X509 *make_ca(X509 *root, EVP_PKEY *rkey, EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), root ? 4242 : 1), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
						    (const unsigned char *)"ES", -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, root ? X509_get_subject_name(root) : n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, root ? root : x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, root ? root : x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, root ? root : x, NID_subject_key_identifier, "hash");
	if (root != NULL)
		add_ext(x, root, NID_authority_key_identifier, "keyid:always");
	assert_true(X509_sign(x, rkey, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static void test_intermediate_judged(void **state)
{
	struct fixture *f = *state;
	EVP_PKEY *rkey = NULL, *ckey = NULL, *lkey = NULL;
	X509 *root = NULL, *ca, *leaf = NULL;
	char crt[PATH_MAX], key[PATH_MAX];
	time_t now = time(NULL);
	mla_signer *signer = NULL;
	mla_trust *trust = NULL;
	mla_header h;
	mla_verified out;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;
	FILE *fp;

	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &rkey, NULL), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &ckey, NULL), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &lkey, NULL), MLA_OK);
	root = make_ca(NULL, rkey, rkey, "ES test root");
	ca = make_ca(root, rkey, ckey, "ES intermediate");
	assert_int_equal(mla_pki_issue(MLA_ROLE_SIGN, "ES", "ES signer", lkey, ca, ckey,
				       now - 3600, now + 86400, NULL, &leaf, NULL), MLA_OK);
	assert_int_equal(mla_snprintf(crt, sizeof(crt), "%s/chain-sign.crt", f->dir), MLA_OK);
	assert_int_equal(mla_snprintf(key, sizeof(key), "%s/chain-sign.key", f->dir), MLA_OK);
	assert_non_null(fp = fopen(crt, "w"));
	assert_int_equal(PEM_write_X509(fp, leaf), 1);
	assert_int_equal(PEM_write_X509(fp, ca), 1); /* carried in the signature */
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(mla_pem_write_key(key, lkey, 1, NULL), MLA_OK);
	assert_int_equal(mla_signer_load(crt, key, &signer, &d), MLA_OK);
	fixture_header(&h);
	mla_buf_init(&env, 1 << 20);
	assert_int_equal(mla_envelope_seal(&h, (const uint8_t *)"<R/>", 4, signer, f->co_rcpt,
					   &f->limits, &env, &d), MLA_OK);
	assert_int_equal(mla_trust_new(&trust), MLA_OK);
	assert_int_equal(mla_trust_add_cert(trust, root, NULL), MLA_OK);
	mla_trust_set_revocation(trust, hook, NULL);

	for (int pass = 0; pass < 2; pass++) { /* the second from the cache */
		mla_err r;

		ncalls = 0;
		r = mla_envelope_verify(env.data, env.len, trust, &f->limits, &out, &d);
		if (r != MLA_OK)
			print_error("verify: %s\n", d.msg);
		assert_int_equal(r, MLA_OK);
		assert_int_equal(ncalls, 2);
		assert_string_equal(calls[0].cert, "ES signer");
		assert_string_equal(calls[0].issuer, "ES intermediate");
		assert_string_equal(calls[0].role, "signer");
		assert_string_equal(calls[1].cert, "ES intermediate");
		assert_string_equal(calls[1].issuer, "ES test root");
		assert_string_equal(calls[1].role, "signer's issuing CA");
	}
	refuse_cn = "ES intermediate";
	assert_int_equal(mla_envelope_verify(env.data, env.len, trust, &f->limits, &out, &d),
			 MLA_ERR_CERT_REVOKED);
	assert_non_null(strstr(d.msg, "signer's issuing CA certificate"));
	assert_non_null(strstr(d.msg, "revoked at 2025-12-04T00:00:00Z"));
	refuse_cn = NULL;

	mla_buf_free(&env);
	mla_trust_free(trust);
	mla_signer_free(signer);
	X509_free(root);
	X509_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(ckey);
	EVP_PKEY_free(lkey);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_intermediate_judged),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
