/* The table of `mlagw cases --due` and `--overdue` (protocol/SPEC.md 16.9): a pure function
 * over rows a caller fills from the store (one per open case with its deadlines computed at
 * now), so that the output is tested without a store or a clock. */
#ifndef MLAGW_CLI_CASES_DUE_H
#define MLAGW_CLI_CASES_DUE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mlagw/buf.h"
#include "mlagw/deadline.h"

struct cases_due_row {
	char case_id[65];              /* header CaseId */
	char peer[3];                  /* the other State */
	char kind[33];                 /* the request's header Kind */
	mla_deadline_priority priority;
	char rule[32];                 /* the legal deadline's rule name; empty: none */
	mla_deadline_result dl;        /* mla_deadline_compute at now */
};

enum cases_due_filter {
	CASES_DUE_ALL = 0,    /* --due: every case with a due time */
	CASES_DUE_OVERDUE = 1 /* --overdue: those past it */
};

/* Appends the table of rows to out, in the order of lists and queues (mla_deadline_rank_cmp;
 * rows is left as it is): a header line, then one line per case the filter keeps:
 *   PRIORITY CASE PEER KIND BY DUE LEFT STATE
 * BY is the rule of the deadline that falls due first (or "wished"), LEFT the time from now
 * to the due time ("3d04h", "5h12m", "-1d02h" once past), STATE "not-due", "due-soon" or
 * "overdue", with ",paused" while the legal clock stands still. No case line: "no case due"
 * or "no case overdue" instead of the table. */
mla_err cases_due_format(const struct cases_due_row *rows, size_t n, enum cases_due_filter f,
			 int64_t now_ms, mla_buf *out);

/* The rows of the cases in items (the "items" of the gateway's GET /local/v1/cases) that have
 * a due time, into *rows (the caller frees it) and *n; the row's legal deadline is the one
 * that falls due first. MLA_ERR_NOMEM only. */
mla_err cases_due_rows(const json_t *items, struct cases_due_row **rows, size_t *n);

#endif
