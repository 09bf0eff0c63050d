/* The outbox: putting a sealed message, choosing the messages due for sending, reading a
 * message and its envelope, counting. Changes of state are in store_outbox_state.c. */
#include <limits.h>
#include <string.h>

#include "store_internal.h"

#define OUT_COLS STORE_OUT_COLS

static mla_err check_msg(const struct out_msg *m, const uint8_t *env, size_t len,
			 mla_diag *diag)
{
	mla_err r;

	if ((r = store_check_str(m->message_id, sizeof(m->message_id), 1, "message id", diag)) ||
	    (r = store_check_str(m->case_id, sizeof(m->case_id), 0, "case id", diag)) ||
	    (r = store_check_str(m->to_state, sizeof(m->to_state), 1, "to state", diag)) ||
	    (r = store_check_str(m->kind, sizeof(m->kind), 0, "kind", diag)) ||
	    (r = store_check_str(m->action, sizeof(m->action), 0, "action", diag)) ||
	    (r = store_check_str(m->idem_key, sizeof(m->idem_key), 0, "idempotency key", diag)))
		return r;
	if (m->priority < MLA_PRIORITY_NORMAL || m->priority > MLA_PRIORITY_CRISIS)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox put: priority %d", m->priority);
	if (env == NULL || len == 0)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox put: no envelope");
	if (len > STORE_BLOB_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: outbox put: envelope of %zu bytes",
				len);
	return MLA_OK;
}

int store_outbox_bind_row(sqlite3_stmt *st, const struct out_msg *m, int64_t now)
{
	int rc = sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, m->case_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, m->to_state, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, m->kind, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, m->action, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 6, m->priority);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 7, m->created_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, m->next_attempt_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, m->deadline_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 10, m->digest, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 11, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 12, m->in_reply_to, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 13, m->submitted_by, -1, SQLITE_STATIC);
	return rc;
}

static mla_err put_envelope(gw_store *s, const char *message_id, const uint8_t *env,
			   size_t len, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_OUT_INSERT_ENV,
			    "INSERT INTO outbox_envelope (message_id, envelope) VALUES (?1, ?2)", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 2, env, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "outbox put envelope", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_put(gw_store *s, const struct out_msg *m, const uint8_t *env, size_t len,
			 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t now = store_now_ms();
	mla_err r;
	int own = 0, peer_case = 0, rc;

	if ((r = check_msg(m, env, len, diag)) != MLA_OK)
		return r;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	/* the case first: a refused submission writes nothing */
	if ((r = store_case_key(s, 0, m->case_id, m->in_reply_to, m->to_state, m->action,
				&peer_case, diag)) != MLA_OK ||
	    (!peer_case && m->case_state[0] != '\0' &&
	     (r = store_case_claim(s, m, now, diag)) != MLA_OK) ||
	    (m->life != NULL && (r = store_life_pend(s, m->life, diag)) != MLA_OK))
		goto out;
	if ((r = store_stmt(s, ST_OUT_INSERT,
			    "INSERT INTO outbox (message_id, case_id, to_state, kind, action,"
			    " priority, state, attempts, created_ms, next_attempt_ms, deadline_ms,"
			    " digest, updated_ms, in_reply_to, submitted_by, peer_case) VALUES"
			    " (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
			    &st, diag)) != MLA_OK)
		goto out;
	if ((rc = store_outbox_bind_row(st, m, now)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 14, peer_case)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "outbox put", diag);
		goto out;
	}
	store_stmt_done(st);
	st = NULL;
	if ((r = put_envelope(s, m->message_id, env, len, diag)) != MLA_OK ||
	    (m->idem_key[0] != '\0' && (r = store_idem_put(s, m, diag)) != MLA_OK))
		goto out;
	r = store_history_add(s, m->message_id, "out", msg_state_name(MSG_QUEUED), now, NULL,
			      diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_outbox_read_row(sqlite3_stmt *st, struct out_msg *o, const char *op,
			      mla_diag *diag)
{
	sqlite3_int64 attempts = sqlite3_column_int64(st, 7);
	int state = sqlite3_column_int(st, 6);
	mla_err r;

	memset(o, 0, sizeof(*o));
	if ((r = store_col_text(st, 0, o->message_id, sizeof(o->message_id), op, diag)) ||
	    (r = store_col_text(st, 1, o->case_id, sizeof(o->case_id), op, diag)) ||
	    (r = store_col_text(st, 2, o->to_state, sizeof(o->to_state), op, diag)) ||
	    (r = store_col_text(st, 3, o->kind, sizeof(o->kind), op, diag)) ||
	    (r = store_col_text(st, 4, o->action, sizeof(o->action), op, diag)) ||
	    (r = store_col_digest(st, 11, o->digest, op, diag)) ||
	    (r = store_col_text(st, 12, o->last_error, sizeof(o->last_error), op, diag)))
		return r;
	if (state < MSG_QUEUED || state > MSG_FAILED || attempts < 0 || attempts > UINT_MAX)
		return mla_fail(diag, MLA_ERR_STORE, "store: %s: corrupt row for %s", op,
				o->message_id);
	o->priority = sqlite3_column_int(st, 5);
	o->state = (msg_state)state;
	o->attempts = (unsigned)attempts;
	o->created_ms = sqlite3_column_int64(st, 8);
	o->next_attempt_ms = sqlite3_column_int64(st, 9);
	o->deadline_ms = sqlite3_column_int64(st, 10);
	return MLA_OK;
}

mla_err store_outbox_due(gw_store *s, int64_t now_ms, store_peer_filter take, void *arg,
			 struct out_msg *out, size_t max, size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char to_state[3];
	mla_err r;
	int rc = SQLITE_DONE;

	*n = 0;
	if (max > 0 && out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox due: no output array");
	if ((r = store_stmt(s, ST_OUT_DUE,
			    "SELECT " OUT_COLS " FROM outbox WHERE state = 0"
			    " AND next_attempt_ms <= ?1"
			    " ORDER BY priority DESC, created_ms ASC, message_id ASC",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK)
		goto out;
	rc = SQLITE_DONE; /* when max is 0 */
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = store_col_text(st, 2, to_state, sizeof(to_state), "outbox due", diag)))
			goto out;
		if (take != NULL && !take(to_state, arg))
			continue;
		if ((r = store_outbox_read_row(st, &out[*n], "outbox due", diag)) != MLA_OK)
			goto out;
		(*n)++;
	}
out:
	if (r == MLA_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(s, rc, "outbox due", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_overdue(gw_store *s, int64_t now_ms, struct out_msg *out, size_t max,
			     size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = SQLITE_DONE;

	*n = 0;
	if (max > 0 && out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox overdue: no output array");
	if ((r = store_stmt(s, ST_OUT_OVERDUE,
			    "SELECT " OUT_COLS " FROM outbox WHERE state = 0 AND deadline_ms <= ?1"
			    " ORDER BY deadline_ms, message_id LIMIT ?2",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)max)) != SQLITE_OK)
		goto out;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = store_outbox_read_row(st, &out[*n], "outbox overdue", diag)) != MLA_OK)
			goto out;
		(*n)++;
	}
out:
	if (r == MLA_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = store_fail(s, rc, "outbox overdue", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_select(gw_store *s, enum store_stmt_id id, const char *sql,
			  const char *message_id, const char *op, sqlite3_stmt **st,
			  mla_diag *diag)
{
	mla_err r;
	int rc;

	if (message_id == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: %s: no message id", op);
	if ((r = store_stmt(s, id, sql, st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(*st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(*st)) != SQLITE_ROW && rc != SQLITE_DONE))
		return store_fail(s, rc, op, diag);
	if (rc == SQLITE_DONE)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "store: %s: no outbox message %.36s", op,
				message_id);
	return MLA_OK;
}

mla_err store_outbox_envelope(gw_store *s, const char *message_id, mla_buf *out,
			      mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;

	mla_buf_init(out, STORE_BLOB_MAX);
	if ((r = store_outbox_select(s, ST_OUT_ENVELOPE,
				     "SELECT envelope FROM outbox_envelope WHERE message_id = ?1",
				     message_id, "outbox envelope", &st, diag)) == MLA_OK)
		r = store_col_blob(st, 0, out, "outbox envelope", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_get(gw_store *s, const char *message_id, struct out_msg *out,
			 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;

	if ((r = store_outbox_select(s, ST_OUT_GET,
				     "SELECT " OUT_COLS " FROM outbox WHERE message_id = ?1",
				     message_id, "outbox get", &st, diag)) == MLA_OK)
		r = store_outbox_read_row(st, out, "outbox get", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_counts(gw_store *s, uint64_t counts[6], mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 c;
	mla_err r;
	int rc, state;

	memset(counts, 0, 6 * sizeof(counts[0]));
	if ((r = store_stmt(s, ST_OUT_COUNTS,
			    "SELECT state, count(*) FROM outbox GROUP BY state", &st, diag)) !=
	    MLA_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		state = sqlite3_column_int(st, 0);
		c = sqlite3_column_int64(st, 1);
		if (state >= MSG_QUEUED && state <= MSG_FAILED && c >= 0)
			counts[state] = (uint64_t)c;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "outbox counts", diag);
	store_stmt_done(st);
	return r;
}
