/* Protected persons (SPEC 16.12, UNTOC art. 24): finds the persons a document marks protected
 * and, for a reader the configuration does not allow, withholds their identifying fields.
 * Fails closed: any element named Person whose protected attribute is not false counts, and
 * everything inside it but a plain Role is replaced or removed, whatever the namespaces,
 * prefixes, comments, CDATA or processing instructions a hostile document uses. */
#include <string.h>

#include <openssl/crypto.h>
#include <libxml/tree.h>

#include "mlagw/case.h"
#include "xml_safe.h"

static int bytes_contain(const uint8_t *doc, size_t len, const void *s, size_t k)
{
	const uint8_t *p = s;

	for (size_t i = 0; i + k <= len; i++)
		if (doc[i] == p[0] && memcmp(doc + i, p, k) == 0)
			return 1;
	return 0;
}

/* Whether the bytes spell the name "protected" in ASCII/UTF-8, or in UTF-16 or UTF-32 of
 * either byte order: the hardened parser reads only UTF-8, but a reader's own tools may not,
 * so a document that names it in a wide encoding cannot be redacted and fails closed. */
static int names_protected(const uint8_t *doc, size_t len)
{
	static const char name[] = "protected";
	uint8_t wide[4 * (sizeof(name) - 1)];

	if (bytes_contain(doc, len, name, sizeof(name) - 1))
		return 1;
	for (size_t width = 2; width <= 4; width += 2) {
		for (int big = 0; big <= 1; big++) {
			memset(wide, 0, sizeof(wide));
			for (size_t i = 0; i < sizeof(name) - 1; i++)
				wide[i * width + (big ? width - 1 : 0)] = (uint8_t)name[i];
			if (bytes_contain(doc, len, wide, (sizeof(name) - 1) * width))
				return 1;
		}
	}
	return 0;
}

static int xml_space(xmlChar c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* xs:boolean after white-space collapse: only "false" and "0" are not protected. */
static int value_protects(const xmlChar *v)
{
	size_t a = 0, b = (size_t)xmlStrlen(v);

	while (a < b && xml_space(v[a]))
		a++;
	while (b > a && xml_space(v[b - 1]))
		b--;
	return !((b - a == 5 && memcmp(v + a, "false", 5) == 0) ||
		 (b - a == 1 && v[a] == '0'));
}

/* An element named Person (any namespace) with an attribute named protected (any namespace)
 * whose value is not false. */
static int is_protected_person(xmlNodePtr n)
{
	if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "Person"))
		return 0;
	for (xmlAttrPtr a = n->properties; a != NULL; a = a->next) {
		if (!xmlStrEqual(a->name, BAD_CAST "protected"))
			continue;
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		int p = v == NULL || value_protects(v);
		xmlFree(v);
		if (p)
			return 1;
	}
	return 0;
}

static int has_element_child(xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

/* Whitespace-only text: layout, kept so the redacted document reads like the original. */
static int is_layout(xmlNodePtr n)
{
	if (n->type != XML_TEXT_NODE || n->content == NULL)
		return 0;
	for (const xmlChar *p = n->content; *p != '\0'; p++)
		if (!xml_space(*p))
			return 0;
	return 1;
}

static void unlink_free(xmlNodePtr n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* keep_protected: a person's own protected attributes stay, each with the value true (any
 * value but false protects, so the value as written could carry a field). */
static mla_err drop_attributes(xmlNodePtr n, int keep_protected)
{
	xmlAttrPtr a = n->properties, next;
	xmlNodePtr t;

	for (; a != NULL; a = next) {
		next = a->next;
		if (!(keep_protected && xmlStrEqual(a->name, BAD_CAST "protected"))) {
			xmlRemoveProp(a);
			continue;
		}
		xmlFreeNodeList(a->children);
		a->children = a->last = NULL;
		if ((t = xmlNewDocText(n->doc, BAD_CAST "true")) == NULL)
			return MLA_ERR_NOMEM;
		t->parent = (xmlNodePtr)a;
		a->children = a->last = t;
	}
	return MLA_OK;
}

/* A leaf keeps its name and gets the marker as its only content. */
static mla_err mark_leaf(xmlNodePtr n)
{
	xmlNodePtr c, next, t;

	(void)drop_attributes(n, 0); /* removes only: cannot fail */
	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		unlink_free(c);
	}
	if ((t = xmlNewDocText(n->doc, BAD_CAST MLA_CASE_REDACTED)) == NULL ||
	    xmlAddChild(n, t) == NULL) {
		xmlFreeNode(t);
		return MLA_ERR_NOMEM;
	}
	return MLA_OK;
}

/* A plain Role (the request namespace, text only) is kept, without comments or PIs. */
static int is_plain_role(xmlNodePtr n)
{
	return n->ns != NULL && xmlStrEqual(n->ns->href, BAD_CAST MLA_CASE_REQUEST_NS) &&
	       xmlStrEqual(n->name, BAD_CAST "Role") && n->properties == NULL &&
	       !has_element_child(n);
}

static void keep_role_text(xmlNodePtr n)
{
	xmlNodePtr c, next;

	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			unlink_free(c);
	}
}

/* Everything inside a protected person's element n (depth 0: the Person itself). */
static mla_err redact_inside(xmlNodePtr n, int depth)
{
	xmlNodePtr c, next;
	mla_err r = MLA_OK;

	for (c = n->children; c != NULL && r == MLA_OK; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE) {
			if (!is_layout(c))
				unlink_free(c);
		} else if (depth == 0 && is_plain_role(c)) {
			keep_role_text(c);
		} else if (has_element_child(c)) {
			(void)drop_attributes(c, 0); /* removes only */
			r = redact_inside(c, depth + 1);
		} else {
			r = mark_leaf(c);
		}
	}
	return r;
}

/* Visits n and the elements below it (bounded by the parse's node and depth limits),
 * counting protected persons and redacting them when redact is set. */
static mla_err walk(xmlNodePtr n, int redact, size_t *count)
{
	mla_err r = MLA_OK;

	if (is_protected_person(n)) {
		(*count)++;
		if (!redact)
			return MLA_OK;
		if (drop_attributes(n, 1) != MLA_OK)
			return MLA_ERR_NOMEM;
		return redact_inside(n, 0);
	}
	for (xmlNodePtr c = n->children; c != NULL && r == MLA_OK; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			r = walk(c, redact, count);
	return r;
}

/* Comments and processing instructions anywhere: markup that could carry a name, and that
 * a redacted document does without. */
static void strip_notes(xmlNodePtr n)
{
	xmlNodePtr c, next;

	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			unlink_free(c);
		else if (c->type == XML_ELEMENT_NODE)
			strip_notes(c);
	}
}

static mla_err serialize(xmlDocPtr x, mla_buf *out)
{
	xmlChar *mem = NULL;
	int size = 0;
	mla_err r;

	xmlDocDumpMemoryEnc(x, &mem, &size, "UTF-8");
	if (mem == NULL || size < 0) {
		xmlFree(mem);
		return MLA_ERR_NOMEM;
	}
	r = mla_buf_append(out, mem, (size_t)size);
	OPENSSL_cleanse(mem, (size_t)size);
	xmlFree(mem);
	return r;
}

mla_err mla_case_protected(const uint8_t *doc, size_t len, const mla_limits *limits,
			   mla_buf *redacted, size_t *count, mla_diag *diag)
{
	mla_limits lim = *limits;
	xmlDocPtr x = NULL;
	xmlNodePtr root;
	mla_diag pd = {MLA_OK, ""};
	mla_err r;

	*count = 0;
	/* an attribute name cannot be spelled by a reference, and the parser reads only UTF-8:
	 * bytes without the name cannot mark anyone */
	if (!names_protected(doc, len))
		return MLA_OK;
	lim.max_envelope_bytes = limits->max_document_bytes;
	lim.max_nodes = limits->max_document_nodes;
	if ((r = xml_safe_parse(doc, len, &lim, &x, NULL, &pd)) != MLA_OK) {
		if (memchr(doc, '<', len) == NULL)
			return MLA_OK; /* not markup at all: no element can be a person */
		return mla_fail(diag, r, "the document names protected and does not parse (%s): "
				"it cannot be redacted", mla_errname(r));
	}
	if ((root = xmlDocGetRootElement(x)) != NULL)
		r = walk(root, redacted != NULL, count);
	if (r == MLA_OK && redacted != NULL && *count > 0) {
		strip_notes((xmlNodePtr)x);
		r = serialize(x, redacted);
	}
	xmlFreeDoc(x);
	if (r == MLA_ERR_NOMEM)
		return mla_fail(diag, r, "out of memory while redacting");
	return r;
}
