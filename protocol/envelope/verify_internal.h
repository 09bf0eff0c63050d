/* Shared by envelope verification and opening: the located parts of a parsed envelope. */
#ifndef MLAGW_VERIFY_INTERNAL_H
#define MLAGW_VERIFY_INTERNAL_H

#include <libxml/tree.h>

#include "mlagw/envelope.h"
#include "mlagw/privkey.h"
#include "wrapping.h"

struct env_parts {
	xmlDocPtr doc;
	const struct wrap_shape *shape; /* wrap_envelope, 2 or 3, by the root */
	int version;                    /* 1, 2 or 3, by the root's namespace */
	struct wrap_parts wrap;         /* as shape describes them */
	xmlNodePtr root, header, payload, signature;
	xmlNodePtr enc_data; /* xenc:EncryptedData inside the payload */
	xmlNodePtr key_name; /* ds:KeyName of the EncryptedKey */
	xmlNodePtr enc_desc; /* version 3: the descriptor's xenc:EncryptedData (SPEC 17.6) */
	xmlNodePtr attachments; /* version 3: the Header's mla:Attachments (SPEC 17.5) */
};

/* Runs every check of mla_envelope_verify, reading versions 1 to max_version (2, or 3 for
 * the *_attached functions), and keeps the parsed document in parts (the caller frees
 * parts->doc with xmlFreeDoc, also on failure). */
mla_err verify_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, int max_version, struct env_parts *parts,
			    mla_verified *out, mla_diag *diag);

/* The same checks before any cryptography (parse, schema, header), without the signature:
 * for a reader that only needs what the envelope claims (audit export, SPEC 15). */
mla_err read_envelope_doc_unsigned(const uint8_t *env, size_t env_len, const mla_limits *limits,
				   int max_version, struct env_parts *parts, mla_verified *out,
				   mla_diag *diag);

/* open.c: decrypts enc_data (an EncryptedData of p's Payload) with key and inflates it into
 * *plain (a secret buffer, initialised by the caller with its bound); what names it in
 * messages ("payload", "attachment descriptor"). */
mla_err open_decrypt_inflate(xmlNodePtr enc_data, const mla_privkey *key,
			     const mla_limits *limits, const char *what, mla_buf *plain,
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

/* open.c: the steps of mla_envelope_open, versions 1 to max_version; the document's key in
 * *keyp (for the descriptor, SPEC 17.6). The caller frees p->doc, and doc on failure. */
mla_err open_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, int max_version, struct env_parts *p,
			  const mla_privkey **keyp, mla_verified *out, mla_buf *doc,
			  mla_diag *diag);

#endif
