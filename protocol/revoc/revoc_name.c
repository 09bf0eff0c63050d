/* Naming certificates and times in revocation messages, a revoked serial handed to a caller
 * (CRL and OCSP alike), and the URLs a certificate gives for its revocation status. */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "mlagw/codec.h"
#include "mlagw/revoc.h"
#include "revoc_internal.h"

time_t revoc_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

void revoc_subject(X509 *x, char *out, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	out[0] = '\0';
	if (b != NULL && X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
					    (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ) & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, out, (int)len - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

mla_err mla_revoc_refuse(X509 *cert, const char *role, const mla_revoc_status *st,
			 mla_diag *diag)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	char subject[256], when[32] = "an unknown time";
	struct tm tm;

	revoc_subject(cert, subject, sizeof(subject));
	if (st->revoked_at != 0 && gmtime_r(&st->revoked_at, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	(void)mla_fail(diag, MLA_ERR_CERT_REVOKED, "%s certificate %s serial %s revoked at %s",
		       role, subject, hex != NULL ? hex : "?", when);
	OPENSSL_free(hex);
	BN_free(bn);
	return MLA_ERR_CERT_REVOKED;
}

static void first_uri(GENERAL_NAMES *names, char *out, size_t len)
{
	for (int i = 0; out[0] == '\0' && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		const char *s;
		if (g->type != GEN_URI)
			continue;
		s = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
		if ((size_t)ASN1_STRING_length(g->d.uniformResourceIdentifier) == strlen(s) &&
		    (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0) &&
		    mla_strcpy(out, len, s) != MLA_OK)
			out[0] = '\0';
	}
}

void mla_cert_revoc_urls(X509 *cert, char *crl, size_t crl_len, char *ocsp, size_t ocsp_len)
{
	STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL,
						     NULL);
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);

	crl[0] = ocsp[0] = '\0';
	for (int i = 0; i < sk_DIST_POINT_num(dps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint != NULL && dp->distpoint->type == 0)
			first_uri(dp->distpoint->name.fullname, crl, crl_len);
	}
	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		GENERAL_NAMES *one = sk_GENERAL_NAME_new_null();
		if (one != NULL && OBJ_obj2nid(ad->method) == NID_ad_OCSP &&
		    sk_GENERAL_NAME_push(one, ad->location) > 0)
			first_uri(one, ocsp, ocsp_len);
		sk_GENERAL_NAME_free(one); /* the location stays the AIA's */
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	AUTHORITY_INFO_ACCESS_free(aia);
	ERR_clear_error();
}

int revoc_give_serial(const ASN1_INTEGER *serial, time_t at, mla_crl_revoked_fn fn, void *arg)
{
	if (serial == NULL || at == 0 || serial->length <= 0 ||
	    serial->length > MLA_CRL_SERIAL_MAX)
		return -2;
	return fn(arg, serial->data, (size_t)serial->length, serial->type == V_ASN1_NEG_INTEGER,
		  at);
}
