/* Signed notes (C2SP signed-note) with Ed25519 signatures, their verifier keys ("vkey"
 * strings), and transparency log checkpoints (C2SP tlog-checkpoint) carried in them: the
 * signed tree heads of the audit log (protocol/SPEC.md, section 14). */
#ifndef MLAGW_CHECKPOINT_H
#define MLAGW_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "mlagw/error.h"
#include "mlagw/merkle.h"
#include "mlagw/privkey.h"

#define MLA_NOTE_MAX 16384	 /* bytes of a whole signed note */
#define MLA_NOTE_SIGS_MAX 32	 /* signature lines in a note (the spec asks for >= 16) */
#define MLA_NOTE_NAME_MAX 255	 /* bytes of a key name */
#define MLA_NOTE_VERIFIERS_MAX 64 /* known keys per verification: one bit each */
#define MLA_ED25519_KEY_LEN 32
#define MLA_ED25519_SIG_LEN 64
/* name, '+', 8 hex digits, '+', base64 of 33 bytes, NUL */
#define MLA_NOTE_VKEY_MAX (MLA_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
#define MLA_CHECKPOINT_ORIGIN_MAX 255

/* Signature types (the byte hashed into the key ID): a plain Ed25519 note signature, and a
 * timestamped Ed25519 cosignature/v1 (C2SP tlog-cosignature) over "cosignature/v1\ntime
 * <t>\n" and the note text. */
#define MLA_NOTE_SIG_ED25519 0x01
#define MLA_NOTE_SIG_COSIG_V1 0x04
#define MLA_COSIG_LINE_MAX (4 + MLA_NOTE_NAME_MAX + 1 + 104 + 2) /* "— name b64\n" + NUL */

/* A known signer: key name, key ID, signature type and Ed25519 public key. */
typedef struct mla_note_verifier {
	char name[MLA_NOTE_NAME_MAX + 1];
	uint8_t type; /* MLA_NOTE_SIG_ED25519 or MLA_NOTE_SIG_COSIG_V1 */
	uint32_t id;  /* SHA-256(name || 0x0A || type || key)[:4], big-endian */
	uint8_t key[MLA_ED25519_KEY_LEN];
} mla_note_verifier;

/* The verifier for key (an Ed25519 public or private key) under name. Names are non-empty,
 * at most MLA_NOTE_NAME_MAX bytes of UTF-8 without spaces, '+' or control characters;
 * MLA_ERR_ARG otherwise or for another key type. */
mla_err mla_note_verifier_from_key(const char *name, const EVP_PKEY *key, mla_note_verifier *v,
				   mla_diag *diag);
/* The cosigner (C2SP tlog-cosignature, type 0x04) for key under name. */
mla_err mla_cosig_verifier_from_key(const char *name, const EVP_PKEY *key,
				    mla_note_verifier *v, mla_diag *diag);
/* Parses a vkey string "<name>+<8 hex key ID>+<base64(0x01 || 32-byte key)>" and checks that
 * the ID is the one of the name and key. MLA_ERR_SCHEMA when malformed or the ID differs,
 * MLA_ERR_ALG_UNKNOWN for a signature type other than Ed25519 (0x01) or cosignature (0x04). */
mla_err mla_note_vkey_parse(const char *vkey, mla_note_verifier *v, mla_diag *diag);
/* Writes v as a vkey string (lower-case hex) into out (at least MLA_NOTE_VKEY_MAX bytes
 * suffice). */
mla_err mla_note_vkey_format(const mla_note_verifier *v, char *out, size_t outlen);

/* Signs the note text (non-empty UTF-8 ending in a newline, no control characters other than
 * newline) with the Ed25519 key (through mla_privkey_sign) under key_name: *notep gets text,
 * a blank line and one signature line, NUL-terminated (free() it). */
mla_err mla_note_sign(const char *text, size_t len, const char *key_name, const mla_privkey *key,
		      char **notep, size_t *lenp, mla_diag *diag);
/* One cosignature/v1 line ("— <name> <base64(key ID || time || signature)>\n", NUL-ended
 * in line, at most line_max bytes) by the Ed25519 key over the note text (the checkpoint
 * without its signature lines) at POSIX time ts. */
mla_err mla_cosignature_sign(const char *text, size_t len, const char *name,
			     const mla_privkey *key,
			     uint64_t ts, char *line, size_t line_max, mla_diag *diag);
/* Parses the signed note strictly and verifies it against the nkeys known keys: the text is
 * note[0 .. *text_lenp), and bit i of *signersp is set when keys[i] signed it. Signatures of
 * unknown keys (name or ID differs) are ignored, as the spec requires.
 * MLA_ERR_TOO_LARGE: note or signature count over the limits; MLA_ERR_SCHEMA: malformed
 * (not UTF-8, control characters, no blank line, bad signature line or base64, duplicate);
 * MLA_ERR_SIG_INVALID: a known key's signature does not verify (the whole note is refused);
 * MLA_ERR_CERT_UNTRUSTED: no known key signed. */
mla_err mla_note_open(const char *note, size_t len, const mla_note_verifier *keys, size_t nkeys,
		      size_t *text_lenp, uint64_t *signersp, mla_diag *diag);

/* A checkpoint: the signed head of a log. */
typedef struct mla_checkpoint {
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1]; /* the log's identity, e.g. "mlagw.es/audit" */
	uint64_t size;				    /* leaves in the tree */
	uint8_t root[MLA_MERKLE_HASH_LEN];	    /* RFC 6962 root at that size */
	size_t extensions; /* extension lines found when opening (we emit none) */
} mla_checkpoint;

/* The signed note "<origin>\n<size>\n<base64 root>\n\n— <key_name> <base64 signature>\n".
 * The origin must be a valid note line (MLA_ERR_ARG otherwise). */
mla_err mla_checkpoint_sign(const mla_checkpoint *cp, const char *key_name,
			    const mla_privkey *key,
			    char **notep, size_t *lenp, mla_diag *diag);
/* Verifies the note as mla_note_open does, then parses its text as a checkpoint (signersp
 * may be NULL):
 * MLA_ERR_SCHEMA when it is not one (fewer than three lines, empty origin, size not a
 * canonical decimal, root not the base64 of 32 bytes, empty extension line). */
mla_err mla_checkpoint_open(const char *note, size_t len, const mla_note_verifier *keys,
			    size_t nkeys, mla_checkpoint *cp, uint64_t *signersp, mla_diag *diag);

#endif
