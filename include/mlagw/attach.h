/* Attachments of an envelope version 3 (protocol/SPEC.md section 17): each file encrypted in
 * AES-256-GCM segments under its own key (the STREAM construction: the nonce counts the
 * segment and marks the last), an RFC 6962 Merkle root over the encrypted segments that the
 * envelope's signature covers, and inclusion proofs so each segment can be checked on arrival
 * and by an auditor without any key. Constant memory: one segment at a time. */
#ifndef MLAGW_ATTACH_H
#define MLAGW_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"
#include "mlagw/merkle.h"

/* Format constants (SPEC 17.2, 17.9): fixed by the format, not configuration. */
#define MLA_ATTACH_MAX 64u                              /* attachments per envelope */
#define MLA_ATTACH_SEGMENT_MIN ((uint32_t)1 << 16)      /* 64 KiB */
#define MLA_ATTACH_SEGMENT_DEFAULT ((uint32_t)1 << 20)  /* 1 MiB */
#define MLA_ATTACH_SEGMENT_MAX ((uint32_t)1 << 24)      /* 16 MiB */
#define MLA_ATTACH_CEILING ((uint64_t)1 << 40)          /* plaintext bytes, whatever the limit */
#define MLA_ATTACH_DEFAULT_MAX_BYTES ((uint64_t)64 << 30) /* mla_limits default: 64 GiB */
#define MLA_ATTACH_TAG_LEN 16
#define MLA_ATTACH_SECRET_LEN 32
#define MLA_ATTACH_KEY_LEN 32
#define MLA_ATTACH_PREFIX_LEN 7  /* nonce = prefix (7) || counter (4, big-endian) || last (1) */
#define MLA_ATTACH_NONCE_LEN 12
#define MLA_ATTACH_NAME_MAX 255  /* bytes of a file name */
#define MLA_ATTACH_TYPE_MAX 127  /* bytes of a content type */

/* What the signed list in the clear Header says of one attachment (SPEC 17.5). */
typedef struct mla_attach_entry {
	uint32_t index;        /* 1 to n, in list order */
	uint64_t size;         /* ciphertext bytes: every encrypted segment with its tag */
	uint32_t segment_size; /* plaintext bytes of every segment but the last */
	uint64_t segments;     /* number of segments, at least 1 */
	uint8_t root[MLA_MERKLE_HASH_LEN]; /* RFC 6962 root over the encrypted segments */
} mla_attach_entry;

/* What only the recipient reads, in the encrypted attachment descriptor (SPEC 17.6). */
typedef struct mla_attach_private {
	char name[MLA_ATTACH_NAME_MAX + 1]; /* file name, UTF-8, no path */
	char type[MLA_ATTACH_TYPE_MAX + 1]; /* content type, e.g. "application/pdf" */
	uint64_t plain_size;                /* bytes of the file (before compression) */
	uint8_t plain_sha256[32];           /* SHA-256 of the file (before compression) */
	int gzip;                           /* 1: the segmented bytes are gzip of the file */
	uint8_t secret[MLA_ATTACH_SECRET_LEN]; /* the attachment secret (SPEC 17.3) */
} mla_attach_private;

typedef struct mla_attachment {
	mla_attach_entry pub;
	mla_attach_private priv;
} mla_attachment;

/* The attachments of one envelope, item[0..n-1]. has_private: the private parts are filled
 * (sealing, opening), not only the signed list (verification). Wiped when freed. */
typedef struct mla_attach_list {
	size_t n;
	int has_private;
	mla_attachment item[MLA_ATTACH_MAX];
} mla_attach_list;

mla_err mla_attach_list_new(mla_attach_list **out);
void mla_attach_list_free(mla_attach_list *l);

/* ---- geometry and consistency (SPEC 17.2, 17.5) ---- */

/* Segments and ciphertext size of a plaintext of plain bytes in segments of segment_size:
 * at least one segment (an empty attachment is one empty last segment). */
mla_err mla_attach_geometry(uint64_t plain, uint32_t segment_size, uint64_t *segments,
			    uint64_t *ct_size);
/* The plaintext bytes an entry's ciphertext holds: size - 16 * segments. */
uint64_t mla_attach_plain_size(const mla_attach_entry *e);
/* Bytes of encrypted segment k of e (segment_size + 16, the last one less); 0 if k is out of
 * range. */
uint64_t mla_attach_segment_ct_len(const mla_attach_entry *e, uint64_t k);
/* One entry: segment size a power of two within the bounds, segments consistent with size
 * and segment size, plaintext at most max_bytes (and MLA_ATTACH_CEILING). MLA_ERR_HEADER with
 * a message naming the attachment and the field, MLA_ERR_TOO_LARGE beyond max_bytes. */
mla_err mla_attach_entry_check(const mla_attach_entry *e, uint64_t max_bytes, mla_diag *diag);
/* The list: 1 to MLA_ATTACH_MAX entries, indices 1..n in order (a duplicate or a gap named),
 * each entry checked; with has_private, each private part too (name, type, and for an
 * uncompressed attachment plain_size equal to the entry's plaintext bytes). */
mla_err mla_attach_list_check(const mla_attach_list *l, uint64_t max_bytes, mla_diag *diag);
/* A file name (1-255 bytes of UTF-8 without control characters, '/' or '\\', not "." or
 * "..") and a content type (type/subtype of RFC 6838 restricted-name characters). */
int mla_attach_name_ok(const char *name);
int mla_attach_type_ok(const char *type);

/* ---- keys (SPEC 17.3) ---- */

/* A fresh random attachment secret. */
mla_err mla_attach_secret_new(uint8_t secret[MLA_ATTACH_SECRET_LEN]);
/* HKDF-SHA256 (OpenSSL EVP_KDF) of the secret with info binding the message id and the
 * attachment index: the segment key and the nonce prefix. */
mla_err mla_attach_derive(const uint8_t secret[MLA_ATTACH_SECRET_LEN], const char *message_id,
			  uint32_t index, uint8_t key[MLA_ATTACH_KEY_LEN],
			  uint8_t prefix[MLA_ATTACH_PREFIX_LEN]);

/* ---- sealing, segment by segment ---- */

typedef struct mla_attach_sealer mla_attach_sealer;

/* A sealer for attachment index of message_id with the given secret and segment size, which
 * refuses a plaintext beyond max_bytes. The secret is copied (and wiped on free). */
mla_err mla_attach_sealer_new(const uint8_t secret[MLA_ATTACH_SECRET_LEN],
			      const char *message_id, uint32_t index, uint32_t segment_size,
			      uint64_t max_bytes, mla_attach_sealer **out, mla_diag *diag);
/* Encrypts the next segment into out (room for len + 16 bytes), *out_len its length. Every
 * segment but the last holds exactly segment_size bytes; the last (last = 1) 1 to
 * segment_size, or 0 when it is the only one. The ciphertext's leaf hash goes into the
 * running Merkle root. */
mla_err mla_attach_sealer_segment(mla_attach_sealer *s, const uint8_t *pt, size_t len,
				  int last, uint8_t *out, size_t *out_len, mla_diag *diag);
/* After the last segment: the entry of the signed list, and the SHA-256 of all plaintext
 * segments (the file's digest when it was not compressed) unless plain_sha256 is NULL. */
mla_err mla_attach_sealer_finish(const mla_attach_sealer *s, mla_attach_entry *e,
				 uint8_t plain_sha256[32], mla_diag *diag);
/* Before the first segment: the sealer keeps no plaintext digest (the caller hashes the
 * plaintext itself, e.g. on another thread while this one encrypts); finish must then be
 * given NULL for it (MLA_ERR_ARG otherwise). */
void mla_attach_sealer_no_plain_digest(mla_attach_sealer *s);
void mla_attach_sealer_free(mla_attach_sealer *s);
/* The leaf hash (SPEC 17.7) of the segment the last mla_attach_sealer_segment sealed, for a
 * sender that keeps the leaves (the tree file of SPEC 17.13) without hashing them again. */
void mla_attach_sealer_last_leaf(const mla_attach_sealer *s, uint8_t leaf[MLA_MERKLE_HASH_LEN]);

/* ---- opening ---- */

typedef struct mla_attach_opener mla_attach_opener;

/* An opener for the attachment e of message_id (e as verified in the signed list, with its
 * secret from the descriptor). */
mla_err mla_attach_opener_new(const mla_attach_entry *e,
			      const uint8_t secret[MLA_ATTACH_SECRET_LEN], const char *message_id,
			      mla_attach_opener **out, mla_diag *diag);
/* Decrypts segment k alone (any order, for resumed or ranged reads): its length must be the
 * one the entry gives segment k, and the tag must verify with segment k's nonce (MLA_ERR_DECRYPT
 * otherwise: altered, moved, reordered or truncated). pt has room for segment_size bytes. */
mla_err mla_attach_opener_segment(mla_attach_opener *o, uint64_t k, const uint8_t *ct,
				  size_t len, uint8_t *pt, size_t *pt_len, mla_diag *diag);
/* Decrypts the next segment of a stream read in order, and adds its leaf to the running
 * root; a segment beyond the count is refused. */
mla_err mla_attach_opener_next(mla_attach_opener *o, const uint8_t *ct, size_t len,
			       uint8_t *pt, size_t *pt_len, mla_diag *diag);
/* After a stream read by _next: every segment was read and the root is the signed one
 * (a stream that stopped early is MLA_ERR_DECRYPT "truncated"). */
mla_err mla_attach_opener_finish(const mla_attach_opener *o, mla_diag *diag);
void mla_attach_opener_free(mla_attach_opener *o);

/* ---- Merkle root and inclusion proofs, no key needed (SPEC 17.7) ---- */

/* The leaf hash of an encrypted segment: SHA-256(0x00 || segment). */
mla_err mla_attach_leaf(const uint8_t *ct, size_t len, uint8_t leaf[MLA_MERKLE_HASH_LEN]);
/* The inclusion proof of segment k among the n leaf hashes (RFC 6962 PATH). */
mla_err mla_attach_proof(const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN], size_t n, uint64_t k,
			 mla_merkle_proof *proof);
/* Number of hashes in the proof of segment k of a tree of n segments (k < n). */
size_t mla_attach_proof_len(uint64_t k, uint64_t n);
/* Checks encrypted segment k (its length as the entry says, then its leaf) against e's root
 * with the proof: MLA_OK, or MLA_ERR_SIG_INVALID naming the segment. */
mla_err mla_attach_proof_verify(const mla_attach_entry *e, uint64_t k, const uint8_t *ct,
				size_t len, const mla_merkle_proof *proof, mla_diag *diag);
/* A proof's bytes: its hashes concatenated, bottom up (32 * len bytes). out has room for
 * 32 * MLA_MERKLE_PROOF_MAX bytes. */
size_t mla_attach_proof_encode(const mla_merkle_proof *proof,
			       uint8_t out[MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN]);
/* Reads a proof of segment k in a tree of n segments: exactly mla_attach_proof_len(k, n)
 * hashes, else MLA_ERR_HEADER. */
mla_err mla_attach_proof_decode(const uint8_t *buf, size_t len, uint64_t k, uint64_t n,
				mla_merkle_proof *proof, mla_diag *diag);

/* ---- checking a whole ciphertext without any key (an auditor, SPEC 17.7) ---- */

typedef struct mla_attach_checker mla_attach_checker;

/* A checker of the encrypted segments of attachment e, fed in order. */
mla_err mla_attach_checker_new(const mla_attach_entry *e, mla_attach_checker **out,
			       mla_diag *diag);
/* The next encrypted segment: its length as the list says, its leaf into the root. */
mla_err mla_attach_checker_next(mla_attach_checker *c, const uint8_t *ct, size_t len,
				mla_diag *diag);
/* Every segment was given and their root is the signed one (MLA_ERR_SIG_INVALID otherwise,
 * naming the attachment and, for a short stream, how many segments came). */
mla_err mla_attach_checker_finish(const mla_attach_checker *c, mla_diag *diag);
void mla_attach_checker_free(mla_attach_checker *c);

/* ---- the throughput bound of the evidence benchmark (one core) ---- */

typedef struct mla_attach_speed {
	double aes_gcm_mbps; /* AES-256-GCM encryption of 1 MiB segments, MB/s (10^6 bytes) */
	double sha256_mbps;  /* SHA-256 leaf hashes of 1 MiB segments, MB/s */
} mla_attach_speed;

/* Measures both over about `bytes` bytes each (at least one segment). */
mla_err mla_attach_measure_speed(uint64_t bytes, mla_attach_speed *out);

#endif
