/* Opening an envelope on the receiving side: verification, addressee, decryption with the
 * keyring's key named in the EncryptedKey, and bounded decompression. */
#include <string.h>

#include <xmlsec/crypto.h>
#include <xmlsec/xmlenc.h>

#include "b64check.h"
#include "compress.h"
#include "protocol_ns.h"
#include "xml_safe.h"
#include "keys_internal.h"
#include "verify_internal.h"

#define DECRYPT_FAILED "payload decryption failed: ciphertext, key or GCM tag altered"

/* The content key's length for the data algorithm (allowlisted already: AES-GCM). */
static size_t cek_length(xmlNodePtr enc_data)
{
	xmlNodePtr m = xml_first_child(enc_data, XENC_NS, "EncryptionMethod");
	xmlChar *alg = m != NULL ? xmlGetNoNsProp(m, BAD_CAST "Algorithm") : NULL;
	size_t n = alg != NULL && xmlStrEqual(alg, BAD_CAST ALG_AES256_GCM) ? 32 : 16;

	xmlFree(alg);
	return n;
}

/* The content key, unwrapped from the EncryptedKey with the named private key. */
static mla_err unwrap_cek(struct env_parts *p, const mla_privkey *key, mla_buf *cek)
{
	xmlNodePtr ek = xml_first_child(xml_first_child(p->enc_data, DS_NS, "KeyInfo"), XENC_NS,
					"EncryptedKey");
	xmlNodePtr cv = xml_first_child(xml_first_child(ek, XENC_NS, "CipherData"), XENC_NS,
					"CipherValue");
	mla_buf ct;
	mla_err r;

	mla_buf_init(&ct, 4096);
	if (cv == NULL || b64_decode_element(cv, &ct) != MLA_OK)
		r = MLA_ERR_DECRYPT;
	else if ((r = mla_privkey_unwrap_oaep(key, ct.data, ct.len, cek, NULL)) == MLA_OK &&
		 cek->len != cek_length(p->enc_data))
		r = MLA_ERR_DECRYPT;
	mla_buf_free(&ct);
	return r;
}

static mla_err decrypt_payload(struct env_parts *p, const mla_privkey *key, mla_buf *gz,
			       mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecEncCtxPtr ctx = NULL;
	mla_buf cek;

	mla_buf_init_secret(&cek, 1024);
	if (unwrap_cek(p, key, &cek) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_DECRYPT, DECRYPT_FAILED);
		goto out;
	}
	if ((ctx = xmlSecEncCtxCreate(NULL)) == NULL) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	/* with the content key given, xmlsec reads no KeyInfo at all */
	ctx->encKey = xmlSecKeyReadMemory(xmlSecKeyDataAesId, cek.data, (xmlSecSize)cek.len);
	crypto_clear_error();
	if (ctx->encKey == NULL || xmlSecEncCtxDecrypt(ctx, p->enc_data) < 0 ||
	    ctx->result == NULL) {
		r = mla_fail(diag, MLA_ERR_DECRYPT, DECRYPT_FAILED);
		goto out;
	}
	if ((r = mla_buf_append(gz, xmlSecBufferGetData(ctx->result),
				xmlSecBufferGetSize(ctx->result))) != MLA_OK)
		mla_fail(diag, r, "decrypted payload exceeds the envelope size limit");
out:
	if (ctx != NULL)
		xmlSecEncCtxDestroy(ctx);
	mla_buf_free(&cek);
	return r;
}

mla_err mla_envelope_open(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, mla_verified *out, mla_buf *doc,
			  mla_diag *diag)
{
	mla_err r;
	struct env_parts p;
	const mla_privkey *key;
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
	if ((key = keyring_key(keys, out->recipient_key)) == NULL) {
		r = mla_fail(diag, MLA_ERR_NO_DECRYPT_KEY,
			     "envelope encrypted for key %.80s, which this gateway does not hold",
			     out->recipient_key);
		goto out;
	}
	if ((r = decrypt_payload(&p, key, &gz, diag)) != MLA_OK ||
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
