/* Internal to protocol/attach: one segment through AES-256-GCM with the STREAM nonce. */
#ifndef MLAGW_ATTACH_INTERNAL_H
#define MLAGW_ATTACH_INTERNAL_H

#include <openssl/evp.h>

#include "mlagw/attach.h"

/* The key and nonce prefix of one attachment, and a cipher context reused per segment. */
struct attach_keys {
	uint8_t key[MLA_ATTACH_KEY_LEN];
	uint8_t prefix[MLA_ATTACH_PREFIX_LEN];
	EVP_CIPHER_CTX *ctx;
};

/* Derives the keys (mla_attach_derive) and makes the context; attach_keys_wipe undoes it. */
mla_err attach_keys_init(struct attach_keys *k, const uint8_t secret[MLA_ATTACH_SECRET_LEN],
			 const char *message_id, uint32_t index);
void attach_keys_wipe(struct attach_keys *k);

/* Encrypts len bytes of segment counter (last: the final segment) into out: ciphertext then
 * the 16-byte tag. */
mla_err attach_seal_segment(struct attach_keys *k, uint64_t counter, int last,
			    const uint8_t *pt, size_t len, uint8_t *out);
/* Decrypts a segment of ct_len >= 16 bytes into pt (ct_len - 16 bytes); MLA_ERR_DECRYPT when
 * the tag does not verify with that counter and flag. */
mla_err attach_open_segment(struct attach_keys *k, uint64_t counter, int last,
			    const uint8_t *ct, size_t ct_len, uint8_t *pt);

#endif
