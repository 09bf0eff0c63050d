/* The content model of the case schemas, read from the embedded XSDs themselves (so the
 * structural pass and the schema cannot disagree): per named complex type, its child
 * elements with their types and occurrences. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "mlagw/codec.h"
#include "case_internal.h"

#define XS_NS "http://www.w3.org/2001/XMLSchema"

static int is_xs(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, BAD_CAST XS_NS) && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNodePtr first_xs(xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    xmlStrEqual(c->ns->href, BAD_CAST XS_NS) && !is_xs(c, "annotation"))
			return c;
	return NULL;
}

/* Copies attribute name of n into out, without a "prefix:"; absent gives "". */
static mla_err attr_local(xmlNodePtr n, const char *name, char *out, size_t size)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	const char *s, *colon;
	mla_err r;

	if (v == NULL) {
		out[0] = '\0';
		return MLA_OK;
	}
	s = (const char *)v;
	colon = strchr(s, ':');
	r = mla_snprintf(out, size, "%s", colon != NULL ? colon + 1 : s);
	xmlFree(v);
	return r;
}

/* minOccurs or maxOccurs: 1 when absent, UINT_MAX for unbounded; 0 on a bad number. */
static unsigned occurs(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, BAD_CAST name);
	uint64_t out = 1;

	if (v != NULL) {
		if (xmlStrEqual(v, BAD_CAST "unbounded"))
			out = UINT_MAX;
		else if (mla_parse_u64((const char *)v, 0, UINT_MAX, &out) != MLA_OK)
			out = 0;
		xmlFree(v);
	}
	return (unsigned)out;
}

static mla_err read_decl(xmlNodePtr e, struct case_decl *d)
{
	mla_err r;

	if ((r = attr_local(e, "name", d->name, sizeof(d->name))) != MLA_OK ||
	    (r = attr_local(e, "type", d->type, sizeof(d->type))) != MLA_OK)
		return r;
	if (d->name[0] == '\0' || d->type[0] == '\0')
		return MLA_ERR_INTERNAL;
	d->min = occurs(e, "minOccurs");
	d->max = occurs(e, "maxOccurs");
	return d->max == 0 ? MLA_ERR_INTERNAL : MLA_OK;
}

static mla_err read_type(xmlNodePtr ct, struct case_type *t)
{
	xmlNodePtr group = first_xs(ct);
	mla_err r;

	if ((r = attr_local(ct, "name", t->name, sizeof(t->name))) != MLA_OK || t->name[0] == '\0')
		return MLA_ERR_INTERNAL;
	if (is_xs(group, "simpleContent")) {
		t->leaf = 1;
		return MLA_OK;
	}
	if (!is_xs(group, "all") && !is_xs(group, "sequence"))
		return MLA_ERR_INTERNAL;
	for (xmlNodePtr e = group->children; e != NULL; e = e->next) {
		if (e->type != XML_ELEMENT_NODE)
			continue;
		if (!is_xs(e, "element") || t->n == CASE_CHILDREN_MAX)
			return MLA_ERR_INTERNAL;
		if ((r = read_decl(e, &t->child[t->n++])) != MLA_OK)
			return r;
	}
	if (is_xs(group, "sequence") && t->n != 1)
		return MLA_ERR_INTERNAL; /* a list is one repeated element */
	return MLA_OK;
}

static mla_err read_schema(xmlNodePtr schema, struct case_model *m)
{
	mla_err r = MLA_OK;

	for (xmlNodePtr n = schema->children; n != NULL && r == MLA_OK; n = n->next) {
		if (is_xs(n, "complexType")) {
			if (m->ntypes == CASE_TYPES_MAX)
				return MLA_ERR_INTERNAL;
			r = read_type(n, &m->types[m->ntypes++]);
		} else if (is_xs(n, "element")) {
			if (m->nroots == CASE_ROOTS_MAX)
				return MLA_ERR_INTERNAL;
			r = read_decl(n, &m->roots[m->nroots++]);
		}
	}
	return r;
}

mla_err case_model_load(struct case_model *m, const char *ns, const unsigned char *xsd,
			size_t len, mla_diag *diag)
{
	xmlDocPtr doc;
	xmlNodePtr root;
	mla_err r = MLA_ERR_INTERNAL;

	memset(m, 0, sizeof(*m));
	m->ns = ns;
	doc = xmlReadMemory((const char *)xsd, (int)len, "case.xsd", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (is_xs(root, "schema"))
		r = read_schema(root, m);
	xmlFreeDoc(doc);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL,
				"embedded schema %s steps outside the validator's subset", ns);
	return MLA_OK;
}

const struct case_type *case_model_type(const struct case_model *m, const char *name)
{
	for (size_t i = 0; i < m->ntypes; i++)
		if (strcmp(m->types[i].name, name) == 0)
			return &m->types[i];
	return NULL;
}

const struct case_decl *case_type_child(const struct case_type *t, const char *name)
{
	for (size_t i = 0; t != NULL && i < t->n; i++)
		if (strcmp(t->child[i].name, name) == 0)
			return &t->child[i];
	return NULL;
}

const struct case_decl *case_model_root(const struct case_model *m, const char *name)
{
	for (size_t i = 0; i < m->nroots; i++)
		if (strcmp(m->roots[i].name, name) == 0)
			return &m->roots[i];
	return NULL;
}

static int in_model(const struct case_model *m, xmlNodePtr n)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       xmlStrEqual(n->ns->href, BAD_CAST m->ns);
}

const struct case_decl *case_model_decl_of(const struct case_model *m, xmlNodePtr n)
{
	const struct case_decl *pd;

	if (!in_model(m, n))
		return NULL;
	if (n->parent == NULL || n->parent->type != XML_ELEMENT_NODE)
		return case_model_root(m, (const char *)n->name);
	if ((pd = case_model_decl_of(m, n->parent)) == NULL)
		return NULL;
	return case_type_child(case_model_type(m, pd->type), (const char *)n->name);
}
