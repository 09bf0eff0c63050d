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

#define DECRYPT_FAILED "%s decryption failed: ciphertext, key or GCM tag altered"

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
static mla_err unwrap_cek(xmlNodePtr enc_data, const mla_privkey *key, mla_buf *cek)
{
	xmlNodePtr ek = xml_first_child(xml_first_child(enc_data, DS_NS, "KeyInfo"), XENC_NS,
					"EncryptedKey");
	xmlNodePtr cv = xml_first_child(xml_first_child(ek, XENC_NS, "CipherData"), XENC_NS,
					"CipherValue");
	mla_buf ct;
	mla_err r;

	mla_buf_init(&ct, 4096);
	if (cv == NULL || b64_decode_element(cv, &ct) != MLA_OK)
		r = MLA_ERR_DECRYPT;
	else if ((r = mla_privkey_unwrap_oaep(key, ct.data, ct.len, cek, NULL)) == MLA_OK &&
		 cek->len != cek_length(enc_data))
		r = MLA_ERR_DECRYPT;
	mla_buf_free(&ct);
	return r;
}

static mla_err decrypt_payload(xmlNodePtr enc_data, const mla_privkey *key, const char *what,
			       mla_buf *gz, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecEncCtxPtr ctx = NULL;
	mla_buf cek;

	mla_buf_init_secret(&cek, 1024);
	if (unwrap_cek(enc_data, key, &cek) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_DECRYPT, DECRYPT_FAILED, what);
		goto out;
	}
	if ((ctx = xmlSecEncCtxCreate(NULL)) == NULL) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	/* with the content key given, xmlsec reads no KeyInfo at all */
	ctx->encKey = xmlSecKeyReadMemory(xmlSecKeyDataAesId, cek.data, (xmlSecSize)cek.len);
	crypto_clear_error();
	if (ctx->encKey == NULL || xmlSecEncCtxDecrypt(ctx, enc_data) < 0 ||
	    ctx->result == NULL) {
		r = mla_fail(diag, MLA_ERR_DECRYPT, DECRYPT_FAILED, what);
		goto out;
	}
	if ((r = mla_buf_append(gz, xmlSecBufferGetData(ctx->result),
				xmlSecBufferGetSize(ctx->result))) != MLA_OK)
		mla_fail(diag, r, "decrypted %s exceeds the envelope size limit", what);
out:
	if (ctx != NULL)
		xmlSecEncCtxDestroy(ctx);
	mla_buf_free(&cek);
	return r;
}

mla_err open_decrypt_inflate(xmlNodePtr enc_data, const mla_privkey *key,
			     const mla_limits *limits, const char *what, mla_buf *plain,
			     mla_diag *diag)
{
	mla_buf gz;
	mla_err r;

	mla_buf_init_secret(&gz, limits->max_envelope_bytes);
	if ((r = decrypt_payload(enc_data, key, what, &gz, diag)) == MLA_OK)
		r = compress_gunzip(gz.data, gz.len, limits, plain, diag);
	mla_buf_free(&gz);
	return r;
}

/* Verification (versions 1 to max_version), addressee, key, then the document. */
mla_err open_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, int max_version, struct env_parts *p,
			  const mla_privkey **keyp, mla_verified *out, mla_buf *doc,
			  mla_diag *diag)
{
	const mla_privkey *key;
	mla_err r;

	mla_buf_init_secret(doc, limits->max_document_bytes + 1);
	if ((r = verify_envelope_doc(env, env_len, trust, limits, max_version, p, out, diag)) !=
	    MLA_OK)
		return r;
	if (strcmp(out->header.to_state, own_state) != 0)
		return mla_fail(diag, MLA_ERR_WRONG_RECIPIENT,
				"envelope addressed to %s, this gateway is %s",
				out->header.to_state, own_state);
	if ((key = keyring_key(keys, out->recipient_key)) == NULL)
		return mla_fail(diag, MLA_ERR_NO_DECRYPT_KEY,
				"envelope encrypted for key %.80s, which this gateway does not hold",
				out->recipient_key);
	*keyp = key;
	return open_decrypt_inflate(p->enc_data, key, limits, "payload", doc, diag);
}

mla_err mla_envelope_open(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, mla_verified *out, mla_buf *doc,
			  mla_diag *diag)
{
	const mla_privkey *key = NULL;
	struct env_parts p;
	mla_err r;

	r = open_envelope_doc(env, env_len, trust, keys, own_state, limits,
			      MLA_ENVELOPE_VERSION_MAX, &p, &key, out, doc, diag);
	if (r != MLA_OK)
		mla_buf_free(doc);
	xmlFreeDoc(p.doc);
	return r;
}
