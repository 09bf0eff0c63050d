/* RSA-OAEP parameters shared by content-key wrapping (envelope sealing, public key) and
 * unwrapping (privkey.c, private key). */
#ifndef MLAGW_PRIVKEY_INTERNAL_H
#define MLAGW_PRIVKEY_INTERNAL_H

#include <openssl/evp.h>

/* An EVP_PKEY_CTX ready for RSA-OAEP as rsa-oaep-mgf1p defines it (SHA-1, MGF1 with SHA-1,
 * no label): for encryption with a public key, or decryption with a private one. NULL on
 * failure. The one place these parameters are set. */
EVP_PKEY_CTX *privkey_oaep_ctx(EVP_PKEY *key, int decrypt);

#endif
