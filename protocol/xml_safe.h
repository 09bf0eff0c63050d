/* Hardened XML parsing for untrusted input: no network, no DTD, no entities, and limits on
 * size, depth and element count enforced while parsing, so hostile input never grows a tree. */
#ifndef MLAGW_XML_SAFE_H
#define MLAGW_XML_SAFE_H

#include <libxml/tree.h>

#include "mlagw/error.h"
#include "mlagw/limits.h"

/* Counts of envelope elements seen anywhere in the document (signature wrapping check). */
typedef struct xml_safe_counts {
	unsigned headers;
	unsigned payloads;
	unsigned signatures;
} xml_safe_counts;

/* Parses buf into *out (caller frees with xmlFreeDoc). counts may be NULL. */
mla_err xml_safe_parse(const void *buf, size_t len, const mla_limits *limits, xmlDocPtr *out,
		       xml_safe_counts *counts, mla_diag *diag);

/* Installs process-wide libxml2 settings: quiet errors, no entity substitution, and an
 * external entity loader that refuses everything. */
void xml_safe_global_init(void);

#endif
