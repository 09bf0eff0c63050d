/* Internal steps of the directory (SPEC 18) shared by building, signing and verification:
 * the hardened parse with the directory's bounds, the schema, the reading of a State into an
 * entry and its rules, and the writing of an entry. */
#ifndef MLAGW_DIR_INTERNAL_H
#define MLAGW_DIR_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/directory.h"

#define DS_NS_URI "http://www.w3.org/2000/09/xmldsig#"

/* dir_parse.c: size (max bytes), hardened parse with the directory's node, depth and attribute
 * bounds, the version of the root (SPEC 11 rule 2), the algorithm allowlist and the schema.
 * *doc is the caller's (xmlFreeDoc), NULL on failure. */
mla_err dir_parse(const uint8_t *xml, size_t len, size_t max, xmlDocPtr *doc, mla_diag *diag);
/* Schema validation against the embedded directory.xsd (compiled once). */
mla_err dir_schema_validate(xmlDocPtr doc, mla_diag *diag);
/* The first element child of n named local in the directory namespace (or ds when ds). */
xmlNodePtr dir_child(xmlNodePtr n, const char *local);
xmlNodePtr dir_ds_child(xmlNodePtr n, const char *local);
/* Element n is local in the directory namespace. */
int dir_is(xmlNodePtr n, const char *local);
/* The text content of n into out (MLA_ERR_SCHEMA naming what when it does not fit). */
mla_err dir_text(xmlNodePtr n, char *out, size_t size, const char *what, mla_diag *diag);
/* Sets the Id attribute of n as an ID of its document, so "#Id" resolves to n alone. */
mla_err dir_register_id(xmlNodePtr n, mla_diag *diag);

/* dir_read.c: a schema-valid State element into e (cleared by the caller), with the rules
 * across fields of SPEC 18 (MLA_ERR_SCHEMA or MLA_ERR_HEADER naming the field). */
mla_err dir_read_state(xmlNodePtr state, mla_dir_entry *e, mla_diag *diag);
/* The rules across fields of an entry, for writing and reading alike. */
mla_err dir_entry_check(const mla_dir_entry *e, mla_diag *diag);

/* dir_write.c: the State element of e under parent (namespace ns). */
mla_err dir_write_state(xmlNodePtr parent, xmlNsPtr ns, const mla_dir_entry *e);
/* mla_dir_sign; check_signer 0 skips the check that an entry is signed with a certificate
 * it lists (for tests that play a publisher or State signing what verification refuses). */
mla_err dir_sign(const uint8_t *xml, size_t len, const mla_signer *signer, int check_signer,
		 mla_buf *out, mla_diag *diag);
/* Serialises doc into *out (initialised here), bounded by max. */
mla_err dir_serialize(xmlDocPtr doc, size_t max, mla_buf *out, mla_diag *diag);

/* dir_dsig.c: the one ds:Signature of parent covers exactly "#" + id (the Id of target) and
 * verifies with the key of leaf. what names it in messages ("entry of CO", "directory"). */
mla_err dir_dsig_verify(xmlNodePtr signature, xmlNodePtr target, X509 *leaf, const char *what,
			mla_diag *diag);

#endif
