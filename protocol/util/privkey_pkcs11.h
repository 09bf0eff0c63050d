/* Keys in a PKCS#11 token (privkey_pkcs11.c): for privkey.c's local loader only. */
#ifndef MLAGW_PRIVKEY_PKCS11_H
#define MLAGW_PRIVKEY_PKCS11_H

#include <openssl/evp.h>

#include "mlagw/error.h"

/* Nonzero when name is an RFC 7512 "pkcs11:" URI rather than a file. */
int privkey_is_pkcs11(const char *name);
/* Loads the private key uri names through libp11's engine. The URI may carry the RFC 7512
 * query attributes module-path (else p11-kit's proxy module) and pin-source=file:PATH, never
 * pin-value (refused: URIs appear in messages). Never prompts. */
mla_err privkey_pkcs11_load(const char *uri, EVP_PKEY **out, mla_diag *diag);

#endif
