/* The table behind refusals.h (refusals_table.c): the keys refused in their window, with a
 * least-recently-seen list bounded at REFUSALS_MAX_KEYS, on a clock and a window the caller
 * gives. What a key's repeats become (the aggregate entries) is the caller's function: the
 * table alone has no gateway, timer or log, so that a unit test drives it. The loop thread
 * changes it; refusals_table_held may be called from any thread (the chains are locked). */
#ifndef MLAGW_GATEWAY_PEER_REFUSALS_TABLE_H
#define MLAGW_GATEWAY_PEER_REFUSALS_TABLE_H

#include <pthread.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "refusals.h"

#define REFUSALS_N_BUCKETS 8192 /* a power of two, twice the keys */

/* One key held: its first refusal as named, its window, its counts. */
struct refusal_node {
	struct refusal_key k;
	int64_t first_ms;  /* the first refusal (the caller's monotonic clock): the window's start */
	uint32_t repeats;  /* counted since */
	uint32_t firsts;   /* keys without a digest: refusals stored with their own entries */
	char message_id[MLA_UUID_LEN + 1], case_id[MLA_CASE_ID_MAX + 1];
	char kind[MLA_TOKEN_MAX + 1], action[MLA_TOKEN_MAX + 1];
	mla_buf receipt;   /* exact keys: the receipt every repeat is answered with */
	uint8_t receipt_sha256[32];
	struct refusal_node *hnext;         /* bucket chain */
	struct refusal_node *older, *newer; /* the least-recently-seen list */
};

/* Called with each key the table lets go (window closed, evicted, flushed), just before it
 * is freed: the caller writes its aggregate (nothing when it has no repeats). */
typedef void (*refusals_out_fn)(void *arg, const struct refusal_node *x);

struct refusals_table {
	refusals_out_fn out;
	void *arg;
	pthread_mutex_t lock; /* the chains, for refusals_table_held */
	struct refusal_node *buckets[REFUSALS_N_BUCKETS];
	struct refusal_node *oldest, *newest;
	size_t n;
};

/* MLA_ERR_INTERNAL when the lock cannot be made. */
mla_err refusals_table_init(struct refusals_table *t, refusals_out_fn out, void *arg);
/* refusals_repeat at now_ms with a window of window_ms. */
int refusals_table_repeat(struct refusals_table *t, const struct refusal_key *k, int64_t now_ms,
			  uint64_t window_ms, const mla_buf **receipt);
/* refusals_held. */
int refusals_table_held(struct refusals_table *t, const struct refusal_key *k, int64_t now_ms,
			uint64_t window_ms);
/* refusals_first at now_ms: when the table is full, the least recently seen key goes out. */
void refusals_table_first(struct refusals_table *t, const struct refusal_key *k,
			  const struct refusal_first *f, int64_t now_ms);
/* Lets go of every key whose window of window_ms closed at now_ms. */
void refusals_table_expire(struct refusals_table *t, int64_t now_ms, uint64_t window_ms);
/* Lets go of every key, oldest first. */
void refusals_table_flush(struct refusals_table *t);
/* Flushes and destroys the lock. */
void refusals_table_free(struct refusals_table *t);

#endif
