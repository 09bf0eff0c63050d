/* The XML of envelope version 3's attachments (SPEC 17.5, 17.6). Every attribute is read by
 * name, each number range-checked, anything unnamed refused, so the list means one thing;
 * the model's checks (mla_attach_list_check) then judge its consistency. */
#include <string.h>

#include <openssl/crypto.h>

#include "attach_xml.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "protocol_ns.h"
#include "xml_safe.h"

#define MAX_DIGITS 20

/* Wipes the secret attributes of a descriptor document before it is freed. */
static void wipe_secrets(xmlDocPtr doc)
{
	xmlNodePtr root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;

	for (xmlNodePtr n = root != NULL ? root->children : NULL; n != NULL; n = n->next) {
		xmlAttrPtr a = n->type == XML_ELEMENT_NODE ? xmlHasProp(n, BAD_CAST "secret") : NULL;
		for (xmlNodePtr t = a != NULL ? a->children : NULL; t != NULL; t = t->next)
			if (t->content != NULL)
				OPENSSL_cleanse(t->content, (size_t)xmlStrlen(t->content));
	}
}

/* ---- writing ---- */

static mla_err set_u64(xmlNodePtr n, const char *name, unsigned long long v)
{
	char buf[MAX_DIGITS + 1];

	if (mla_snprintf(buf, sizeof(buf), "%llu", v) != MLA_OK)
		return MLA_ERR_INTERNAL;
	return xmlNewProp(n, BAD_CAST name, BAD_CAST buf) != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err set_hex(xmlNodePtr n, const char *name, const uint8_t *b, size_t len)
{
	char hex[2 * 32 + 1];
	mla_err r;

	if ((r = mla_hex_encode(b, len, hex, sizeof(hex))) != MLA_OK)
		return r;
	r = xmlNewProp(n, BAD_CAST name, BAD_CAST hex) != NULL ? MLA_OK : MLA_ERR_NOMEM;
	OPENSSL_cleanse(hex, sizeof(hex)); /* it may be a secret */
	return r;
}

mla_err attach_xml_write_list(xmlNodePtr header, const mla_attach_list *l)
{
	xmlNodePtr list = xmlNewChild(header, header->ns, BAD_CAST "Attachments", NULL), n;
	mla_err r = MLA_OK;

	if (list == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < l->n && r == MLA_OK; i++) {
		const mla_attach_entry *e = &l->item[i].pub;
		if ((n = xmlNewChild(list, header->ns, BAD_CAST "Attachment", NULL)) == NULL)
			return MLA_ERR_NOMEM;
		if ((r = set_u64(n, "index", e->index)) != MLA_OK ||
		    (r = set_u64(n, "size", e->size)) != MLA_OK ||
		    (r = set_u64(n, "segmentSize", e->segment_size)) != MLA_OK ||
		    (r = set_u64(n, "segments", e->segments)) != MLA_OK)
			break;
		r = set_hex(n, "root", e->root, sizeof(e->root));
	}
	return r;
}

static mla_err write_descriptor_entry(xmlNodePtr root, xmlNsPtr ns, const mla_attachment *a)
{
	xmlNodePtr n = xmlNewChild(root, ns, BAD_CAST "Attachment", NULL);
	mla_err r;

	if (n == NULL)
		return MLA_ERR_NOMEM;
	if ((r = set_u64(n, "index", a->pub.index)) != MLA_OK ||
	    xmlNewProp(n, BAD_CAST "name", BAD_CAST a->priv.name) == NULL ||
	    xmlNewProp(n, BAD_CAST "type", BAD_CAST a->priv.type) == NULL ||
	    (r = set_u64(n, "size", a->priv.plain_size)) != MLA_OK ||
	    (r = set_hex(n, "sha256", a->priv.plain_sha256, 32)) != MLA_OK ||
	    xmlNewProp(n, BAD_CAST "compression", BAD_CAST(a->priv.gzip ? "gzip" : "none")) == NULL)
		return r != MLA_OK ? r : MLA_ERR_NOMEM;
	return set_hex(n, "secret", a->priv.secret, sizeof(a->priv.secret));
}

mla_err attach_xml_write_descriptor(const mla_attach_list *l, mla_buf *out, mla_diag *diag)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc != NULL ? xmlNewDocNode(doc, NULL, BAD_CAST "Descriptor", NULL) : NULL;
	xmlChar *mem = NULL;
	xmlNsPtr ns;
	int size = 0;
	mla_err r = MLA_ERR_NOMEM;

	mla_buf_init_secret(out, (size_t)1 << 20);
	if (root == NULL)
		goto out;
	xmlDocSetRootElement(doc, root);
	if ((ns = xmlNewNs(root, BAD_CAST MLA_ATTACH_DESC_NS, BAD_CAST "att")) == NULL ||
	    xmlNewProp(root, BAD_CAST "version", BAD_CAST "1") == NULL)
		goto out;
	xmlSetNs(root, ns);
	for (size_t i = 0; i < l->n; i++)
		if ((r = write_descriptor_entry(root, ns, &l->item[i])) != MLA_OK)
			goto out;
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	r = mla_buf_append(out, mem, (size_t)size);
	OPENSSL_cleanse(mem, (size_t)size);
out:
	xmlFree(mem);
	wipe_secrets(doc);
	xmlFreeDoc(doc);
	if (r != MLA_OK)
		mla_fail(diag, r, "cannot write the attachment descriptor");
	return r;
}

/* ---- reading ---- */

/* The attribute name of n (no namespace) as text, NULL when absent. */
static xmlChar *attr(xmlNodePtr n, const char *name)
{
	return xmlGetNoNsProp(n, BAD_CAST name);
}

/* n has exactly the attributes of names (no other, none in a namespace), and no child but
 * comments and white space. */
static mla_err check_shape(xmlNodePtr n, const char *what, unsigned idx,
			   const char *const *names, mla_diag *diag)
{
	size_t want = 0, have = 0;

	while (names[want] != NULL)
		want++;
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		int known = 0;
		for (size_t i = 0; i < want; i++)
			known |= a->ns == NULL && xmlStrEqual(a->name, BAD_CAST names[i]);
		if (!known)
			return mla_fail(diag, MLA_ERR_SCHEMA, "%s %u has an unknown attribute %.40s",
					what, idx, (const char *)a->name);
		have++;
	}
	if (have != want)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s %u lacks an attribute (%zu of %zu)", what,
				idx, have, want);
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE || (c->type == XML_TEXT_NODE && !xmlIsBlankNode(c)) ||
		    c->type == XML_CDATA_SECTION_NODE)
			return mla_fail(diag, MLA_ERR_SCHEMA, "%s %u has content", what, idx);
	return MLA_OK;
}

/* The root's attributes are exactly names (namespace declarations are not attributes). */
static mla_err check_root_attrs(xmlNodePtr n, const char *const *names, mla_diag *diag)
{
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		int known = 0;
		for (size_t i = 0; names[i] != NULL; i++)
			known |= a->ns == NULL && xmlStrEqual(a->name, BAD_CAST names[i]);
		if (!known)
			return mla_fail(diag, MLA_ERR_SCHEMA, "attachment descriptor: unknown "
					"attribute %.40s", (const char *)a->name);
	}
	return MLA_OK;
}

static mla_err get_u64(xmlNodePtr n, const char *what, unsigned idx, const char *name,
		       uint64_t min, uint64_t max, uint64_t *out, mla_diag *diag)
{
	xmlChar *v = attr(n, name);
	mla_err r = v != NULL && xmlStrlen(v) <= MAX_DIGITS
			    ? mla_parse_u64((const char *)v, min, max, out)
			    : MLA_ERR_ARG;

	xmlFree(v);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s %u: %s is not a decimal from %llu to %llu",
				what, idx, name, (unsigned long long)min, (unsigned long long)max);
	return MLA_OK;
}

static mla_err get_hex(xmlNodePtr n, const char *what, unsigned idx, const char *name,
		       uint8_t *out, size_t len, mla_diag *diag)
{
	xmlChar *v = attr(n, name);
	mla_err r = v != NULL && (size_t)xmlStrlen(v) == 2 * len
			    ? mla_hex_decode((const char *)v, 2 * len, out, len, NULL)
			    : MLA_ERR_ARG;

	if (v != NULL)
		OPENSSL_cleanse(v, (size_t)xmlStrlen(v));
	xmlFree(v);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s %u: %s is not %zu lower-case hex digits",
				what, idx, name, 2 * len);
	return MLA_OK;
}

static mla_err read_entry(xmlNodePtr n, unsigned pos, mla_attach_entry *e, mla_diag *diag)
{
	static const char *const names[] = {"index", "size", "segmentSize", "segments", "root",
					    NULL};
	uint64_t index, seg;
	mla_err r;

	if ((r = check_shape(n, "attachment", pos, names, diag)) != MLA_OK ||
	    (r = get_u64(n, "attachment", pos, "index", 1, MLA_ATTACH_MAX, &index, diag)) != MLA_OK ||
	    (r = get_u64(n, "attachment", pos, "size", 1, UINT64_MAX, &e->size, diag)) != MLA_OK ||
	    (r = get_u64(n, "attachment", pos, "segmentSize", 1, MLA_ATTACH_SEGMENT_MAX, &seg,
			 diag)) != MLA_OK ||
	    (r = get_u64(n, "attachment", pos, "segments", 1, UINT64_MAX, &e->segments, diag)) !=
		    MLA_OK ||
	    (r = get_hex(n, "attachment", pos, "root", e->root, sizeof(e->root), diag)) != MLA_OK)
		return r;
	e->index = (uint32_t)index;
	e->segment_size = (uint32_t)seg;
	return MLA_OK;
}

/* The element children of parent, each ns:name (else MLA_ERR_SCHEMA), at most
 * MLA_ATTACH_MAX (counted before any is read: MLA_ERR_TOO_LARGE); comments and white space
 * are skipped, other text refused. */
static mla_err list_children(xmlNodePtr parent, const char *ns, const char *what,
			     xmlNodePtr out[MLA_ATTACH_MAX], size_t *n, mla_diag *diag)
{
	*n = 0;
	for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE || (c->type == XML_TEXT_NODE && xmlIsBlankNode(c)))
			continue;
		if (!xml_is(c, ns, "Attachment"))
			return mla_fail(diag, MLA_ERR_SCHEMA, "%s holds something other than "
					"Attachment elements", what);
		if (*n == MLA_ATTACH_MAX)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "%s holds more than %u attachments",
					what, MLA_ATTACH_MAX);
		out[(*n)++] = c;
	}
	if (*n == 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s holds no attachment", what);
	return MLA_OK;
}

mla_err attach_xml_read_list(xmlNodePtr el, unsigned long long max_bytes, mla_attach_list *l,
			     mla_diag *diag)
{
	xmlNodePtr items[MLA_ATTACH_MAX];
	size_t n;
	mla_err r;

	memset(l, 0, sizeof(*l));
	if (!xml_is(el, MLA_NS3, "Attachments") || el->properties != NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "no mla:Attachments element of envelope "
				"version 3 without attributes");
	if ((r = list_children(el, MLA_NS3, "the attachment list", items, &n, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = read_entry(items[i], (unsigned)(i + 1), &l->item[i].pub, diag)) != MLA_OK)
			return r;
	l->n = n;
	return mla_attach_list_check(l, max_bytes, diag);
}

mla_err attach_xml_copy_list(xmlNodePtr old, xmlNodePtr header, mla_diag *diag)
{
	mla_attach_list *l = NULL;
	mla_err r;

	if ((r = mla_attach_list_new(&l)) != MLA_OK)
		return r;
	if ((r = attach_xml_read_list(old, MLA_ATTACH_CEILING, l, diag)) == MLA_OK &&
	    (r = attach_xml_write_list(header, l)) != MLA_OK)
		mla_fail(diag, r, "cannot write the attachment list");
	mla_attach_list_free(l);
	return r;
}

static mla_err get_text(xmlNodePtr n, unsigned idx, const char *name, char *dst, size_t cap,
			mla_diag *diag)
{
	xmlChar *v = attr(n, name);
	mla_err r = v != NULL ? mla_strcpy(dst, cap, (const char *)v) : MLA_ERR_ARG;

	xmlFree(v);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "descriptor attachment %u: %s missing or "
				"longer than %zu bytes", idx, name, cap - 1);
	return MLA_OK;
}

static mla_err read_private(xmlNodePtr n, unsigned pos, const mla_attach_entry *e,
			    mla_attach_private *p, mla_diag *diag)
{
	static const char *const names[] = {"index", "name", "type", "size", "sha256",
					    "compression", "secret", NULL};
	uint64_t index;
	xmlChar *comp;
	mla_err r;

	if ((r = check_shape(n, "descriptor attachment", pos, names, diag)) != MLA_OK ||
	    (r = get_u64(n, "descriptor attachment", pos, "index", 1, MLA_ATTACH_MAX, &index,
			 diag)) != MLA_OK)
		return r;
	if (index != e->index)
		return mla_fail(diag, MLA_ERR_SCHEMA, "descriptor attachment %u has index %llu; "
				"the signed list's has %u", pos, (unsigned long long)index, e->index);
	if ((r = get_text(n, pos, "name", p->name, sizeof(p->name), diag)) != MLA_OK ||
	    (r = get_text(n, pos, "type", p->type, sizeof(p->type), diag)) != MLA_OK ||
	    (r = get_u64(n, "descriptor attachment", pos, "size", 0, UINT64_MAX, &p->plain_size,
			 diag)) != MLA_OK ||
	    (r = get_hex(n, "descriptor attachment", pos, "sha256", p->plain_sha256, 32, diag)) !=
		    MLA_OK ||
	    (r = get_hex(n, "descriptor attachment", pos, "secret", p->secret, sizeof(p->secret),
			 diag)) != MLA_OK)
		return r;
	comp = attr(n, "compression");
	p->gzip = comp != NULL && xmlStrEqual(comp, BAD_CAST "gzip");
	r = comp != NULL && (p->gzip || xmlStrEqual(comp, BAD_CAST "none")) ? MLA_OK : MLA_ERR_SCHEMA;
	xmlFree(comp);
	if (r != MLA_OK)
		return mla_fail(diag, r, "descriptor attachment %u: compression is not none or gzip",
				pos);
	return MLA_OK;
}

static mla_err read_descriptor_doc(xmlDocPtr doc, mla_attach_list *l, mla_diag *diag)
{
	static const char *const root_attrs[] = {"version", NULL};
	xmlNodePtr root = xmlDocGetRootElement(doc), items[MLA_ATTACH_MAX];
	xmlChar *v;
	size_t n;
	mla_err r;

	if (!xml_is(root, MLA_ATTACH_DESC_NS, "Descriptor"))
		return mla_fail(diag, MLA_ERR_SCHEMA, "attachment descriptor: root is not "
				"Descriptor (" MLA_ATTACH_DESC_NS ")");
	v = attr(root, "version");
	r = v != NULL && xmlStrEqual(v, BAD_CAST "1") ? MLA_OK : MLA_ERR_UNSUPPORTED_VERSION;
	xmlFree(v);
	if (r != MLA_OK)
		return mla_fail(diag, r, "attachment descriptor: version is not 1");
	if ((r = check_root_attrs(root, root_attrs, diag)) != MLA_OK ||
	    (r = list_children(root, MLA_ATTACH_DESC_NS, "the attachment descriptor", items, &n,
			       diag)) != MLA_OK)
		return r;
	if (n != l->n)
		return mla_fail(diag, MLA_ERR_SCHEMA, "the attachment descriptor describes %zu "
				"attachments; the signed list has %zu", n, l->n);
	for (size_t i = 0; i < n; i++)
		if ((r = read_private(items[i], (unsigned)(i + 1), &l->item[i].pub,
				      &l->item[i].priv, diag)) != MLA_OK)
			return r;
	return MLA_OK;
}

mla_err attach_xml_read_descriptor(const uint8_t *xml, size_t len, const mla_limits *limits,
				   mla_attach_list *l, mla_diag *diag)
{
	xmlDocPtr doc = NULL;
	mla_err r;

	l->has_private = 0;
	if (l->n == 0 || l->n > MLA_ATTACH_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "a descriptor is read against a list of 1 to %u "
				"attachments", MLA_ATTACH_MAX);
	if ((r = xml_safe_parse(xml, len, limits, &doc, NULL, diag)) == MLA_OK &&
	    (r = read_descriptor_doc(doc, l, diag)) == MLA_OK) {
		l->has_private = 1;
		r = mla_attach_list_check(l, limits->max_attachment_bytes, diag);
	}
	if (r != MLA_OK) {
		for (size_t i = 0; i < l->n; i++)
			OPENSSL_cleanse(&l->item[i].priv, sizeof(l->item[i].priv));
		l->has_private = 0;
	}
	wipe_secrets(doc);
	xmlFreeDoc(doc);
	return r;
}

/* ---- the parsers on their own (fuzzing, tools) ---- */

mla_err mla_envelope_attach_list_parse(const uint8_t *xml, size_t len, const mla_limits *limits,
				       mla_attach_list **out, mla_diag *diag)
{
	mla_attach_list *l = NULL;
	xmlDocPtr doc = NULL;
	mla_err r;

	*out = NULL;
	if (len > limits->max_envelope_bytes)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachment list of %zu bytes exceeds the "
				"limit of %zu", len, limits->max_envelope_bytes);
	if ((r = mla_attach_list_new(&l)) != MLA_OK)
		return r;
	if ((r = xml_safe_parse(xml, len, limits, &doc, NULL, diag)) == MLA_OK &&
	    (r = attach_xml_read_list(xmlDocGetRootElement(doc), limits->max_attachment_bytes, l,
				      diag)) == MLA_OK) {
		*out = l;
		l = NULL;
	}
	mla_attach_list_free(l);
	xmlFreeDoc(doc);
	return r;
}

mla_err mla_envelope_attach_descriptor_parse(const uint8_t *xml, size_t len,
					     const mla_limits *limits, mla_attach_list *list,
					     mla_diag *diag)
{
	if (len > limits->max_document_bytes)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachment descriptor of %zu bytes "
				"exceeds the limit of %zu", len, limits->max_document_bytes);
	return attach_xml_read_descriptor(xml, len, limits, list, diag);
}
