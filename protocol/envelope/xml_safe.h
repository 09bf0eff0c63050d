/* Hardened XML parsing for untrusted input: no network, no DTD, no entities, and limits on
 * size, depth and element count enforced while parsing, so hostile input never grows a tree. */
#ifndef MLAGW_XML_SAFE_H
#define MLAGW_XML_SAFE_H

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "mlagw/error.h"
#include "mlagw/limits.h"

/* The elements counted anywhere in the document while parsing, for the signature wrapping
 * check (wrapping.h): the signed parts of envelopes and receipts, and ds:Signature. */
/* XML_BODY2: the Body of a receipt version 2 (its own namespace); XML_HEADER2, XML_PAYLOAD2:
 * the parts of an envelope version 2; XML_HEADER3, XML_PAYLOAD3: of version 3; XML_BODY3: the
 * Body of a receipt version 3 */
enum xml_counted {
	XML_HEADER, XML_PAYLOAD, XML_BODY, XML_SIGNATURE, XML_BODY2, XML_HEADER2, XML_PAYLOAD2,
	XML_HEADER3, XML_PAYLOAD3, XML_BODY3, XML_COUNTED_N
};

/* Namespace and local name of each counted element, indexed by enum xml_counted. */
struct xml_counted_name {
	const char *ns;
	const char *name;
};
extern const struct xml_counted_name xml_counted_names[XML_COUNTED_N];

typedef struct xml_safe_counts {
	unsigned n[XML_COUNTED_N];
} xml_safe_counts;

/* The linear attribute count that runs before libxml2 (xml_prescan.c): more than
 * limits->max_element_attrs on one element or limits->max_attrs in all is MLA_ERR_XML_ATTRS. */
mla_err xml_prescan(const void *buf, size_t len, const mla_limits *limits, mla_diag *diag);

/* Parses buf (read as UTF-8 whatever it declares) into *out (caller frees with xmlFreeDoc). counts may be NULL. */
mla_err xml_safe_parse(const void *buf, size_t len, const mla_limits *limits, xmlDocPtr *out,
		       xml_safe_counts *counts, mla_diag *diag);

/* DOM helpers for the parsed tree: n is an element named ns:name; the next element sibling
 * from n on (n included); the first child element named ns:name. NULL-safe. */
int xml_is(xmlNodePtr n, const char *ns, const char *name);
xmlNodePtr xml_next_element(xmlNodePtr n);
xmlNodePtr xml_first_child(xmlNodePtr n, const char *ns, const char *name);
/* n's text with the white space xs:token collapses trimmed at both ends, into out (size
 * bytes); empty when n is NULL or the text does not fit. */
void xml_token_text(xmlNodePtr n, char *out, size_t size);

/* Installs process-wide libxml2 settings: quiet errors, no entity substitution, and an
 * external entity loader that refuses everything. */
void xml_safe_global_init(void);

/* The first error a schema validation reports (its message, without trailing blanks, and its
 * line), for a diagnostic; pass xml_schema_error_keep and one of these, zeroed, to
 * xmlSchemaSetValidStructuredErrors. */
struct xml_schema_error {
	char first[160];
	int line;
};
void xml_schema_error_keep(void *ctx, xmlErrorPtr e);

#endif
