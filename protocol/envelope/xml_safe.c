/* Hardened libxml2 parsing (see xml_safe.h). SAX hooks stop the parser at the first DOCTYPE
 * or limit breach, before any hostile structure can be expanded or built. */
#include <string.h>

#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>

#include "mlagw/codec.h"
#include "xml_safe.h"
#include "protocol_ns.h"

struct parse_state {
	const mla_limits *limits;
	unsigned depth;
	unsigned nodes;
	int doctype;
	int external;
	int entities;
	mla_err err;
	xml_safe_counts counts;
	mla_diag *diag;
};

static void stop_with(xmlParserCtxtPtr ctxt, mla_err err, const char *what, unsigned limit)
{
	struct parse_state *st = ctxt->_private;

	if (st->err == MLA_OK) {
		st->err = err;
		if (what != NULL)
			mla_fail(st->diag, err, "%s exceeds the limit of %u", what, limit);
	}
	xmlStopParser(ctxt);
}

static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
			       const xmlChar *sys_id)
{
	struct parse_state *st = ((xmlParserCtxtPtr)ctx)->_private;

	(void)name;
	st->doctype = 1;
	if (ext_id != NULL || sys_id != NULL)
		st->external = 1;
}

static void on_external_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
			       const xmlChar *sys_id)
{
	on_internal_subset(ctx, name, ext_id, sys_id);
}

/* Entities are never registered, so nothing can ever be expanded; we only note their kind. */
static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	struct parse_state *st = ((xmlParserCtxtPtr)ctx)->_private;

	(void)name;
	(void)type;
	(void)content;
	st->doctype = 1;
	st->entities++;
	if (public_id != NULL || system_id != NULL)
		st->external = 1;
}

static int is_element(const xmlChar *uri, const xmlChar *local, const char *ns,
		      const char *want)
{
	return uri != NULL && xmlStrEqual(uri, BAD_CAST ns) && xmlStrEqual(local, BAD_CAST want);
}

const struct xml_counted_name xml_counted_names[XML_COUNTED_N] = {
	[XML_HEADER] = {MLA_NS, "Header"},
	[XML_PAYLOAD] = {MLA_NS, "Payload"},
	[XML_BODY] = {MLA_RECEIPT_NS, "Body"},
	[XML_SIGNATURE] = {DS_NS, "Signature"},
	[XML_BODY2] = {MLA_RECEIPT2_NS, "Body"},
	[XML_HEADER2] = {MLA_NS2, "Header"},
	[XML_PAYLOAD2] = {MLA_NS2, "Payload"},
	[XML_HEADER3] = {MLA_NS3, "Header"},
	[XML_PAYLOAD3] = {MLA_NS3, "Payload"},
	[XML_BODY3] = {MLA_RECEIPT3_NS, "Body"},
};

static void count_element(struct parse_state *st, const xmlChar *local, const xmlChar *uri)
{
	for (int i = 0; i < XML_COUNTED_N; i++)
		if (is_element(uri, local, xml_counted_names[i].ns, xml_counted_names[i].name)) {
			st->counts.n[i]++;
			return;
		}
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
		     int nb_ns, const xmlChar **ns, int nb_attr, int nb_def, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *st = ctxt->_private;

	if (st->doctype) {
		stop_with(ctxt, MLA_ERR_XML_DOCTYPE, NULL, 0);
		return;
	}
	if (++st->depth > st->limits->max_depth) {
		stop_with(ctxt, MLA_ERR_XML_DEPTH, "XML nesting depth", st->limits->max_depth);
		return;
	}
	if (++st->nodes > st->limits->max_nodes) {
		stop_with(ctxt, MLA_ERR_XML_NODES, "XML element count", st->limits->max_nodes);
		return;
	}
	count_element(st, local, uri);
	xmlSAX2StartElementNs(ctx, local, prefix, uri, nb_ns, ns, nb_attr, nb_def, attrs);
}

/* Comments and processing instructions are nodes too: each costs a tree node whatever its
 * size, so a document of forty million bytes of "<!---->" would cost gigabytes uncounted. */
static int count_node(xmlParserCtxtPtr ctxt)
{
	struct parse_state *st = ctxt->_private;

	if (++st->nodes <= st->limits->max_nodes)
		return 1;
	stop_with(ctxt, MLA_ERR_XML_NODES, "XML node count (elements, comments, processing "
		  "instructions)", st->limits->max_nodes);
	return 0;
}

static void on_comment(void *ctx, const xmlChar *value)
{
	if (count_node(ctx))
		xmlSAX2Comment(ctx, value);
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	if (count_node(ctx))
		xmlSAX2ProcessingInstruction(ctx, target, data);
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct parse_state *st = ((xmlParserCtxtPtr)ctx)->_private;

	if (st->depth > 0)
		st->depth--;
	xmlSAX2EndElementNs(ctx, local, prefix, uri);
}

static void install_hooks(xmlParserCtxtPtr ctxt)
{
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->externalSubset = on_external_subset;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->startElementNs = on_start;
	ctxt->sax->endElementNs = on_end;
	ctxt->sax->comment = on_comment;
	ctxt->sax->processingInstruction = on_pi;
}

/* The DOCTYPE family gets one code each, most dangerous first. */
static mla_err doctype_error(const struct parse_state *st, mla_diag *diag)
{
	if (st->external)
		return mla_fail(diag, MLA_ERR_XML_EXTERNAL_ENTITY,
				"external entity or DTD reference refused");
	if (st->entities > 0)
		return mla_fail(diag, MLA_ERR_XML_ENTITY_EXPANSION,
				"entity declarations refused (%d declared)", st->entities);
	return mla_fail(diag, MLA_ERR_XML_DOCTYPE, "DOCTYPE declaration refused");
}

static mla_err malformed_error(xmlParserCtxtPtr ctxt, mla_diag *diag)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	char msg[128] = "no detail";
	size_t n;

	if (e != NULL && e->message != NULL) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "%s", e->message); /* a diagnostic */
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
	}
	return mla_fail(diag, MLA_ERR_XML_MALFORMED, "malformed XML at line %d: %s",
			e != NULL ? e->line : 0, msg);
}

mla_err xml_safe_parse(const void *buf, size_t len, const mla_limits *limits, xmlDocPtr *out,
		       xml_safe_counts *counts, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct parse_state st;
	const int opts = XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
			 XML_PARSE_NOWARNING;

	memset(&st, 0, sizeof(st));
	st.limits = limits;
	st.diag = diag;
	*out = NULL;
	if (len > limits->max_envelope_bytes || len > (size_t)INT_MAX) {
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "envelope of %zu bytes exceeds the limit of %zu",
			     len, limits->max_envelope_bytes);
		goto out;
	}
	if ((r = xml_prescan(buf, len, limits, diag)) != MLA_OK)
		goto out;
	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	ctxt->_private = &st;
	install_hooks(ctxt);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, "envelope.xml", "UTF-8", opts);
	if (st.err != MLA_OK)
		r = st.err == MLA_ERR_XML_DOCTYPE ? doctype_error(&st, diag) : st.err;
	else if (st.doctype)
		r = doctype_error(&st, diag);
	else if (doc == NULL || !ctxt->wellFormed)
		r = malformed_error(ctxt, diag);
	else
		r = MLA_OK;
	if (r != MLA_OK)
		goto out;
	if (counts != NULL)
		*counts = st.counts;
	*out = doc;
	doc = NULL;
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return r;
}

int xml_is(xmlNodePtr n, const char *ns, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, BAD_CAST ns) && xmlStrEqual(n->name, BAD_CAST name);
}

xmlNodePtr xml_next_element(xmlNodePtr n)
{
	while (n != NULL && n->type != XML_ELEMENT_NODE)
		n = n->next;
	return n;
}

xmlNodePtr xml_first_child(xmlNodePtr n, const char *ns, const char *name)
{
	for (xmlNodePtr c = n != NULL ? n->children : NULL; c != NULL; c = c->next)
		if (xml_is(c, ns, name))
			return c;
	return NULL;
}

static void quiet_error(void *ctx, xmlErrorPtr error)
{
	(void)ctx;
	(void)error;
}

static xmlParserInputPtr refuse_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return NULL;
}

void xml_safe_global_init(void)
{
	xmlSetStructuredErrorFunc(NULL, quiet_error);
	xmlSubstituteEntitiesDefault(0);
	xmlLoadExtDtdDefaultValue = 0;
	xmlSetExternalEntityLoader(refuse_loader);
}

void xml_schema_error_keep(void *ctx, xmlErrorPtr e)
{
	struct xml_schema_error *se = ctx;
	size_t n;

	if (se->first[0] != '\0' || e == NULL || e->message == NULL)
		return;
	se->line = e->line;
	(void)mla_snprintf_cut(se->first, sizeof(se->first), "%s", e->message); /* a diagnostic */
	n = strlen(se->first);
	while (n > 0 && (se->first[n - 1] == '\n' || se->first[n - 1] == ' '))
		se->first[--n] = '\0';
}

void xml_token_text(xmlNodePtr n, char *out, size_t size)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	size_t len = t != NULL ? (size_t)xmlStrlen(t) : 0, start = 0;

	out[0] = '\0';
	while (start < len && strchr(" \t\r\n", t[start]) != NULL)
		start++;
	while (len > start && strchr(" \t\r\n", t[len - 1]) != NULL)
		len--;
	if (t != NULL && len - start < size) {
		memcpy(out, t + start, len - start);
		out[len - start] = '\0';
	}
	xmlFree(t);
}
