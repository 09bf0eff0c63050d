/* Envelope format v1 (protocol/SPEC.md): a clear header, a compressed and encrypted payload,
 * and an XML-DSig signature over both. Seal on the sending side, verify (no private key) for
 * auditors and relays, open (verify + decrypt + inflate) on the receiving side. */
#ifndef MLAGW_ENVELOPE_H
#define MLAGW_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mlagw/attach.h"
#include "mlagw/buf.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

#define MLA_UUID_LEN 36
#define MLA_CASE_ID_MAX 64
#define MLA_AUTHORITY_MAX 128
#define MLA_TOKEN_MAX 40
/* The envelope versions this release reads and writes (SPEC 11, 16.7). */
#define MLA_ENVELOPE_VERSION_MIN 1
#define MLA_ENVELOPE_VERSION_MAX 2
/* Envelope version 3: version 2 with attachments (SPEC 17). Only the *_attached functions
 * below seal and read it: mla_envelope_seal, _verify, _open and _reseal keep to versions 1
 * and 2 and refuse it as before ("envelope version 3; this reader reads versions 1 to 2"),
 * until the gateway transfers attachments (SPEC 17.10). */
#define MLA_ENVELOPE_VERSION_ATTACH 3

typedef enum mla_priority {
	MLA_PRIORITY_NORMAL = 0,
	MLA_PRIORITY_URGENT = 1,
	MLA_PRIORITY_CRISIS = 2
} mla_priority;

/* The clear header. Strings are NUL-terminated and bounded; in_reply_to may be empty. */
typedef struct mla_header {
	char message_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char in_reply_to[MLA_UUID_LEN + 1];
	char from_state[3];
	char from_authority[MLA_AUTHORITY_MAX + 1];
	char to_state[3];
	char to_authority[MLA_AUTHORITY_MAX + 1];
	char kind[MLA_TOKEN_MAX + 1];     /* one of mla_kinds */
	char action[MLA_TOKEN_MAX + 1];   /* one of mla_actions */
	mla_priority priority;
	time_t created;                   /* UTC, whole seconds */
	char handling[MLA_TOKEN_MAX + 1]; /* one of mla_handling_codes */
	/* The envelope version the header is sealed in or was read from (1 or 2; 0 is read as 1,
	 * for headers zeroed rather than initialised): it fixes the namespace and the Kinds and
	 * Actions the header may name; 3 (SPEC 17) has version 2's vocabulary. */
	int version;
} mla_header;

/* NULL-terminated lists of the values the header accepts, of every envelope version (SPEC 3:
 * version 2 adds Kinds and Actions; mla_kind_version says which version names one). */
extern const char *const mla_kinds[];
extern const char *const mla_actions[];
extern const char *const mla_handling_codes[];
/* The lowest envelope version whose header names the Kind / Action (1 or 2); 0 when none
 * does. A header naming a version 2 value cannot be sealed in version 1 (SPEC 16.7). */
int mla_kind_version(const char *kind);
int mla_action_version(const char *action);

/* Fills a fresh header: new message id, created = now, priority normal, action "request",
 * handling "confidential", case id = a new UUID. The caller sets states, kind and the rest. */
mla_err mla_header_init(mla_header *h);
/* Checks every field's syntax and vocabulary, the latter as the header's version has it (a
 * version 2 Kind or Action in a version 1 header: "header Kind 'production-order' needs
 * envelope version 2"); the message names the field. */
mla_err mla_header_check(const mla_header *h, mla_diag *diag);
/* h->version, with 0 read as 1. */
int mla_header_version(const mla_header *h);
const char *mla_priority_name(mla_priority p);
mla_err mla_priority_parse(const char *s, mla_priority *out);

/* Process-wide initialisation of libxml2 and xmlsec; call once before any other function. */
mla_err mla_crypto_init(mla_diag *diag);
void mla_crypto_shutdown(void);

/* A sender's signing identity: private key and certificate chain (leaf first). */
typedef struct mla_signer mla_signer;
mla_err mla_signer_load(const char *cert_path, const char *key_path, mla_signer **out,
			mla_diag *diag);
void mla_signer_free(mla_signer *s);

/* A recipient gateway's encryption certificate (public key only). */
typedef struct mla_recipient mla_recipient;
mla_err mla_recipient_load(const char *cert_path, mla_recipient **out, mla_diag *diag);
/* The same from one DER certificate in memory (a verified directory's), label naming it in
 * errors. */
mla_err mla_recipient_from_der(const uint8_t *der, size_t len, const char *label,
			       mla_recipient **out, mla_diag *diag);
void mla_recipient_free(mla_recipient *r);

/* Trusted State roots. A root's State is the countryName of its subject. */
typedef struct mla_trust mla_trust;
mla_err mla_trust_new(mla_trust **out);
mla_err mla_trust_add_file(mla_trust *t, const char *root_path, mla_diag *diag);
mla_err mla_trust_add_cert(mla_trust *t, X509 *root, mla_diag *diag);
/* The one trust loader of the daemon and the CLI: a fresh trust set holding the roots of
 * the n PEM files (each mla_trust_add_file, with its errors). *out is NULL on failure. */
mla_err mla_trust_load_files(const char *const *paths, size_t n, mla_trust **out,
			     mla_diag *diag);
void mla_trust_free(mla_trust *t);
/* A revocation check (SPEC 18.7) run on every signer certificate that passed path validation
 * against this trust set: envelopes, receipts, directory entries and the directory's
 * publisher. issuer is the leaf's issuer among the State's roots (NULL when none issued it
 * directly), at the time the verification is for (0 = now), role names the certificate in
 * messages. Anything but MLA_OK refuses the signature with that error. Called on the thread
 * that verifies; arg must be safe to use from each thread that uses a trust set. */
typedef mla_err (*mla_revocation_fn)(void *arg, X509 *leaf, X509 *issuer, time_t at,
				     const char *role, mla_diag *diag);
void mla_trust_set_revocation(mla_trust *t, mla_revocation_fn fn, void *arg);
/* The root of state that issued leaf (a new reference), or NULL. */
X509 *mla_trust_find_issuer(const mla_trust *t, const char *state, X509 *leaf);
/* A gateway's audit certificate (Ed25519, signs checkpoints and cosignatures): C= is state,
 * it chains to that State's root at time at (0 = now), digitalSignature is allowed. */
mla_err mla_trust_check_audit_cert(const mla_trust *trust, const char *state, X509 *cert,
				   time_t at, mla_diag *diag);

/* This gateway's decryption keys (current and past encryption keys, so renewals never make
 * older envelopes unreadable), each bound to its certificate. */
typedef struct mla_keyring mla_keyring;
mla_err mla_keyring_new(mla_keyring **out);
mla_err mla_keyring_add_file(mla_keyring *k, const char *cert_path, const char *key_path,
			     mla_diag *diag);
void mla_keyring_free(mla_keyring *k);

/* Seals doc (any bytes, usually an XML business document) into envelope XML in *out
 * (initialised by the callee; the caller frees it with mla_buf_free). */
mla_err mla_envelope_seal(const mla_header *h, const uint8_t *doc, size_t doc_len,
			  const mla_signer *signer, const mla_recipient *recipient,
			  const mla_limits *limits, mla_buf *out, mla_diag *diag);

/* The version of an envelope this library sealed (mla_envelope_seal, mla_envelope_reseal),
 * read from the start of its bytes as sealing writes them: 1 or 2, 0 for anything else. For
 * a sender's own outbox only (which receipt version answers it, SPEC 11 rule 7); an envelope
 * from elsewhere is read by mla_envelope_verify. */
int mla_envelope_sealed_version(const uint8_t *env, size_t env_len);

/* Seals env again with created as its Created (SPEC 13 Time, Re-sealing): env is verified
 * first (with trust: an envelope of this gateway), then its Header, with only Created changed,
 * and its encrypted Payload as it is (no document or content key needed) are signed anew by
 * signer into *out (initialised here; the caller frees it). */
mla_err mla_envelope_reseal(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_signer *signer, time_t created, const mla_limits *limits,
			    mla_buf *out, mla_diag *diag);

/* What verification established about an envelope. */
typedef struct mla_verified {
	mla_header header;
	uint8_t digest[32];      /* SHA-256 of the envelope bytes as received */
	uint8_t payload_digest[32]; /* the signed SHA-256 of the Payload's canonical form: equal
				     * for two seals of one message (mla_envelope_reseal) */
	char signer_subject[256];
	char signer_fingerprint[65];
	char recipient_key[80];  /* KeyName of the encrypted key: "sha256:<fingerprint>" */
	int authenticated;       /* the signature verified: header is what From signed. A failure
				  * after that (addressee, key, decryption) leaves it set; before
				  * it, header holds whatever was read and must not be trusted. */
} mla_verified;

/* Verifies origin and integrity without any private key: limits, schema, algorithms,
 * signature, certificate chain to the root of the State in the header's from, coverage. */
mla_err mla_envelope_verify(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, mla_verified *out, mla_diag *diag);

/* Verifies, checks the envelope is addressed to own_state, decrypts and inflates.
 * The document goes to *doc (a secret buffer: wiped when freed). */
mla_err mla_envelope_open(const uint8_t *env, size_t env_len, const mla_trust *trust,
			  const mla_keyring *keys, const char *own_state,
			  const mla_limits *limits, mla_verified *out, mla_buf *doc,
			  mla_diag *diag);

/* ---- envelope version 3: attachments (SPEC 17) ---- */

/* Seals doc with the attachments of att (1 to MLA_ATTACH_MAX, public and private parts
 * filled: each sealed with mla_attach_sealer under its secret, this header's message id and
 * its index) in envelope version 3: the list in the signed Header, the descriptor (names,
 * types, digests, secrets) encrypted beside the document. h->version must be 3; the list is
 * checked (mla_attach_list_check, limits->max_attachment_bytes) before anything is built. */
mla_err mla_envelope_seal_attached(const mla_header *h, const uint8_t *doc, size_t doc_len,
				   const mla_attach_list *att, const mla_signer *signer,
				   const mla_recipient *recipient, const mla_limits *limits,
				   mla_buf *out, mla_diag *diag);

/* mla_envelope_verify for versions 1 to 3; for version 3 also the signed list, read and
 * checked into *att (public parts only; the caller frees it), NULL for versions 1 and 2. */
mla_err mla_envelope_verify_attached(const uint8_t *env, size_t env_len, const mla_trust *trust,
				     const mla_limits *limits, mla_verified *out,
				     mla_attach_list **att, mla_diag *diag);

/* The header and, for version 3, the list an envelope claims (NULL for versions 1 and 2),
 * read with every check of mla_envelope_verify_attached but the signature and the signer's
 * certificate: NOT authenticated. For a tool that only needs to know which attachment files
 * go with an envelope (mlagw audit export --with-attachments); a verifier uses
 * mla_envelope_verify_attached. */
mla_err mla_envelope_attach_list_unsigned(const uint8_t *env, size_t env_len,
					  const mla_limits *limits, mla_header *header,
					  mla_attach_list **att, mla_diag *diag);

/* mla_envelope_open for versions 1 to 3; for version 3 also the descriptor, decrypted and
 * matched with the signed list into *att (public and private parts, secrets included: the
 * caller frees it with mla_attach_list_free, which wipes it), NULL for versions 1 and 2. */
mla_err mla_envelope_open_attached(const uint8_t *env, size_t env_len, const mla_trust *trust,
				   const mla_keyring *keys, const char *own_state,
				   const mla_limits *limits, mla_verified *out, mla_buf *doc,
				   mla_attach_list **att, mla_diag *diag);

/* The two parsers of SPEC 17 on their own, for fuzzing and tools: a standalone
 * <mla:Attachments> element of namespace urn:mlagw:envelope:3 (the list as the Header holds
 * it) into *out (public parts), and a decrypted descriptor document whose entries must match
 * list's (it fills list->item[i].priv and sets has_private). Both parse hardened under limits
 * and check everything the envelope's reader checks. */
mla_err mla_envelope_attach_list_parse(const uint8_t *xml, size_t len, const mla_limits *limits,
				       mla_attach_list **out, mla_diag *diag);
mla_err mla_envelope_attach_descriptor_parse(const uint8_t *xml, size_t len,
					     const mla_limits *limits, mla_attach_list *list,
					     mla_diag *diag);

#endif
