/* Base64 in XML elements (envelopes and receipts): canonical base64 (mlagw/codec.h) with the
 * whitespace xs:base64Binary allows, streamed in chunks so large payloads cost no extra memory. */
#include <string.h>

#include "b64check.h"
#include "mlagw/codec.h"
#include "protocol_ns.h"

#define B64_CHUNK 4096

static int is_b64_element(xmlNodePtr n)
{
	static const char *const ds[] = {"DigestValue", "SignatureValue", "X509Certificate"};

	if (n->ns == NULL)
		return 0;
	if (xmlStrEqual(n->ns->href, BAD_CAST XENC_NS))
		return xmlStrEqual(n->name, BAD_CAST "CipherValue");
	if (xmlStrEqual(n->ns->href, BAD_CAST MLA_RECEIPT_NS) ||
	    xmlStrEqual(n->ns->href, BAD_CAST MLA_RECEIPT2_NS) ||
	    xmlStrEqual(n->ns->href, BAD_CAST MLA_RECEIPT3_NS))
		return xmlStrEqual(n->name, BAD_CAST "EnvelopeDigest");
	if (!xmlStrEqual(n->ns->href, BAD_CAST DS_NS))
		return 0;
	for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
		if (xmlStrEqual(n->name, BAD_CAST ds[i]))
			return 1;
	return 0;
}

/* Characters gathered without whitespace, decoded a chunk at a time. */
struct b64_stream {
	char q[B64_CHUNK]; /* a multiple of 4, so a chunk is whole base64 quanta */
	size_t n, decoded;
	int ended; /* padding seen: nothing may follow */
	mla_buf *out;
};

static int stream_flush(struct b64_stream *st)
{
	uint8_t bytes[B64_CHUNK / 4 * 3];
	size_t len = 0;

	if (st->n == 0)
		return 1;
	if (mla_b64_decode(st->q, st->n, bytes, sizeof(bytes), &len) != MLA_OK)
		return 0;
	st->ended = st->q[st->n - 1] == '=';
	st->n = 0;
	st->decoded += len;
	return st->out == NULL || mla_buf_append(st->out, bytes, len) == MLA_OK;
}

/* xs:base64Binary allows XML whitespace between characters (xmlsec breaks lines every 64);
 * apart from that the text must be canonical base64 (mlagw/codec.h). */
static int stream_feed(struct b64_stream *st, const xmlChar *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			continue;
		if (st->ended)
			return 0;
		st->q[st->n++] = (char)s[i];
		if (st->n == sizeof(st->q) && !stream_flush(st))
			return 0;
	}
	return 1;
}

static int decode_element(xmlNodePtr el, mla_buf *out)
{
	struct b64_stream st;
	int ok = 1;

	st.n = st.decoded = 0;
	st.ended = 0;
	st.out = out;
	for (xmlNodePtr t = el->children; ok && t != NULL; t = t->next) {
		if (t->type != XML_TEXT_NODE)
			ok = 0;
		else if (t->content != NULL)
			ok = stream_feed(&st, t->content, strlen((const char *)t->content));
	}
	return ok && stream_flush(&st) && st.decoded > 0;
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
