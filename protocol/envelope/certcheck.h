/* Checks a signer's certificate chain against the root of the State it claims to speak for,
 * with the validity period, key usage and key strength, and explains any failure. */
#ifndef MLAGW_CERTCHECK_H
#define MLAGW_CERTCHECK_H

#include <time.h>

#include <libxml/tree.h>
#include <openssl/x509.h>

#include "keys_internal.h"

/* chain: leaf first, as carried in ds:X509Data. at: 0 = now. role names the certificate and
 * doc the signed document in messages ("signer", "envelope": "... but the envelope is from ES").
 * state is the State the document speaks for: From of an envelope, Receiver of a receipt. */
mla_err certcheck_signer(const mla_trust *trust, const char *state, STACK_OF(X509) *chain,
			 time_t at, const char *role, const char *doc, time_t window[2],
			 STACK_OF(X509) **path, mla_diag *diag);
/* window (may be NULL) receives, on success, the period in which the whole validated path is
 * valid: [latest notBefore, earliest notAfter]; path (may be NULL) that path, leaf first and
 * root last (a new stack the caller frees, sk_X509_pop_free), whose every certificate the
 * trust set's revocation check judges against the next one (SPEC 18.7). */

/* The signer of a ds:Signature: decodes its X509Data, runs certcheck_signer and returns the
 * leaf (a new reference). Identical certificate bytes that passed before for this State and
 * trust set skip decoding and path validation (the costliest part of verification); only the
 * validity period is checked again, and any failure takes the full path for its message. */
mla_err certcheck_signature_signer(const mla_trust *trust, const char *state,
				   xmlNodePtr signature, time_t at, const char *role,
				   const char *doc, X509 **leaf, mla_diag *diag);

#endif
