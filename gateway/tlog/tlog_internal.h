/* The audit log's state, private to gateway/tlog (audit.c, checkpoint.c, witness_*.c,
 * tlog.c). Everything else holds it as the opaque g->tlog and uses tlog.h. */
#ifndef MLAGW_GATEWAY_TLOG_INTERNAL_H
#define MLAGW_GATEWAY_TLOG_INTERNAL_H

#include <openssl/evp.h>

#include "core/clock_record.h"
#include "core/gw.h"
#include "mlagw/merkle.h"

struct gw_witness;
struct gw_heads;

struct gw_tlog {
	uint64_t audit_next;        /* the next sequence number (audit.c) */
	uint32_t epoch;             /* the log's epoch (meta audit_epoch): names its origin */
	int64_t last_time_ms;       /* the latest entry's time: the next is never before it */
	struct gw_clock_watch clock; /* steps of the wall clock, recorded (audit.c) */
	struct gw_clock_record clock_record; /* their clock-stepped entries (core/clock_record.h) */
	/* the audit tree and its checkpoints (checkpoint.c) */
	mla_merkle_compact edge;    /* the tree's right edge: leaves 0 .. audit_next - 1 (tree.c) */
	int tree_ready;             /* edge is loaded (at start, after the checks) */
	mla_privkey *audit_key;     /* Ed25519, signs the checkpoints (privkey.h) */
	uint64_t cp_size;           /* size of the latest stored checkpoint */
	int cp_ready;               /* the log passed every check at start: only then sign */
	int key_held;               /* the store records the current audit key as held */
	/* an audit key change (audit_key.c): the next key, waiting for the checkpoint that
	 * covers its announcement (entry pending_seq), signed by the current one */
	mla_privkey *pending_key;
	uint64_t pending_seq;
	int announce_at_start;      /* the announcement is written once the log is open */
	int64_t stop_witness_ms;    /* stopping: until when the last cosignatures are awaited */
	uint64_t cp_interval_ms;    /* the timer's current period */
	struct event *cp_timer;
	struct gw_witness *witness; /* witnessing with the peers (witness_client.c) */
	struct gw_heads *heads;     /* what the peers cosigned of our log, at start (heads.c) */
	int heads_done;             /* the start stopped waiting for them: signing may begin */
	int forked;                 /* a peer holds a history the store lacks: never sign again */
};

/* audit.c, at start once the log is checked: the latest entry's time (the floor of the next)
 * and a first reading of the clocks; a wall clock behind that entry is recorded as a step
 * (alert, log line and a clock-stepped entry "behind latest entry <ms> ms"). */
mla_err gw_audit_clock_start(struct gw *g, mla_diag *diag);
/* audit.c, on the loop thread: writes the clock-stepped entry for steps
 * detected but not recorded yet (held back by the one-a-minute cap) once the cap allows, or
 * at once with force (a clean stop, before the last checkpoint). */
void gw_audit_clock_flush(struct gw *g, int force);

#endif
