/* Proxy keys (docs/internals/keys.md, "The keyholder"): an EVP_PKEY that holds only the public
 * half of a key the keyholder holds, for the two libraries that drive private-key operations
 * themselves (xmlsec signing, OpenSSL's TLS). Its private operations are forwarded to the
 * keyholder through OpenSSL's EC_KEY_METHOD and RSA_METHOD, as OpenSMTPD's ca process does;
 * OpenSSL 3 treats such "foreign" keys through its legacy paths. These method APIs are
 * deprecated in OpenSSL 3 and kept to this one file. Ed25519 has no method: such a key
 * has no proxy (it is used through mla_privkey_sign only: the audit key). */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "keyholder_client.h"
#include "keyholder_wire.h"
#include "privkey_proxy.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EC_KEY_METHOD *ec_method;
static RSA_METHOD *rsa_method;
static int ec_idx = -1, rsa_idx = -1;

/* The keyholder's answer to op on the key of id for in, into out (at most max bytes). */
static int forward(uint8_t op, uint32_t id, const uint8_t *pre, size_t npre, const uint8_t *in,
		   size_t n, uint8_t *out, size_t max)
{
	mla_buf ans;
	int len = -1;

	mla_buf_init_secret(&ans, KH_MSG_MAX);
	if (kh_call(op, id, pre, npre, in, n, &ans, NULL) == MLA_OK && ans.len <= max &&
	    ans.len <= 0x7fffffff) {
		memcpy(out, ans.data, ans.len);
		len = (int)ans.len;
	}
	mla_buf_free(&ans);
	return len;
}

static int ec_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig,
		   unsigned int *siglen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *ec)
{
	uint32_t id = (uint32_t)(uintptr_t)EC_KEY_get_ex_data(ec, ec_idx);
	int n;

	(void)type;
	(void)kinv;
	(void)r;
	if (dlen <= 0 || (n = forward(KH_SIGN_DIGEST, id, NULL, 0, dgst, (size_t)dlen, sig,
				      (size_t)ECDSA_size(ec))) < 0)
		return 0;
	*siglen = (unsigned int)n;
	return 1;
}

static ECDSA_SIG *ec_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
			      const BIGNUM *r, EC_KEY *ec)
{
	unsigned char der[256];
	const unsigned char *p = der;
	unsigned int len = 0;

	if (ECDSA_size(ec) > (int)sizeof(der) || ec_sign(0, dgst, dlen, der, &len, kinv, r, ec) != 1)
		return NULL;
	return d2i_ECDSA_SIG(NULL, &p, (long)len);
}

static int rsa_forward(uint8_t op, int flen, const unsigned char *from, unsigned char *to,
		       RSA *rsa, int padding)
{
	uint32_t id = (uint32_t)(uintptr_t)RSA_get_ex_data(rsa, rsa_idx);
	uint8_t pad[4];

	if (flen <= 0 || (padding != RSA_PKCS1_PADDING && padding != RSA_NO_PADDING))
		return -1;
	kh_put32(pad, (uint32_t)padding);
	return forward(op, id, pad, sizeof(pad), from, (size_t)flen, to, (size_t)RSA_size(rsa));
}

static int rsa_priv_enc(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			int padding)
{
	return rsa_forward(KH_RSA_SIGN, flen, from, to, rsa, padding);
}

static int rsa_priv_dec(int flen, const unsigned char *from, unsigned char *to, RSA *rsa,
			int padding)
{
	return rsa_forward(KH_RSA_DECRYPT, flen, from, to, rsa, padding);
}

static void make_methods(void)
{
	int (*sign_setup)(EC_KEY *, BN_CTX *, BIGNUM **, BIGNUM **) = NULL;

	ec_idx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	rsa_idx = RSA_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if ((ec_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) != NULL) {
		EC_KEY_METHOD_get_sign(EC_KEY_OpenSSL(), NULL, &sign_setup, NULL);
		EC_KEY_METHOD_set_sign(ec_method, ec_sign, sign_setup, ec_sign_sig);
	}
	if ((rsa_method = RSA_meth_dup(RSA_get_default_method())) != NULL &&
	    (RSA_meth_set1_name(rsa_method, "mlagw keyholder") != 1 ||
	     RSA_meth_set_priv_enc(rsa_method, rsa_priv_enc) != 1 ||
	     RSA_meth_set_priv_dec(rsa_method, rsa_priv_dec) != 1)) {
		RSA_meth_free(rsa_method);
		rsa_method = NULL;
	}
}

/* A placeholder private component, never used: the methods above do every private
 * operation. Libraries that ask whether a key is private (xmlsec picks a signing key so)
 * see one. */
static BIGNUM *placeholder(void)
{
	BIGNUM *one = BN_new();

	if (one != NULL && BN_one(one) != 1) {
		BN_free(one);
		return NULL;
	}
	return one;
}

static EVP_PKEY *ec_proxy(const EVP_PKEY *pub, uint32_t id)
{
	EC_KEY *ec = EVP_PKEY_get1_EC_KEY((EVP_PKEY *)(uintptr_t)pub);
	BIGNUM *d = placeholder();
	EVP_PKEY *p = NULL;

	if (ec != NULL && d != NULL && ec_method != NULL && EC_KEY_set_method(ec, ec_method) == 1 &&
	    EC_KEY_set_ex_data(ec, ec_idx, (void *)(uintptr_t)id) == 1 &&
	    EC_KEY_set_private_key(ec, d) == 1 && (p = EVP_PKEY_new()) != NULL &&
	    EVP_PKEY_assign_EC_KEY(p, ec) == 1)
		ec = NULL; /* owned by p */
	else {
		EVP_PKEY_free(p);
		p = NULL;
	}
	EC_KEY_free(ec);
	BN_free(d);
	return p;
}

static EVP_PKEY *rsa_proxy(const EVP_PKEY *pub, uint32_t id)
{
	RSA *rsa = EVP_PKEY_get1_RSA((EVP_PKEY *)(uintptr_t)pub);
	BIGNUM *d = placeholder();
	EVP_PKEY *p = NULL;

	if (rsa != NULL && d != NULL && rsa_method != NULL && RSA_set_method(rsa, rsa_method) == 1 &&
	    RSA_set_ex_data(rsa, rsa_idx, (void *)(uintptr_t)id) == 1 &&
	    RSA_set0_key(rsa, NULL, NULL, d) == 1) {
		d = NULL; /* owned by rsa */
		if ((p = EVP_PKEY_new()) != NULL && EVP_PKEY_assign_RSA(p, rsa) == 1)
			rsa = NULL;
		else {
			EVP_PKEY_free(p);
			p = NULL;
		}
	}
	RSA_free(rsa);
	BN_free(d);
	return p;
}

EVP_PKEY *privkey_proxy_new(const EVP_PKEY *pub, uint32_t id)
{
	EVP_PKEY *p = NULL;

	if (pthread_once(&once, make_methods) != 0)
		return NULL;
	if (EVP_PKEY_is_a(pub, "EC"))
		p = ec_proxy(pub, id);
	else if (EVP_PKEY_is_a(pub, "RSA"))
		p = rsa_proxy(pub, id);
	ERR_clear_error();
	return p;
}
