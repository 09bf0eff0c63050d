/* Mapping between mla_header and the <mla:Header> element of envelope format v1. */
#ifndef MLAGW_HEADER_XML_H
#define MLAGW_HEADER_XML_H

#include <libxml/tree.h>

#include "mlagw/envelope.h"

/* Appends the header's child elements to node (an mla:Header in namespace ns). */
mla_err header_write(xmlNodePtr node, xmlNsPtr ns, const mla_header *h);
/* Reads a schema-valid mla:Header element of an envelope of version (1 or 2) into h and
 * checks it against that version's vocabulary. */
mla_err header_read(xmlNodePtr node, int version, mla_header *h, mla_diag *diag);
/* Appends <name>text</name> in ns to parent (text escaped by libxml2); *out gets it unless
 * out is NULL. Shared by headers and receipts. */
mla_err header_add_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
			xmlNodePtr *out);
/* Copies el's text (all of it; comments dropped as in canonical form) into dst of size n;
 * too long is MLA_ERR_HEADER naming `what` ("header", "receipt") and the element. */
mla_err header_copy_text(xmlNodePtr el, const char *what, char *dst, size_t n, mla_diag *diag);

#endif
