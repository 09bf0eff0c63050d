/* Opening an envelope on the receiving side: verification, addressee, decryption with the
 * keyring's key named in the EncryptedKey, and bounded decompression. */
#include <string.h>

#include <xmlsec/xmlenc.h>

#include "compress.h"
#include "keys_internal.h"
#include "verify_internal.h"

static mla_err decrypt_payload(struct env_parts *p, const mla_keyring *keys, mla_buf *gz,
			       mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecEncCtxPtr ctx = NULL;

	if ((ctx = xmlSecEncCtxCreate(keys->mngr)) == NULL)
		return MLA_ERR_NOMEM;
	/* one level of EncryptedKey, no RetrievalMethod: nothing outside the envelope */
	ctx->keyInfoReadCtx.maxEncryptedKeyLevel = 1;
	ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
	crypto_clear_error();
	if (xmlSecEncCtxDecrypt(ctx, p->enc_data) < 0 || ctx->result == NULL) {
		r = mla_fail(diag, MLA_ERR_DECRYPT,
			     "payload decryption failed: ciphertext, key or GCM tag altered");
		goto out;
	}
	if ((r = mla_buf_append(gz, xmlSecBufferGetData(ctx->result),
				xmlSecBufferGetSize(ctx->result))) != MLA_OK)
		mla_fail(diag, r, "decrypted payload exceeds the envelope size limit");
out:
	xmlSecEncCtxDestroy(ctx);
	return r;
}

mla_err mla_envelope_open(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, mla_verified *out, mla_buf *doc,
			  mla_diag *diag)
{
	mla_err r;
	struct env_parts p;
	mla_buf gz;

	mla_buf_init_secret(&gz, limits->max_envelope_bytes);
	mla_buf_init_secret(doc, limits->max_document_bytes + 1);
	if ((r = verify_envelope_doc(env, env_len, trust, limits, &p, out, diag)) != MLA_OK)
		goto out;
	if (strcmp(out->header.to_state, own_state) != 0) {
		r = mla_fail(diag, MLA_ERR_WRONG_RECIPIENT, "envelope addressed to %s, this gateway is %s",
			     out->header.to_state, own_state);
		goto out;
	}
	if (!keyring_has(keys, out->recipient_key)) {
		r = mla_fail(diag, MLA_ERR_NO_DECRYPT_KEY,
			     "envelope encrypted for key %.80s, which this gateway does not hold",
			     out->recipient_key);
		goto out;
	}
	if ((r = decrypt_payload(&p, keys, &gz, diag)) != MLA_OK ||
	    (r = compress_gunzip(gz.data, gz.len, limits, doc, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	if (r != MLA_OK)
		mla_buf_free(doc);
	mla_buf_free(&gz);
	xmlFreeDoc(p.doc);
	return r;
}
