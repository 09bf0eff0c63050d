/* Default limits (documented in protocol/SPEC.md, section Limits). */
#include "mlagw/limits.h"

void mla_limits_default(mla_limits *l)
{
	l->max_envelope_bytes = MLA_DEFAULT_MAX_ENVELOPE_BYTES;
	l->max_document_bytes = MLA_DEFAULT_MAX_DOCUMENT_BYTES;
	l->max_ratio = MLA_DEFAULT_MAX_RATIO;
	l->max_depth = MLA_DEFAULT_MAX_DEPTH;
	l->max_nodes = MLA_DEFAULT_MAX_NODES;
	l->max_element_attrs = MLA_DEFAULT_MAX_ELEMENT_ATTRS;
	l->max_attrs = MLA_DEFAULT_MAX_ATTRS;
	l->max_document_nodes = MLA_DEFAULT_MAX_DOCUMENT_NODES;
	l->verify_time = 0;
	l->max_attachment_bytes = MLA_DEFAULT_MAX_ATTACHMENT_BYTES;
}
