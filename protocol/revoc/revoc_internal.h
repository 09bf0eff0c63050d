/* Helpers shared by the CRL and OCSP readers. */
#ifndef MLAGW_REVOC_INTERNAL_H
#define MLAGW_REVOC_INTERNAL_H

#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "mlagw/revoc.h"

/* UTC seconds of an ASN.1 time; 0 for NULL or unreadable. */
time_t revoc_time(const ASN1_TIME *t);
/* The certificate's subject, one line ("C=ES, O=..., CN=..."), for messages. */
void revoc_subject(X509 *x, char *out, size_t len);
/* Whether a signature algorithm uses a digest of the SHA-2 family (or none: Ed25519/Ed448). */
int revoc_strong_sig(int sig_nid);
/* fn(serial's magnitude, sign, at) for one revoked certificate: fn's return, or -2 for no
 * serial, no time (at 0) or a serial of more than MLA_CRL_SERIAL_MAX octets. */
int revoc_give_serial(const ASN1_INTEGER *serial, time_t at, mla_crl_revoked_fn fn, void *arg);

#endif
