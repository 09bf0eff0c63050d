/* OCSP answers as an auditor reads them (SPEC 15 step 1a, 18.7): an answer the gateway
 * relied on, carried in an audit bundle, judged with only the roots and long after the fact.
 * OpenSSL does the parsing (d2i, bounded by MLA_OCSP_MAX_BYTES) and the signature and
 * delegation checks (OCSP_basic_verify); nothing is compared with now. */
#include <string.h>

#include <openssl/ocsp.h>

#include "mlagw/revoc.h"
#include "revoc_internal.h"

mla_err mla_ocsp_parse_der(const uint8_t *data, size_t len, OCSP_BASICRESP **out,
			   mla_diag *diag)
{
	const unsigned char *p = data;
	OCSP_RESPONSE *resp;
	int status;

	*out = NULL;
	if (data == NULL || len == 0 || len > MLA_OCSP_MAX_BYTES)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "OCSP answer empty or larger than %zu "
				"bytes", MLA_OCSP_MAX_BYTES);
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	ERR_clear_error();
	if (resp == NULL)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "not a DER OCSPResponse");
	if (p != data + len) {
		OCSP_RESPONSE_free(resp);
		return mla_fail(diag, MLA_ERR_CERT_FILE, "%zu bytes after the DER OCSPResponse",
				(size_t)(data + len - p));
	}
	if ((status = OCSP_response_status(resp)) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		OCSP_RESPONSE_free(resp);
		return mla_fail(diag, MLA_ERR_CERT_FILE, "responseStatus %s, not successful",
				OCSP_response_status_str(status));
	}
	*out = OCSP_response_get1_basic(resp);
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return *out != NULL ? MLA_OK
			    : mla_fail(diag, MLA_ERR_CERT_FILE, "not a basic OCSP response");
}

/* Whether id names root as its certificate's issuer (in id's own hash algorithm). */
static int id_about(OCSP_CERTID *id, X509 *root)
{
	ASN1_OBJECT *md_obj = NULL;
	const EVP_MD *md;
	OCSP_CERTID *mine;
	int same;

	if (OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, id) != 1 ||
	    (md = EVP_get_digestbyobj(md_obj)) == NULL)
		return 0;
	mine = OCSP_cert_to_id(md, NULL, root); /* no serial: the issuer's hashes only */
	same = mine != NULL && OCSP_id_issuer_cmp(mine, id) == 0;
	OCSP_CERTID_free(mine);
	ERR_clear_error();
	return same;
}

int mla_ocsp_about_root(OCSP_BASICRESP *bs, X509 *root)
{
	int n = OCSP_resp_count(bs);

	for (int i = 0; i < n; i++) {
		OCSP_SINGLERESP *one = OCSP_resp_get0(bs, i);
		const OCSP_CERTID *id = one != NULL ? OCSP_SINGLERESP_get0_id(one) : NULL;

		if (id == NULL || !id_about((OCSP_CERTID *)id, root))
			return 0;
	}
	return n > 0;
}

mla_err mla_ocsp_verify_issued(OCSP_BASICRESP *bs, X509 *root, mla_diag *diag)
{
	const X509_ALGOR *alg = OCSP_resp_get0_tbs_sigalg(bs);
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *certs = sk_X509_new_null();
	char subject[256];
	int ok;

	revoc_subject(root, subject, sizeof(subject));
	if (alg == NULL || !revoc_strong_sig(OBJ_obj2nid(alg->algorithm))) {
		X509_STORE_free(store);
		sk_X509_free(certs);
		return mla_fail(diag, MLA_ERR_ALG_WEAK, "OCSP answer about %s's certificates: "
				"signature algorithm refused (SHA-256 or stronger, or Ed25519)",
				subject);
	}
	/* certs: root, so that an answer signed by root itself finds its signer; NOCHAIN: no
	 * certificate of the answer stands between a responder and root; NO_CHECK_TIME: the
	 * responder's certificate may have expired since */
	ok = store != NULL && certs != NULL && X509_STORE_add_cert(store, root) == 1 &&
	     X509_STORE_set_flags(store, X509_V_FLAG_NO_CHECK_TIME) == 1 &&
	     sk_X509_push(certs, root) > 0 && OCSP_basic_verify(bs, certs, store, OCSP_NOCHAIN) == 1;
	sk_X509_free(certs);
	X509_STORE_free(store);
	ERR_clear_error();
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_SIG_INVALID, "OCSP answer about %s's "
				      "certificates: not signed by it or by a responder it "
				      "certified for OCSP signing", subject);
}

int mla_ocsp_each_revoked(OCSP_BASICRESP *bs, mla_crl_revoked_fn fn, void *arg, size_t *good)
{
	int n = OCSP_resp_count(bs);

	*good = 0;
	for (int i = 0; i < n; i++) {
		OCSP_SINGLERESP *one = OCSP_resp_get0(bs, i);
		ASN1_GENERALIZEDTIME *rev = NULL;
		ASN1_INTEGER *serial = NULL;
		int reason = 0, status, r;

		status = one != NULL ? OCSP_single_get0_status(one, &reason, &rev, NULL, NULL) : -1;
		if (status == V_OCSP_CERTSTATUS_GOOD)
			(*good)++;
		if (status != V_OCSP_CERTSTATUS_REVOKED)
			continue;
		if (OCSP_id_get0_info(NULL, NULL, NULL, &serial,
				      (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(one)) != 1)
			return -2;
		if ((r = revoc_give_serial(serial, revoc_time(rev), fn, arg)) != 0)
			return r;
	}
	return 0;
}
