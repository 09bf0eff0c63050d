/* The structural pass: each element's children against its type in the model. Unknown and
 * surplus elements are reported and removed from the tree, so that libxml2's schema pass,
 * which stops checking a parent's content at its first unexpected child, goes on to check
 * every value; each missing mandatory element is reported, all of them, not the first.
 * Elements inside a value are unexpected and removed the same way. */
#include <string.h>

#include "case_internal.h"

static int in_ns(const struct case_model *m, xmlNodePtr n)
{
	return n->ns != NULL && xmlStrEqual(n->ns->href, BAD_CAST m->ns);
}

static void drop(xmlNodePtr n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* The child c of an element of type t: reported and removed when t has no such element or
 * already had enough; else counted. Returns its declaration, or NULL once removed. */
static const struct case_decl *take_child(const struct case_model *m, const struct case_type *t,
					  xmlNodePtr c, unsigned *count, mla_case_report *r)
{
	const struct case_decl *d = in_ns(m, c) ? case_type_child(t, (const char *)c->name) : NULL;
	char path[MLA_CASE_PATH_MAX];

	if (d == NULL) {
		case_path(m, c->parent, NULL, (const char *)c->name, path, sizeof(path));
		case_report_add(r, path, MLA_CASE_UNEXPECTED, in_ns(m, c) ? NULL : "another namespace");
		drop(c);
		return NULL;
	}
	if (++count[d - t->child] > d->max) {
		case_path(m, c->parent, NULL, (const char *)c->name, path, sizeof(path));
		case_report_add(r, path, MLA_CASE_REPEATED, NULL);
		drop(c);
		return NULL;
	}
	return d;
}

/* A value (simple type or simple content) has no element children: each is unexpected. */
static void check_value(const struct case_model *m, xmlNodePtr e, mla_case_report *r)
{
	char path[MLA_CASE_PATH_MAX];
	xmlNodePtr c, next;

	for (c = e->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		case_path(m, e, NULL, (const char *)c->name, path, sizeof(path));
		case_report_add(r, path, MLA_CASE_UNEXPECTED, "inside a value");
		drop(c);
	}
}

static void check_element(const struct case_model *m, xmlNodePtr e, const struct case_type *t,
			  mla_case_report *r)
{
	unsigned count[CASE_CHILDREN_MAX] = {0};
	char path[MLA_CASE_PATH_MAX];
	xmlNodePtr c, next;

	for (c = e->children; c != NULL; c = next) {
		const struct case_decl *d;
		const struct case_type *ct;

		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue; /* text: the schema pass reports it where it is not allowed */
		if ((d = take_child(m, t, c, count, r)) == NULL)
			continue;
		if ((ct = case_model_type(m, d->type)) != NULL && !ct->leaf)
			check_element(m, c, ct, r);
		else
			check_value(m, c, r);
	}
	for (size_t i = 0; i < t->n; i++)
		if (count[i] < t->child[i].min) {
			case_path(m, e, NULL, t->child[i].name, path, sizeof(path));
			case_report_add(r, path, MLA_CASE_MISSING, NULL);
		}
}

void case_structure_check(const struct case_model *m, xmlNodePtr root, mla_case_report *r)
{
	const struct case_decl *d = case_model_decl_of(m, root);
	const struct case_type *t = d != NULL ? case_model_type(m, d->type) : NULL;

	if (t != NULL && !t->leaf)
		check_element(m, root, t, r);
}
