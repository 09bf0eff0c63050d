/* Checks a signer's certificate chain against the root of the State it claims to speak for,
 * with the validity period, key usage and key strength, and explains any failure. */
#ifndef MLAGW_CERTCHECK_H
#define MLAGW_CERTCHECK_H

#include <time.h>

#include <openssl/x509.h>

#include "keys_internal.h"

/* chain: leaf first, as carried in ds:X509Data. at: 0 = now. role names the certificate in
 * messages ("signer"). */
mla_err certcheck_signer(const mla_trust *trust, const char *state, STACK_OF(X509) *chain,
			 time_t at, const char *role, mla_diag *diag);

#endif
