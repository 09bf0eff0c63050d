/* The table of `mlagw cases --due` / `--overdue` (see cases_due.h): rows ranked as lists and
 * queues rank cases, one line each, times in UTC. */
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "cases_due.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

struct ranked {
	mla_deadline_rank rank; /* first: mla_deadline_rank_cmp reads it */
	const struct cases_due_row *row;
};

static int ranked_cmp(const void *a, const void *b)
{
	return mla_deadline_rank_cmp(&((const struct ranked *)a)->rank,
				     &((const struct ranked *)b)->rank);
}

static const char *priority_name(mla_deadline_priority p)
{
	return p == MLA_DEADLINE_CRISIS ? "crisis" : p == MLA_DEADLINE_URGENT ? "urgent" : "normal";
}

static const char *state_name(mla_deadline_state s)
{
	return s == MLA_DEADLINE_OVERDUE ? "overdue" : s == MLA_DEADLINE_DUE_SOON ? "due-soon"
										 : "not-due";
}

/* "3d04h" at a day or more, else "5h12m"; "-" before it once past; minutes rounded down. */
static mla_err format_left(int64_t left, char *out, size_t n)
{
	const char *sign = left < 0 ? "-" : "";
	int64_t a = left < 0 ? -left : left;

	if (a >= DAY_MS)
		return mla_snprintf(out, n, "%s%lldd%02lldh", sign, (long long)(a / DAY_MS),
				    (long long)(a % DAY_MS / HOUR_MS));
	return mla_snprintf(out, n, "%s%lldh%02lldm", sign, (long long)(a / HOUR_MS),
			    (long long)(a % HOUR_MS / MIN_MS));
}

static mla_err format_row(const struct cases_due_row *r, int64_t now_ms, mla_buf *out)
{
	const mla_deadline_result *d = &r->dl;
	int by_wished = d->wished.set && d->wished.due_ms == d->due_ms &&
			(!d->legal.set || d->wished.due_ms < d->legal.due_ms);
	char due[MLA_TIME_MS_LEN], left[32];
	mla_err e;

	mla_time_ms_format(d->due_ms, due);
	if ((e = format_left(d->due_ms - now_ms, left, sizeof(left))) != MLA_OK)
		return e;
	return mla_buf_printf(out, "%-8s %-24s %-4s %-20s %-20s %-24s %-9s %s%s\n",
			      priority_name(r->priority), r->case_id, r->peer, r->kind,
			      by_wished ? "wished" : r->rule, due, left, state_name(d->state),
			      d->paused ? ",paused" : "");
}

static int kept(const struct cases_due_row *r, enum cases_due_filter f)
{
	if (r->dl.due_ms == MLA_DEADLINE_NO_TIME)
		return 0;
	return f == CASES_DUE_ALL || r->dl.state == MLA_DEADLINE_OVERDUE;
}

mla_err cases_due_format(const struct cases_due_row *rows, size_t n, enum cases_due_filter f,
			 int64_t now_ms, mla_buf *out)
{
	struct ranked *order = NULL;
	size_t m = 0;
	mla_err r = MLA_OK;

	if (n > 0 && (order = calloc(n, sizeof(*order))) == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!kept(&rows[i], f))
			continue;
		order[m].rank = (mla_deadline_rank){rows[i].priority, rows[i].dl.due_ms,
						    rows[i].case_id};
		order[m++].row = &rows[i];
	}
	if (m == 0) {
		r = mla_buf_append_str(out, f == CASES_DUE_ALL ? "no case due\n"
							       : "no case overdue\n");
		goto out;
	}
	qsort(order, m, sizeof(*order), ranked_cmp);
	if ((r = mla_buf_printf(out, "%-8s %-24s %-4s %-20s %-20s %-24s %-9s %s\n", "PRIORITY",
				"CASE", "PEER", "KIND", "BY", "DUE", "LEFT", "STATE")) != MLA_OK)
		goto out;
	for (size_t i = 0; i < m && r == MLA_OK; i++)
		r = format_row(order[i].row, now_ms, out);
out:
	free(order);
	return r;
}
