/* libFuzzer harness: CRLs and OCSP answers are fetched from the network (SPEC 18.7), and
 * an audit bundle's crl and ocsp records (SPEC 15 format 6) come from anyone; parsing and
 * judging them must refuse any input cleanly. A root and a leaf made once in memory are the
 * issuer and the certificate asked about. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "mlagw/pki.h"
#include "mlagw/revoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *root, *leaf;

static void make_pki(void)
{
	EVP_PKEY *rk = NULL, *lk = NULL;
	time_t now = time(NULL);

	if (mla_pki_keygen(MLA_KEY_EC_P256, 0, &rk, NULL) != MLA_OK ||
	    mla_pki_keygen(MLA_KEY_EC_P256, 0, &lk, NULL) != MLA_OK ||
	    mla_pki_issue(MLA_ROLE_ROOT, "ES", "ES root", rk, NULL, NULL, now - 60, now + 86400,
			  NULL, &root, NULL) != MLA_OK ||
	    mla_pki_issue(MLA_ROLE_TLS, "ES", "ES tls", lk, root, rk, now - 60, now + 86400,
			  NULL, &leaf, NULL) != MLA_OK)
		abort();
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
}

static int count_revoked(void *arg, const uint8_t *serial, size_t len, int negative,
			 time_t at)
{
	(void)arg;
	return len == 0 || serial == NULL || negative < 0 || at == 0 ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_CRL *crl = NULL;
	OCSP_BASICRESP *bs = NULL;
	mla_revoc_status st;
	mla_diag d = {MLA_OK, ""};

	if (root == NULL)
		make_pki();
	if (mla_crl_parse(data, size, &crl, &d) == MLA_OK) {
		(void)mla_crl_verify(crl, root, time(NULL), &d);
		mla_crl_status(crl, leaf, &st);
		X509_CRL_free(crl);
	}
	if (mla_crl_parse_der(data, size, &crl, &d) == MLA_OK) { /* the auditor's reading */
		if (mla_crl_verify_issued(crl, root, &d) == MLA_OK)
			(void)mla_crl_each_revoked(crl, count_revoked, NULL);
		X509_CRL_free(crl);
	}
	(void)mla_ocsp_check(data, size, leaf, root, time(NULL), &st, &d);
	if (mla_ocsp_parse_der(data, size, &bs, &d) == MLA_OK) { /* the auditor's reading */
		size_t good = 0;

		if (mla_ocsp_about_root(bs, root) && mla_ocsp_verify_issued(bs, root, &d) == MLA_OK)
			(void)mla_ocsp_each_revoked(bs, count_revoked, NULL, &good);
		OCSP_BASICRESP_free(bs);
	}
	return 0;
}
