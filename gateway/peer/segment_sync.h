/* Group fdatasync of received segments (SPEC 17.13): a segment's worker writes its bytes in
 * place, then the segment waits here until one fdatasync of its part file, run in a worker,
 * has made them durable; the segments written while that sync runs share the next one. So a
 * segment is still held (its row committed, 204) only after its bytes are on the disk, with
 * far fewer syncs than one a segment. */
#ifndef MLAGW_GATEWAY_SEGMENT_SYNC_H
#define MLAGW_GATEWAY_SEGMENT_SYNC_H

#include <stdint.h>

#include "core/gw.h"

struct seg_sync_wait;
/* On the loop thread, once the file was synced (durable = 1) or could not be (0). */
typedef void (*seg_sync_fn)(struct seg_sync_wait *w, int durable);

/* Owned by the waiting segment (embedded in its job); path and fd must live until fn ran. */
struct seg_sync_wait {
	const char *path; /* the part file written */
	/* the descriptor the segment was written through, opened before the write (or -1), and
	 * when (seg_sync_opened): a file's sync goes through the earliest opened of its batch,
	 * since Linux reports a writeback error to a descriptor only if it came after its open */
	int fd;
	uint64_t opened;
	seg_sync_fn fn;
	int durable;
	int err; /* errno of the failed sync */
	struct seg_sync_wait *next;
};

/* The queue of one gateway (zeroed: empty, no sync running). */
struct seg_sync {
	struct seg_sync_wait *head, *tail; /* written, waiting for the next sync */
	int running;                       /* a sync job is in the pool */
	uint64_t opens;                    /* descriptors opened so far (seg_sync_opened) */
};

/* On the loop thread, when a segment's descriptor is opened: its place in the order of opens. */
uint64_t seg_sync_opened(struct seg_sync *s);

/* On the loop thread, after w->path's bytes were written (by a finished job): w->fn runs
 * once a sync begun after this call has ended. While the gateway stops (the pool may run no
 * new job) the sync is made here, on the loop thread. */
void seg_sync_after(struct gw *g, struct seg_sync *s, struct seg_sync_wait *w);

#endif
