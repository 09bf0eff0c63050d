/* Read queries of the local API (docs/api): sent and received messages through one filtered,
 * paged select over the outbox and the accepted inbox (own cases: store_cases.c), and a received
 * envelope's bytes. Prepared per call (not cached): the API is not the hot path. */
#include <string.h>

#include "store_internal.h"

/* Outbox and accepted inbox in one shape; state 6 is "received". */
static const char select_sql[] =
	"SELECT dir, message_id, case_id, in_reply_to, peer, kind, action, priority, state,"
	" created_ms, received_ms, submitted_by, attempts, last_error, peer_case FROM ("
	" SELECT 'out' AS dir, message_id, case_id, in_reply_to, to_state AS peer, kind, action,"
	"  priority, state, created_ms, 0 AS received_ms, submitted_by, attempts,"
	"  coalesce(last_error, '') AS last_error, peer_case FROM outbox"
	" UNION ALL"
	" SELECT 'in', message_id, case_id, in_reply_to, from_state, kind, action, priority, 6,"
	"  created_ms, received_ms, '', 0, '', peer_case FROM inbox WHERE accepted = 1) AS m"
	" WHERE (?1 IS NULL OR dir = ?1) AND (?2 IS NULL OR message_id = ?2)"
	" AND (?3 IS NULL OR case_id = ?3) AND (?4 IS NULL OR in_reply_to = ?4)"
	" AND (?5 IS NULL OR peer = ?5) AND (?6 IS NULL OR kind = ?6)"
	" AND (?7 IS NULL OR action = ?7) AND (?8 IS NULL OR priority = ?8)"
	" AND (?9 IS NULL OR state = ?9) AND (?10 IS NULL OR created_ms >= ?10)"
	" AND (?11 IS NULL OR created_ms < ?11)"
	/* own cases: this State's (?12), of an owner in ?16 (a JSON array) or of any (?17) */
	" AND (?12 IS NULL OR (peer_case = 0 AND case_id IN (SELECT case_id FROM cases"
	"  WHERE state = ?12 AND (?17 = 1 OR owner IN (SELECT value FROM json_each(?16))))))"
	" AND (?13 IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.in_reply_to ="
	"  m.message_id))"
	" ORDER BY created_ms DESC, message_id DESC LIMIT ?14 OFFSET ?15";

static int bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	return v != NULL ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : SQLITE_OK;
}

static int bind_opt_int(sqlite3_stmt *st, int i, int has, int64_t v)
{
	return has ? sqlite3_bind_int64(st, i, v) : SQLITE_OK;
}

static int bind_filter(sqlite3_stmt *st, const struct store_api_filter *f)
{
	int rc = bind_opt_text(st, 1, f->direction);

	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 2, f->message_id);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 3, f->case_id);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 4, f->in_reply_to);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 5, f->peer);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 6, f->kind);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 7, f->action);
	if (rc == SQLITE_OK)
		rc = bind_opt_int(st, 8, f->priority >= 0, f->priority);
	if (rc == SQLITE_OK)
		rc = bind_opt_int(st, 9, f->state >= 0, f->state);
	if (rc == SQLITE_OK)
		rc = bind_opt_int(st, 10, f->since_ms > 0, f->since_ms);
	if (rc == SQLITE_OK)
		rc = bind_opt_int(st, 11, f->until_ms > 0, f->until_ms);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 12, f->own_state);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 16, f->owners != NULL ? f->owners : "[]");
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 17, f->own_all != 0);
	if (rc == SQLITE_OK)
		rc = bind_opt_int(st, 13, f->unanswered, 1);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 14, f->limit > 0 ? (int64_t)f->limit : -1);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 15, (int64_t)f->offset);
	return rc;
}

static mla_err read_api_row(sqlite3_stmt *st, struct store_api_row *r, mla_diag *d)
{
	static const char op[] = "api select";
	char dir[4];
	mla_err e;

	memset(r, 0, sizeof(*r));
	if ((e = store_col_text(st, 0, dir, sizeof(dir), op, d)) ||
	    (e = store_col_text(st, 1, r->message_id, sizeof(r->message_id), op, d)) ||
	    (e = store_col_text(st, 2, r->case_id, sizeof(r->case_id), op, d)) ||
	    (e = store_col_text(st, 3, r->in_reply_to, sizeof(r->in_reply_to), op, d)) ||
	    (e = store_col_text(st, 4, r->peer, sizeof(r->peer), op, d)) ||
	    (e = store_col_text(st, 5, r->kind, sizeof(r->kind), op, d)) ||
	    (e = store_col_text(st, 6, r->action, sizeof(r->action), op, d)) ||
	    (e = store_col_text(st, 11, r->submitted_by, sizeof(r->submitted_by), op, d)) ||
	    (e = store_col_text(st, 13, r->last_error, sizeof(r->last_error), op, d)))
		return e;
	r->incoming = strcmp(dir, "in") == 0;
	r->priority = sqlite3_column_int(st, 7);
	r->state = sqlite3_column_int(st, 8);
	r->created_ms = sqlite3_column_int64(st, 9);
	r->received_ms = sqlite3_column_int64(st, 10);
	r->attempts = (unsigned)sqlite3_column_int64(st, 12);
	r->peer_case = sqlite3_column_int(st, 14) != 0;
	return MLA_OK;
}

mla_err store_api_select(gw_store *s, const struct store_api_filter *f, store_api_row_fn fn,
			 void *arg, size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	struct store_api_row row;
	mla_err r = MLA_OK;
	int rc;

	*n = 0;
	if ((rc = sqlite3_prepare_v2(s->db, select_sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = bind_filter(st, f)) != SQLITE_OK) {
		r = store_fail(s, rc, "api select", diag);
		goto out;
	}
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = read_api_row(st, &row, diag)) == MLA_OK) {
			(*n)++;
			r = fn(&row, arg);
		}
	}
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "api select", diag);
out:
	sqlite3_finalize(st);
	return r;
}

mla_err store_inbox_envelope(gw_store *s, const char *message_id, mla_buf *out,
			     mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	mla_buf_init(out, STORE_BLOB_MAX);
	if ((rc = sqlite3_prepare_v2(s->db,
				     "SELECT envelope FROM inbox WHERE message_id = ?1 AND accepted = 1",
				     -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK) {
		r = store_fail(s, rc, "inbox envelope", diag);
		goto out;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "no received message %s", message_id);
	else if (rc != SQLITE_ROW)
		r = store_fail(s, rc, "inbox envelope", diag);
	else
		r = store_col_blob(st, 0, out, "inbox envelope", diag);
out:
	sqlite3_finalize(st);
	return r;
}

mla_err store_api_rejects(gw_store *s, store_api_count_fn fn, void *arg, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db,
				     "SELECT coalesce(detail, ''), count(*) FROM alerts WHERE kind ="
				     " 'rejected' GROUP BY 1 ORDER BY 1", -1, &st, NULL)) != SQLITE_OK) {
		r = store_fail(s, rc, "api rejects", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(st, 0),
		   (uint64_t)sqlite3_column_int64(st, 1), arg);
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "api rejects", diag);
out:
	sqlite3_finalize(st);
	return r;
}

mla_err store_api_retries(gw_store *s, uint64_t *retries, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	*retries = 0;
	if ((rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(sum(attempts), 0) FROM outbox", -1,
				     &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW)
		r = store_fail(s, rc, "api retries", diag);
	else
		*retries = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return r;
}

mla_err store_api_latency(gw_store *s, const int64_t *bounds_ms, size_t n, uint64_t *counts,
			  uint64_t *total, int64_t *sum_ms, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	memset(counts, 0, n * sizeof(*counts));
	*total = 0;
	*sum_ms = 0;
	/* delivered messages: their last update is the stored, verified receipt */
	if ((rc = sqlite3_prepare_v2(s->db,
				     "SELECT updated_ms - created_ms FROM outbox WHERE state = 3",
				     -1, &st, NULL)) != SQLITE_OK)
		return store_fail(s, rc, "api latency", diag);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t ms = sqlite3_column_int64(st, 0);
		for (size_t i = 0; i < n; i++)
			if (ms <= bounds_ms[i])
				counts[i]++;
		(*total)++;
		*sum_ms += ms;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "api latency", diag);
	sqlite3_finalize(st);
	return r;
}
