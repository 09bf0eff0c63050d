/* CRLs (include/mlagw/revoc.h): bounded parse, verification against the issuing CA, and
 * whether a certificate is listed. */
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mlagw/revoc.h"
#include "revoc_internal.h"

mla_err mla_crl_parse(const uint8_t *data, size_t len, X509_CRL **out, mla_diag *diag)
{
	const unsigned char *p = data;
	BIO *bio = NULL;

	*out = NULL;
	if (data == NULL || len == 0 || len > MLA_CRL_MAX_BYTES)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "CRL empty or larger than %zu bytes",
				MLA_CRL_MAX_BYTES);
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL)
			*out = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	} else {
		*out = d2i_X509_CRL(NULL, &p, (long)len);
	}
	ERR_clear_error();
	if (*out == NULL)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "not a CRL (PEM or DER)");
	return MLA_OK;
}

mla_err mla_crl_verify(X509_CRL *crl, X509 *issuer, time_t now, mla_diag *diag)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	time_t late = now + MLA_REVOC_SKEW_S;
	char subject[256];
	EVP_PKEY *pk = X509_get0_pubkey(issuer);

	revoc_subject(issuer, subject, sizeof(subject));
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0)
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "CRL is not issued by %s", subject);
	if (pk == NULL || X509_CRL_verify(crl, pk) != 1) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "CRL of %s: signature does not verify",
				subject);
	}
	if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &late) >= 0)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "CRL of %s is dated in the "
				"future", subject);
	if (next == NULL)
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "CRL of %s gives no next update",
				subject);
	if (X509_cmp_time(next, &now) <= 0) {
		time_t due = revoc_time(next);
		struct tm tm;
		char when[32] = "?";
		if (gmtime_r(&due, &tm) != NULL)
			(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "CRL of %s is stale: its next "
				"update was due at %s", subject, when);
	}
	return MLA_OK;
}

void mla_crl_status(X509_CRL *crl, X509 *cert, mla_revoc_status *st)
{
	X509_REVOKED *rev = NULL;

	memset(st, 0, sizeof(*st));
	st->this_update = revoc_time(X509_CRL_get0_lastUpdate(crl));
	st->next_update = revoc_time(X509_CRL_get0_nextUpdate(crl));
	if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1 &&
	    rev != NULL) {
		st->revoked = 1;
		st->revoked_at = revoc_time(X509_REVOKED_get0_revocationDate(rev));
	}
}

mla_err mla_crl_parse_der(const uint8_t *data, size_t len, X509_CRL **out, mla_diag *diag)
{
	const unsigned char *p = data;

	*out = NULL;
	if (data == NULL || len == 0 || len > MLA_CRL_MAX_BYTES)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "CRL empty or larger than %zu bytes",
				MLA_CRL_MAX_BYTES);
	*out = d2i_X509_CRL(NULL, &p, (long)len);
	ERR_clear_error();
	if (*out == NULL)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "not a DER CRL");
	if (p != data + len) {
		X509_CRL_free(*out);
		*out = NULL;
		return mla_fail(diag, MLA_ERR_CERT_FILE, "%zu bytes after the DER CRL",
				(size_t)(data + len - p));
	}
	return MLA_OK;
}

int revoc_strong_sig(int sig_nid)
{
	int md = NID_undef, pk = NID_undef;

	if (!OBJ_find_sigid_algs(sig_nid, &md, &pk))
		return 0;
	return md == NID_sha256 || md == NID_sha384 || md == NID_sha512 ||
	       (md == NID_undef && (pk == NID_ED25519 || pk == NID_ED448));
}

mla_err mla_crl_verify_issued(X509_CRL *crl, X509 *root, mla_diag *diag)
{
	const ASN1_TIME *this_up = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	EVP_PKEY *pk = X509_get0_pubkey(root);
	char subject[256];
	time_t t;

	revoc_subject(root, subject, sizeof(subject));
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(root)) != 0)
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "CRL is not issued by %s", subject);
	if (!revoc_strong_sig(X509_CRL_get_signature_nid(crl)))
		return mla_fail(diag, MLA_ERR_ALG_WEAK, "CRL of %s: signature algorithm "
				"refused (SHA-256 or stronger, or Ed25519)", subject);
	if (pk == NULL || X509_CRL_verify(crl, pk) != 1) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "CRL of %s: signature does not verify",
				subject);
	}
	if ((t = revoc_time(this_up)) == 0 || next == NULL || revoc_time(next) <= t)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "CRL of %s: no thisUpdate, or no "
				"nextUpdate after it", subject);
	if (X509_cmp_time(X509_get0_notBefore(root), &t) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(root), &t) < 0)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "CRL of %s: its thisUpdate is outside "
				"the root's validity", subject);
	return MLA_OK;
}

int mla_crl_each_revoked(X509_CRL *crl, mla_crl_revoked_fn fn, void *arg)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int n = revs != NULL ? sk_X509_REVOKED_num(revs) : 0;

	for (int i = 0; i < n; i++) {
		const X509_REVOKED *rv = sk_X509_REVOKED_value(revs, i);
		int r = revoc_give_serial(X509_REVOKED_get0_serialNumber(rv),
					  revoc_time(X509_REVOKED_get0_revocationDate(rv)), fn, arg);

		if (r != 0)
			return r;
	}
	return 0;
}
