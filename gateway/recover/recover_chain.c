/* The replay order of recovered case steps (see recover_chain.h). A step that is not its
 * case's next waits in a tree keyed by the message id of the step it follows; applying a
 * step takes the list of its waiters out of the tree and tries only them. So a peer that
 * gives back K steps one a page, in any order, costs O(K log K), not K tries per page. */
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "recover_chain.h"

#define NONE SIZE_MAX

enum slot_state { SLOT_FREE, SLOT_FRESH, SLOT_WAITING, SLOT_LEFT, SLOT_WORK };

struct recover_chain_slot {
	struct recover_link l;
	enum slot_state state;
	size_t next; /* the free list, or the list of the steps waiting for the same one */
};

struct recover_chain_ref {
	int64_t at_ms;
	uint64_t order;
	size_t slot;
};

/* A node of the index: the steps waiting for the step whose id is follows. */
struct waiters {
	char follows[MLA_UUID_LEN + 1];
	size_t head;
};

static int by_follows(const void *a, const void *b)
{
	return strcmp(((const struct waiters *)a)->follows, ((const struct waiters *)b)->follows);
}

static int by_time(const void *a, const void *b)
{
	const struct recover_chain_ref *x = a, *y = b;

	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void recover_chain_init(struct recover_chain *c, size_t item_size, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->item_size = item_size;
	c->max = max < RECOVER_CHAIN_MAX ? max : RECOVER_CHAIN_MAX;
	c->free_head = NONE;
}

static void *item_at(const struct recover_chain *c, size_t slot)
{
	return c->items + slot * c->item_size;
}

static int grow_one(void **v, size_t n, size_t size)
{
	void *p = realloc(*v, n * size);

	if (p == NULL)
		return 0;
	*v = p;
	return 1;
}

/* Room for one more slot: the free list, else every array doubled (at most the steps kept
 * and those of one run). */
static mla_err grow(struct recover_chain *c)
{
	size_t n, most = c->max + RECOVER_CHAIN_FRESH_MAX;

	if (c->free_head != NONE)
		return MLA_OK;
	if (c->cap >= most)
		return MLA_ERR_TOO_LARGE;
	n = c->cap > 0 ? c->cap * 2 : 64;
	if (n > most)
		n = most;
	if (!grow_one((void **)&c->items, n, c->item_size) ||
	    !grow_one((void **)&c->slots, n, sizeof(*c->slots)) ||
	    !grow_one((void **)&c->fresh, n, sizeof(*c->fresh)) ||
	    !grow_one((void **)&c->wake, n, sizeof(*c->wake)) ||
	    !grow_one((void **)&c->stack, n, sizeof(*c->stack)))
		return MLA_ERR_NOMEM; /* the arrays grown so far keep their contents */
	for (size_t i = n; i > c->cap; i--) {
		c->slots[i - 1].state = SLOT_FREE;
		c->slots[i - 1].next = c->free_head;
		c->free_head = i - 1;
	}
	c->cap = n;
	return MLA_OK;
}

mla_err recover_chain_add(struct recover_chain *c, const struct recover_link *l, void **item)
{
	size_t s;
	mla_err r;

	if (c->n_fresh >= RECOVER_CHAIN_FRESH_MAX)
		return MLA_ERR_TOO_LARGE;
	if ((r = grow(c)) != MLA_OK)
		return r;
	s = c->free_head;
	c->free_head = c->slots[s].next;
	c->slots[s].l = *l;
	c->slots[s].state = SLOT_FRESH;
	c->slots[s].next = NONE;
	c->fresh[c->n_fresh++] = (struct recover_chain_ref){l->at_ms, l->order, s};
	c->held++;
	memset(item_at(c, s), 0, c->item_size);
	*item = item_at(c, s);
	return MLA_OK;
}

static void release(struct recover_chain *c, size_t s)
{
	c->slots[s].state = SLOT_FREE;
	c->slots[s].next = c->free_head;
	c->free_head = s;
	c->held--;
}

/* s waits for the step it follows; without one to wait for (a request, or no memory for
 * the index) it is left. */
static void wait_for(struct recover_chain *c, size_t s)
{
	struct recover_chain_slot *sl = &c->slots[s];
	struct waiters probe, *w;
	void **node;

	sl->state = SLOT_LEFT;
	c->kept++;
	if (sl->l.follows[0] == '\0')
		return;
	memcpy(probe.follows, sl->l.follows, sizeof(probe.follows));
	if ((node = tfind(&probe, &c->index, by_follows)) != NULL)
		w = *node;
	else {
		if ((w = malloc(sizeof(*w))) == NULL)
			return;
		*w = probe;
		w->head = NONE;
		if (tsearch(w, &c->index, by_follows) == NULL) {
			free(w);
			return;
		}
	}
	sl->state = SLOT_WAITING;
	sl->next = w->head;
	w->head = s;
}

/* The steps waiting for the step id, out of the index and onto the stack, the oldest on top. */
static void wake(struct recover_chain *c, const char *id, size_t *top)
{
	struct waiters probe, *w;
	void **node;
	size_t n = 0;

	memcpy(probe.follows, id, sizeof(probe.follows));
	if ((node = tfind(&probe, &c->index, by_follows)) == NULL)
		return;
	w = *node;
	(void)tdelete(w, &c->index, by_follows);
	for (size_t s = w->head; s != NONE; s = c->slots[s].next)
		c->wake[n++] = (struct recover_chain_ref){c->slots[s].l.at_ms, c->slots[s].l.order, s};
	free(w);
	c->kept -= n;
	if (n > 1)
		qsort(c->wake, n, sizeof(*c->wake), by_time);
	for (size_t i = n; i > 0; i--) {
		c->slots[c->wake[i - 1].slot].state = SLOT_WORK;
		c->stack[(*top)++] = c->wake[i - 1].slot;
	}
}

struct run {
	recover_try_fn fn;
	recover_over_fn over;
	void *arg;
	size_t top;
};

/* One try of s; woken is 1 when the step it follows was just applied. */
static void try_one(struct recover_chain *c, size_t s, int woken, struct run *x)
{
	enum recover_try t;

	c->tries++;
	t = x->fn(x->arg, item_at(c, s));
	if (t == RECOVER_TRY_APPLIED) {
		char id[MLA_UUID_LEN + 1];

		memcpy(id, c->slots[s].l.id, sizeof(id));
		release(c, s);
		wake(c, id, &x->top);
	} else if (t == RECOVER_TRY_DONE) {
		release(c, s);
	} else if (woken) {
		c->slots[s].state = SLOT_LEFT; /* its turn came and went */
		c->kept++;                     /* counted before its wake */
	} else if (c->kept >= c->max) {
		x->over(x->arg, item_at(c, s));
		release(c, s);
	} else {
		wait_for(c, s);
	}
}

void recover_chain_run(struct recover_chain *c, recover_try_fn fn, recover_over_fn over,
		       void *arg)
{
	struct run x = {fn, over, arg, 0};
	size_t n = c->n_fresh;

	if (n > 1)
		qsort(c->fresh, n, sizeof(*c->fresh), by_time);
	c->n_fresh = 0;
	for (size_t i = 0; i < n; i++) {
		try_one(c, c->fresh[i].slot, 0, &x);
		while (x.top > 0) {
			size_t s = c->stack[--x.top];

			try_one(c, s, 1, &x);
		}
	}
}

void recover_chain_each(const struct recover_chain *c,
			void (*fn)(void *arg, const void *item, int waiting), void *arg)
{
	for (size_t s = 0; s < c->cap; s++)
		if (c->slots[s].state == SLOT_WAITING || c->slots[s].state == SLOT_LEFT)
			fn(arg, item_at(c, s), c->slots[s].state == SLOT_WAITING);
}

void recover_chain_free(struct recover_chain *c)
{
	for (size_t s = 0; s < c->cap; s++) {
		struct waiters probe;
		void **node;

		if (c->slots[s].state != SLOT_WAITING)
			continue;
		memcpy(probe.follows, c->slots[s].l.follows, sizeof(probe.follows));
		if ((node = tfind(&probe, &c->index, by_follows)) != NULL) {
			struct waiters *w = *node;

			(void)tdelete(w, &c->index, by_follows);
			free(w);
		}
	}
	free(c->items);
	free(c->slots);
	free(c->fresh);
	free(c->wake);
	free(c->stack);
	recover_chain_init(c, c->item_size, c->max);
}
