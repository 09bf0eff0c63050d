/* XML-DSig with a key the keyholder holds (protocol/envelope/seal_elsewhere.c): xmlsec signs
 * with a throwaway stand-in key of the signer's kind, and the keyholder's signature over the
 * same canonical SignedInfo replaces it. With an RSA signer the stand-in is RSA-512, far
 * smaller than the real key: the envelope must still verify against the real certificate
 * (the stand-in's size or signature must leave no trace), for EC and RSA signers alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "keyholder_spawn.h"
#include "mlagw/keyholder.h"

static int allow_fixture_keys(const char *path, void *arg)
{
	const struct fixture *f = arg;

	return strncmp(path, f->dir, strlen(f->dir)) == 0;
}

/* A keyholder child over two channels, attached to this process. */
static void start_keyholder(struct fixture *f)
{
	int mine[2];

	(void)keyholder_spawn(mine, 2, allow_fixture_keys, f);
	assert_int_equal(mla_keyholder_attach(mine, 2, NULL), MLA_OK);
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	return k;
}

/* ES's signing certificate with an RSA key of bits instead, issued again by ES's root:
 * "ES/sign-rsa.crt" and ".key". */
static void make_rsa_signer(const struct fixture *f, int bits)
{
	char p[PATH_MAX];
	EVP_PKEY *root = read_key(fixture_path(f, "ES/root.key", p));
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	FILE *fp = fopen(fixture_path(f, "ES/sign.crt", p), "r");
	X509 *c;

	assert_non_null(fp);
	assert_non_null(c = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(k);
	assert_int_equal(X509_set_pubkey(c, k), 1);
	assert_true(X509_sign(c, root, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(fixture_path(f, "ES/sign-rsa.crt", p), "w"));
	assert_int_equal(PEM_write_X509(fp, c), 1);
	assert_int_equal(fclose(fp), 0);
	assert_non_null(fp = fopen(fixture_path(f, "ES/sign-rsa.key", p), "w"));
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(fp), 0);
	X509_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(root);
}

/* Seals with the signer cert/key loaded through the keyholder; CO opens it: verified, the
 * signer the certificate named, the document intact. */
static void seal_and_open(const struct fixture *f, const char *cert, const char *key)
{
	char a[PATH_MAX], b[PATH_MAX];
	static const uint8_t doc[] = "<Request>held elsewhere</Request>";
	mla_diag d = {MLA_OK, ""};
	mla_signer *s = NULL;
	mla_verified v;
	mla_header h;
	mla_buf env, out;

	if (mla_signer_load(fixture_path(f, cert, a), fixture_path(f, key, b), &s, &d) != MLA_OK)
		fail_msg("%s: %s", cert, d.msg);
	fixture_header(&h);
	assert_int_equal(mla_envelope_seal(&h, doc, sizeof(doc) - 1, s, f->co_rcpt, &f->limits,
					   &env, &d), MLA_OK);
	mla_buf_init(&out, 1 << 20);
	if (mla_envelope_open(env.data, env.len, f->trust, f->co_keys, "CO", &f->limits, &v, &out,
			      &d) != MLA_OK)
		fail_msg("%s: %s", cert, d.msg);
	assert_int_equal(out.len, sizeof(doc) - 1);
	assert_memory_equal(out.data, doc, out.len);
	/* an altered byte of the signed header fails: the signature is the real one's */
	fixture_replace(&env, h.message_id, "00000000-0000-4000-8000-000000000000");
	assert_int_not_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			     MLA_OK);
	mla_buf_free(&out);
	mla_buf_free(&env);
	mla_signer_free(s);
}

static void test_signers_held_elsewhere(void **state)
{
	struct fixture *f = *state;

	make_rsa_signer(f, 3072);
	start_keyholder(f);
	seal_and_open(f, "ES/sign.crt", "ES/sign.key");         /* EC: the EC stand-in */
	seal_and_open(f, "ES/sign-rsa.crt", "ES/sign-rsa.key"); /* RSA-3072: RSA-512 stand-in */
	mla_keyholder_detach();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signers_held_elsewhere),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
