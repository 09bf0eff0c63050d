/* Algorithm allowlist per element (see algs.h and protocol/SPEC.md, section Algorithms). */
#include <string.h>

#include <xmlsec/crypto.h>

#include "algs.h"
#include "protocol_ns.h"

#define DSIG_MORE "http://www.w3.org/2001/04/xmldsig-more#"
#define DSIG "http://www.w3.org/2000/09/xmldsig#"
#define XENC "http://www.w3.org/2001/04/xmlenc#"
#define XENC11 "http://www.w3.org/2009/xmlenc11#"

/* Where an algorithm may appear. */
enum place {
	P_C14N, P_SIGMETHOD, P_TRANSFORM, P_DIGEST, P_OAEP_DIGEST, P_DATA_ENC, P_KEY_ENC,
	P_ENV_DIGEST /* a receipt's EnvelopeDigest: 32 bytes, so SHA-256 only */
};

struct alg_rule {
	enum place place;
	const char *uri;
};

static const struct alg_rule allowed[] = {
	{P_C14N, ALG_EXC_C14N},
	{P_TRANSFORM, ALG_EXC_C14N},
	{P_SIGMETHOD, ALG_ECDSA_SHA256},
	{P_SIGMETHOD, DSIG_MORE "ecdsa-sha384"},
	{P_SIGMETHOD, DSIG_MORE "ecdsa-sha512"},
	{P_SIGMETHOD, ALG_RSA_SHA256},
	{P_SIGMETHOD, DSIG_MORE "rsa-sha384"},
	{P_SIGMETHOD, DSIG_MORE "rsa-sha512"},
	{P_DIGEST, ALG_SHA256},
	{P_DIGEST, DSIG_MORE "sha384"},
	{P_DIGEST, XENC "sha512"},
	{P_ENV_DIGEST, ALG_SHA256},
	/* OAEP's hash needs no collision resistance: SHA-1 stays acceptable there
	 * (NIST SP 800-131A r2), and it is the only one xmlsec 1.2 implements. */
	{P_OAEP_DIGEST, DSIG "sha1"},
	{P_DATA_ENC, ALG_AES256_GCM},
	{P_DATA_ENC, XENC11 "aes128-gcm"},
	{P_KEY_ENC, ALG_RSA_OAEP},
};

/* Known and refused by policy, with the short name a person recognises. */
static const struct {
	const char *uri;
	const char *name;
} weak[] = {
	{DSIG "rsa-sha1", "rsa-sha1"},
	{DSIG "dsa-sha1", "dsa-sha1"},
	{DSIG "hmac-sha1", "hmac-sha1"},
	{DSIG_MORE "ecdsa-sha1", "ecdsa-sha1"},
	{DSIG_MORE "rsa-md5", "rsa-md5"},
	{DSIG_MORE "hmac-md5", "hmac-md5"},
	{DSIG_MORE "md5", "md5"},
	{DSIG "sha1", "sha1"},
	{XENC "rsa-1_5", "rsa-1_5 (PKCS#1 v1.5 key transport)"},
	{XENC "tripledes-cbc", "tripledes-cbc"},
	{XENC "aes128-cbc", "aes128-cbc (unauthenticated)"},
	{XENC "aes192-cbc", "aes192-cbc (unauthenticated)"},
	{XENC "aes256-cbc", "aes256-cbc (unauthenticated)"},
	{"http://www.w3.org/TR/2001/REC-xml-c14n-20010315", "inclusive c14n"},
	{"http://www.w3.org/TR/1999/REC-xslt-19991116", "xslt"},
	{"http://www.w3.org/TR/1999/REC-xpath-19991116", "xpath"},
	{"http://www.w3.org/2002/06/xmldsig-filter2", "xpath-filter2"},
	{"http://www.w3.org/2000/09/xmldsig#enveloped-signature", "enveloped-signature"},
	{"http://www.w3.org/2000/09/xmldsig#base64", "base64 transform"},
};

static int in_ns(xmlNodePtr n, const char *ns)
{
	return n != NULL && n->ns != NULL && xmlStrEqual(n->ns->href, BAD_CAST ns);
}

static int named(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && in_ns(n, ns) && xmlStrEqual(n->name, BAD_CAST name);
}

static int place_of(xmlNodePtr n, enum place *p)
{
	if (named(n, DS_NS, "CanonicalizationMethod"))
		*p = P_C14N;
	else if (named(n, DS_NS, "SignatureMethod"))
		*p = P_SIGMETHOD;
	else if (named(n, DS_NS, "Transform"))
		*p = P_TRANSFORM;
	else if (named(n, DS_NS, "DigestMethod"))
		*p = named(n->parent, XENC_NS, "EncryptionMethod") ? P_OAEP_DIGEST : P_DIGEST;
	else if (named(n, XENC_NS, "EncryptionMethod"))
		*p = named(n->parent, XENC_NS, "EncryptedKey") ? P_KEY_ENC : P_DATA_ENC;
	else if (named(n, MLA_RECEIPT_NS, "EnvelopeDigest") ||
		 named(n, MLA_RECEIPT2_NS, "EnvelopeDigest") ||
		 named(n, MLA_RECEIPT3_NS, "EnvelopeDigest"))
		*p = P_ENV_DIGEST;
	else
		return 0;
	return 1;
}

static const char *weak_name(const char *uri)
{
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (strcmp(uri, weak[i].uri) == 0)
			return weak[i].name;
	return NULL;
}

static mla_err check_one(xmlNodePtr n, enum place p, const char *uri, mla_diag *diag)
{
	const char *w;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (allowed[i].place == p && strcmp(uri, allowed[i].uri) == 0)
			return MLA_OK;
	if ((w = weak_name(uri)) != NULL)
		return mla_fail(diag, MLA_ERR_ALG_WEAK, "weak algorithm %s refused in %s", w,
				(const char *)n->name);
	return mla_fail(diag, MLA_ERR_ALG_UNKNOWN, "algorithm %.120s not allowed in %s", uri,
			(const char *)n->name);
}

static mla_err check_node(xmlNodePtr n, mla_diag *diag)
{
	enum place p;
	xmlChar *uri;
	mla_err r;

	if (!place_of(n, &p)) {
		if (xmlHasProp(n, BAD_CAST "Algorithm") == NULL)
			return MLA_OK;
		return mla_fail(diag, MLA_ERR_ALG_UNKNOWN, "unexpected Algorithm attribute on %s",
				(const char *)n->name);
	}
	if ((uri = xmlGetNoNsProp(n, BAD_CAST "Algorithm")) == NULL)
		return mla_fail(diag, MLA_ERR_ALG_UNKNOWN, "%s has no Algorithm",
				(const char *)n->name);
	r = check_one(n, p, (const char *)uri, diag);
	xmlFree(uri);
	return r;
}

mla_err algs_check_tree(xmlNodePtr root, mla_diag *diag)
{
	mla_err r;

	for (xmlNodePtr c = root; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((r = check_node(c, diag)) != MLA_OK)
			return r;
		if (c->children != NULL && (r = algs_check_tree(c->children, diag)) != MLA_OK)
			return r;
	}
	return MLA_OK;
}

mla_err algs_restrict_dsig(xmlSecDSigCtxPtr ctx)
{
	xmlSecTransformId sig[] = {
		xmlSecTransformExclC14NId,	 xmlSecTransformEcdsaSha256Id,
		xmlSecTransformEcdsaSha384Id,	 xmlSecTransformEcdsaSha512Id,
		xmlSecTransformRsaSha256Id,	 xmlSecTransformRsaSha384Id,
		xmlSecTransformRsaSha512Id,
	};
	xmlSecTransformId ref[] = {
		xmlSecTransformExclC14NId, xmlSecTransformSha256Id, xmlSecTransformSha384Id,
		xmlSecTransformSha512Id,
	};

	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
		if (xmlSecDSigCtxEnableSignatureTransform(ctx, sig[i]) < 0)
			return MLA_ERR_INTERNAL;
	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++)
		if (xmlSecDSigCtxEnableReferenceTransform(ctx, ref[i]) < 0)
			return MLA_ERR_INTERNAL;
	return MLA_OK;
}
