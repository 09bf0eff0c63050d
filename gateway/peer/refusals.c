/* Refusals counted instead of stored one by one (see refusals.h): a hash table of at most
 * REFUSALS_MAX_KEYS keys with a least-recently-seen list, a timer that writes out the keys
 * whose window has closed, and the aggregate entries themselves. Only the loop thread changes
 * the table; the hash chains are changed under the lock, which workers take to look up. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/error.h"
#include "refusals.h"
#include "tlog/audit.h"

#define N_BUCKETS 8192 /* a power of two, twice the keys */
#define TICK_MIN_MS 50
#define TICK_MAX_MS 1000

struct node {
	struct refusal_key k;
	int64_t first_ms;  /* the first refusal (monotonic clock): the window's start */
	uint32_t repeats;  /* counted since */
	uint32_t firsts;   /* keys without a digest: refusals stored with their own entries */
	char message_id[MLA_UUID_LEN + 1], case_id[MLA_CASE_ID_MAX + 1];
	char kind[MLA_TOKEN_MAX + 1], action[MLA_TOKEN_MAX + 1];
	mla_buf receipt;   /* exact keys: the receipt every repeat is answered with */
	uint8_t receipt_sha256[32];
	struct node *hnext;         /* bucket chain */
	struct node *older, *newer; /* the least-recently-seen list */
};

struct refusals {
	struct gw *g;
	pthread_mutex_t lock; /* the chains, for refusals_held */
	struct event *tick;
	struct node *buckets[N_BUCKETS];
	struct node *oldest, *newest;
	size_t n;
};

/* ---- the table ---- */

static size_t bucket_of(const struct refusal_key *k)
{
	uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
	const uint8_t parts[4] = {(uint8_t)k->peer[0], (uint8_t)k->peer[1], (uint8_t)-k->err,
				  (uint8_t)k->has_digest};

	for (size_t i = 0; i < sizeof(parts); i++)
		h = (h ^ parts[i]) * UINT64_C(1099511628211);
	for (size_t i = 0; k->has_digest && i < 8; i++)
		h = (h ^ k->digest[i]) * UINT64_C(1099511628211);
	return (size_t)(h & (N_BUCKETS - 1));
}

static int same_key(const struct refusal_key *a, const struct refusal_key *b)
{
	return memcmp(a->peer, b->peer, 2) == 0 && a->err == b->err &&
	       a->has_digest == b->has_digest &&
	       (!a->has_digest || memcmp(a->digest, b->digest, 32) == 0);
}

static struct node *find(struct refusals *rf, const struct refusal_key *k)
{
	struct node *x = rf->buckets[bucket_of(k)];

	while (x != NULL && !same_key(&x->k, k))
		x = x->hnext;
	return x;
}

static void list_unlink(struct refusals *rf, struct node *x)
{
	if (x->older != NULL)
		x->older->newer = x->newer;
	else
		rf->oldest = x->newer;
	if (x->newer != NULL)
		x->newer->older = x->older;
	else
		rf->newest = x->older;
	x->older = x->newer = NULL;
}

static void list_push_newest(struct refusals *rf, struct node *x)
{
	x->older = rf->newest;
	x->newer = NULL;
	if (rf->newest != NULL)
		rf->newest->newer = x;
	else
		rf->oldest = x;
	rf->newest = x;
}

static void unlink_and_free(struct refusals *rf, struct node *x)
{
	struct node **p = &rf->buckets[bucket_of(&x->k)];

	pthread_mutex_lock(&rf->lock);
	while (*p != x)
		p = &(*p)->hnext;
	*p = x->hnext;
	pthread_mutex_unlock(&rf->lock);
	list_unlink(rf, x);
	rf->n--;
	mla_buf_free(&x->receipt);
	free(x);
}

/* ---- aggregates ---- */

/* The aggregate entries of x's repeats: "rejected" with the count (an exact key names its
 * bytes and the one receipt that answered them; a key without a digest is followed by
 * "receipt-issued" with the same count, each of those refusals having had its own receipt),
 * and one log line. Nothing without repeats: the first refusal has its own entries. */
static void write_aggregate(struct refusals *rf, const struct node *x)
{
	struct gw *g = rf->g;
	const char *error = mla_errname(x->k.err);
	struct gw_audit_msg a = {
		.message_id = x->message_id, .case_id = x->case_id, .kind = x->kind,
		.action = x->action, .from = x->k.peer, .to = g->snap->cfg.state,
		.actor = x->k.peer, .error = error, .count = x->repeats,
		.envelope_sha256 = x->k.has_digest ? x->k.digest : NULL,
		.receipt_sha256 = x->k.has_digest ? x->receipt_sha256 : NULL,
	};
	char hex[65] = "-";
	mla_err r;

	if (x->repeats == 0)
		return;
	if (x->k.has_digest && mla_hex_encode(x->k.digest, 32, hex, sizeof(hex)) != MLA_OK)
		hex[0] = '\0'; /* sized for 32 bytes: cannot happen */
	r = gw_audit_message(g, MLA_AUDIT_REJECTED, &a);
	if (r == MLA_OK && !x->k.has_digest) {
		struct gw_audit_msg issued = {.from = x->k.peer, .to = g->snap->cfg.state,
					      .actor = "gateway", .count = x->repeats};
		r = gw_audit_message(g, MLA_AUDIT_RECEIPT_ISSUED, &issued);
	}
	gw_log(r == MLA_OK ? GW_LOG_WARN : GW_LOG_ERROR, "rejected-repeats", x->message_id,
	       "peer=%s error=%s count=%lu envelope_sha256=%s audited=%s", x->k.peer, error,
	       (unsigned long)x->repeats, hex, r == MLA_OK ? "yes" : "no");
}

static void write_and_forget(struct refusals *rf, struct node *x)
{
	write_aggregate(rf, x);
	unlink_and_free(rf, x);
}

static uint64_t window_ms(const struct refusals *rf)
{
	return rf->g->snap->cfg.refusal_window_ms;
}

/* Writes out every key whose window has closed, oldest first. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct refusals *rf = arg;
	int64_t now = gw_mono_ms();
	uint64_t t = window_ms(rf) / 4;
	struct timeval tv;
	struct node *x, *next;

	(void)fd;
	(void)what;
	for (x = rf->oldest; x != NULL; x = next) {
		next = x->newer; /* the list is by last sight, not by window: walk it all */
		if (now - x->first_ms >= (int64_t)window_ms(rf))
			write_and_forget(rf, x);
	}
	t = t < TICK_MIN_MS ? TICK_MIN_MS : t > TICK_MAX_MS ? TICK_MAX_MS : t;
	tv.tv_sec = (time_t)(t / 1000);
	tv.tv_usec = (suseconds_t)(t % 1000) * 1000;
	if (event_add(rf->tick, &tv) != 0)
		gw_log(GW_LOG_ERROR, "refusals-timer", NULL, "reason=\"cannot re-arm\"");
}

/* ---- interface ---- */

mla_err refusals_new(struct gw *g, struct refusals **out)
{
	struct refusals *rf = calloc(1, sizeof(*rf));

	if (rf == NULL)
		return MLA_ERR_NOMEM;
	rf->g = g;
	if (pthread_mutex_init(&rf->lock, NULL) != 0) {
		free(rf);
		return MLA_ERR_INTERNAL;
	}
	if ((rf->tick = evtimer_new(g->base, on_tick, rf)) == NULL) {
		pthread_mutex_destroy(&rf->lock);
		free(rf);
		return MLA_ERR_INTERNAL;
	}
	on_tick(-1, 0, rf); /* arms the timer */
	*out = rf;
	return MLA_OK;
}

int refusals_repeat(struct refusals *rf, const struct refusal_key *k, const mla_buf **receipt)
{
	struct node *x = rf != NULL ? find(rf, k) : NULL;

	if (x == NULL)
		return 0;
	if (gw_mono_ms() - x->first_ms >= (int64_t)window_ms(rf) || x->repeats == UINT32_MAX) {
		write_and_forget(rf, x); /* its window closed: this one starts a new one */
		return 0;
	}
	if (!x->k.has_digest && x->firsts < REFUSALS_UNAUTH_FIRSTS)
		return 0;
	x->repeats++;
	list_unlink(rf, x);
	list_push_newest(rf, x);
	if (receipt != NULL)
		*receipt = x->k.has_digest ? &x->receipt : NULL;
	return 1;
}

int refusals_held(struct refusals *rf, const struct refusal_key *k, uint64_t window_ms)
{
	int held;
	struct node *x;

	if (rf == NULL || !k->has_digest)
		return 0;
	pthread_mutex_lock(&rf->lock);
	x = find(rf, k);
	held = x != NULL && gw_mono_ms() - x->first_ms < (int64_t)window_ms;
	pthread_mutex_unlock(&rf->lock);
	return held;
}

/* Copies what the aggregate will name; 0 when something does not fit or memory is short. */
static int node_fill(struct node *x, const struct refusal_key *k, const struct refusal_first *f)
{
	x->k = *k;
	x->first_ms = gw_mono_ms();
	x->firsts = 1;
	mla_buf_init(&x->receipt, f->receipt != NULL ? f->receipt->len : 0);
	if ((f->message_id != NULL &&
	     mla_strcpy(x->message_id, sizeof(x->message_id), f->message_id) != MLA_OK) ||
	    (f->case_id != NULL && mla_strcpy(x->case_id, sizeof(x->case_id), f->case_id) != MLA_OK) ||
	    (f->kind != NULL && mla_strcpy(x->kind, sizeof(x->kind), f->kind) != MLA_OK) ||
	    (f->action != NULL && mla_strcpy(x->action, sizeof(x->action), f->action) != MLA_OK))
		return 0;
	if (!k->has_digest)
		return 1;
	if (f->receipt == NULL || mla_buf_append(&x->receipt, f->receipt->data, f->receipt->len) !=
					  MLA_OK)
		return 0;
	SHA256(x->receipt.data, x->receipt.len, x->receipt_sha256);
	return 1;
}

void refusals_first(struct refusals *rf, const struct refusal_key *k,
		    const struct refusal_first *f)
{
	struct node *x;

	if (rf == NULL)
		return;
	if ((x = find(rf, k)) != NULL) {
		/* exact: two firsts in one group commit, both with their own entries */
		if (!k->has_digest && x->firsts < UINT32_MAX)
			x->firsts++;
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return; /* not held: its repeats are then stored one by one, never lost */
	if (!node_fill(x, k, f)) {
		mla_buf_free(&x->receipt);
		free(x);
		return;
	}
	if (rf->n == REFUSALS_MAX_KEYS)
		write_and_forget(rf, rf->oldest);
	pthread_mutex_lock(&rf->lock);
	x->hnext = rf->buckets[bucket_of(k)];
	rf->buckets[bucket_of(k)] = x;
	pthread_mutex_unlock(&rf->lock);
	list_push_newest(rf, x);
	rf->n++;
}

void refusals_flush(struct refusals *rf)
{
	if (rf == NULL)
		return;
	while (rf->oldest != NULL)
		write_and_forget(rf, rf->oldest);
}

void refusals_free(struct refusals *rf)
{
	if (rf == NULL)
		return;
	refusals_flush(rf);
	event_free(rf->tick);
	pthread_mutex_destroy(&rf->lock);
	free(rf);
}
