/* Refusals of peer envelopes counted instead of stored one by one (protocol/SPEC.md §13,
 * Refusals): a bounded table of the refusals seen in the current window, changed by the loop
 * thread only (workers may look a key up, refusals_held).
 * The first refusal of a key is stored as before by receive.c; its repeats are only counted
 * here, and each key's count becomes one aggregate audit entry (version 2) when its window
 * closes, when it is evicted, or at a stop. */
#ifndef MLAGW_GATEWAY_PEER_REFUSALS_H
#define MLAGW_GATEWAY_PEER_REFUSALS_H

#include <stdint.h>

#include "core/gw.h"
#include "mlagw/buf.h"
#include "mlagw/envelope.h"

/* At most this many keys are held; the least recently seen is written out to make room. */
#define REFUSALS_MAX_KEYS 4096
/* Unauthenticated refusals of distinct bytes from one peer with one error that still get
 * their own receipt entries in a window (so a few can be told apart); the rest are counted. */
#define REFUSALS_UNAUTH_FIRSTS 32

/* What makes two refusals the same: the peer, the error and, for an exact key, the bytes. A
 * key without a digest stands for the unauthenticated refusals of any bytes from that peer
 * with that error (whose headers say nothing the peer signed). */
struct refusal_key {
	char peer[3];
	mla_err err;
	int has_digest;
	uint8_t digest[32];
};

/* The first refusal of a key, as its own entries named it: copied into the table. */
struct refusal_first {
	const char *message_id, *case_id, *kind, *action; /* NULL: absent */
	const mla_buf *receipt; /* the signed receipt that answered it (exact keys only) */
};

struct refusals;

/* A table for g (the entries go to g's audit log), with its window timer. */
mla_err refusals_new(struct gw *g, struct refusals **out);
/* When k's first refusal is held and its window is still open (and, for a key without a
 * digest, REFUSALS_UNAUTH_FIRSTS refusals have had their own entries in it): counts one more
 * repeat and returns 1, with *receipt (when not NULL) the receipt to answer with (NULL for a
 * key without a digest). Otherwise 0: the refusal is stored as a first one. */
int refusals_repeat(struct refusals *rf, const struct refusal_key *k, const mla_buf **receipt);
/* For a worker (any thread): whether k (an exact key) is held with its window of window_ms
 * open, so that its receipt need not be signed again. The loop thread decides with
 * refusals_repeat, which may still answer 0 (the window closed in between). */
int refusals_held(struct refusals *rf, const struct refusal_key *k, uint64_t window_ms);
/* Remembers k's first refusal, once its own entries are durable; when k is held, nothing
 * (exact key) or one more first in its window (key without a digest). */
void refusals_first(struct refusals *rf, const struct refusal_key *k,
		    const struct refusal_first *f);
/* Writes the aggregate of every held key that has repeats and forgets them all. */
void refusals_flush(struct refusals *rf);
/* Flushes, stops the timer and frees (NULL: nothing). */
void refusals_free(struct refusals *rf);

#endif
