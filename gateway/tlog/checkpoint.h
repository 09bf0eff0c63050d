/* The daemon's view of the audit log as an RFC 6962 tree, and its signed checkpoints (SPEC
 * §14): the tree's right edge is loaded from the store's persisted hashes at start, after
 * every entry and hash was checked against the leaves, and follows every appended entry (and
 * every rolled-back group); a timer signs a C2SP checkpoint with the audit key whenever the
 * tree grew, at most every [audit] checkpoint_interval, and one more at a clean stop. */
#ifndef MLAGW_GATEWAY_CHECKPOINT_H
#define MLAGW_GATEWAY_CHECKPOINT_H

#include "core/gw.h"
#include "mlagw/checkpoint.h"
#include "mlagw/merkle.h"
#include "mlagw/privkey.h"

/* The origin of our log in its current epoch (SPEC 14, "Log epochs"): "mlagw.<cc>/audit" in
 * epoch 1, "mlagw.<cc>/audit/<n>" from epoch 2. Also the name of our audit key's notes. */
void gw_log_origin(const struct gw *g, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1]);
/* Loads the audit key of c and checks that it is Ed25519 and the key of the audit
 * certificate (MLA_ERR_KEY_FILE otherwise). The caller owns *keyp. */
mla_err gw_checkpoint_key_load(const struct gw_config *c, mla_privkey **keyp, mla_diag *diag);
/* At start (tlog_start), after the store is open and the next sequence number read: the
 * audit key, the tree from the audit table, the latest checkpoint's size, and the timer. */
mla_err gw_checkpoint_start(struct gw *g, mla_diag *diag);
/* After a reload that applied: signs what the old key still covers, then takes key (owned
 * from now on) and the new interval. */
void gw_checkpoint_reload(struct gw *g, mla_privkey *key);
/* The tree (tree.c): its right edge in memory, older hashes from the store (store_tree.c).
 * load: the edge of size from the store (O(log n) reads); sync: the edge at as many leaves as
 * the next sequence number (read back after a rollback); append: the leaf of the entry just
 * stored (audit.c). */
mla_err gw_tree_load(struct gw *g, uint64_t size);
mla_err gw_tree_sync(struct gw *g);
void gw_tree_append(struct gw *g, const uint8_t leaf[32]);
/* Its size (0 before the start's checks), the root at size, a leaf and proofs for sizes up
 * to the current one (MLA_ERR_ARG beyond), read through merkle_nodes.h. */
uint64_t gw_tree_size(const struct gw *g);
mla_err gw_tree_root(const struct gw *g, uint64_t size, uint8_t out[MLA_MERKLE_HASH_LEN]);
mla_err gw_tree_leaf(const struct gw *g, uint64_t seq, uint8_t out[MLA_MERKLE_HASH_LEN]);
mla_err gw_tree_inclusion_proof(const struct gw *g, uint64_t seq, uint64_t size,
				mla_merkle_proof *proof);
mla_err gw_tree_consistency_proof(const struct gw *g, uint64_t from, uint64_t to,
				  mla_merkle_proof *proof);
/* Signs and stores a checkpoint now if the tree grew since the last one. */
mla_err gw_checkpoint_now(struct gw *g, mla_diag *diag);
/* Verifiers of our own checkpoints of origin, under each audit key this gateway holds (up to
 * max); returns how many were written. */
size_t gw_checkpoint_verifiers(const struct gw *g, const char *origin, mla_note_verifier *out,
			       size_t max);
void gw_checkpoint_free(struct gw *g);

#endif
