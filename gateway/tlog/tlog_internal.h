/* The audit log's state, private to gateway/tlog (audit.c, checkpoint.c, witness_*.c,
 * tlog.c). Everything else holds it as the opaque g->tlog and uses tlog.h. */
#ifndef MLAGW_GATEWAY_TLOG_INTERNAL_H
#define MLAGW_GATEWAY_TLOG_INTERNAL_H

#include <openssl/evp.h>

#include "core/gw.h"
#include "mlagw/merkle.h"

struct gw_witness;

struct gw_tlog {
	uint64_t audit_next;        /* the next sequence number (audit.c) */
	/* the audit tree and its checkpoints (checkpoint.c) */
	struct mla_merkle_tree *tree; /* leaves 0 .. audit_next - 1 */
	mla_privkey *audit_key;     /* Ed25519, signs the checkpoints (privkey.h) */
	uint64_t cp_size;           /* size of the latest stored checkpoint */
	int cp_ready;               /* the log passed every check at start: only then sign */
	int key_held;               /* the store records the current audit key as held */
	int64_t stop_witness_ms;    /* stopping: until when the last cosignatures are awaited */
	uint64_t cp_interval_ms;    /* the timer's current period */
	struct event *cp_timer;
	struct gw_witness *witness; /* witnessing with the peers (witness_client.c) */
};

#endif
