/* Group commit around each drain of completed jobs (see gw.h). One fsync covers every write
 * of the batch; replies wait until then. */
#include <stdlib.h>

#include "tlog/audit.h"
#include "gw.h"
#include "log.h"

void gw_batch_begin(void *arg)
{
	struct gw *g = arg;
	mla_diag d = {MLA_OK, ""};

	g->batch_failed = 0;
	if (store_begin(g->store, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=begin reason=\"%s\"", d.msg);
		g->batch_open = 0; /* writes then commit one by one */
		return;
	}
	g->batch_open = 1;
}

static void run_after(struct gw *g, int committed)
{
	struct gw_after *a;

	while ((a = g->after_head) != NULL) {
		g->after_head = a->next;
		if (g->after_head == NULL)
			g->after_tail = NULL;
		a->fn(g, a->arg, committed);
		free(a);
	}
}

void gw_batch_end(void *arg)
{
	struct gw *g = arg;
	mla_diag d = {MLA_OK, ""};
	int committed = 1;

	if (g->batch_open) {
		g->batch_open = 0;
		if (g->batch_failed || store_commit(g->store, &d) != MLA_OK) {
			if (!g->batch_failed)
				gw_log(GW_LOG_ERROR, "store-error", NULL, "op=commit reason=\"%s\"", d.msg);
			(void)store_rollback(g->store);
			committed = 0;
			/* entries of the rolled-back group are gone: continue from the store */
			(void)gw_audit_sync(g, NULL);
		}
	}
	run_after(g, committed);
}

void gw_batch_fail(struct gw *g)
{
	g->batch_failed = 1;
}

void gw_after_commit(struct gw *g, gw_commit_fn fn, void *arg)
{
	struct gw_after *a;

	if (!g->batch_open) {
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
	if (g->after_tail != NULL)
		g->after_tail->next = a;
	else
		g->after_head = a;
	g->after_tail = a;
}
