/* The schema pass: libxml2 validates the pruned tree against the compiled XSD, and each of
 * its errors becomes one problem: the node's path and a code chosen from libxml2's error
 * number. libxml2's message is never used, since it quotes the offending value. */
#include <string.h>

#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>

#include "case_internal.h"

struct pass {
	const struct case_model *m;
	mla_case_report *r;
	const void *last_node;
	int last_value; /* the last problem was about last_node's value */
};

/* libxml2 reports a bad value once per facet and once more as "not valid": one problem. */
static int is_value_code(mla_case_code c)
{
	return c == MLA_CASE_BAD_VALUE || c == MLA_CASE_BAD_FORMAT || c == MLA_CASE_UNKNOWN_VALUE ||
	       c == MLA_CASE_BAD_LENGTH || c == MLA_CASE_OUT_OF_RANGE;
}

static mla_case_code code_of(int e)
{
	switch (e) {
	case XML_SCHEMAV_CVC_PATTERN_VALID:
		return MLA_CASE_BAD_FORMAT;
	case XML_SCHEMAV_CVC_ENUMERATION_VALID:
		return MLA_CASE_UNKNOWN_VALUE;
	case XML_SCHEMAV_CVC_LENGTH_VALID:
	case XML_SCHEMAV_CVC_MINLENGTH_VALID:
	case XML_SCHEMAV_CVC_MAXLENGTH_VALID:
		return MLA_CASE_BAD_LENGTH;
	case XML_SCHEMAV_CVC_MININCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MAXINCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MINEXCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_MAXEXCLUSIVE_VALID:
	case XML_SCHEMAV_CVC_TOTALDIGITS_VALID:
	case XML_SCHEMAV_CVC_FRACTIONDIGITS_VALID:
		return MLA_CASE_OUT_OF_RANGE;
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_1:
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_2:
	case XML_SCHEMAV_CVC_DATATYPE_VALID_1_2_3:
	case XML_SCHEMAV_CVC_FACET_VALID:
		return MLA_CASE_BAD_VALUE;
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_1:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_3:
	case XML_SCHEMAV_CVC_TYPE_3_1_2:
		return MLA_CASE_TEXT_NOT_ALLOWED;
	case XML_SCHEMAV_CVC_TYPE_3_1_1: /* an attribute on an element of simple type */
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_1:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_3_2_2:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_4:
	case XML_SCHEMAV_CVC_AU:
	case XML_SCHEMAV_CVC_ATTRIBUTE_1:
	case XML_SCHEMAV_CVC_ATTRIBUTE_2:
	case XML_SCHEMAV_CVC_ATTRIBUTE_3:
	case XML_SCHEMAV_CVC_ATTRIBUTE_4:
		return MLA_CASE_BAD_ATTRIBUTE;
	case XML_SCHEMAV_ELEMENT_CONTENT:
	case XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4:
		return MLA_CASE_UNEXPECTED;
	default:
		return MLA_CASE_OTHER;
	}
}

/* "Missing child element(s)" is the structural pass's, which names every one. */
static int is_missing_child(const xmlError *e)
{
	return (e->code == XML_SCHEMAV_ELEMENT_CONTENT || e->code == XML_SCHEMAV_CVC_COMPLEX_TYPE_2_4) &&
	       e->message != NULL && strstr(e->message, "Missing child") != NULL;
}

static void on_error(void *ctx, xmlErrorPtr e)
{
	struct pass *p = ctx;
	xmlNodePtr n = e != NULL ? e->node : NULL;
	const struct case_decl *d;
	char path[MLA_CASE_PATH_MAX];

	mla_case_code code;

	if (e == NULL || is_missing_child(e))
		return;
	code = code_of(e->code);
	if (n != NULL && n == p->last_node && p->last_value && is_value_code(code))
		return;
	p->last_node = n;
	p->last_value = is_value_code(code);
	if (n != NULL && n->type == XML_ATTRIBUTE_NODE) {
		case_path(p->m, n->parent, (const char *)n->name, NULL, path, sizeof(path));
		case_report_add(p->r, path, code, NULL);
		return;
	}
	if (n == NULL || n->type != XML_ELEMENT_NODE) {
		case_report_add(p->r, "/", code, NULL);
		return;
	}
	case_path(p->m, n, NULL, NULL, path, sizeof(path));
	d = case_model_decl_of(p->m, n);
	case_report_add(p->r, path, code, d != NULL ? d->type : NULL);
}

mla_err case_schema_check(const struct case_model *m, void *schema, xmlDocPtr doc,
			  mla_case_report *r)
{
	struct pass p = {m, r, NULL, 0};
	xmlSchemaValidCtxtPtr v;
	int rc;

	if ((v = xmlSchemaNewValidCtxt(schema)) == NULL)
		return MLA_ERR_NOMEM;
	xmlSchemaSetValidStructuredErrors(v, on_error, &p);
	rc = xmlSchemaValidateDoc(v, doc);
	xmlSchemaFreeValidCtxt(v);
	if (rc < 0)
		return MLA_ERR_INTERNAL;
	if (rc > 0 && r->cls != MLA_CASE_INVALID)
		case_report_add(r, "/", MLA_CASE_OTHER, NULL); /* an error with no report */
	return MLA_OK;
}
