/* Deadline escalation runs (see escalation.h): the scan over the deadlines of the cases due
 * at the daemon's wall clock, one hook run on a worker, the fired mark written after it. */
#include <stdlib.h>
#include <string.h>

#include "cases/cases.h"
#include "core/clock.h"
#include "core/escalate.h"
#include "core/log.h"
#include "escalation.h"

#define SCAN_EVERY_TICKS 5 /* with nothing due, a look every 5 s is enough */

/* The next run: the case, which deadline, the threshold. */
struct esc_next {
	int found;
	struct store_life_key key;
	int which;
	unsigned pct;
	int64_t due_ms;
	char kind[MLA_TOKEN_MAX + 1];
	mla_deadline_rank rank;
};

struct esc_job {
	struct gw_job job;
	struct gw *g;
	struct gw_escalator *x;
	struct esc_next next;
};

/* The lowest threshold due of the case's first deadline that has one, if the case ranks
 * before the best found so far. */
static mla_err consider(const struct store_life_case *c, const struct cases_deadlines *dl,
			void *arg)
{
	struct esc_next *best = arg;
	unsigned pct[MLA_DEADLINE_THRESHOLDS];

	for (size_t i = 0; i < dl->n; i++) {
		const struct cases_deadline_one *d = &dl->d[i];
		mla_deadline_rank rank = {dl->priority, d->clock.due_ms, c->key.case_id};

		if (mla_deadline_escalations(d->clock.permille, d->fired_pct, pct) == 0)
			continue;
		if (best->found && mla_deadline_rank_cmp(&rank, &best->rank) >= 0)
			return MLA_OK;
		best->found = 1;
		best->key = c->key;
		best->which = d->which;
		best->pct = pct[0];
		best->due_ms = d->clock.due_ms;
		memcpy(best->kind, dl->rec.facts.kind, sizeof(best->kind));
		best->rank = rank;
		best->rank.case_id = best->key.case_id;
		return MLA_OK;
	}
	return MLA_OK;
}

static void esc_run(struct gw_job *job, struct gw_crypto *k)
{
	struct esc_job *j = (struct esc_job *)job;
	struct gw_escalation e = {j->next.key.case_id, j->next.kind,
				  j->next.which == STORE_DEADLINE_WISHED ? "wished" : "legal",
				  cases_deadline_name(j->next.which), j->next.due_ms};
	struct gw_hook_result res;
	mla_diag d = {MLA_OK, ""};

	(void)k;
	if (gw_escalate_run(&job->snap->cfg.deadlines, &e, j->next.pct, &res, &d) != MLA_OK)
		gw_log(GW_LOG_WARN, "escalation", NULL, "case=%s threshold=%u rule=%s result="
		       "\"not run: %s\"", e.case_id, j->next.pct, e.rule, mla_diag_message(&d));
}

/* Loop thread: the threshold counts as fired now that its run is over. */
static void esc_done(struct gw_job *job)
{
	struct esc_job *j = (struct esc_job *)job;
	mla_diag d = {MLA_OK, ""};

	if (store_deadline_fired(j->g->store, &j->next.key, j->next.which, j->next.pct, &d) !=
	    MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "deadline-fired", NULL,
			       "op=deadline-fired case=%s reason=\"%s\"", j->next.key.case_id,
			       d.msg);
	j->x->busy = 0;
	j->x->again = 1;
	gw_job_release(&j->job);
	free(j);
}

static void submit_run(struct gw *g, struct gw_escalator *x, const struct esc_next *next)
{
	struct esc_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return; /* looked for again at the next tick */
	j->job.run = esc_run;
	j->job.done = esc_done;
	j->job.urgent = next->rank.priority != MLA_DEADLINE_NORMAL;
	j->g = g;
	j->x = x;
	j->next = *next;
	x->busy = 1;
	gw_pool_submit(g->pool, &j->job, g->snap);
}

void escalation_tick(struct gw *g, struct gw_escalator *x)
{
	const struct gw_config *c = &g->snap->cfg;
	struct cases_due_scan scan;
	struct esc_next next;
	mla_diag d = {MLA_OK, ""};

	if (x->busy || !c->cases_enforce || c->deadlines.escalate[0] == '\0' ||
	    (!x->again && ++x->ticks < SCAN_EVERY_TICKS))
		return;
	x->ticks = 0;
	x->again = 0;
	memset(&next, 0, sizeof(next));
	/* only the cases whose deadlines may have changed, and those with a threshold to fire:
	 * the others have none (SPEC 16.9 Cost) */
	if (cases_due_each(g->store, &c->deadlines.rules, gw_now_ms(), consider, &next, &scan,
			   &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "deadline-scan", NULL,
			       "op=deadline-scan reason=\"%s\"", d.msg);
		return;
	}
	if (scan.put_failed)
		gw_log_limited(GW_LOG_ERROR, "store-error", "deadline-summary", NULL,
			       "op=deadline-summary reason=\"%s\"", scan.put_diag.msg);
	if (next.found)
		submit_run(g, x, &next);
}
