/* Signature wrapping refused in one place for envelopes and receipts (see wrapping.h): the
 * elements the rest of the code uses are exactly the ones the signature covers. The tables
 * below are the whole difference between the two document types. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "protocol_ns.h"
#include "wrapping.h"

#define WRAP_REFUSED " (signature wrapping refused)"

const struct wrap_shape wrap_envelope = {
	.doc = "envelope",
	.root_ns = MLA_NS,
	.root_name = "Envelope",
	.root_qname = "mla:Envelope",
	.children = {
		{XML_HEADER, "the header", "header"},
		{XML_PAYLOAD, "the encrypted payload", "payload"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 3,
	.signature = 2,
	.forbidden = 1u << XML_HEADER2 | 1u << XML_PAYLOAD2 | 1u << XML_HEADER3 |
		     1u << XML_PAYLOAD3,
	.forbidden_what = "envelope Header or Payload of another version",
};

/* Envelope version 2: the same shape in its own namespace; a version 1 Header or Payload
 * inside is refused like a second copy of its own. */
const struct wrap_shape wrap_envelope2 = {
	.doc = "envelope",
	.root_ns = MLA_NS2,
	.root_name = "Envelope",
	.root_qname = "mla:Envelope",
	.children = {
		{XML_HEADER2, "the header", "header"},
		{XML_PAYLOAD2, "the encrypted payload", "payload"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 3,
	.signature = 2,
	.forbidden = 1u << XML_HEADER | 1u << XML_PAYLOAD | 1u << XML_HEADER3 | 1u << XML_PAYLOAD3,
	.forbidden_what = "envelope Header or Payload of another version",
};

/* Envelope version 3 (SPEC 17): the same shape in its own namespace (the list of attachments
 * is inside the Header, the descriptor inside the Payload, so both are covered as parts). */
const struct wrap_shape wrap_envelope3 = {
	.doc = "envelope",
	.root_ns = MLA_NS3,
	.root_name = "Envelope",
	.root_qname = "mla:Envelope",
	.children = {
		{XML_HEADER3, "the header", "header"},
		{XML_PAYLOAD3, "the encrypted payload", "payload"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 3,
	.signature = 2,
	.forbidden = 1u << XML_HEADER | 1u << XML_PAYLOAD | 1u << XML_HEADER2 | 1u << XML_PAYLOAD2,
	.forbidden_what = "envelope Header or Payload of another version",
};

const struct wrap_shape wrap_receipt = {
	.doc = "receipt",
	.root_ns = MLA_RECEIPT_NS,
	.root_name = "Receipt",
	.root_qname = "mlr:Receipt",
	.children = {
		{XML_BODY, "the receipt body", "receipt body"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 2,
	.signature = 1,
	.forbidden = 1u << XML_HEADER | 1u << XML_PAYLOAD | 1u << XML_HEADER2 |
		     1u << XML_PAYLOAD2 | 1u << XML_HEADER3 | 1u << XML_PAYLOAD3 | 1u << XML_BODY2 |
		     1u << XML_BODY3,
	.forbidden_what = "envelope Header or Payload, or a receipt Body of another version",
};

/* Receipt version 2: the same shape in its own namespace; a Body of version 1 inside is as
 * foreign as an envelope's parts. */
const struct wrap_shape wrap_receipt2 = {
	.doc = "receipt",
	.root_ns = MLA_RECEIPT2_NS,
	.root_name = "Receipt",
	.root_qname = "mlr:Receipt",
	.children = {
		{XML_BODY2, "the receipt body", "receipt body"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 2,
	.signature = 1,
	.forbidden = 1u << XML_HEADER | 1u << XML_PAYLOAD | 1u << XML_HEADER2 |
		     1u << XML_PAYLOAD2 | 1u << XML_HEADER3 | 1u << XML_PAYLOAD3 | 1u << XML_BODY |
		     1u << XML_BODY3,
	.forbidden_what = "envelope Header or Payload, or a receipt Body of another version",
};

/* Receipt version 3 (SPEC 12, 17.13): the same shape again in its own namespace. */
const struct wrap_shape wrap_receipt3 = {
	.doc = "receipt",
	.root_ns = MLA_RECEIPT3_NS,
	.root_name = "Receipt",
	.root_qname = "mlr:Receipt",
	.children = {
		{XML_BODY3, "the receipt body", "receipt body"},
		{XML_SIGNATURE, NULL, NULL},
	},
	.n = 2,
	.signature = 1,
	.forbidden = 1u << XML_HEADER | 1u << XML_PAYLOAD | 1u << XML_HEADER2 |
		     1u << XML_PAYLOAD2 | 1u << XML_HEADER3 | 1u << XML_PAYLOAD3 | 1u << XML_BODY |
		     1u << XML_BODY2,
	.forbidden_what = "envelope Header or Payload, or a receipt Body of another version",
};

static const char *elem_name(enum xml_counted e)
{
	return xml_counted_names[e].name;
}

/* Each child element once in the whole document (a second copy anywhere, e.g. inside
 * KeyInfo or an Object, is how wrapping attacks hide the signed original), none forbidden. */
static mla_err check_counts(const struct wrap_shape *s, const xml_safe_counts *c,
			    mla_diag *diag)
{
	unsigned seen = 0;

	for (int e = 0; e < XML_COUNTED_N; e++)
		if (c->n[e] != 0)
			seen |= 1u << e;
	if ((seen & s->forbidden) != 0)
		return mla_fail(diag, MLA_ERR_SIG_WRAPPING, "%s holds %s elements" WRAP_REFUSED,
				s->doc, s->forbidden_what);
	for (size_t i = 0; i < s->n; i++) {
		enum xml_counted e = s->children[i].elem;
		if (c->n[e] != 1)
			return mla_fail(diag, MLA_ERR_SIG_WRAPPING,
					"%s holds %u %s elements, exactly one allowed%s", s->doc,
					c->n[e], elem_name(e),
					i == s->signature ? "" : WRAP_REFUSED);
	}
	return MLA_OK;
}

/* "Envelope children must be Header, Payload, Signature in that order". */
static mla_err order_refused(const struct wrap_shape *s, mla_diag *diag)
{
	char names[128] = "";
	size_t used = 0;

	for (size_t i = 0; i < s->n && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
					 i > 0 ? ", " : "", elem_name(s->children[i].elem));
	return mla_fail(diag, MLA_ERR_SIG_WRAPPING, "%s children must be %s in that order"
			WRAP_REFUSED, s->root_name, names);
}

mla_err wrap_locate(xmlDocPtr doc, const xml_safe_counts *counts, const struct wrap_shape *s,
		    struct wrap_parts *out, mla_diag *diag)
{
	xmlNodePtr n;
	mla_err r;

	memset(out, 0, sizeof(*out));
	out->root = xmlDocGetRootElement(doc);
	if (!xml_is(out->root, s->root_ns, s->root_name))
		return mla_fail(diag, MLA_ERR_SCHEMA, "root element is not %s (%s)", s->root_qname,
				s->root_ns);
	if ((r = check_counts(s, counts, diag)) != MLA_OK)
		return r;
	n = xml_next_element(out->root->children);
	for (size_t i = 0; i < s->n; i++) {
		const struct xml_counted_name *want = &xml_counted_names[s->children[i].elem];
		if (!xml_is(n, want->ns, want->name))
			return order_refused(s, diag);
		out->child[i] = n;
		n = xml_next_element(n->next);
	}
	return MLA_OK;
}

xmlNodePtr wrap_signature(const struct wrap_shape *s, const struct wrap_parts *p)
{
	return p->child[s->signature];
}

static mla_err register_id(xmlNodePtr node, const char *element, mla_diag *diag)
{
	xmlAttrPtr a = xmlHasNsProp(node, BAD_CAST "Id", NULL);
	xmlChar *v;
	mla_err r = MLA_OK;

	if (a == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s has no Id attribute", element);
	v = xmlNodeListGetString(node->doc, a->children, 1);
	/* only the signed parts ever get an ID, so a reference can resolve to nothing else */
	if (v == NULL || xmlAddID(NULL, node->doc, v, a) == NULL)
		r = mla_fail(diag, MLA_ERR_SIG_WRAPPING, "%s Id is empty or not unique", element);
	xmlFree(v);
	return r;
}

int wrap_uri_is(const xmlChar *uri, xmlNodePtr target)
{
	xmlChar *id = xmlGetNoNsProp(target, BAD_CAST "Id");
	int same = uri != NULL && id != NULL && uri[0] == '#' && xmlStrEqual(uri + 1, id);

	xmlFree(id);
	return same;
}

/* References of the SignedInfo, and how many name each child. */
static unsigned count_refs(const struct wrap_shape *s, const struct wrap_parts *p,
			   unsigned hits[WRAP_MAX_CHILDREN])
{
	xmlNodePtr si = xml_first_child(wrap_signature(s, p), DS_NS, "SignedInfo");
	unsigned refs = 0;
	xmlChar *uri;

	for (xmlNodePtr c = si != NULL ? si->children : NULL; c != NULL; c = c->next) {
		if (!xml_is(c, DS_NS, "Reference"))
			continue;
		refs++;
		uri = xmlGetNoNsProp(c, BAD_CAST "URI");
		for (size_t i = 0; i < s->n; i++)
			if (i != s->signature)
				hits[i] += (unsigned)wrap_uri_is(uri, p->child[i]);
		xmlFree(uri);
	}
	return refs;
}

mla_err wrap_check_coverage(const struct wrap_shape *s, const struct wrap_parts *p,
			    mla_diag *diag)
{
	unsigned refs, hits[WRAP_MAX_CHILDREN] = {0};
	size_t i;
	mla_err r;

	for (i = 0; i < s->n; i++)
		if (i != s->signature &&
		    (r = register_id(p->child[i], elem_name(s->children[i].elem), diag)) != MLA_OK)
			return r;
	refs = count_refs(s, p, hits);
	for (i = 0; i < s->n; i++)
		if (i != s->signature && hits[i] == 0)
			return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
					"signature does not cover %s", s->children[i].label);
	for (i = 0; i < s->n; i++)
		if (i != s->signature && hits[i] != 1)
			return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
					"signature has %u references to %s; exactly one allowed",
					hits[i], s->children[i].label);
	if (refs != s->n - 1)
		return mla_fail(diag, MLA_ERR_SIG_NOT_COVERED,
				"signature has %u references; exactly %zu allowed, one to each "
				"signed part", refs, s->n - 1);
	return MLA_OK;
}

mla_err wrap_root_version(xmlDocPtr doc, const char *stem, const char *root_name,
			  const char *format, unsigned long max, mla_diag *diag)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	const char *n;
	uint64_t v = 0;
	size_t len;

	if (root == NULL || root->ns == NULL || root->ns->href == NULL ||
	    !xmlStrEqual(root->name, BAD_CAST root_name) ||
	    strncmp((const char *)root->ns->href, stem, strlen(stem)) != 0)
		return MLA_OK;
	n = (const char *)root->ns->href + strlen(stem);
	len = strlen(n);
	if (len == 0 || len > 9 || n[0] == '0' || strspn(n, "0123456789") != len ||
	    mla_parse_u64(n, 1, UINT64_MAX, &v) != MLA_OK || v <= max)
		return MLA_OK; /* no version marker, or one this reader implements */
	return mla_fail(diag, MLA_ERR_UNSUPPORTED_VERSION,
			"%s version %s; this reader reads versions 1 to %lu", format, n, max);
}
