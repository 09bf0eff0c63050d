/* Private keys behind one interface (include/mlagw/privkey.h, docs/internals/keys.md): strict
 * loading from PEM files, signing, content-key unwrapping, and the one EVP_PKEY accessor.
 * Key bytes pass through a stdio buffer we own, so it can be wiped after fclose. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keyholder_client.h"
#include "keyholder_wire.h"
#include "mlagw/privkey.h"
#include "privkey_pkcs11.h"
#include "privkey_proxy.h"
#include "pem_internal.h"
#include "privkey_internal.h"

/* Size of the stdio buffer used for key material; wiped after use. */
#define PRIVKEY_IOBUF 4096

struct mla_privkey {
	/* the private key: only this file and mla_privkey_evp's callers use it. Of a key the
	 * keyholder holds: its proxy (privkey_proxy.c), or NULL for a type without one */
	EVP_PKEY *key;
	EVP_PKEY *pub;	 /* its public half, a separate object without private material */
	uint32_t remote; /* the keyholder's id of the key; 0: held here */
	int in_token;	 /* key is libp11's engine key: its private half is in a PKCS#11 token */
};

EVP_PKEY_CTX *privkey_oaep_ctx(EVP_PKEY *key, int decrypt)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);

	if (ctx == NULL ||
	    (decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The public half of key, through its SubjectPublicKeyInfo encoding. */
static EVP_PKEY *public_half(EVP_PKEY *key)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	EVP_PKEY *pub = NULL;
	int n = i2d_PUBKEY(key, &der);

	if (n > 0) {
		q = der;
		pub = d2i_PUBKEY(NULL, &q, n);
	}
	OPENSSL_free(der);
	return pub;
}

/* Takes key (owned) into a fresh mla_privkey. */
static mla_err wrap_key(EVP_PKEY *key, mla_privkey **out, mla_diag *diag)
{
	mla_privkey *k = calloc(1, sizeof(*k));

	if (k == NULL) {
		EVP_PKEY_free(key);
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory for a private key");
	}
	k->key = key;
	if ((k->pub = public_half(key)) == NULL) {
		mla_privkey_free(k);
		return mla_fail(diag, MLA_ERR_KEY_FILE, "private key has no usable public half: %s",
				pem_ossl_reason());
	}
	*out = k;
	return MLA_OK;
}

static mla_err read_key_fp(FILE *fp, const char *path, EVP_PKEY **out, mla_diag *diag)
{
	EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, pem_no_passphrase, NULL);

	if (key == NULL)
		return mla_fail(diag, MLA_ERR_KEY_FILE,
				"key file %s holds no usable unencrypted private key: %s", path,
				pem_ossl_reason());
	*out = key;
	return MLA_OK;
}

/* Reads the key of path, refusing a file readable by group or others. */
static mla_err read_key_file(const char *path, EVP_PKEY **out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	unsigned char iobuf[PRIVKEY_IOBUF];
	struct stat st;
	FILE *fp = NULL;
	int fd = -1;

	if ((r = pem_open_read(path, "key file", MLA_ERR_KEY_FILE, &fd, &st, diag)) != MLA_OK)
		goto out;
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE,
			     "key file %s has mode %04o; must not be readable by group or others "
			     "(chmod 600)",
			     path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "cannot read key file %s: %s", path,
			     strerror(errno));
		goto out;
	}
	fd = -1; /* now owned by fp */
	if (setvbuf(fp, (char *)iobuf, _IOFBF, sizeof(iobuf)) != 0) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot set buffer for key file %s", path);
		goto out;
	}
	r = read_key_fp(fp, path, out, diag);
out:
	if (fp != NULL)
		(void)fclose(fp);
	if (fd >= 0)
		(void)close(fd);
	OPENSSL_cleanse(iobuf, sizeof(iobuf));
	return r;
}

/* The keyholder loads path and gives its id and public half; this process keeps those and
 * a proxy. */
static mla_err load_remote(const char *path, mla_privkey **out, mla_diag *diag)
{
	mla_buf ans;
	const unsigned char *p;
	mla_privkey *k = NULL;
	mla_diag why = {MLA_OK, ""};
	mla_err r;

	mla_buf_init(&ans, KH_MSG_MAX);
	if ((r = kh_call(KH_LOAD, 0, NULL, 0, (const uint8_t *)path, strlen(path), &ans, &why)) !=
	    MLA_OK) {
		mla_buf_free(&ans);
		return mla_fail(diag, r, "key file %s: %s", path, mla_diag_message(&why));
	}
	if (ans.len < 5 || (k = calloc(1, sizeof(*k))) == NULL) {
		mla_buf_free(&ans);
		return mla_fail(diag, MLA_ERR_INTERNAL, "key file %s: no usable answer from the "
				"keyholder", path);
	}
	k->remote = kh_get32(ans.data);
	p = ans.data + 4;
	k->pub = d2i_PUBKEY(NULL, &p, (long)(ans.len - 4));
	mla_buf_free(&ans);
	if (k->pub == NULL) {
		mla_privkey_free(k);
		return mla_fail(diag, MLA_ERR_INTERNAL, "key file %s: the keyholder's public key "
				"does not decode", path);
	}
	k->key = privkey_proxy_new(k->pub, k->remote);
	*out = k;
	return MLA_OK;
}

mla_err mla_privkey_load(const char *path, mla_privkey **out, mla_diag *diag)
{
	EVP_PKEY *key = NULL;
	mla_err r;

	if (path == NULL || out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_privkey_load: NULL argument");
	*out = NULL;
	if (kh_client_attached())
		return load_remote(path, out, diag);
	if (privkey_is_pkcs11(path)) {
		if ((r = privkey_pkcs11_load(path, &key, diag)) != MLA_OK ||
		    (r = wrap_key(key, out, diag)) != MLA_OK)
			return r;
		(*out)->in_token = 1;
		return MLA_OK;
	}
	if ((r = read_key_file(path, &key, diag)) != MLA_OK)
		return r;
	return wrap_key(key, out, diag);
}

mla_err mla_privkey_from_evp(EVP_PKEY *key, mla_privkey **out, mla_diag *diag)
{
	if (key == NULL || out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_privkey_from_evp: NULL argument");
	*out = NULL;
	if (EVP_PKEY_up_ref(key) != 1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot take a reference to the key");
	return wrap_key(key, out, diag);
}

void mla_privkey_free(mla_privkey *k)
{
	if (k == NULL)
		return;
	if (k->remote != 0 && k->key == NULL) { /* a proxy tells the keyholder when it goes */
		mla_buf none;

		mla_buf_init(&none, 16);
		(void)kh_call(KH_FREE, k->remote, NULL, 0, NULL, 0, &none, NULL);
		mla_buf_free(&none);
	}
	EVP_PKEY_free(k->key); /* OpenSSL clears the private components it frees */
	EVP_PKEY_free(k->pub);
	free(k);
}

int mla_privkey_elsewhere(const mla_privkey *k)
{
	/* a token key, like the keyholder's proxy, is a foreign key xmlsec cannot drive */
	return k->remote != 0 || k->in_token;
}

const EVP_PKEY *mla_privkey_public(const mla_privkey *k)
{
	return k->pub;
}

static mla_err sign_remote(const mla_privkey *k, const uint8_t *msg, size_t len, uint8_t *sig,
			   size_t *sig_len, mla_diag *diag)
{
	mla_buf ans;
	mla_err r;

	mla_buf_init(&ans, KH_MSG_MAX);
	if ((r = kh_call(KH_SIGN, k->remote, NULL, 0, msg, len, &ans, diag)) == MLA_OK) {
		if (ans.len > *sig_len)
			r = mla_fail(diag, MLA_ERR_INTERNAL, "a signature larger than its buffer");
		else {
			memcpy(sig, ans.data, ans.len);
			*sig_len = ans.len;
		}
	}
	mla_buf_free(&ans);
	return r;
}

mla_err mla_privkey_sign(const mla_privkey *k, const uint8_t *msg, size_t len, uint8_t *sig,
			 size_t *sig_len, mla_diag *diag)
{
	/* Ed25519 signs the message itself; the others sign its SHA-256 */
	const EVP_MD *md = EVP_PKEY_is_a(k->pub, "ED25519") ? NULL : EVP_sha256();
	EVP_MD_CTX *ctx;
	mla_err r = MLA_ERR_INTERNAL;

	if (k->remote != 0)
		return sign_remote(k, msg, len, sig, sig_len, diag);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory for signing");
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, k->key) == 1 &&
	    EVP_DigestSign(ctx, sig, sig_len, msg, len) == 1)
		r = MLA_OK;
	else
		r = mla_fail(diag, MLA_ERR_INTERNAL, "private-key signing failed: %s",
			     pem_ossl_reason());
	EVP_MD_CTX_free(ctx);
	return r;
}

mla_err mla_privkey_unwrap_oaep(const mla_privkey *k, const uint8_t *ct, size_t ct_len,
				mla_buf *out, mla_diag *diag)
{
	/* one context per call on the one key object: OpenSSL keeps the RSA blinding and
	 * Montgomery set-up in the key across decryptions */
	EVP_PKEY_CTX *ctx;
	size_t len = (size_t)EVP_PKEY_get_size(k->pub);
	mla_err r = MLA_ERR_DECRYPT;

	if (k->remote != 0) /* one error whatever the cause, as below */
		return kh_call(KH_UNWRAP, k->remote, NULL, 0, ct, ct_len, out, NULL) == MLA_OK
			       ? MLA_OK
			       : mla_fail(diag, MLA_ERR_DECRYPT, "content key does not decrypt with "
					  "this key");
	ctx = privkey_oaep_ctx(k->key, 1);

	if (ctx == NULL || mla_buf_reserve(out, len) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_DECRYPT, "cannot set up RSA-OAEP decryption");
		goto out;
	}
	if (EVP_PKEY_decrypt(ctx, out->data + out->len, &len, ct, ct_len) != 1) {
		ERR_clear_error();
		r = mla_fail(diag, MLA_ERR_DECRYPT, "content key does not decrypt with this key");
		goto out;
	}
	out->len += len;
	r = MLA_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

EVP_PKEY *mla_privkey_evp(const mla_privkey *k)
{
	return k->key;
}
