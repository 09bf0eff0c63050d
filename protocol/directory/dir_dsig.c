/* One directory signature (an entry's over its State, the publisher's over the Body): the
 * single reference must be "#" + the Id of the part the reader then uses, and the signature
 * must verify with the key of the validated signer certificate, never one from KeyInfo.
 * Same algorithms and restrictions as the envelope's (SPEC 5, 7). */
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>

#include "algs.h"
#include "dir_internal.h"
#include "keys_internal.h"

/* The one Reference of the SignedInfo names exactly the target's Id. */
static mla_err check_coverage(xmlNodePtr signature, xmlNodePtr target, const char *what,
			      mla_diag *diag)
{
	xmlNodePtr si = dir_ds_child(signature, "SignedInfo");
	xmlNodePtr ref = dir_ds_child(si, "Reference");
	xmlChar *uri = ref != NULL ? xmlGetProp(ref, BAD_CAST "URI") : NULL;
	xmlChar *id = xmlGetProp(target, BAD_CAST "Id");
	int ok = uri != NULL && id != NULL && uri[0] == '#' && xmlStrEqual(uri + 1, id) &&
		 xmlGetID(target->doc, id) != NULL &&
		 xmlGetID(target->doc, id)->parent == target;

	xmlFree(uri);
	xmlFree(id);
	if (!ok)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
				"the signature of the %s does not cover exactly its signed part",
				what);
	return MLA_OK;
}

mla_err dir_dsig_verify(xmlNodePtr signature, xmlNodePtr target, X509 *leaf, const char *what,
			mla_diag *diag)
{
	xmlSecDSigCtxPtr ctx = NULL;
	mla_err r;

	if ((r = check_coverage(signature, target, what, diag)) != MLA_OK)
		return r;
	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = algs_restrict_dsig(ctx)) != MLA_OK)
		goto out;
	if ((ctx->signKey = keys_xmlsec_key(X509_get0_pubkey(leaf), NULL)) == NULL) {
		r = MLA_ERR_INTERNAL;
		goto out;
	}
	crypto_clear_error();
	if (xmlSecDSigCtxVerify(ctx, signature) < 0)
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "signature of the %s could not be "
			     "processed: %s", what, crypto_last_error());
	else if (ctx->status != xmlSecDSigStatusSucceeded)
		r = mla_fail(diag, MLA_ERR_SIG_INVALID, "signature of the %s does not verify: "
			     "it was altered after signing", what);
	else
		r = MLA_OK;
out:
	xmlSecDSigCtxDestroy(ctx);
	return r;
}
