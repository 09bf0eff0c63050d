/* Shared by envelope verification and opening: the located parts of a parsed envelope. */
#ifndef MLAGW_VERIFY_INTERNAL_H
#define MLAGW_VERIFY_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/envelope.h"

struct env_parts {
	xmlDocPtr doc;
	xmlNodePtr root, header, payload, signature;
	xmlNodePtr enc_data; /* xenc:EncryptedData inside the payload */
	xmlNodePtr key_name; /* ds:KeyName of the EncryptedKey */
};

/* Runs every check of mla_envelope_verify and keeps the parsed document in parts
 * (the caller frees parts->doc with xmlFreeDoc, also on failure). */
mla_err verify_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, struct env_parts *parts, mla_verified *out,
			    mla_diag *diag);

/* Schema validation against the embedded protocol/envelope.xsd or receipt.xsd (compiled at
 * init), chosen by the root element; any other root is MLA_ERR_SCHEMA. */
mla_err schema_init(mla_diag *diag);
void schema_shutdown(void);
mla_err schema_validate(xmlDocPtr doc, mla_diag *diag);

/* A part a signature must cover, and how messages name it. */
struct dsig_part {
	xmlNodePtr node;
	const char *element; /* "Header": "Header has no Id attribute" */
	const char *label;   /* "the encrypted payload": "signature does not cover ..." */
	const char *altered; /* "payload": "digest of reference ... does not match: payload altered" */
};
#define DSIG_MAX_PARTS 4

/* Registers the Id of each part (and of nothing else), checks that signature has exactly n
 * references, one to each part, then verifies it with signer_key (from the validated chain). */
mla_err dsig_verify_nodes(xmlNodePtr signature, const struct dsig_part *parts, size_t n,
			  EVP_PKEY *signer_key, mla_diag *diag);

/* dsig_verify_nodes over parts' header and payload. */
mla_err dsig_verify_parts(struct env_parts *p, EVP_PKEY *signer_key, mla_diag *diag);

/* Decodes the ds:X509Certificate elements of signature's KeyInfo (leaf first) into *out. */
mla_err verify_extract_chain(xmlNodePtr signature, STACK_OF(X509) **out, mla_diag *diag);

#endif
