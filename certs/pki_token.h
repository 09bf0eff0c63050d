/* Key pairs generated in a PKCS#11 token for `mlagw pki init --pkcs11` (pki_token.c), through
 * p11-kit's module loader: the one place mlagw calls PKCS#11 itself (keys are used through
 * libp11's engine, protocol/util/privkey_pkcs11.c). */
#ifndef MLAGW_CERTS_PKI_TOKEN_H
#define MLAGW_CERTS_PKI_TOKEN_H

#include <stddef.h>

#include "mlagw/error.h"
#include "mlagw/pki.h"

struct pki_token;

/* Opens the token labelled label in the module at module_path and logs in with pin (pin_len
 * bytes). The PIN is never put in a message. */
mla_err pki_token_open(const char *module_path, const char *label, const char *pin,
		       size_t pin_len, struct pki_token **out, mla_diag *diag);

/* Whether the token holds an object labelled label: 1, 0, or -1 on error. */
int pki_token_has(struct pki_token *t, const char *label);

/* Destroys every object labelled label (--force). */
mla_err pki_token_destroy(struct pki_token *t, const char *label, mla_diag *diag);

/* A key pair kept in the token, labelled label with id (1 byte), the private half sensitive
 * and never extractable: EC P-256 for signing (type MLA_KEY_EC_P256), or RSA of bits for
 * decryption (MLA_KEY_RSA). */
mla_err pki_token_generate(struct pki_token *t, mla_key_type type, int bits, const char *label,
			   unsigned char id, mla_diag *diag);

/* Logs out, closes and unloads the module (NULL: nothing). */
void pki_token_close(struct pki_token *t);

#endif
