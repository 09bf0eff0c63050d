/* Limits that are configuration, not accidents (DESIGN.md): each has a documented default. */
#ifndef MLAGW_LIMITS_H
#define MLAGW_LIMITS_H

#include <stddef.h>
#include <time.h>

typedef struct mla_limits {
	size_t max_envelope_bytes; /* whole envelope as received */
	size_t max_document_bytes; /* business document after decompression */
	unsigned max_ratio;        /* decompressed / compressed, checked past 1 MiB */
	unsigned max_depth;        /* XML element nesting */
	unsigned max_nodes;        /* XML elements in one envelope */
	unsigned max_element_attrs; /* XML attributes of one element (namespaces included) */
	unsigned max_attrs;        /* XML attributes in one envelope */
	unsigned max_document_nodes; /* XML elements in one case document (SPEC 16.6) */
	time_t verify_time;        /* certificate validity is checked at this time; 0 = now */
	unsigned long long max_attachment_bytes; /* plaintext of one attachment (SPEC 17.9) */
} mla_limits;

#define MLA_DEFAULT_MAX_ENVELOPE_BYTES ((size_t)64 << 20)
#define MLA_DEFAULT_MAX_DOCUMENT_BYTES ((size_t)40 << 20)
#define MLA_DEFAULT_MAX_RATIO 100u
#define MLA_DEFAULT_MAX_DEPTH 32u
#define MLA_DEFAULT_MAX_NODES 256u
#define MLA_DEFAULT_MAX_ELEMENT_ATTRS 16u
#define MLA_DEFAULT_MAX_ATTRS 1024u
#define MLA_DEFAULT_MAX_DOCUMENT_NODES 4096u
#define MLA_DEFAULT_MAX_ATTACHMENT_BYTES (64ull << 30)

/* Fills l with the defaults above. */
void mla_limits_default(mla_limits *l);

#endif
