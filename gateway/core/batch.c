/* Group commit around each drain of completed jobs (see gw.h). One fsync covers every write
 * of the batch; replies wait until then. */
#include <stdlib.h>

#include "gw.h"
#include "log.h"

struct gw_after {
	gw_commit_fn fn;
	void *arg;
	struct gw_after *next;
};

struct gw_batch {
	int open;
	int failed;
	struct gw_after *after_head, *after_tail;
	gw_rollback_fn rolled_back; /* NULL: nothing to read again */
	uint64_t rollbacks;         /* groups rolled back so far (gw_batch_rollbacks) */
};

mla_err gw_batch_new(struct gw_batch **out)
{
	return (*out = calloc(1, sizeof(**out))) != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

void gw_batch_on_rollback(struct gw_batch *b, gw_rollback_fn fn)
{
	b->rolled_back = fn;
}

void gw_batch_free(struct gw_batch *b)
{
	struct gw_after *a;

	while (b != NULL && (a = b->after_head) != NULL) {
		b->after_head = a->next;
		free(a);
	}
	free(b);
}

void gw_batch_begin(void *arg)
{
	struct gw *g = arg;
	struct gw_batch *b = g->batch;
	mla_diag d = {MLA_OK, ""};

	b->failed = 0;
	if (store_begin(g->store, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "begin", NULL,
			       "op=begin reason=\"%s\"", d.msg);
		b->open = 0; /* writes then commit one by one */
		return;
	}
	b->open = 1;
}

static void run_after(struct gw *g, int committed)
{
	struct gw_batch *b = g->batch;
	struct gw_after *a;

	while ((a = b->after_head) != NULL) {
		b->after_head = a->next;
		if (b->after_head == NULL)
			b->after_tail = NULL;
		a->fn(g, a->arg, committed);
		free(a);
	}
}

void gw_batch_end(void *arg)
{
	struct gw *g = arg;
	struct gw_batch *b = g->batch;
	mla_diag d = {MLA_OK, ""};
	int committed = 1;

	if (b->open) {
		b->open = 0;
		if (b->failed || store_commit(g->store, &d) != MLA_OK) {
			if (!b->failed)
				gw_log_limited(GW_LOG_ERROR, "store-error", "commit", NULL,
					       "op=commit reason=\"%s\"", d.msg);
			(void)store_rollback(g->store);
			committed = 0;
			b->rollbacks++;
			/* entries of the rolled-back group are gone: continue from the store */
			if (b->rolled_back != NULL)
				(void)b->rolled_back(g, NULL);
		}
	}
	run_after(g, committed);
}

void gw_batch_fail(struct gw *g)
{
	g->batch->failed = 1;
}

uint64_t gw_batch_rollbacks(const struct gw *g)
{
	return g->batch != NULL ? g->batch->rollbacks : 0;
}

int gw_batch_is_open(const struct gw *g)
{
	return g->batch != NULL && g->batch->open;
}

void gw_after_commit(struct gw *g, gw_commit_fn fn, void *arg)
{
	struct gw_batch *b = g->batch;
	struct gw_after *a;

	if (b == NULL || !b->open) {
		fn(g, arg, 1);
		return;
	}
	if ((a = malloc(sizeof(*a))) == NULL) {
		/* cannot defer: fail this one rather than answer before the commit */
		fn(g, arg, 0);
		return;
	}
	a->fn = fn;
	a->arg = arg;
	a->next = NULL;
	if (b->after_tail != NULL)
		b->after_tail->next = a;
	else
		b->after_head = a;
	b->after_tail = a;
}
