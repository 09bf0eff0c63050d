/* Attachment keys (SPEC 17.3): a random secret per attachment, carried in the encrypted
 * descriptor, expanded with HKDF-SHA256 into the segment key and the nonce prefix, the info
 * binding the message id and the attachment index. Segments through OpenSSL's EVP AEAD. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "attach_internal.h"

#define INFO_LABEL "mlagw attachment 1"

mla_err mla_attach_secret_new(uint8_t secret[MLA_ATTACH_SECRET_LEN])
{
	return RAND_bytes(secret, MLA_ATTACH_SECRET_LEN) == 1 ? MLA_OK : MLA_ERR_INTERNAL;
}

/* info = label || 0x00 || message id (36 bytes) || index (4 bytes, big-endian) */
static size_t build_info(const char *message_id, uint32_t index, uint8_t info[64])
{
	size_t n = sizeof(INFO_LABEL), id = strlen(message_id);

	memcpy(info, INFO_LABEL, n); /* with its NUL: the 0x00 separator */
	memcpy(info + n, message_id, id);
	n += id;
	info[n++] = (uint8_t)(index >> 24);
	info[n++] = (uint8_t)(index >> 16);
	info[n++] = (uint8_t)(index >> 8);
	info[n++] = (uint8_t)index;
	return n;
}

mla_err mla_attach_derive(const uint8_t secret[MLA_ATTACH_SECRET_LEN], const char *message_id,
			  uint32_t index, uint8_t key[MLA_ATTACH_KEY_LEN],
			  uint8_t prefix[MLA_ATTACH_PREFIX_LEN])
{
	uint8_t info[64], okm[MLA_ATTACH_KEY_LEN + MLA_ATTACH_PREFIX_LEN];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM p[4];
	size_t info_len;
	mla_err r = MLA_ERR_INTERNAL;

	if (message_id == NULL || strlen(message_id) != 36)
		return MLA_ERR_ARG;
	info_len = build_info(message_id, index, info);
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret,
						 MLA_ATTACH_SECRET_LEN);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len);
	p[3] = OSSL_PARAM_construct_end();
	/* no salt: HKDF then uses a string of zeros (RFC 5869 2.2); the secret is uniform */
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL || EVP_KDF_derive(ctx, okm, sizeof(okm), p) != 1)
		goto out;
	memcpy(key, okm, MLA_ATTACH_KEY_LEN);
	memcpy(prefix, okm + MLA_ATTACH_KEY_LEN, MLA_ATTACH_PREFIX_LEN);
	r = MLA_OK;
out:
	OPENSSL_cleanse(okm, sizeof(okm));
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

mla_err attach_keys_init(struct attach_keys *k, const uint8_t secret[MLA_ATTACH_SECRET_LEN],
			 const char *message_id, uint32_t index)
{
	mla_err r;

	memset(k, 0, sizeof(*k));
	if ((r = mla_attach_derive(secret, message_id, index, k->key, k->prefix)) != MLA_OK)
		return r;
	if ((k->ctx = EVP_CIPHER_CTX_new()) == NULL) {
		attach_keys_wipe(k);
		return MLA_ERR_NOMEM;
	}
	return MLA_OK;
}

void attach_keys_wipe(struct attach_keys *k)
{
	EVP_CIPHER_CTX_free(k->ctx); /* also clears the expanded key schedule */
	OPENSSL_cleanse(k, sizeof(*k));
}

/* nonce = prefix (7) || counter (4, big-endian) || 0x01 for the last segment, else 0x00 */
static void make_nonce(const struct attach_keys *k, uint64_t counter, int last,
		       uint8_t nonce[MLA_ATTACH_NONCE_LEN])
{
	memcpy(nonce, k->prefix, MLA_ATTACH_PREFIX_LEN);
	nonce[7] = (uint8_t)(counter >> 24);
	nonce[8] = (uint8_t)(counter >> 16);
	nonce[9] = (uint8_t)(counter >> 8);
	nonce[10] = (uint8_t)counter;
	nonce[11] = last ? 1 : 0;
}

static int gcm_init(struct attach_keys *k, uint64_t counter, int last, int enc)
{
	uint8_t nonce[MLA_ATTACH_NONCE_LEN];

	if (counter > UINT32_MAX)
		return 0;
	make_nonce(k, counter, last, nonce);
	/* 12-byte nonces are GCM's default IV length; no AAD (SPEC 17.4) */
	return EVP_CipherInit_ex(k->ctx, EVP_aes_256_gcm(), NULL, k->key, nonce, enc) == 1;
}

mla_err attach_seal_segment(struct attach_keys *k, uint64_t counter, int last,
			    const uint8_t *pt, size_t len, uint8_t *out)
{
	int n = 0, fin = 0;

	if (len > INT32_MAX || !gcm_init(k, counter, last, 1) ||
	    (len > 0 && EVP_EncryptUpdate(k->ctx, out, &n, pt, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(k->ctx, out + n, &fin) != 1 || (size_t)(n + fin) != len ||
	    EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_GET_TAG, MLA_ATTACH_TAG_LEN, out + len) != 1)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

mla_err attach_open_segment(struct attach_keys *k, uint64_t counter, int last,
			    const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	size_t len = ct_len - MLA_ATTACH_TAG_LEN;
	uint8_t tag[MLA_ATTACH_TAG_LEN];
	int n = 0, fin = 0;

	if (ct_len < MLA_ATTACH_TAG_LEN || len > INT32_MAX)
		return MLA_ERR_DECRYPT;
	memcpy(tag, ct + len, sizeof(tag));
	if (!gcm_init(k, counter, last, 0) ||
	    (len > 0 && EVP_DecryptUpdate(k->ctx, pt, &n, ct, (int)len) != 1) ||
	    EVP_CIPHER_CTX_ctrl(k->ctx, EVP_CTRL_GCM_SET_TAG, sizeof(tag), tag) != 1)
		return MLA_ERR_INTERNAL;
	if (EVP_DecryptFinal_ex(k->ctx, pt + n, &fin) != 1) {
		if (len > 0)
			OPENSSL_cleanse(pt, len); /* nothing unauthenticated leaves */
		return MLA_ERR_DECRYPT;
	}
	return MLA_OK;
}
