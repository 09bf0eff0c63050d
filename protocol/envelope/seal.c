/* Sealing: header in clear, document gzip-compressed then encrypted (AES-256-GCM, fresh key
 * transported with RSA-OAEP to the recipient), then one XML-DSig signature over both. */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <xmlsec/base64.h>
#include <xmlsec/crypto.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlenc.h>

#include "mlagw/codec.h"
#include "compress.h"
#include "header_xml.h"
#include "keys_internal.h"
#include "privkey_internal.h"
#include "protocol_ns.h"
#include "seal_internal.h"

mla_err seal_set_id(xmlNodePtr node, const char *id)
{
	xmlAttrPtr a = xmlNewProp(node, BAD_CAST "Id", BAD_CAST id);

	/* registering the ID lets the signature's "#id" references resolve */
	if (a == NULL || xmlAddID(NULL, node->doc, BAD_CAST id, a) == NULL)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

mla_err seal_build_skeleton(const mla_header *h, struct seal_skeleton *s)
{
	static const char *const ns_of[] = {NULL, MLA_NS, MLA_NS2, MLA_NS3};
	static const char *const version_of[] = {NULL, "1", "2", "3"};
	int v = mla_header_version(h);
	xmlNsPtr ns;
	mla_err r;

	if ((r = mla_snprintf(s->header_id, sizeof(s->header_id), "H-%s", h->message_id)) !=
		    MLA_OK ||
	    (r = mla_snprintf(s->payload_id, sizeof(s->payload_id), "P-%s", h->message_id)) !=
		    MLA_OK)
		return r;
	if ((s->doc = xmlNewDoc(BAD_CAST "1.0")) == NULL ||
	    (s->root = xmlNewDocNode(s->doc, NULL, BAD_CAST "Envelope", NULL)) == NULL)
		return MLA_ERR_NOMEM;
	xmlDocSetRootElement(s->doc, s->root);
	/* the version twice, namespace and attribute (SPEC 11 rule 1); mla_header_check has
	 * held the header to that version's vocabulary */
	mla_require(v >= 1 && v <= MLA_ENVELOPE_VERSION_ATTACH); /* mla_header_check ran */
	if ((ns = xmlNewNs(s->root, BAD_CAST ns_of[v], BAD_CAST "mla")) == NULL)
		return MLA_ERR_NOMEM;
	xmlSetNs(s->root, ns);
	if (xmlNewProp(s->root, BAD_CAST "version", BAD_CAST version_of[v]) == NULL ||
	    (s->header = xmlNewChild(s->root, ns, BAD_CAST "Header", NULL)) == NULL ||
	    (s->payload = xmlNewChild(s->root, ns, BAD_CAST "Payload", NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = seal_set_id(s->header, s->header_id)) != MLA_OK ||
	    (r = seal_set_id(s->payload, s->payload_id)) != MLA_OK)
		return r;
	return header_write(s->header, ns, h);
}

static xmlNodePtr encryption_template(xmlNodePtr payload)
{
	xmlNodePtr enc;

	enc = xmlSecTmplEncDataCreate(payload->doc, xmlSecTransformAes256GcmId, NULL, NULL,
				      BAD_CAST MLA_PAYLOAD_MIME, BAD_CAST MLA_PAYLOAD_ENCODING);
	if (enc == NULL)
		return NULL;
	if (xmlAddChild(payload, enc) == NULL) {
		xmlFreeNode(enc);
		return NULL;
	}
	return xmlSecTmplEncDataEnsureCipherValue(enc) != NULL ? enc : NULL;
}

/* RSA-OAEP (privkey_oaep_ctx) with the recipient's own key object: what xmlsec would do,
 * without copying the key each time. */
static mla_err oaep_wrap(EVP_PKEY *pub, const uint8_t *cek, size_t cek_len, mla_buf *out)
{
	EVP_PKEY_CTX *ctx = privkey_oaep_ctx(pub, 0);
	size_t len = (size_t)EVP_PKEY_get_size(pub);
	mla_err r = MLA_ERR_INTERNAL;

	if (ctx == NULL || mla_buf_reserve(out, len) != MLA_OK)
		goto out;
	if (EVP_PKEY_encrypt(ctx, out->data, &len, cek, cek_len) == 1) {
		out->len = len;
		r = MLA_OK;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

/* Adds KeyInfo/EncryptedKey (RSA-OAEP, KeyName of the recipient, the wrapped key). */
static mla_err add_encrypted_key(xmlNodePtr enc, const mla_recipient *rcpt, const uint8_t *cek,
				 size_t cek_len)
{
	xmlNodePtr ki, ek, cv, ki2;
	xmlChar *b64 = NULL;
	mla_buf wrapped;
	mla_err r = MLA_ERR_NOMEM;

	mla_buf_init(&wrapped, 4096);
	if (oaep_wrap(X509_get0_pubkey(rcpt->cert), cek, cek_len, &wrapped) != MLA_OK) {
		r = MLA_ERR_INTERNAL;
		goto out;
	}
	if ((ki = xmlSecTmplEncDataEnsureKeyInfo(enc, NULL)) == NULL ||
	    (ek = xmlSecTmplKeyInfoAddEncryptedKey(ki, xmlSecTransformRsaOaepId, NULL, NULL,
						   NULL)) == NULL ||
	    (cv = xmlSecTmplEncDataEnsureCipherValue(ek)) == NULL ||
	    (ki2 = xmlSecTmplEncDataEnsureKeyInfo(ek, NULL)) == NULL ||
	    xmlSecTmplKeyInfoAddKeyName(ki2, BAD_CAST rcpt->keyname) == NULL ||
	    (b64 = xmlSecBase64Encode(wrapped.data, (xmlSecSize)wrapped.len,
				      XMLSEC_BASE64_LINESIZE)) == NULL)
		goto out;
	xmlNodeSetContent(cv, b64);
	r = MLA_OK;
out:
	xmlFree(b64);
	mla_buf_free(&wrapped);
	return r;
}

mla_err seal_encrypt_payload(xmlNodePtr payload, const mla_buf *gz,
			     const mla_recipient *rcpt, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecEncCtxPtr ctx = NULL;
	uint8_t cek[32];
	xmlNodePtr enc;

	if ((enc = encryption_template(payload)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot build the encryption template");
	/* a fresh content key per message, wiped here and (its xmlsec copy) by xmlsec */
	if (RAND_bytes(cek, sizeof(cek)) != 1 || (ctx = xmlSecEncCtxCreate(NULL)) == NULL ||
	    (ctx->encKey = xmlSecKeyReadMemory(xmlSecKeyDataAesId, cek, sizeof(cek))) == NULL) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot make a content key");
		goto out;
	}
	crypto_clear_error();
	if (xmlSecEncCtxBinaryEncrypt(ctx, enc, gz->data, (xmlSecSize)gz->len) < 0) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "payload encryption failed: %s",
			     crypto_last_error());
		goto out;
	}
	if ((r = add_encrypted_key(enc, rcpt, cek, sizeof(cek))) != MLA_OK)
		mla_fail(diag, r, "cannot wrap the content key for %s", rcpt->keyname);
out:
	OPENSSL_cleanse(cek, sizeof(cek));
	if (ctx != NULL)
		xmlSecEncCtxDestroy(ctx);
	return r;
}

static xmlNodePtr signature_template(xmlNodePtr root, const char *const *ids, size_t n,
				     int is_ec)
{
	xmlNodePtr sig, ref, ki;
	char uri[50];

	sig = xmlSecTmplSignatureCreateNsPref(root->doc, xmlSecTransformExclC14NId,
					      is_ec ? xmlSecTransformEcdsaSha256Id
						    : xmlSecTransformRsaSha256Id,
					      NULL, BAD_CAST "ds");
	if (sig == NULL)
		return NULL;
	if (xmlAddChild(root, sig) == NULL) {
		xmlFreeNode(sig);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (snprintf(uri, sizeof(uri), "#%s", ids[i]) >= (int)sizeof(uri))
			return NULL;
		ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id, NULL,
						      BAD_CAST uri, NULL);
		if (ref == NULL || xmlSecTmplReferenceAddTransform(ref, xmlSecTransformExclC14NId) ==
					   NULL)
			return NULL;
	}
	if ((ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) == NULL ||
	    xmlSecTmplKeyInfoAddX509Data(ki) == NULL)
		return NULL;
	return sig;
}

mla_err seal_sign_refs(xmlNodePtr root, const char *const *ids, size_t n,
		       const mla_signer *signer, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlSecDSigCtxPtr ctx = NULL;
	xmlNodePtr sig;

	if ((sig = signature_template(root, ids, n, signer->is_ec)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot build the signature template");
	if ((ctx = xmlSecDSigCtxCreate(NULL)) == NULL)
		return MLA_ERR_NOMEM;
	ctx->signKey = signer->xkey; /* borrowed: detached again before destroy */
	if (signer->elsewhere) /* the key is the keyholder's: keep what xmlsec signs */
		ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNATURE;
	crypto_clear_error();
	if (xmlSecDSigCtxSign(ctx, sig) < 0)
		r = mla_fail(diag, MLA_ERR_INTERNAL, "signing failed: %s", crypto_last_error());
	else
		r = signer->elsewhere ? seal_sign_elsewhere(ctx, sig, signer, diag) : MLA_OK;
	ctx->signKey = NULL;
	xmlSecDSigCtxDestroy(ctx);
	return r;
}

mla_err seal_sign_doc(xmlNodePtr root, const char *header_id, const char *payload_id,
		      const mla_signer *signer, mla_diag *diag)
{
	const char *ids[2] = {header_id, payload_id};

	return seal_sign_refs(root, ids, 2, signer, diag);
}

mla_err seal_serialize(xmlDocPtr doc, const char *what, const mla_limits *limits, mla_buf *out,
		       mla_diag *diag)
{
	xmlChar *mem = NULL;
	int size = 0;
	mla_err r;

	/* no re-indentation: whitespace inside SignedInfo is signed */
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0)
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot serialise the %s", what);
	mla_buf_init(out, limits->max_envelope_bytes);
	if ((r = mla_buf_append(out, mem, (size_t)size)) != MLA_OK)
		mla_fail(diag, r, "sealed %s of %d bytes exceeds the limit of %zu", what, size,
			 limits->max_envelope_bytes);
	xmlFree(mem);
	return r;
}

int mla_envelope_sealed_version(const uint8_t *env, size_t env_len)
{
	static const char *const starts[] = {
		NULL,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mla:Envelope xmlns:mla=\"" MLA_NS
		"\" version=\"1\">",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mla:Envelope xmlns:mla=\"" MLA_NS2
		"\" version=\"2\">",
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<mla:Envelope xmlns:mla=\"" MLA_NS3
		"\" version=\"3\">",
	};

	for (int v = 1; v <= MLA_ENVELOPE_VERSION_ATTACH; v++)
		if (env_len >= strlen(starts[v]) && memcmp(env, starts[v], strlen(starts[v])) == 0)
			return v;
	return 0;
}

mla_err mla_envelope_seal(const mla_header *h, const uint8_t *doc, size_t doc_len,
			  const mla_signer *signer, const mla_recipient *recipient,
			  const mla_limits *limits, mla_buf *out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	struct seal_skeleton s;
	mla_buf gz;

	memset(&s, 0, sizeof(s));
	mla_buf_init_secret(&gz, limits->max_envelope_bytes);
	mla_buf_init(out, 0);
	if (doc_len > limits->max_document_bytes) {
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "document of %zu bytes exceeds the limit of %zu",
			     doc_len, limits->max_document_bytes);
		goto out;
	}
	if ((r = mla_header_check(h, diag)) != MLA_OK)
		goto out;
	if (mla_header_version(h) == MLA_ENVELOPE_VERSION_ATTACH) {
		r = mla_fail(diag, MLA_ERR_HEADER, "envelope version 3 carries attachments: "
			     "without them a message is sealed in version 1 or 2");
		goto out;
	}
	if ((r = seal_build_skeleton(h, &s)) != MLA_OK) {
		mla_fail(diag, r, "cannot build the envelope header");
		goto out;
	}
	if ((r = compress_gzip(doc, doc_len, &gz, diag)) != MLA_OK ||
	    (r = seal_encrypt_payload(s.payload, &gz, recipient, diag)) != MLA_OK ||
	    (r = seal_sign_doc(s.root, s.header_id, s.payload_id, signer, diag)) != MLA_OK ||
	    (r = seal_serialize(s.doc, "envelope", limits, out, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	mla_buf_free(&gz);
	xmlFreeDoc(s.doc);
	return r;
}
