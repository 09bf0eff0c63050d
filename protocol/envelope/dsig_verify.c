/* XML-DSig verification with xmlsec, restricted to same-document references and our
 * algorithms, after the coverage rule of wrapping.c: the references are exactly the signed
 * parts the rest of the code then uses (an envelope's Header and Payload, a receipt's Body). */
#include <stdio.h>
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include "algs.h"
#include "keys_internal.h"
#include "protocol_ns.h"
#include "verify_internal.h"
#include "xml_safe.h"

/* Names the altered part when a reference digest failed, else the signature value. */
static mla_err explain_failure(xmlSecDSigCtxPtr ctx, const struct wrap_shape *s,
			       const struct wrap_parts *p, mla_diag *diag)
{
	xmlSecSize refs = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
	const char *what = "signed part";

	for (xmlSecSize i = 0; i < refs; i++) {
		xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
		if (ref == NULL || ref->status == xmlSecDSigStatusSucceeded)
			continue;
		for (size_t k = 0; k < s->n; k++)
			if (k != s->signature && wrap_uri_is(ref->uri, p->child[k]))
				what = s->children[k].altered;
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"digest of reference %.60s does not match: %s altered",
				ref->uri != NULL ? (const char *)ref->uri : "?", what);
	}
	return mla_fail(diag, MLA_ERR_SIG_INVALID,
			"signature value does not verify with the signer certificate");
}

static mla_err verify_with_key(const struct wrap_shape *s, const struct wrap_parts *p,
			       EVP_PKEY *signer_key, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecDSigCtxPtr ctx = NULL;

	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = algs_restrict_dsig(ctx)) != MLA_OK)
		goto out;
	/* the key comes from the chain we validated, never from KeyInfo */
	if ((ctx->signKey = keys_xmlsec_key(signer_key, NULL)) == NULL) {
		r = MLA_ERR_INTERNAL;
		goto out;
	}
	crypto_clear_error();
	if (xmlSecDSigCtxVerify(ctx, wrap_signature(s, p)) < 0) {
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "signature could not be processed: %s",
			     crypto_last_error());
		goto out;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		r = explain_failure(ctx, s, p, diag);
		goto out;
	}
	r = MLA_OK;
out:
	xmlSecDSigCtxDestroy(ctx);
	return r;
}

mla_err dsig_verify_shape(const struct wrap_shape *s, const struct wrap_parts *p,
			  EVP_PKEY *signer_key, mla_diag *diag)
{
	mla_err r;

	if ((r = wrap_check_coverage(s, p, diag)) != MLA_OK)
		return r;
	return verify_with_key(s, p, signer_key, diag);
}
