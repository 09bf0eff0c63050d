/* XML-DSig verification with xmlsec, restricted to same-document references and our
 * algorithms, plus the coverage rule: the references are exactly the signed parts the rest of
 * the code then uses (an envelope's Header and Payload, a receipt's Body): no wrapping. */
#include <stdio.h>
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include "keys_internal.h"
#include "protocol_ns.h"
#include "verify_internal.h"
#include "xml_safe.h"

static mla_err register_id(const struct dsig_part *part, mla_diag *diag)
{
	xmlAttrPtr a = xmlHasNsProp(part->node, BAD_CAST "Id", NULL);
	xmlChar *v;
	mla_err r = MLA_OK;

	if (a == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s has no Id attribute", part->element);
	v = xmlNodeListGetString(part->node->doc, a->children, 1);
	/* only the signed parts ever get an ID, so a reference can resolve to nothing else */
	if (v == NULL || xmlAddID(NULL, part->node->doc, v, a) == NULL)
		r = mla_fail(diag, MLA_ERR_SIG_WRAPPING, "%s Id is empty or not unique",
			     part->element);
	xmlFree(v);
	return r;
}

static int uri_is(const xmlChar *uri, xmlNodePtr target)
{
	xmlChar *id = xmlGetNoNsProp(target, BAD_CAST "Id");
	int same = uri != NULL && id != NULL && uri[0] == '#' && xmlStrEqual(uri + 1, id);

	xmlFree(id);
	return same;
}

static void count_hits(xmlNodePtr ref, const struct dsig_part *parts, size_t n,
		       unsigned hits[DSIG_MAX_PARTS])
{
	xmlChar *uri = xmlGetNoNsProp(ref, BAD_CAST "URI");

	for (size_t i = 0; i < n; i++)
		hits[i] += (unsigned)uri_is(uri, parts[i].node);
	xmlFree(uri);
}

/* Coverage is checked from the SignedInfo before any cryptography: the signed references
 * must be exactly one "#<Id>" for each part, and nothing else. */
static mla_err check_coverage(xmlNodePtr signature, const struct dsig_part *parts, size_t n,
			      mla_diag *diag)
{
	xmlNodePtr si = xml_first_child(signature, DS_NS, "SignedInfo");
	unsigned refs = 0, hits[DSIG_MAX_PARTS] = {0};

	for (xmlNodePtr c = si != NULL ? si->children : NULL; c != NULL; c = c->next) {
		if (!xml_is(c, DS_NS, "Reference"))
			continue;
		refs++;
		count_hits(c, parts, n, hits);
	}
	for (size_t i = 0; i < n; i++)
		if (hits[i] == 0)
			return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
					"signature does not cover %s", parts[i].label);
	for (size_t i = 0; i < n; i++)
		if (hits[i] != 1)
			return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
					"signature has %u references to %s; exactly one allowed",
					hits[i], parts[i].label);
	if (refs != n)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
				"signature has %u references; exactly %zu allowed, one to each "
				"signed part", refs, n);
	return MLA_OK;
}

static mla_err restrict_ctx(xmlSecDSigCtxPtr ctx)
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

/* Names the altered part when a reference digest failed, else the signature value. */
static mla_err explain_failure(xmlSecDSigCtxPtr ctx, const struct dsig_part *parts, size_t n,
			       mla_diag *diag)
{
	xmlSecSize refs = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
	const char *what = "signed part";

	for (xmlSecSize i = 0; i < refs; i++) {
		xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
		if (ref == NULL || ref->status == xmlSecDSigStatusSucceeded)
			continue;
		for (size_t k = 0; k < n; k++)
			if (uri_is(ref->uri, parts[k].node))
				what = parts[k].altered;
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"digest of reference %.60s does not match: %s altered",
				ref->uri != NULL ? (const char *)ref->uri : "?", what);
	}
	return mla_fail(diag, MLA_ERR_SIG_INVALID,
			"signature value does not verify with the signer certificate");
}

static mla_err verify_with_key(xmlNodePtr signature, const struct dsig_part *parts, size_t n,
			       EVP_PKEY *signer_key, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecDSigCtxPtr ctx = NULL;

	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = restrict_ctx(ctx)) != MLA_OK)
		goto out;
	/* the key comes from the chain we validated, never from KeyInfo */
	if ((ctx->signKey = keys_xmlsec_key(signer_key, NULL)) == NULL) {
		r = MLA_ERR_INTERNAL;
		goto out;
	}
	crypto_clear_error();
	if (xmlSecDSigCtxVerify(ctx, signature) < 0) {
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "signature could not be processed: %s",
			     crypto_last_error());
		goto out;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		r = explain_failure(ctx, parts, n, diag);
		goto out;
	}
	r = MLA_OK;
out:
	xmlSecDSigCtxDestroy(ctx);
	return r;
}

mla_err dsig_verify_nodes(xmlNodePtr signature, const struct dsig_part *parts, size_t n,
			  EVP_PKEY *signer_key, mla_diag *diag)
{
	mla_err r;

	mla_require(n > 0 && n <= DSIG_MAX_PARTS); /* callers name 1 or 2 fixed parts */
	for (size_t i = 0; i < n; i++)
		if ((r = register_id(&parts[i], diag)) != MLA_OK)
			return r;
	if ((r = check_coverage(signature, parts, n, diag)) != MLA_OK)
		return r;
	return verify_with_key(signature, parts, n, signer_key, diag);
}

mla_err dsig_verify_parts(struct env_parts *p, EVP_PKEY *signer_key, mla_diag *diag)
{
	const struct dsig_part parts[2] = {
		{p->header, "Header", "the header", "header"},
		{p->payload, "Payload", "the encrypted payload", "payload"},
	};

	return dsig_verify_nodes(p->signature, parts, 2, signer_key, diag);
}
