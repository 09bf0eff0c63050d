/* The audit log as the daemon and the local API see it: an opaque handle (g->tlog) that is
 * opened and checked at start, signs checkpoints on its timer, witnesses with the peers,
 * signs a last checkpoint at a clean stop, and answers the API's queries. Appending entries:
 * audit.h; checkpoints and the audit key: checkpoint.h; witnessing: witness.h. */
#ifndef MLAGW_GATEWAY_TLOG_H
#define MLAGW_GATEWAY_TLOG_H

#include "core/gw.h"
#include "mlagw/merkle.h"

/* At start, once the store is open: the next sequence number, the tree rebuilt and checked
 * against the latest checkpoint (refusing a torn or altered log), the checkpoint timer; a
 * rolled-back group commit makes it read the store again. */
mla_err tlog_start(struct gw *g, mla_diag *diag);
/* Heads at start (SPEC §14): once the listeners and the peer client run, each peer is asked
 * for the latest head of our log it cosigned; tlog_heads_waiting says the start should keep
 * running the loop (at most [audit] peer_head_wait), tlog_heads_forked that a peer holds a
 * history our store does not have (g->hold says which; the start must fail). */
mla_err tlog_heads_start(struct gw *g, mla_diag *diag);
int tlog_heads_waiting(const struct gw *g);
int tlog_heads_forked(const struct gw *g);
/* Whether the log passed every check at start (only then is a clean stop marked). */
int tlog_ready(const struct gw *g);
/* At a clean stop, once the work in flight is done: the last checkpoint is signed and sent to
 * the peers to witness, and their answers are awaited a little (a stopped gateway's bundle
 * then ends in a cosigned checkpoint). Returns 1 while still waiting for them. */
int tlog_stop_witnessing(struct gw *g);
/* Drops the exchanges with witnesses in flight (before the peer client goes), signs a last
 * checkpoint if the log grew, and frees. */
void tlog_free(struct gw *g);

/* For the API: the latest signed checkpoint's size (0: none yet), and the tree's size (0
 * when there is no tree). */
uint64_t tlog_signed_size(const struct gw *g);
uint64_t tlog_tree_size(const struct gw *g);
/* Each configured peer's witnessing of our log, as far as this run knows: the size it last
 * cosigned (0: none known yet; learnt from its first answer), and whether it refused our
 * history (an alert names why). Returns how many were written (at most max). */
struct tlog_witness_status {
	char state[3];
	uint64_t cosigned;
	int refused;
};
size_t tlog_witness_status(const struct gw *g, struct tlog_witness_status *out, size_t max);
/* The leaf hash of entry seq and proofs from the tree (sizes up to tlog_tree_size). */
mla_err tlog_leaf(const struct gw *g, uint64_t seq, uint8_t leaf[MLA_MERKLE_HASH_LEN]);
mla_err tlog_inclusion_proof(const struct gw *g, uint64_t seq, uint64_t size,
			     mla_merkle_proof *proof);
mla_err tlog_consistency_proof(const struct gw *g, uint64_t from, uint64_t to,
			       mla_merkle_proof *proof);

#endif
