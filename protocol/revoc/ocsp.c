/* OCSP (include/mlagw/revoc.h) with OpenSSL's OCSP API: the request for one certificate,
 * and the answer verified against the issuer and read for that certificate. */
#include <string.h>

#include <openssl/ocsp.h>

#include "mlagw/revoc.h"
#include "revoc_internal.h"

mla_err mla_ocsp_request(X509 *cert, X509 *issuer, mla_buf *der, mla_diag *diag)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
	unsigned char *p = NULL;
	int n = -1;
	mla_err r = MLA_OK;

	if (req != NULL && id != NULL && OCSP_request_add0_id(req, id) != NULL) {
		id = NULL; /* the request's now */
		n = i2d_OCSP_REQUEST(req, &p);
	}
	if (n <= 0)
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot build an OCSP request");
	else if (mla_buf_append(der, p, (size_t)n) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "OCSP request too large");
	OPENSSL_free(p);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return r;
}

/* The answer's signature: by the issuer, or by a responder the issuer certified for OCSP
 * signing (OCSP_basic_verify checks the delegation), with the issuer the only trust. The
 * issuer may be an intermediate CA (its own path was validated by the caller): a partial
 * chain ending at it is enough. */
static mla_err verify_signer(OCSP_BASICRESP *bs, X509 *issuer, mla_diag *diag)
{
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	int ok = store != NULL && certs != NULL && X509_STORE_add_cert(store, issuer) == 1 &&
		 X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) == 1 &&
		 sk_X509_push(certs, issuer) > 0 && OCSP_basic_verify(bs, certs, store, 0) == 1;

	sk_X509_free(certs);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_SIG_INVALID, "OCSP answer not signed by the "
				      "issuer or a responder it delegated to");
}

/* The single answer for cert: its status and dates, checked against now. */
static mla_err read_status(OCSP_BASICRESP *bs, X509 *cert, X509 *issuer, time_t now,
			   mla_revoc_status *st, const char *subject, mla_diag *diag)
{
	OCSP_CERTID *id = OCSP_cert_to_id(NULL, cert, issuer);
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int status = -1, reason = 0, found;
	time_t late = now + MLA_REVOC_SKEW_S;

	found = id != NULL &&
		OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd, &nextupd) == 1;
	OCSP_CERTID_free(id);
	if (!found)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer has no status for "
				"%s", subject);
	/* OpenSSL's check against the system clock (well-formed dates, not expired), then
	 * ours against the caller's, which also requires a nextUpdate */
	if (OCSP_check_validity(thisupd, nextupd, MLA_REVOC_SKEW_S, -1) != 1) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer for %s is outside "
				"its validity (stale)", subject);
	}
	ERR_clear_error();
	memset(st, 0, sizeof(*st));
	st->this_update = revoc_time(thisupd);
	st->next_update = revoc_time(nextupd);
	if (X509_cmp_time(thisupd, &late) >= 0)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer for %s is dated in "
				"the future", subject);
	if (nextupd == NULL || X509_cmp_time(nextupd, &now) <= 0)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer for %s is stale "
				"(no nextUpdate, or past it)", subject);
	if (status == V_OCSP_CERTSTATUS_UNKNOWN)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP responder does not know "
				"%s", subject);
	if (status == V_OCSP_CERTSTATUS_REVOKED) {
		st->revoked = 1;
		st->revoked_at = revoc_time(rev);
	}
	return MLA_OK;
}

mla_err mla_ocsp_check(const uint8_t *der, size_t len, X509 *cert, X509 *issuer, time_t now,
		       mla_revoc_status *st, mla_diag *diag)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	char subject[256];
	mla_err r;

	revoc_subject(cert, subject, sizeof(subject));
	if (der == NULL || len == 0 || len > MLA_OCSP_MAX_BYTES)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "OCSP answer empty or larger than %zu "
				"bytes", MLA_OCSP_MAX_BYTES);
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len)) == NULL || p != der + len)
		r = mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer for %s is not DER "
			     "OCSPResponse", subject);
	else if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		r = mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP responder answered %s for %s",
			     OCSP_response_status_str(OCSP_response_status(resp)), subject);
	else if ((bs = OCSP_response_get1_basic(resp)) == NULL)
		r = mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "OCSP answer for %s is not basic",
			     subject);
	else if ((r = verify_signer(bs, issuer, diag)) == MLA_OK)
		r = read_status(bs, cert, issuer, now, st, subject, diag);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return r;
}
