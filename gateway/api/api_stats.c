/* getStats (protocol/SPEC.md 16.13): the case statistics of this gateway's audit log, the
 * entries its latest checkpoint covers, computed by the engine `mlagw stats` and `mlagw audit
 * stats` use (mlagw/stats.h), so that an auditor gets from the API the bytes those commands
 * print over the same log. Reads the log once per call. */
#include <string.h>

#include "api_server.h"
#include "mlagw/stats.h"
#include "tlog/tlog.h"

#define STATS_OUT_MAX ((size_t)1 << 30)

struct stats_feed {
	mla_stats *s;
	const char *state;
	uint64_t size; /* the latest checkpoint's: later entries are not counted */
	mla_diag *d;
};

/* Returned by the row callback past the signed size to end the scan: not an error. */
#define STATS_STOP MLA_ERR_EXISTS

static mla_err stats_row(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			 void *arg)
{
	struct stats_feed *f = arg;
	mla_audit_entry e;

	(void)leaf;
	if (seq >= f->size)
		return STATS_STOP;
	if (entry == NULL || mla_audit_entry_parse(entry, len, &e, f->d) != MLA_OK)
		return mla_fail(f->d, MLA_ERR_STORE, "audit entry %llu does not parse",
				(unsigned long long)seq);
	return mla_stats_add(f->s, f->state, &e, f->d);
}

void api_get_stats(struct api_req *r)
{
	static const char *const only[] = {"format", NULL};
	const char *format = api_query(r, "format");
	mla_diag d = {MLA_OK, ""};
	struct stats_feed f = {NULL, r->g->snap->cfg.state, tlog_signed_size(r->g), &d};
	int csv;
	mla_buf b;
	mla_err e = MLA_ERR_NOMEM;

	if (!api_query_only(r, only))
		return;
	if (format != NULL && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
		api_reply_error(r, 400, "bad-field", "format must be json or csv", "format");
		return;
	}
	csv = format != NULL && strcmp(format, "csv") == 0;
	if (f.size == 0) {
		api_reply_error(r, 404, "not-found", "no checkpoint has been signed yet", NULL);
		return;
	}
	mla_buf_init(&b, STATS_OUT_MAX);
	if ((f.s = mla_stats_new()) != NULL &&
	    ((e = store_audit_entries(r->g->store, 0, stats_row, &f, &d)) == MLA_OK ||
	     e == STATS_STOP))
		e = csv ? mla_stats_csv(f.s, &b, &d) : mla_stats_json(f.s, &b, &d);
	if (e == MLA_OK)
		api_reply_text(r, 200, csv ? "text/csv" : "application/json", &b);
	else
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
	mla_stats_free(f.s);
	mla_buf_free(&b);
}
