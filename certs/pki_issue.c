/* Key generation and certificate issuance for the test PKI (see include/mlagw/pki.h):
 * random serials, the State's subject name, and the X.509v3 extensions of each role. */
#include <arpa/inet.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mlagw/buf.h"
#include "mlagw/codec.h"
#include "mlagw/pki.h"
#include "pki_internal.h"

#define PKI_RSA_MIN_BITS 2048
/* Above this key generation takes minutes and buys nothing. */
#define PKI_RSA_MAX_BITS 16384
#define PKI_SERIAL_BITS 128
/* Bound on the subjectAltName configuration string built from the hosts list. */
#define PKI_SAN_MAX 4096
#define PKI_HOST_MAX 253
#define PKI_DEFAULT_HOSTS "localhost,127.0.0.1"
#define PKI_URL_MAX 1024

/* One extension as OpenSSL's configuration syntax gives it ("critical," marks critical). */
struct ext_spec {
	int nid;
	const char *value;
};

/* Extensions common to every leaf come first; the role's key usage follows. */
static const struct ext_spec root_exts[] = {
	{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
	{NID_key_usage, "critical,keyCertSign,cRLSign"},
	{NID_subject_key_identifier, "hash"},
};
static const struct ext_spec leaf_exts[] = {
	{NID_basic_constraints, "critical,CA:FALSE"},
	{NID_subject_key_identifier, "hash"},
	{NID_authority_key_identifier, "keyid:always"},
};
static const struct ext_spec tls_exts[] = {
	{NID_key_usage, "critical,digitalSignature"},
	{NID_ext_key_usage, "serverAuth,clientAuth"},
};
static const struct ext_spec sign_exts[] = {
	{NID_key_usage, "critical,digitalSignature,nonRepudiation"},
};
static const struct ext_spec encrypt_exts[] = {
	{NID_key_usage, "critical,keyEncipherment"},
};
static const struct ext_spec audit_exts[] = {
	{NID_key_usage, "critical,digitalSignature"},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return s != NULL ? s : "no detail from OpenSSL";
}

mla_err mla_pki_keygen(mla_key_type type, int bits, EVP_PKEY **out, mla_diag *diag)
{
	EVP_PKEY *key = NULL;

	if (out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pki_keygen: NULL argument");
	switch (type) {
	case MLA_KEY_EC_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case MLA_KEY_RSA:
		if (bits < PKI_RSA_MIN_BITS || bits > PKI_RSA_MAX_BITS)
			return mla_fail(diag, MLA_ERR_ARG,
					"RSA key size %d bits is not allowed; use %d to %d bits",
					bits, PKI_RSA_MIN_BITS, PKI_RSA_MAX_BITS);
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	case MLA_KEY_ED25519:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		return mla_fail(diag, MLA_ERR_ARG, "unknown key type %d", (int)type);
	}
	if (key == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "key generation failed: %s",
				ossl_reason());
	*out = key;
	return MLA_OK;
}

/* A random positive serial of exactly PKI_SERIAL_BITS bits (top bit set, so never zero). */
static mla_err set_serial(X509 *x, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	BIGNUM *bn = BN_new();

	if (bn == NULL || BN_rand(bn, PKI_SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot make a serial number: %s",
			     ossl_reason());
		goto out;
	}
	r = MLA_OK;
out:
	BN_free(bn);
	return r;
}

mla_err pki_subject(X509_NAME *name, const char *state, const char *cn, mla_diag *diag)
{
	char org[64];
	int n = snprintf(org, sizeof(org), "%s Ministry of Justice (test PKI)", state);

	if (n < 0 || (size_t)n >= sizeof(org))
		return mla_fail(diag, MLA_ERR_ARG, "State code '%s' is too long", state);
	if (X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)state, -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)org, -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
				       -1, 0) != 1)
		return mla_fail(diag, MLA_ERR_ARG, "cannot build subject C=%s, CN=%s: %s", state,
				cn, ossl_reason());
	return MLA_OK;
}

static mla_err set_subject(X509 *x, const char *state, const char *cn, mla_diag *diag)
{
	return pki_subject(X509_get_subject_name(x), state, cn, diag);
}

static mla_err set_validity(X509 *x, time_t not_before, time_t not_after, mla_diag *diag)
{
	if (not_after <= not_before)
		return mla_fail(diag, MLA_ERR_ARG, "certificate would expire before it is valid");
	/* ASN1_TIME_set chooses UTCTime or GeneralizedTime as RFC 5280 requires. */
	if (ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "validity period out of range: %s",
				ossl_reason());
	return MLA_OK;
}

static mla_err add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value, mla_diag *diag)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "cannot build extension %s=%s: %s",
				OBJ_nid2sn(nid), value, ossl_reason());
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (ok != 1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot add extension %s: %s",
				OBJ_nid2sn(nid), ossl_reason());
	return MLA_OK;
}

static mla_err add_exts(X509 *x, X509V3_CTX *ctx, const struct ext_spec *specs, size_t n,
			mla_diag *diag)
{
	mla_err r = MLA_OK;

	for (size_t i = 0; i < n && r == MLA_OK; i++)
		r = add_ext(x, ctx, specs[i].nid, specs[i].value, diag);
	return r;
}

/* A DNS name as we accept it for a test certificate: letters, digits, '-', '.', and a
 * leading wildcard label. Rejecting everything else also keeps ':' and ',' out of the
 * configuration string handed to OpenSSL. */
static int host_is_dns_name(const char *h, size_t len)
{
	if (len == 0 || len > PKI_HOST_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '-' || c == '.' || (c == '*' && i == 0);
		if (!ok)
			return 0;
	}
	return 1;
}

static int host_is_ip(const char *h)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
}

/* Appends "IP:h" or "DNS:h" for the host h[0..len) to san, with a separating comma. */
static mla_err san_append_host(mla_buf *san, const char *h, size_t len, mla_diag *diag)
{
	char host[PKI_HOST_MAX + 1];
	const char *kind;

	while (len > 0 && (*h == ' ' || *h == '\t')) {
		h++;
		len--;
	}
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	if (len == 0 || len > PKI_HOST_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "empty or over-long entry in hosts list");
	memcpy(host, h, len);
	host[len] = '\0';
	if (host_is_ip(host))
		kind = "IP";
	else if (host_is_dns_name(host, len))
		kind = "DNS";
	else
		return mla_fail(diag, MLA_ERR_ARG,
				"host '%s' is neither an IP address nor a DNS name", host);
	if (mla_buf_printf(san, "%s%s:%s", san->len > 0 ? "," : "", kind, host) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "hosts list longer than %d bytes", PKI_SAN_MAX);
	return MLA_OK;
}

/* Turns "gw.example,10.0.0.1" into "DNS:gw.example,IP:10.0.0.1". */
static mla_err san_from_hosts(const char *hosts, mla_buf *san, mla_diag *diag)
{
	mla_err r = MLA_OK;
	const char *p = hosts;

	while (r == MLA_OK) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);

		r = san_append_host(san, p, len, diag);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (r == MLA_OK && mla_buf_terminate(san) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_ARG, "hosts list longer than %d bytes", PKI_SAN_MAX);
	return r;
}

static mla_err add_san(X509 *x, X509V3_CTX *ctx, const char *hosts, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	mla_buf san;

	mla_buf_init(&san, PKI_SAN_MAX);
	if ((r = san_from_hosts(hosts != NULL ? hosts : PKI_DEFAULT_HOSTS, &san, diag)) !=
	    MLA_OK)
		goto out;
	r = add_ext(x, ctx, NID_subject_alt_name, (const char *)san.data, diag);
out:
	mla_buf_free(&san);
	return r;
}

/* A URL as it may go into OpenSSL's extension configuration syntax: http(s), printable,
 * and none of the separators (',' ';' space) that syntax gives a meaning. */
static mla_err check_url(const char *what, const char *url, mla_diag *diag)
{
	size_t n = strlen(url);

	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    n > PKI_URL_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "%s URL must be http:// or https://, at most "
				"%d bytes", what, PKI_URL_MAX);
	for (size_t i = 0; i < n; i++)
		if (url[i] <= ' ' || url[i] > '~' || url[i] == ',' || url[i] == ';')
			return mla_fail(diag, MLA_ERR_ARG, "%s URL has a character not allowed "
					"at position %zu", what, i + 1);
	return MLA_OK;
}

/* crlDistributionPoints and authorityInfoAccess (OCSP) for the URLs given. */
static mla_err add_url_exts(X509 *x, X509V3_CTX *ctx, const mla_pki_urls *urls,
			    mla_diag *diag)
{
	char value[PKI_URL_MAX + 16];
	mla_err r = MLA_OK;

	if (urls == NULL)
		return MLA_OK;
	if (urls->crl != NULL && (r = check_url("CRL", urls->crl, diag)) == MLA_OK) {
		if ((r = mla_snprintf(value, sizeof(value), "URI:%s", urls->crl)) == MLA_OK)
			r = add_ext(x, ctx, NID_crl_distribution_points, value, diag);
	}
	if (r == MLA_OK && urls->ocsp != NULL &&
	    (r = check_url("OCSP", urls->ocsp, diag)) == MLA_OK) {
		if ((r = mla_snprintf(value, sizeof(value), "OCSP;URI:%s", urls->ocsp)) == MLA_OK)
			r = add_ext(x, ctx, NID_info_access, value, diag);
	}
	return r;
}

static mla_err add_role_exts(X509 *x, X509V3_CTX *ctx, mla_cert_role role, const char *hosts,
			     mla_diag *diag)
{
	mla_err r;

	if (role == MLA_ROLE_ROOT)
		return add_exts(x, ctx, root_exts, NELEM(root_exts), diag);
	if ((r = add_exts(x, ctx, leaf_exts, NELEM(leaf_exts), diag)) != MLA_OK)
		return r;
	switch (role) {
	case MLA_ROLE_TLS:
		if ((r = add_exts(x, ctx, tls_exts, NELEM(tls_exts), diag)) != MLA_OK)
			return r;
		return add_san(x, ctx, hosts, diag);
	case MLA_ROLE_SIGN:
		return add_exts(x, ctx, sign_exts, NELEM(sign_exts), diag);
	case MLA_ROLE_ENCRYPT:
		return add_exts(x, ctx, encrypt_exts, NELEM(encrypt_exts), diag);
	case MLA_ROLE_AUDIT:
		return add_exts(x, ctx, audit_exts, NELEM(audit_exts), diag);
	default:
		return mla_fail(diag, MLA_ERR_ARG, "unknown certificate role %d", (int)role);
	}
}

/* Checks the caller's combination: a root signs itself, a leaf needs an issuer and the
 * issuer's matching private key. */
static mla_err check_issue_args(mla_cert_role role, const char *state, const char *cn,
				EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
				X509 **out, mla_diag *diag)
{
	if (state == NULL || cn == NULL || key == NULL || out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pki_issue: NULL argument");
	if (role == MLA_ROLE_ROOT) {
		if (issuer != NULL || issuer_key != NULL)
			return mla_fail(diag, MLA_ERR_ARG, "a root certificate is self-signed; "
							   "issuer must be NULL");
		return MLA_OK;
	}
	if (issuer == NULL || issuer_key == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "certificate %s needs an issuer and its key", cn);
	if (X509_check_private_key(issuer, issuer_key) != 1) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_ARG, "issuer key does not match issuer certificate");
	}
	return MLA_OK;
}

/* Signs x; Ed25519/Ed448 sign the message itself, so they take no digest. */
static mla_err sign_cert(X509 *x, EVP_PKEY *signer, mla_diag *diag)
{
	int id = EVP_PKEY_get_base_id(signer);
	const EVP_MD *md = (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha256();

	if (X509_sign(x, signer, md) <= 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot sign certificate: %s",
				ossl_reason());
	return MLA_OK;
}

/* Fills every field of x but the signature. */
static mla_err build_cert(X509 *x, mla_cert_role role, const char *state, const char *cn,
			  EVP_PKEY *key, X509 *issuer, time_t not_before, time_t not_after,
			  const char *hosts, const mla_pki_urls *urls, mla_diag *diag)
{
	X509V3_CTX ctx;
	mla_err r;

	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_pubkey(x, key) != 1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot set certificate key: %s",
				ossl_reason());
	if ((r = set_serial(x, diag)) != MLA_OK ||
	    (r = set_subject(x, state, cn, diag)) != MLA_OK ||
	    (r = set_validity(x, not_before, not_after, diag)) != MLA_OK)
		return r;
	if (X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x)) != 1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot set issuer name");
	/* The context gives subjectKeyIdentifier the subject's key and authorityKeyIdentifier
	 * the issuer's subjectKeyIdentifier. */
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((r = add_role_exts(x, &ctx, role, hosts, diag)) != MLA_OK)
		return r;
	return role == MLA_ROLE_ROOT ? MLA_OK : add_url_exts(x, &ctx, urls, diag);
}

mla_err mla_pki_issue(mla_cert_role role, const char *state, const char *cn, EVP_PKEY *key,
		      X509 *issuer, EVP_PKEY *issuer_key, time_t not_before, time_t not_after,
		      const char *hosts, X509 **out, mla_diag *diag)
{
	return mla_pki_issue_with(role, state, cn, key, issuer, issuer_key, not_before, not_after,
				  hosts, NULL, out, diag);
}

mla_err mla_pki_issue_with(mla_cert_role role, const char *state, const char *cn,
			   EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, time_t not_before,
			   time_t not_after, const char *hosts, const mla_pki_urls *urls,
			   X509 **out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	X509 *x = NULL;

	if ((r = check_issue_args(role, state, cn, key, issuer, issuer_key, out, diag)) !=
	    MLA_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory creating certificate %s", cn);
		goto out;
	}
	if ((r = build_cert(x, role, state, cn, key, issuer, not_before, not_after, hosts, urls,
			    diag)) != MLA_OK)
		goto out;
	if ((r = sign_cert(x, issuer_key != NULL ? issuer_key : key, diag)) != MLA_OK)
		goto out;
	*out = x;
	x = NULL;
	r = MLA_OK;
out:
	X509_free(x);
	return r;
}
