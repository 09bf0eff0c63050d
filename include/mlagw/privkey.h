/* The one door to this process's private keys (docs/internals/keys.md): every private key is
 * loaded here and every private-key operation goes through here, so that a key-holding
 * process (DESIGN.md, "Processes") can answer them later without touching the callers. */
#ifndef MLAGW_PRIVKEY_H
#define MLAGW_PRIVKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"

/* A private key (signing, decryption, audit or TLS). Opaque: callers see its public half
 * and ask for operations, never for the key material. */
typedef struct mla_privkey mla_privkey;

/* Loads a PEM private key (PKCS#8 or traditional, unencrypted) from a regular file that is
 * not readable by group or others (MLA_ERR_KEY_FILE naming the path and mode), or, when path
 * is an RFC 7512 "pkcs11:" URI, the key in a PKCS#11 token (docs/internals/keys.md). */
mla_err mla_privkey_load(const char *path, mla_privkey **out, mla_diag *diag);
/* Wraps a key this process generated itself (tests, tools); takes a reference to key.
 * The daemon's keys all come from mla_privkey_load. */
mla_err mla_privkey_from_evp(EVP_PKEY *key, mla_privkey **out, mla_diag *diag);
void mla_privkey_free(mla_privkey *k);
/* Nonzero when the keyholder holds k (include/mlagw/keyholder.h): its private operations are
 * requests to it, and mla_privkey_evp gives a proxy (RSA, EC) or NULL (Ed25519); also when k
 * is in a PKCS#11 token. Either way xmlsec cannot drive mla_privkey_evp's key. */
int mla_privkey_elsewhere(const mla_privkey *k);

/* The public half (a separate object without private material): type and size checks,
 * matching against a certificate, note verifier keys. Valid while k is. */
const EVP_PKEY *mla_privkey_public(const mla_privkey *k);

/* Signs msg: pure Ed25519 (RFC 8032) with an Ed25519 key, otherwise ECDSA or RSA PKCS#1 v1.5
 * over its SHA-256. *sig_len is the size of sig on entry, the signature's length on return. */
mla_err mla_privkey_sign(const mla_privkey *k, const uint8_t *msg, size_t len, uint8_t *sig,
			 size_t *sig_len, mla_diag *diag);

/* Unwraps a content key transported with RSA-OAEP as XML-Enc rsa-oaep-mgf1p defines it
 * (SHA-1, MGF1 with SHA-1, no label) into out (give it a secret buffer); MLA_ERR_DECRYPT
 * when the ciphertext does not decrypt with k. */
mla_err mla_privkey_unwrap_oaep(const mla_privkey *k, const uint8_t *ct, size_t ct_len,
				mla_buf *out, mla_diag *diag);

/* The key as an OpenSSL key object, for the two libraries that drive private-key operations
 * themselves: xmlsec (XML-DSig signing of envelopes and receipts) and OpenSSL's TLS (the
 * peer listener, the API listener, the relay's and the CLI's client certificates). The one
 * point a key-holding process replaces with a proxy key whose operations it answers (an
 * OpenSSL provider or key method, as OpenSMTPD's ca process does). Borrowed: a library that
 * keeps it (SSL_CTX, xmlsec) takes its own reference. */
EVP_PKEY *mla_privkey_evp(const mla_privkey *k);

#endif
