/* Where a gateway keeps the encrypted attachment files of its messages, outside SQLite
 * (SPEC 17.13): one folder per message under the store's folder, one file per attachment,
 * written and fsynced in place, renamed when complete. Both the sending side (sealed at
 * submission) and the receiving side (assembled from segments) use this layout, and the
 * sender's Merkle tree file, from which the inclusion proof of any segment is read in
 * O(log N) without holding the leaves in memory. */
#ifndef GW_ATTACH_FILES_H
#define GW_ATTACH_FILES_H
#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"
#include "mlagw/merkle.h"

#define ATTACH_PATH_MAX 4096

/* What a file of an attachment holds. */
enum attach_file {
	ATTACH_CT,      /* "<n>.ct": the ciphertext, complete (every segment in order) */
	ATTACH_CT_PART, /* "<n>.ct.part": the ciphertext being received or written */
	ATTACH_TREE,    /* "<n>.tree": the Merkle tree levels of the sender (attach_tree_*) */
};

/* "<folder of store_db>/attachments/<message_id>". message_id must be a lower-case UUID
 * (36 characters, as every MessageId): anything else is MLA_ERR_ARG, so no peer-given text
 * ever becomes a path component. MLA_ERR_TOO_LARGE when out (cap bytes) is too short. */
mla_err attach_dir_path(const char *store_db, const char *message_id, char *out, size_t cap,
			mla_diag *diag);
/* The path of attachment index (1 to 64) of message_id, of the given kind. */
mla_err attach_file_path(const char *store_db, const char *message_id, unsigned index,
			 enum attach_file kind, char *out, size_t cap, mla_diag *diag);
/* Creates the message's folder (and "attachments/") with mode 0700 if missing, and fsyncs
 * the parents so the folder survives a crash. */
mla_err attach_dir_make(const char *store_db, const char *message_id, mla_diag *diag);
/* Renames "<n>.ct.part" to "<n>.ct" after fsyncing it, then fsyncs the folder. */
mla_err attach_file_complete(const char *store_db, const char *message_id, unsigned index,
			     mla_diag *diag);
/* Removes the message's folder and everything in it (a message given up, or purged).
 * A missing folder is MLA_OK. */
mla_err attach_dir_remove(const char *store_db, const char *message_id, mla_diag *diag);

/* ---- the same layout under another root (a backup's FILE.attachments/) ---- */
/* 1 when s is a MessageId (lower-case UUID): the only folder names of the layout. */
int attach_is_message_id(const char *s);
/* The kind (enum attach_file) of a file name of a message's folder, "<n>.ct", "<n>.ct.part"
 * or "<n>.tree" with n from 1 to 64 without a leading zero; -1 for any other name. */
int attach_file_kind(const char *name);
/* "<folder of store_db>/attachments". */
mla_err attach_root_path(const char *store_db, char *out, size_t cap, mla_diag *diag);
/* "<root>/<message_id>/<index>.<kind's suffix>", message_id checked as attach_dir_path does. */
mla_err attach_root_file(const char *root, const char *message_id, unsigned index,
			 enum attach_file kind, char *out, size_t cap, mla_diag *diag);

/* ---- the sender's Merkle tree file ----
 * Levels of the RFC 6962 tree of n leaves (SPEC 17.7), bottom up: level 0 is the n leaf
 * hashes; level i+1 has ceil(len_i / 2) nodes, node j being the node hash of nodes 2j and
 * 2j+1 of level i, or node 2j itself when it has no right sibling (this is RFC 6962's tree:
 * its split at the largest power of two below n gives the same nodes). 32 bytes a node,
 * the levels concatenated, the top level one node: the root. About 64·n bytes. */

/* Builds the tree file at tree_path from the n leaf hashes already written as level 0 at
 * its start (32·n bytes, for example by the sealer as it encrypts): reads each level
 * sequentially and appends the next, in constant memory; fsyncs. Returns the root. */
mla_err attach_tree_build(const char *tree_path, uint64_t n,
			  uint8_t root[MLA_MERKLE_HASH_LEN], mla_diag *diag);
/* The inclusion proof of leaf k (< n) read from an open tree file: one pread per level. */
mla_err attach_tree_proof(int fd, uint64_t n, uint64_t k, mla_merkle_proof *proof,
			  mla_diag *diag);
/* Size in bytes of the tree file of n leaves. */
uint64_t attach_tree_bytes(uint64_t n);

#endif
