/* The refusals held in their window (see refusals_table.h): a hash table of at most
 * REFUSALS_MAX_KEYS keys with a least-recently-seen list. Only the loop thread changes it;
 * the hash chains are changed under the lock, which workers take to look up. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "refusals_table.h"

static size_t bucket_of(const struct refusal_key *k)
{
	uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
	const uint8_t parts[4] = {(uint8_t)k->peer[0], (uint8_t)k->peer[1], (uint8_t)-k->err,
				  (uint8_t)k->has_digest};

	for (size_t i = 0; i < sizeof(parts); i++)
		h = (h ^ parts[i]) * UINT64_C(1099511628211);
	for (size_t i = 0; k->has_digest && i < 8; i++)
		h = (h ^ k->digest[i]) * UINT64_C(1099511628211);
	return (size_t)(h & (REFUSALS_N_BUCKETS - 1));
}

static int same_key(const struct refusal_key *a, const struct refusal_key *b)
{
	return memcmp(a->peer, b->peer, 2) == 0 && a->err == b->err &&
	       a->has_digest == b->has_digest &&
	       (!a->has_digest || memcmp(a->digest, b->digest, 32) == 0);
}

static struct refusal_node *find(struct refusals_table *t, const struct refusal_key *k)
{
	struct refusal_node *x = t->buckets[bucket_of(k)];

	while (x != NULL && !same_key(&x->k, k))
		x = x->hnext;
	return x;
}

static void list_unlink(struct refusals_table *t, struct refusal_node *x)
{
	if (x->older != NULL)
		x->older->newer = x->newer;
	else
		t->oldest = x->newer;
	if (x->newer != NULL)
		x->newer->older = x->older;
	else
		t->newest = x->older;
	x->older = x->newer = NULL;
}

static void list_push_newest(struct refusals_table *t, struct refusal_node *x)
{
	x->older = t->newest;
	x->newer = NULL;
	if (t->newest != NULL)
		t->newest->newer = x;
	else
		t->oldest = x;
	t->newest = x;
}

/* x goes out: the caller's function writes its aggregate, then it is forgotten. */
static void let_go(struct refusals_table *t, struct refusal_node *x)
{
	struct refusal_node **p = &t->buckets[bucket_of(&x->k)];

	t->out(t->arg, x);
	pthread_mutex_lock(&t->lock);
	while (*p != x)
		p = &(*p)->hnext;
	*p = x->hnext;
	pthread_mutex_unlock(&t->lock);
	list_unlink(t, x);
	t->n--;
	mla_buf_free(&x->receipt);
	free(x);
}

mla_err refusals_table_init(struct refusals_table *t, refusals_out_fn out, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
	t->arg = arg;
	return pthread_mutex_init(&t->lock, NULL) == 0 ? MLA_OK : MLA_ERR_INTERNAL;
}

int refusals_table_repeat(struct refusals_table *t, const struct refusal_key *k, int64_t now_ms,
			  uint64_t window_ms, const mla_buf **receipt)
{
	struct refusal_node *x = find(t, k);

	if (x == NULL)
		return 0;
	if (now_ms - x->first_ms >= (int64_t)window_ms || x->repeats == UINT32_MAX) {
		let_go(t, x); /* its window closed: this one starts a new one */
		return 0;
	}
	if (!x->k.has_digest && x->firsts < REFUSALS_UNAUTH_FIRSTS)
		return 0;
	x->repeats++;
	list_unlink(t, x);
	list_push_newest(t, x);
	if (receipt != NULL)
		*receipt = x->k.has_digest ? &x->receipt : NULL;
	return 1;
}

int refusals_table_held(struct refusals_table *t, const struct refusal_key *k, int64_t now_ms,
			uint64_t window_ms)
{
	struct refusal_node *x;
	int held;

	if (!k->has_digest)
		return 0;
	pthread_mutex_lock(&t->lock);
	x = find(t, k);
	held = x != NULL && now_ms - x->first_ms < (int64_t)window_ms;
	pthread_mutex_unlock(&t->lock);
	return held;
}

/* Copies what the aggregate will name; 0 when something does not fit or memory is short. */
static int node_fill(struct refusal_node *x, const struct refusal_key *k,
		     const struct refusal_first *f, int64_t now_ms)
{
	x->k = *k;
	x->first_ms = now_ms;
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

void refusals_table_first(struct refusals_table *t, const struct refusal_key *k,
			  const struct refusal_first *f, int64_t now_ms)
{
	struct refusal_node *x;

	if ((x = find(t, k)) != NULL) {
		/* exact: two firsts in one group commit, both with their own entries */
		if (!k->has_digest && x->firsts < UINT32_MAX)
			x->firsts++;
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return; /* not held: its repeats are then stored one by one, never lost */
	if (!node_fill(x, k, f, now_ms)) {
		mla_buf_free(&x->receipt);
		free(x);
		return;
	}
	if (t->n == REFUSALS_MAX_KEYS)
		let_go(t, t->oldest);
	pthread_mutex_lock(&t->lock);
	x->hnext = t->buckets[bucket_of(k)];
	t->buckets[bucket_of(k)] = x;
	pthread_mutex_unlock(&t->lock);
	list_push_newest(t, x);
	t->n++;
}

void refusals_table_expire(struct refusals_table *t, int64_t now_ms, uint64_t window_ms)
{
	struct refusal_node *x, *next;

	for (x = t->oldest; x != NULL; x = next) {
		next = x->newer; /* the list is by last sight, not by window: walk it all */
		if (now_ms - x->first_ms >= (int64_t)window_ms)
			let_go(t, x);
	}
}

void refusals_table_flush(struct refusals_table *t)
{
	while (t->oldest != NULL)
		let_go(t, t->oldest);
}

void refusals_table_free(struct refusals_table *t)
{
	refusals_table_flush(t);
	pthread_mutex_destroy(&t->lock);
}
