/* The XML of envelope version 3's attachments (SPEC 17.5, 17.6): the list in the signed
 * Header and the descriptor encrypted in the Payload, written and read strictly. */
#ifndef MLAGW_ATTACH_XML_H
#define MLAGW_ATTACH_XML_H

#include <libxml/tree.h>

#include "mlagw/attach.h"
#include "mlagw/buf.h"
#include "mlagw/limits.h"

/* Appends <mla:Attachments> with one <mla:Attachment> per entry to header (its namespace). */
mla_err attach_xml_write_list(xmlNodePtr header, const mla_attach_list *l);
/* Reads an <mla:Attachments> element (namespace urn:mlagw:envelope:3) into l's public parts
 * and checks the list (mla_attach_list_check with max_bytes). */
mla_err attach_xml_read_list(xmlNodePtr el, unsigned long long max_bytes, mla_attach_list *l,
			     mla_diag *diag);
/* Reads the list at old and writes it again under header (re-sealing). */
mla_err attach_xml_copy_list(xmlNodePtr old, xmlNodePtr header, mla_diag *diag);

/* The descriptor document of l's private parts into out (a secret buffer, initialised here). */
mla_err attach_xml_write_descriptor(const mla_attach_list *l, mla_buf *out, mla_diag *diag);
/* Parses a descriptor (hardened, under limits) into l's private parts: one entry per entry of
 * l, same indices in order; then the whole list is checked with its private parts. */
mla_err attach_xml_read_descriptor(const uint8_t *xml, size_t len, const mla_limits *limits,
				   mla_attach_list *l, mla_diag *diag);

#endif
