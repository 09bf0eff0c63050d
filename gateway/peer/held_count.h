/* The segments a transfer being received holds, kept up in memory as segments are added
 * (SPEC 17.13). Counting them in the store scans every row of the message, and the loop did
 * it for every new segment: quadratic over a transfer, some 95 s of loop time for 64 GiB in
 * 1 MiB segments, while every peer and the local API wait. The store is counted once per
 * transfer (and again after a batch was rolled back, whose writes the count may hold). */
#ifndef MLAGW_GATEWAY_HELD_COUNT_H
#define MLAGW_GATEWAY_HELD_COUNT_H
#include <stdint.h>

#include "core/gw.h"
#include "mlagw/envelope.h"

#define HELD_COUNTS 32 /* transfers remembered; more in flight are counted from the store */

struct held_count {
	char message_id[MLA_UUID_LEN + 1]; /* "" when unused */
	int64_t received_ms;               /* which transfer of that id */
	uint64_t held;
	uint64_t rollbacks; /* gw_batch_rollbacks when last set */
	uint64_t used;      /* for the least recently used to go */
};

struct held_counts {
	struct held_count c[HELD_COUNTS];
	uint64_t tick;
};

/* A segment new to the store (its row just written, in the open batch or committed) was added
 * to the transfer message_id received at received_ms: *held is its segments held now. */
mla_err held_after_add(struct gw *g, struct held_counts *hc, const char *message_id,
		       int64_t received_ms, uint64_t *held, mla_diag *diag);

#endif
