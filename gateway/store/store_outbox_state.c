/* The outbox's changes of state: retries, in-flight states, final states with the receipt,
 * recovery after a restart. Each change adds a history row in the same transaction. Final
 * states (delivered, rejected, failed) never change again, so a late retry cannot send a
 * delivered message twice. */
#include <string.h>

#include "store_internal.h"

/* Binds detail (may be NULL) cut to what out_msg.last_error can hold. */
static int bind_detail(sqlite3_stmt *st, int i, const char *detail)
{
	if (detail == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, detail, (int)strnlen(detail, MLA_DIAG_MAX - 1),
				 SQLITE_STATIC);
}

/* An update matched no row: the message is missing, or in a final state. */
static mla_err unchanged(gw_store *s, const char *message_id, const char *op, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int cur;

	if ((r = store_outbox_select(s, ST_OUT_STATE, "SELECT state FROM outbox WHERE message_id = ?1",
			    message_id, op, &st, diag)) == MLA_OK) {
		cur = sqlite3_column_int(st, 0);
		r = mla_fail(diag, MLA_ERR_ARG, "store: %s: %.36s is already %s; a final state"
			     " does not change", op, message_id, msg_state_name((msg_state)cur));
	}
	store_stmt_done(st);
	return r;
}

/* Steps an UPDATE of one message (bound by the caller) and adds its history row. */
static mla_err update_one(gw_store *s, sqlite3_stmt *st, const char *message_id,
			  msg_state state, const char *detail, int64_t now, const char *op,
			  mla_diag *diag)
{
	int rc;

	if ((rc = sqlite3_step(st)) != SQLITE_DONE)
		return store_fail(s, rc, op, diag);
	if (sqlite3_changes(s->db) == 0)
		return unchanged(s, message_id, op, diag);
	return store_history_add(s, message_id, "out", msg_state_name(state), now, detail, diag);
}

mla_err store_outbox_set_state(gw_store *s, const char *message_id, msg_state state,
			       int64_t next_attempt_ms, const char *detail, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t now = store_now_ms();
	mla_err r;
	int own = 0, rc;

	if (message_id == NULL || state < MSG_QUEUED || state > MSG_FAILED)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox set state: bad arguments");
	if (state == MSG_DELIVERED)
		return mla_fail(diag, MLA_ERR_ARG,
				"store: outbox set state: delivered needs a receipt");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if (state == MSG_QUEUED)
		r = store_stmt(s, ST_OUT_RETRY,
			       "UPDATE outbox SET state = 0, attempts = attempts + 1,"
			       " next_attempt_ms = ?2, last_error = coalesce(?3, last_error),"
			       " updated_ms = ?4 WHERE message_id = ?1 AND state < 3",
			       &st, diag);
	else
		r = store_stmt(s, ST_OUT_SET,
			       "UPDATE outbox SET state = ?2, last_error = coalesce(?3, last_error),"
			       " updated_ms = ?4 WHERE message_id = ?1 AND state < 3",
			       &st, diag);
	if (r != MLA_OK)
		goto out;
	rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = state == MSG_QUEUED ? sqlite3_bind_int64(st, 2, next_attempt_ms)
					 : sqlite3_bind_int(st, 2, (int)state);
	if (rc == SQLITE_OK)
		rc = bind_detail(st, 3, detail);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, now);
	r = rc != SQLITE_OK ? store_fail(s, rc, "outbox set state", diag)
			    : update_one(s, st, message_id, state, detail, now,
					 "outbox set state", diag);
	if (r == MLA_OK && state == MSG_FAILED) /* a failed step never reached the peer */
		r = store_life_settle_in(s, message_id, 0, now, diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

static int bind_receipt(sqlite3_stmt *st, const char *message_id, msg_state final_state,
			const uint8_t *receipt, size_t len, const char *detail, int64_t now)
{
	int rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, (int)final_state);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 3, receipt, (sqlite3_uint64)len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = bind_detail(st, 4, detail);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, now);
	return rc;
}

mla_err store_outbox_receipt(gw_store *s, const char *message_id, msg_state final_state,
			     const uint8_t *receipt, size_t len, const char *detail,
			     mla_diag *diag)
{
	return store_outbox_receipt_at(s, message_id, final_state, receipt, len, detail,
				       store_now_ms(), diag);
}

mla_err store_outbox_receipt_at(gw_store *s, const char *message_id, msg_state final_state,
				const uint8_t *receipt, size_t len, const char *detail,
				int64_t receipt_ms, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	int64_t now = store_now_ms();
	mla_err r;
	int own = 0, rc;

	if (message_id == NULL || receipt == NULL || len == 0 ||
	    (final_state != MSG_DELIVERED && final_state != MSG_REJECTED))
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox receipt: bad arguments");
	if (len > STORE_BLOB_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: outbox receipt: %zu bytes", len);
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_OUT_RECEIPT,
			    "UPDATE outbox SET state = ?2, receipt = ?3,"
			    " last_error = coalesce(?4, last_error), updated_ms = ?5"
			    " WHERE message_id = ?1 AND state < 3",
			    &st, diag)) != MLA_OK)
		goto out;
	if ((rc = bind_receipt(st, message_id, final_state, receipt, len, detail, now)) !=
	    SQLITE_OK)
		r = store_fail(s, rc, "outbox receipt", diag);
	else
		r = update_one(s, st, message_id, final_state, detail, now, "outbox receipt",
			       diag);
	if (r == MLA_OK) /* the case moves with the receipt of its step, never without */
		r = store_life_settle_in(s, message_id, final_state == MSG_DELIVERED, receipt_ms,
				      diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_outbox_receipt_get(gw_store *s, const char *message_id, mla_buf *out,
				 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;

	mla_buf_init(out, STORE_BLOB_MAX);
	if ((r = store_outbox_select(s, ST_OUT_RECEIPT_GET,
				     "SELECT receipt FROM outbox WHERE message_id = ?1", message_id,
				     "outbox receipt get", &st, diag)) != MLA_OK)
		goto out;
	if (sqlite3_column_type(st, 0) == SQLITE_NULL)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no receipt stored for %.36s",
			     message_id);
	else
		r = store_col_blob(st, 0, out, "outbox receipt get", diag);
out:
	store_stmt_done(st);
	return r;
}

static mla_err recover_rows(gw_store *s, int64_t now_ms, int64_t now, size_t *n,
			    mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	/* history first: afterwards the rows no longer show which were in flight */
	if ((r = store_stmt(s, ST_OUT_RECOVER_HIST,
			    "INSERT INTO history (message_id, direction, state, at_ms, detail)"
			    " SELECT message_id, 'out', 'queued', ?1, 'recovered after restart'"
			    " FROM outbox WHERE state IN (1, 2) ORDER BY created_ms, message_id",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "outbox recover", diag);
		goto out;
	}
	store_stmt_done(st);
	if ((r = store_stmt(s, ST_OUT_RECOVER,
			    "UPDATE outbox SET state = 0, next_attempt_ms = ?1, updated_ms = ?2"
			    " WHERE state IN (1, 2)",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, now)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "outbox recover", diag);
		goto out;
	}
	*n = (size_t)sqlite3_changes(s->db);
out:
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_recover(gw_store *s, int64_t now_ms, size_t *n, mla_diag *diag)
{
	mla_err r;
	size_t count = 0;
	int own = 0;

	*n = 0;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = recover_rows(s, now_ms, store_now_ms(), &count, diag);
	if ((r = store_write_leave(s, own, r, diag)) == MLA_OK)
		*n = count;
	return r;
}

mla_err store_outbox_wake(gw_store *s, const char *to_state, int64_t now_ms, size_t *n,
			  mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	*n = 0;
	if (to_state == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox wake: no State");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_OUT_WAKE,
			    "UPDATE outbox SET next_attempt_ms = ?2"
			    " WHERE state = 0 AND to_state = ?1 AND next_attempt_ms > ?2",
			    &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, to_state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, now_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "outbox wake", diag);
	else
		*n = (size_t)sqlite3_changes(s->db);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_outbox_note(gw_store *s, const char *message_id, const char *what,
			  const char *detail, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if (message_id == NULL || what == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox note: no message or note");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = store_history_add(s, message_id, "out", what, store_now_ms(), detail, diag);
	return store_write_leave(s, own, r, diag);
}
