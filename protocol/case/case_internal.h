/* Internal parts of case document validation: the content model read from the embedded
 * XSDs (model.c), the report and element paths (report.c), the schema pass (schema_pass.c)
 * and the rules XSD cannot express (rules.c). */
#ifndef MLAGW_CASE_INTERNAL_H
#define MLAGW_CASE_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/case.h"

#define CASE_NAME_MAX 40
#define CASE_CHILDREN_MAX 20
#define CASE_TYPES_MAX 48
#define CASE_ROOTS_MAX 16

/* An element declaration: its local name, its type's local name, its occurrences. */
struct case_decl {
	char name[CASE_NAME_MAX];
	char type[CASE_NAME_MAX];
	unsigned min, max;
};

/* A named complex type: the child elements of its xs:all (or the one repeated element of its
 * xs:sequence); leaf for simple content. */
struct case_type {
	char name[CASE_NAME_MAX];
	int leaf;
	size_t n;
	struct case_decl child[CASE_CHILDREN_MAX];
};

struct case_model {
	const char *ns;
	size_t ntypes, nroots;
	struct case_type types[CASE_TYPES_MAX];
	struct case_decl roots[CASE_ROOTS_MAX];
};

/* The model of a case namespace (after mla_case_init), NULL for another namespace. */
const struct case_model *case_model_for(const char *ns);
/* Reads an embedded XSD (trusted, written to the rules in its header comment) into m;
 * MLA_ERR_INTERNAL naming the construct when it steps outside them. */
mla_err case_model_load(struct case_model *m, const char *ns, const unsigned char *xsd,
			size_t len, mla_diag *diag);
/* The complex type named name, NULL for a simple type. */
const struct case_type *case_model_type(const struct case_model *m, const char *name);
/* The declaration of the child element named name (local), NULL if t names none. */
const struct case_decl *case_type_child(const struct case_type *t, const char *name);
const struct case_decl *case_model_root(const struct case_model *m, const char *name);
/* The declaration of element n (root or child) and its type, NULL when unknown. */
const struct case_decl *case_model_decl_of(const struct case_model *m, xmlNodePtr n);

/* Appends a problem (counted in more past MLA_CASE_PROBLEMS_MAX); detail may be NULL. */
void case_report_add(mla_case_report *r, const char *path, mla_case_code code,
		     const char *detail);
/* Path of element n (attr: an attribute name, or NULL; child: a child element's name
 * appended, or NULL), with [i] on elements the schema lets repeat. Names outside
 * [A-Za-z0-9._-] are shown as '?'; a path too long ends in "...". */
void case_path(const struct case_model *m, xmlNodePtr n, const char *attr, const char *child,
	       char *out, size_t size);

/* The structural pass: every child element checked against its parent's type; unknown and
 * extra elements reported and removed (so the schema pass sees every value), every missing
 * mandatory element reported. */
void case_structure_check(const struct case_model *m, xmlNodePtr root, mla_case_report *r);
/* The schema pass over the pruned tree: value errors, by path and code. */
mla_err case_schema_check(const struct case_model *m, void *schema, xmlDocPtr doc,
			  mla_case_report *r);
/* The rules beyond the XSD (SPEC 16.6); sets r->type and r->partial. */
void case_rules_check(const struct case_model *m, xmlNodePtr root, mla_case_report *r);

#endif
