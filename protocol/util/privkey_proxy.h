/* Proxy keys for keys the keyholder holds (privkey_proxy.c). */
#ifndef MLAGW_PRIVKEY_PROXY_H
#define MLAGW_PRIVKEY_PROXY_H

#include <stdint.h>

#include <openssl/evp.h>

/* An EVP_PKEY with the public half pub and private operations forwarded to the keyholder's
 * key id; NULL for key types without a method (Ed25519) or on failure. */
EVP_PKEY *privkey_proxy_new(const EVP_PKEY *pub, uint32_t id);

#endif
