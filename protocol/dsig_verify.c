/* XML-DSig verification of an envelope with xmlsec, restricted to same-document references
 * and our algorithms, plus the coverage rule: the references are exactly the Header and the
 * Payload that the rest of the code then uses (no signature wrapping). */
#include <stdio.h>
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include "keys_internal.h"
#include "protocol_ns.h"
#include "verify_internal.h"

static mla_err register_id(xmlNodePtr node, const char *what, mla_diag *diag)
{
	xmlAttrPtr a = xmlHasNsProp(node, BAD_CAST "Id", NULL);
	xmlChar *v;
	mla_err r = MLA_OK;

	if (a == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s has no Id attribute", what);
	v = xmlNodeListGetString(node->doc, a->children, 1);
	/* only these two elements ever get an ID, so a reference can resolve to nothing else */
	if (v == NULL || xmlAddID(NULL, node->doc, v, a) == NULL)
		r = mla_fail(diag, MLA_ERR_SIG_WRAPPING, "%s Id is empty or not unique", what);
	xmlFree(v);
	return r;
}

static int ref_is(xmlNodePtr ref, xmlNodePtr target)
{
	xmlChar *uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
	xmlChar *id = xmlGetNoNsProp(target, BAD_CAST "Id");
	int same = uri != NULL && id != NULL && uri[0] == '#' && xmlStrEqual(uri + 1, id);

	xmlFree(uri);
	xmlFree(id);
	return same;
}

/* Coverage is checked from the SignedInfo before any cryptography: the signed references
 * must be exactly "#<Header Id>" and "#<Payload Id>". */
static mla_err check_coverage(struct env_parts *p, mla_diag *diag)
{
	xmlNodePtr si = NULL;
	unsigned refs = 0, header = 0, payload = 0;

	for (xmlNodePtr c = p->signature->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "SignedInfo"))
			si = c;
	for (xmlNodePtr c = si != NULL ? si->children : NULL; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE || !xmlStrEqual(c->name, BAD_CAST "Reference"))
			continue;
		refs++;
		header += (unsigned)ref_is(c, p->header);
		payload += (unsigned)ref_is(c, p->payload);
	}
	if (header == 0)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED, "signature does not cover the header");
	if (payload == 0)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
				"signature does not cover the encrypted payload");
	if (refs != 2 || header != 1 || payload != 1)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
				"signature has %u references (%u to the header, %u to the payload); "
				"exactly one to each allowed", refs, header, payload);
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
static mla_err explain_failure(xmlSecDSigCtxPtr ctx, mla_diag *diag)
{
	xmlSecSize n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);

	for (xmlSecSize i = 0; i < n; i++) {
		xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
		if (ref != NULL && ref->status != xmlSecDSigStatusSucceeded)
			return mla_fail(diag, MLA_ERR_SIG_INVALID,
					"digest of reference %.60s does not match: %s altered",
					ref->uri != NULL ? (const char *)ref->uri : "?",
					ref->uri != NULL && ref->uri[1] == 'H' ? "header"
										: "payload");
	}
	return mla_fail(diag, MLA_ERR_SIG_INVALID,
			"signature value does not verify with the signer certificate");
}

mla_err dsig_verify_parts(struct env_parts *p, EVP_PKEY *signer_key, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecDSigCtxPtr ctx = NULL;

	if ((r = register_id(p->header, "Header", diag)) != MLA_OK ||
	    (r = register_id(p->payload, "Payload", diag)) != MLA_OK ||
	    (r = check_coverage(p, diag)) != MLA_OK)
		return r;
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
	if (xmlSecDSigCtxVerify(ctx, p->signature) < 0) {
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "signature could not be processed: %s",
			     crypto_last_error());
		goto out;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		r = explain_failure(ctx, diag);
		goto out;
	}
	r = MLA_OK;
out:
	xmlSecDSigCtxDestroy(ctx);
	return r;
}
