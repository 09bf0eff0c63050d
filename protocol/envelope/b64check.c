/* Base64 validation with OpenSSL's decoder (envelopes and receipts), streamed in chunks so
 * large payloads cost no extra memory. */
#include <string.h>

#include <openssl/evp.h>

#include "b64check.h"
#include "protocol_ns.h"

#define B64_CHUNK 4096

static int is_b64_element(xmlNodePtr n)
{
	static const char *const ds[] = {"DigestValue", "SignatureValue", "X509Certificate"};

	if (n->ns == NULL)
		return 0;
	if (xmlStrEqual(n->ns->href, BAD_CAST XENC_NS))
		return xmlStrEqual(n->name, BAD_CAST "CipherValue");
	if (xmlStrEqual(n->ns->href, BAD_CAST MLA_RECEIPT_NS))
		return xmlStrEqual(n->name, BAD_CAST "EnvelopeDigest");
	if (!xmlStrEqual(n->ns->href, BAD_CAST DS_NS))
		return 0;
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		if (xmlStrEqual(n->name, BAD_CAST ds[i]))
			return 1;
	return 0;
}

/* Decodes s in chunks; keeps the bytes in out when out is not NULL. */
static int decode_text(EVP_ENCODE_CTX *ctx, const xmlChar *s, size_t len, size_t *decoded,
		       mla_buf *out)
{
	unsigned char chunk[B64_CHUNK];
	int outl;

	for (size_t off = 0; off < len; off += B64_CHUNK / 4 * 3) {
		size_t n = len - off < B64_CHUNK / 4 * 3 ? len - off : B64_CHUNK / 4 * 3;
		if (EVP_DecodeUpdate(ctx, chunk, &outl, s + off, (int)n) < 0)
			return 0;
		*decoded += (size_t)outl;
		if (out != NULL && mla_buf_append(out, chunk, (size_t)outl) != MLA_OK)
			return 0;
	}
	return 1;
}

static int decode_element(xmlNodePtr el, mla_buf *out)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char chunk[B64_CHUNK];
	size_t decoded = 0;
	int ok = ctx != NULL, outl = 0;

	if (ok)
		EVP_DecodeInit(ctx);
	for (xmlNodePtr t = el->children; ok && t != NULL; t = t->next) {
		if (t->type != XML_TEXT_NODE)
			ok = 0;
		else if (t->content != NULL)
			ok = decode_text(ctx, t->content, strlen((const char *)t->content), &decoded,
					 out);
	}
	if (ok && EVP_DecodeFinal(ctx, chunk, &outl) < 0)
		ok = 0;
	if (ok && out != NULL && mla_buf_append(out, chunk, (size_t)outl) != MLA_OK)
		ok = 0;
	EVP_ENCODE_CTX_free(ctx);
	return ok && decoded + (size_t)outl > 0;
}

static int valid_base64(xmlNodePtr el)
{
	return decode_element(el, NULL);
}

mla_err b64_decode_element(xmlNodePtr el, mla_buf *out)
{
	return decode_element(el, out) ? MLA_OK : MLA_ERR_BASE64;
}

mla_err b64check_tree(xmlNodePtr root, mla_diag *diag)
{
	mla_err r;

	for (xmlNodePtr c = root; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_b64_element(c)) {
			if (!valid_base64(c))
				return mla_fail(diag, MLA_ERR_BASE64, "invalid base64 in %s",
						(const char *)c->name);
			continue;
		}
		if (c->children != NULL && (r = b64check_tree(c->children, diag)) != MLA_OK)
			return r;
	}
	return MLA_OK;
}
