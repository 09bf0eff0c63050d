/* The one signature-wrapping checker of envelopes and receipts, driven by a table per document
 * type: the root, its element children in order (the signed parts, then ds:Signature), and
 * elements that must not appear at all (protocol/SPEC.md §6 steps 3 and 8, §12). */
#ifndef MLAGW_WRAPPING_H
#define MLAGW_WRAPPING_H

#include <libxml/tree.h>

#include "mlagw/error.h"
#include "xml_safe.h"

#define WRAP_MAX_CHILDREN 4

/* One element child of the root, in document order: a signed part the signature must cover
 * exactly once by "#<Id>", or the ds:Signature itself. */
struct wrap_child {
	enum xml_counted elem;
	const char *label;   /* a signed part: "signature does not cover the header" */
	const char *altered; /* a signed part: "digest of reference ... : header altered" */
};

/* What one document type looks like. */
struct wrap_shape {
	const char *doc;		/* "envelope": "envelope holds 2 Header elements" */
	const char *root_ns, *root_name; /* the root element */
	const char *root_qname;		/* "mla:Envelope", for the message */
	struct wrap_child children[WRAP_MAX_CHILDREN]; /* exactly these, in this order */
	size_t n;
	size_t signature; /* index of the ds:Signature among the children */
	unsigned forbidden; /* bit (1u << enum xml_counted) per element that must not appear */
	const char *forbidden_what; /* "envelope Header or Payload" */
};

extern const struct wrap_shape wrap_envelope; /* Header, Payload, Signature */
extern const struct wrap_shape wrap_envelope2; /* the same, envelope version 2 */
extern const struct wrap_shape wrap_envelope3; /* the same, envelope version 3 */
extern const struct wrap_shape wrap_receipt;  /* Body, Signature; no Header or Payload */
extern const struct wrap_shape wrap_receipt2; /* the same, receipt version 2 */
extern const struct wrap_shape wrap_receipt3; /* the same, receipt version 3 */

/* The root and its children, located by wrap_locate (child[i] is shape->children[i]). */
struct wrap_parts {
	xmlNodePtr root;
	xmlNodePtr child[WRAP_MAX_CHILDREN];
};

/* SPEC 11 rule 2: a root named root_name in the namespace stem<n> ("urn:mlagw:envelope:")
 * whose n is a version (1-9 digits, no leading zero) above max is refused as
 * MLA_ERR_UNSUPPORTED_VERSION before any other check: "<format> version <n>; this reader
 * reads versions 1 to <max>". Anything else passes (the structure and schema judge it). */
mla_err wrap_root_version(xmlDocPtr doc, const char *stem, const char *root_name,
			  const char *format, unsigned long max, mla_diag *diag);

/* Structure, before any cryptography: the root (MLA_ERR_SCHEMA), each counted element of the
 * shape exactly once anywhere in the document, no forbidden one, and exactly the shape's
 * children in order (MLA_ERR_SIG_WRAPPING). counts come from xml_safe_parse. */
mla_err wrap_locate(xmlDocPtr doc, const xml_safe_counts *counts, const struct wrap_shape *s,
		    struct wrap_parts *out, mla_diag *diag);

/* Coverage, from the SignedInfo before the signature is checked: registers the Id of each
 * signed part (and of nothing else, so a reference can resolve to nothing else) and checks
 * that the signature has exactly one "#<Id>" reference to each and no other
 * (MLA_ERR_SIG_NOT_COVERED; MLA_ERR_SCHEMA or MLA_ERR_SIG_WRAPPING for a missing or
 * duplicate Id). */
mla_err wrap_check_coverage(const struct wrap_shape *s, const struct wrap_parts *p,
			    mla_diag *diag);

/* The node of the ds:Signature, and whether uri ("#<Id>") names signed part i. */
xmlNodePtr wrap_signature(const struct wrap_shape *s, const struct wrap_parts *p);
int wrap_uri_is(const xmlChar *uri, xmlNodePtr target);

#endif
