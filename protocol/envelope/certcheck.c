/* Certificate path validation with OpenSSL's X509_verify_cert, one store per State. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "certcheck.h"

static void format_asn1_date(const ASN1_TIME *t, char out[11])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, 11, "%Y-%m-%d", &tm) == 0)
		memcpy(out, "unknown", sizeof("unknown"));
}

static time_t asn1_time_t(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* The period in which every certificate of a validated path is valid. */
static void path_window(X509_STORE_CTX *ctx, time_t window[2])
{
	STACK_OF(X509) *path = X509_STORE_CTX_get0_chain(ctx);

	window[0] = 0;
	window[1] = (time_t)INT64_MAX;
	for (int i = 0; i < sk_X509_num(path); i++) {
		time_t nb = asn1_time_t(X509_get0_notBefore(sk_X509_value(path, i)));
		time_t na = asn1_time_t(X509_get0_notAfter(sk_X509_value(path, i)));
		if (nb > window[0])
			window[0] = nb;
		if (na < window[1])
			window[1] = na;
	}
}

/* path (may be NULL) receives, on success, the validated path: leaf first, root last. */
static int verify_with(X509_STORE *store, STACK_OF(X509) *chain, time_t at, int *err,
		       X509 **bad, time_t window[2], STACK_OF(X509) **path)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	*err = X509_V_ERR_UNSPECIFIED;
	*bad = NULL;
	if (ctx == NULL ||
	    X509_STORE_CTX_init(ctx, store, sk_X509_value(chain, 0), chain) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	ok = X509_verify_cert(ctx) == 1;
	*err = X509_STORE_CTX_get_error(ctx);
	if (ok && window != NULL)
		path_window(ctx, window);
	if (ok && path != NULL && (*path = X509_STORE_CTX_get1_chain(ctx)) == NULL)
		ok = 0;
	*bad = X509_STORE_CTX_get_current_cert(ctx);
out:
	X509_STORE_CTX_free(ctx);
	return ok;
}

/* Which other State's root, if any, the chain leads to: names the mix-up in the error. */
static const char *other_state(const mla_trust *trust, const char *state,
			       STACK_OF(X509) *chain, time_t at)
{
	int err;
	X509 *bad;

	for (size_t i = 0; i < trust->n; i++) {
		if (strcmp(trust->roots[i].state, state) == 0)
			continue;
		if (verify_with(trust->roots[i].store, chain, at, &err, &bad, NULL, NULL))
			return trust->roots[i].state;
	}
	return NULL;
}

static mla_err explain(const mla_trust *trust, const char *state, STACK_OF(X509) *chain,
		       time_t at, const char *role, const char *doc, int err, X509 *bad,
		       mla_diag *diag)
{
	char date[11];
	const char *other;

	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		format_asn1_date(X509_get0_notAfter(bad), date);
		return mla_fail(diag, MLA_ERR_CERT_EXPIRED, "%s certificate expired on %s", role,
				date);
	case X509_V_ERR_CERT_NOT_YET_VALID:
		format_asn1_date(X509_get0_notBefore(bad), date);
		return mla_fail(diag, MLA_ERR_CERT_NOT_YET_VALID,
				"%s certificate not valid before %s", role, date);
	default:
		break;
	}
	if ((other = other_state(trust, state, chain, at)) != NULL)
		return mla_fail(diag, MLA_ERR_CERT_WRONG_STATE,
				"%s certificate chains to the root of %s, but the %s is from %s",
				role, other, doc, state);
	return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED,
			"%s certificate does not chain to the root of %s (%s)", role, state,
			X509_verify_cert_error_string(err));
}

static mla_err check_key(X509 *leaf, const char *role, mla_diag *diag)
{
	EVP_PKEY *pk = X509_get0_pubkey(leaf);
	int id = pk != NULL ? EVP_PKEY_get_base_id(pk) : 0;
	char curve[32] = "";

	if (id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pk) >= 2048)
		return MLA_OK;
	if (id == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pk, "group", curve, sizeof(curve), NULL) == 1 &&
	    (strcmp(curve, "prime256v1") == 0 || strcmp(curve, "secp384r1") == 0 ||
	     strcmp(curve, "secp521r1") == 0))
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_CERT_WEAK_KEY,
			"%s certificate key is weak or unsupported (%s, %d bits)", role,
			id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? curve : "other",
			pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
}

mla_err certcheck_signer(const mla_trust *trust, const char *state, STACK_OF(X509) *chain,
			 time_t at, const char *role, const char *doc, time_t window[2],
			 STACK_OF(X509) **path, mla_diag *diag)
{
	X509_STORE *store = trust_store_for(trust, state);
	X509 *leaf = sk_X509_value(chain, 0), *bad;
	int err;
	mla_err r;

	if (leaf == NULL)
		return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "%s certificate is missing", role);
	if (store == NULL)
		return mla_fail(diag, MLA_ERR_UNKNOWN_STATE, "no trusted root for State %s", state);
	if (!verify_with(store, chain, at, &err, &bad, window, path))
		return explain(trust, state, chain, at, role, doc, err, bad, diag);
	if ((r = check_key(leaf, role, diag)) != MLA_OK)
		goto out;
	/* a signing certificate without keyUsage is refused: it could be any key */
	if (!(X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(leaf) & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
		r = mla_fail(diag, MLA_ERR_CERT_USAGE,
			     "%s certificate key usage does not allow digitalSignature", role);
out:
	if (r != MLA_OK && path != NULL) {
		sk_X509_pop_free(*path, X509_free);
		*path = NULL;
	}
	return r;
}

mla_err mla_trust_check_audit_cert(const mla_trust *trust, const char *state, X509 *cert,
				   time_t at, mla_diag *diag)
{
	X509_STORE *store = trust_store_for(trust, state);
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509 *bad;
	time_t window[2];
	char cs[3] = "";
	int err;
	mla_err r = MLA_OK;

	if (chain == NULL || sk_X509_push(chain, cert) != 1) {
		sk_X509_free(chain);
		return MLA_ERR_NOMEM;
	}
	if (store == NULL)
		r = mla_fail(diag, MLA_ERR_UNKNOWN_STATE, "no trusted root for State %s", state);
	else if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, cs,
					   (int)sizeof(cs)) != 2 || strcmp(cs, state) != 0)
		r = mla_fail(diag, MLA_ERR_CERT_WRONG_STATE,
			     "audit certificate names State '%s', not %s", cs, state);
	else if (!verify_with(store, chain, at, &err, &bad, window, NULL))
		r = explain(trust, state, chain, at, "audit", "checkpoint", err, bad, diag);
	else if (EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) != EVP_PKEY_ED25519)
		r = mla_fail(diag, MLA_ERR_CERT_WEAK_KEY, "audit certificate key is not Ed25519");
	else if (!(X509_get_extension_flags(cert) & EXFLAG_KUSAGE) ||
		 !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))
		r = mla_fail(diag, MLA_ERR_CERT_USAGE,
			     "audit certificate key usage does not allow digitalSignature");
	sk_X509_free(chain); /* the caller keeps cert */
	return r;
}
