/* Checks a signer's certificate chain against the root of the State it claims to speak for,
 * with the validity period, key usage and key strength, and explains any failure. */
#ifndef MLAGW_CERTCHECK_H
#define MLAGW_CERTCHECK_H

#include <time.h>

#include <openssl/x509.h>

#include "keys_internal.h"

/* chain: leaf first, as carried in ds:X509Data. at: 0 = now. role names the certificate and
 * doc the signed document in messages ("signer", "envelope": "... but the envelope is from ES").
 * state is the State the document speaks for: From of an envelope, Receiver of a receipt. */
mla_err certcheck_signer(const mla_trust *trust, const char *state, STACK_OF(X509) *chain,
			 time_t at, const char *role, const char *doc, mla_diag *diag);

#endif
