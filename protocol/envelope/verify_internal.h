/* Shared by envelope verification and opening: the located parts of a parsed envelope. */
#ifndef MLAGW_VERIFY_INTERNAL_H
#define MLAGW_VERIFY_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/envelope.h"
#include "wrapping.h"

struct env_parts {
	xmlDocPtr doc;
	const struct wrap_shape *shape; /* wrap_envelope or wrap_envelope2, by the root */
	int version;                    /* 1 or 2, by the root's namespace */
	struct wrap_parts wrap;         /* as shape describes them */
	xmlNodePtr root, header, payload, signature;
	xmlNodePtr enc_data; /* xenc:EncryptedData inside the payload */
	xmlNodePtr key_name; /* ds:KeyName of the EncryptedKey */
};

/* Runs every check of mla_envelope_verify and keeps the parsed document in parts
 * (the caller frees parts->doc with xmlFreeDoc, also on failure). */
mla_err verify_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, struct env_parts *parts, mla_verified *out,
			    mla_diag *diag);

/* reseal.c: the Payload's digest as the verified signature's reference holds it. */
mla_err envelope_payload_digest(const struct env_parts *p, uint8_t out[32], mla_diag *diag);

/* Schema validation against the embedded protocol/envelope.xsd or receipt.xsd (compiled at
 * init), chosen by the root element; any other root is MLA_ERR_SCHEMA. */
mla_err schema_init(mla_diag *diag);
void schema_shutdown(void);
mla_err schema_validate(xmlDocPtr doc, mla_diag *diag);

/* The coverage check of wrapping.c for the document shape s, then the signature verified
 * with signer_key (from the validated chain, never from KeyInfo). */
mla_err dsig_verify_shape(const struct wrap_shape *s, const struct wrap_parts *p,
			  EVP_PKEY *signer_key, mla_diag *diag);

/* Decodes the ds:X509Certificate elements of signature's KeyInfo (leaf first) into *out. */
mla_err verify_extract_chain(xmlNodePtr signature, STACK_OF(X509) **out, mla_diag *diag);

#endif
