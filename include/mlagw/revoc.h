/* Revocation status of a certificate from a CRL or an OCSP answer (SPEC 18.7): parsing with
 * bounds, verification against the issuing CA (signature, dates) and the decision. No
 * network here: the gateway fetches and caches (gateway/core/revoc*.c). */
#ifndef MLAGW_REVOC_H
#define MLAGW_REVOC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"

/* A CRL or an OCSP answer larger than this is refused unread. */
#define MLA_CRL_MAX_BYTES ((size_t)4 << 20)
#define MLA_OCSP_MAX_BYTES ((size_t)64 << 10)
/* Clock tolerance for thisUpdate in the future (RFC 6960's usual five minutes). */
#define MLA_REVOC_SKEW_S 300

/* What an answer says about one certificate. */
typedef struct mla_revoc_status {
	int revoked;        /* 1: revoked at revoked_at */
	time_t revoked_at;
	time_t this_update; /* of the CRL or OCSP answer */
	time_t next_update; /* past it, the answer is stale and says nothing */
} mla_revoc_status;

/* A CRL from PEM or DER bytes (at most MLA_CRL_MAX_BYTES). */
mla_err mla_crl_parse(const uint8_t *data, size_t len, X509_CRL **out, mla_diag *diag);
/* The CRL is issuer's (name and signature), dated at or before now (+ skew), and has a
 * nextUpdate after now; past it MLA_ERR_REVOCATION_UNKNOWN names it stale. */
mla_err mla_crl_verify(X509_CRL *crl, X509 *issuer, time_t now, mla_diag *diag);
/* Whether a verified CRL lists cert: st->revoked and the dates. */
void mla_crl_status(X509_CRL *crl, X509 *cert, mla_revoc_status *st);

/* For an auditor (SPEC 15 step 1a): exactly one DER CRL of len bytes (no PEM, nothing
 * after it), at most MLA_CRL_MAX_BYTES. */
mla_err mla_crl_parse_der(const uint8_t *data, size_t len, X509_CRL **out, mla_diag *diag);
/* The CRL is root's: its issuer is root's subject, its signature (SHA-256 or stronger, or
 * Ed25519) verifies with root's key, it has a thisUpdate within root's validity and a
 * nextUpdate after it. No comparison with now: an auditor judges the past. */
mla_err mla_crl_verify_issued(X509_CRL *crl, X509 *root, mla_diag *diag);
/* Serial numbers longer than this (RFC 5280 4.1.2.2: at most 20 octets) are refused. */
#define MLA_CRL_SERIAL_MAX 20
/* Each revoked certificate a CRL lists: its serial's magnitude (big endian, as DER holds
 * it, without sign), whether it is negative, its revocationDate. A non-zero return stops. */
typedef int (*mla_crl_revoked_fn)(void *arg, const uint8_t *serial, size_t len, int negative,
				  time_t at);
/* fn over the CRL's list: 0, fn's non-zero return, or -2 for an entry without a readable
 * date or with a serial of more than MLA_CRL_SERIAL_MAX octets. */
int mla_crl_each_revoked(X509_CRL *crl, mla_crl_revoked_fn fn, void *arg);

/* The DER OCSP request for cert issued by issuer (SHA-1 CertID, as RFC 6960 responders
 * expect; no nonce, so answers can be cached until their nextUpdate). */
mla_err mla_ocsp_request(X509 *cert, X509 *issuer, mla_buf *der, mla_diag *diag);
/* An OCSP answer for cert: successful, signed by issuer or a responder it delegated to
 * (OCSP_basic_verify), with a status for cert, dated at or before now (+ skew) and a
 * nextUpdate after now. "unknown" and stale answers give MLA_ERR_REVOCATION_UNKNOWN, bad
 * signatures MLA_ERR_SIG_INVALID; on MLA_OK st holds good or revoked. */
mla_err mla_ocsp_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer, time_t now,
		       mla_revoc_status *st, mla_diag *diag);

/* For an auditor (SPEC 15 step 1a): exactly one DER OCSPResponse of len bytes (nothing
 * after it), at most MLA_OCSP_MAX_BYTES, responseStatus successful, a basic response. */
mla_err mla_ocsp_parse_der(const uint8_t *data, size_t len, OCSP_BASICRESP **out,
			   mla_diag *diag);
/* Whether every SingleResponse of the answer (at least one) names root as the issuer of its
 * certificate (issuer name and key hashes of its CertID, any hash algorithm). */
int mla_ocsp_about_root(OCSP_BASICRESP *bs, X509 *root);
/* The answer is root's: signed (SHA-256 or stronger, or Ed25519) by root itself or by a
 * responder certificate the answer includes, issued directly by root for OCSP signing
 * (id-kp-OCSPSigning): OCSP_basic_verify against a store holding only root, no chain through
 * other certificates, no comparison with now (an auditor judges the past). */
mla_err mla_ocsp_verify_issued(OCSP_BASICRESP *bs, X509 *root, mla_diag *diag);
/* fn over the answer's SingleResponses of status revoked (serial and revocationTime, as
 * mla_crl_each_revoked); *good counts those of status good. 0, fn's non-zero return, or -2
 * for a revoked one without a readable time or with a serial of more than
 * MLA_CRL_SERIAL_MAX octets. */
int mla_ocsp_each_revoked(OCSP_BASICRESP *bs, mla_crl_revoked_fn fn, void *arg, size_t *good);

/* The refusal of a revoked certificate: MLA_ERR_CERT_REVOKED with "ROLE certificate SUBJECT
 * serial HEX revoked at YYYY-MM-DDTHH:MM:SSZ". */
mla_err mla_revoc_refuse(X509 *cert, const char *role, const mla_revoc_status *st,
			 mla_diag *diag);
/* The URLs a certificate names: its first http(s) CRL distribution point and its first OCSP
 * responder (authorityInfoAccess), "" when it names none (or they do not fit). */
void mla_cert_revoc_urls(X509 *cert, char *crl, size_t crl_len, char *ocsp, size_t ocsp_len);

#endif
