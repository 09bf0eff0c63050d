/* getStats (protocol/SPEC.md 16.13): the case statistics of this gateway's audit log, the
 * entries its latest checkpoint covers, computed by the engine `mlagw stats` and `mlagw audit
 * stats` use (mlagw/stats.h), so that an auditor gets from the API the bytes those commands
 * print over the same log. The log is read in a worker through a read-only connection of its
 * own: a log of millions of entries takes seconds, which the event loop must not wait for.
 * One computation at a time; a second call meanwhile gets 503 and retries. */
#include <stdlib.h>
#include <string.h>

#include "api_server.h"
#include "mlagw/codec.h"
#include "mlagw/stats.h"
#include "store/store_reader.h"
#include "tlog/tlog.h"

#define STATS_OUT_MAX ((size_t)1 << 30)

struct stats_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct api_req *r;
	char path[PATH_MAX];
	char state[3];
	uint64_t size; /* the latest checkpoint's: later entries are not counted */
	int csv;
	mla_stats *stats; /* in the worker only */
	mla_buf out;
	mla_err err;
	mla_diag diag;
};

/* Loop thread only: whether a job is queued or running (one gateway per process). */
static int stats_running;

static mla_err stats_row(const struct store_audit_row *row, void *arg)
{
	struct stats_job *j = arg;
	mla_audit_entry e;

	if (row->entry == NULL || mla_audit_entry_parse(row->entry, row->len, &e, &j->diag) !=
	    MLA_OK)
		return mla_fail(&j->diag, MLA_ERR_STORE, "audit entry %llu does not parse",
				(unsigned long long)row->seq);
	return mla_stats_add(j->stats, j->state, &e, &j->diag);
}

static void stats_run(struct gw_job *job, struct gw_crypto *k)
{
	struct stats_job *j = (struct stats_job *)job;
	store_reader *rd = NULL;
	mla_stats *s;

	(void)k;
	if ((s = mla_stats_new()) == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_NOMEM, "out of memory for the statistics");
		return;
	}
	j->stats = s;
	if ((j->err = store_reader_open(j->path, &rd, &j->diag)) == MLA_OK &&
	    (j->err = store_reader_audit(rd, 0, j->size, stats_row, j, &j->diag)) == MLA_OK)
		j->err = j->csv ? mla_stats_csv(s, &j->out, &j->diag)
				: mla_stats_json(s, &j->out, &j->diag);
	store_reader_close(rd);
	mla_stats_free(s);
	j->stats = NULL;
}

static void stats_done(struct gw_job *job)
{
	struct stats_job *j = (struct stats_job *)job;

	if (j->err == MLA_OK)
		api_reply_text(j->r, 200, j->csv ? "text/csv" : "application/json", &j->out);
	else
		api_reply_error(j->r, 500, mla_errname(j->err), mla_diag_message(&j->diag), NULL);
	stats_running = 0;
	gw_job_release(&j->job);
	mla_buf_free(&j->out);
	free(j);
}

void api_get_stats(struct api_req *r)
{
	static const char *const only[] = {"format", NULL};
	const char *format = api_query(r, "format");
	const struct gw_config *c = &r->g->snap->cfg;
	struct stats_job *j;

	if (!api_query_only(r, only))
		return;
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
		api_reply_error(r, 400, "bad-field", "format must be json or csv", "format");
		return;
	}
	if (tlog_signed_size(r->g) == 0) {
		api_reply_error(r, 404, "not-found", "no checkpoint has been signed yet", NULL);
		return;
	}
	if (stats_running) {
		api_reply_error(r, 503, "unavailable", "the statistics are being computed for "
				"another call; retry in a moment", NULL);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_NOMEM), "out of memory", NULL);
		return;
	}
	memcpy(j->path, c->store, sizeof(j->path));
	mla_require(mla_strcpy(j->state, sizeof(j->state), c->state) == MLA_OK);
	j->size = tlog_signed_size(r->g);
	j->csv = format != NULL && strcmp(format, "csv") == 0;
	mla_buf_init(&j->out, STATS_OUT_MAX);
	j->r = r;
	j->job.run = stats_run;
	j->job.done = stats_done;
	stats_running = 1;
	api_hold(r);
	gw_pool_submit(r->g->pool, &j->job, r->g->snap);
}
