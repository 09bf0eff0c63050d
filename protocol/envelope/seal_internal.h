/* Internal steps of sealing, shared by envelopes, receipts and the tests that build hostile
 * envelopes signed by a legitimate key (the signer is the attacker there). */
#ifndef MLAGW_SEAL_INTERNAL_H
#define MLAGW_SEAL_INTERNAL_H

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <xmlsec/xmldsig.h>

#include "mlagw/envelope.h"

/* An envelope being built: its document, root, Header (filled) and empty Payload. */
struct seal_skeleton {
	xmlDocPtr doc;
	xmlNodePtr root, header, payload;
	char header_id[48], payload_id[48];
};

/* The envelope's root, its Header from h and an empty Payload, both with their Ids; s is
 * zeroed by the caller, which frees s->doc (also on failure). */
mla_err seal_build_skeleton(const mla_header *h, struct seal_skeleton *s);

/* gzip'd bytes encrypted into a new xenc:EncryptedData appended to payload: a fresh
 * AES-256-GCM content key, wrapped with RSA-OAEP for rcpt (SPEC 4). */
mla_err seal_encrypt_payload(xmlNodePtr payload, const mla_buf *gz,
			     const mla_recipient *rcpt, mla_diag *diag);

/* Sets node's Id attribute and registers it as an ID, so "#id" references resolve. */
mla_err seal_set_id(xmlNodePtr node, const char *id);

/* Appends a ds:Signature to root with one reference (exc-c14n, SHA-256) to each of the n
 * elements whose registered IDs are ids[0..n-1], in that order (all must already be
 * registered with xmlAddID, e.g. by seal_set_id). */
mla_err seal_sign_refs(xmlNodePtr root, const char *const *ids, size_t n,
		       const mla_signer *signer, mla_diag *diag);

/* After xmlSecDSigCtxSign with a stand-in key (XMLSEC_DSIG_FLAGS_STORE_SIGNATURE set): the
 * bytes it signed signed by signer's key, which the keyholder holds, into SignatureValue
 * (seal_elsewhere.c). */
mla_err seal_sign_elsewhere(xmlSecDSigCtxPtr ctx, xmlNodePtr sig, const mla_signer *signer,
			    mla_diag *diag);
/* A throwaway key of the kind of the signer's (EC P-256 or RSA-2048) for xmlsec to sign with
 * before seal_sign_elsewhere replaces its signature; NULL on failure. */
EVP_PKEY *seal_stand_in_key(int is_ec);

/* seal_sign_refs over an envelope's Header and Payload. */
mla_err seal_sign_doc(xmlNodePtr root, const char *header_id, const char *payload_id,
		      const mla_signer *signer, mla_diag *diag);

/* Serialises doc into *out (initialised here), bounded by max_envelope_bytes; what names the
 * document ("envelope", "receipt") in messages. No re-indentation: SignedInfo is signed. */
mla_err seal_serialize(xmlDocPtr doc, const char *what, const mla_limits *limits, mla_buf *out,
		       mla_diag *diag);

#endif
