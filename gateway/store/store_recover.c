/* Recovery after a store loss (SPEC 14 "Log epochs", Recovery): the "recovery_pending" mark
 * the operator's tools set and the daemon clears, the page of messages a peer may ask back
 * (those it exchanged with this gateway, with their receipts), and the rows of messages given
 * back to a restored store. See store.h, "recovery". */
#include <string.h>

#include "store_internal.h"

#define MARK_KEY "recovery_pending"

mla_err store_recovery_mark(gw_store *s, const char *why, mla_diag *diag)
{
	return store_meta_put(s, MARK_KEY, why, 1, diag);
}

mla_err store_recovery_mark_file(const char *path, const char *why, mla_diag *diag)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	/* a plain connection: the file is a copy not yet in place (mlagw store restore) */
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
				     -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, MARK_KEY, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, why, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail_db(db, rc, "recovery mark", diag);
	(void)sqlite3_finalize(st);
	if (sqlite3_close(db) != SQLITE_OK && r == MLA_OK)
		r = mla_fail(diag, MLA_ERR_IO, "store: cannot close %s", path);
	return r;
}

mla_err store_recovery_pending(gw_store *s, int *pending, char *why, size_t cap,
			       mla_diag *diag)
{
	mla_err r = store_meta_get(s, MARK_KEY, why, cap, diag);

	*pending = r == MLA_OK;
	return r == MLA_ERR_NOT_FOUND ? MLA_OK : r;
}

mla_err store_recovery_clear(gw_store *s, mla_diag *diag)
{
	return store_exec(s, ST_REC_CLEAR, "DELETE FROM meta WHERE key = '" MARK_KEY "'",
			  "recovery clear", diag);
}

mla_err store_newest_message_ms(gw_store *s, int64_t *ms, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*ms = 0;
	if ((r = store_stmt(s, ST_REC_NEWEST,
			    "SELECT max(coalesce((SELECT max(created_ms) FROM outbox), 0),"
			    " coalesce((SELECT max(created_ms) FROM inbox), 0))", &st, diag)) !=
	    MLA_OK)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		r = store_fail(s, rc, "newest message", diag);
	else
		*ms = sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return r;
}

/* The page's rows in their one order (time, direction, message id) after the cursor: the
 * inbox's accepted messages from peer (direction 0: the peer sent them) and the outbox's
 * delivered ones to peer (1: the peer received them), each with its envelope and receipt. */
#define PAGE_SQL                                                                              \
	"SELECT t, d, id, env, rcpt FROM ("                                                   \
	" SELECT created_ms AS t, 0 AS d, message_id AS id, envelope AS env, receipt AS rcpt"  \
	"  FROM inbox WHERE from_state = ?1 AND accepted = 1 AND created_ms >= ?2"            \
	" UNION ALL"                                                                          \
	" SELECT o.created_ms, 1, o.message_id, e.envelope, o.receipt FROM outbox AS o"       \
	"  JOIN outbox_envelope AS e ON e.message_id = o.message_id"                          \
	"  WHERE o.to_state = ?1 AND o.state = 3 AND o.receipt IS NOT NULL"                   \
	"  AND o.created_ms >= ?2)"                                                           \
	" WHERE (t, d, id) > (?3, ?4, ?5) ORDER BY t, d, id LIMIT ?6"

static int bind_page(sqlite3_stmt *st, const char *peer, int64_t since_ms,
		     const struct store_recover_key *after, size_t max)
{
	int rc = sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 2, since_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, after != NULL ? after->time_ms : INT64_MIN);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 4, after != NULL ? after->dir : 0);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, after != NULL ? after->message_id : "", -1,
				       SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, (sqlite3_int64)max);
	return rc;
}

mla_err store_recover_page(gw_store *s, const char *peer, int64_t since_ms,
			   const struct store_recover_key *after, size_t max,
			   store_recover_fn fn, void *arg, mla_diag *diag)
{
	struct store_recover_row row;
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_REC_PAGE, PAGE_SQL, &st, diag)) != MLA_OK)
		return r;
	if ((rc = bind_page(st, peer, since_ms, after, max)) != SQLITE_OK) {
		r = store_fail(s, rc, "recover page", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.key.time_ms = sqlite3_column_int64(st, 0);
		row.key.dir = sqlite3_column_int(st, 1);
		if ((r = store_col_text(st, 2, row.key.message_id, sizeof(row.key.message_id),
					"recover page", diag)) != MLA_OK)
			goto out;
		row.envelope = sqlite3_column_blob(st, 3);
		row.envelope_len = (size_t)sqlite3_column_bytes(st, 3);
		row.receipt = sqlite3_column_blob(st, 4);
		row.receipt_len = (size_t)sqlite3_column_bytes(st, 4);
		if (row.envelope == NULL || row.receipt == NULL) {
			r = mla_fail(diag, MLA_ERR_STORE, "store: recover page: a row of %s without "
				     "its envelope or receipt", row.key.message_id);
			goto out;
		}
		if (fn(&row, arg) == 0)
			goto out; /* the page is full */
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "recover page", diag);
out:
	store_stmt_done(st);
	return r;
}

static mla_err insert_out(gw_store *s, const struct out_msg *m, const uint8_t *env, size_t len,
			  const uint8_t *receipt, size_t rlen, int peer_case, int64_t now,
			  mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_REC_OUT,
			    "INSERT INTO outbox (message_id, case_id, to_state, kind, action,"
			    " priority, state, attempts, created_ms, next_attempt_ms, deadline_ms,"
			    " digest, updated_ms, in_reply_to, submitted_by, peer_case, receipt,"
			    " last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 3, 0, ?7, ?8, ?9, ?10, ?11,"
			    " ?12, ?13, ?16, ?14, ?15)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_outbox_bind_row(st, m, now)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 14, receipt, (sqlite3_uint64)rlen, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 15, m->last_error, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 16, peer_case)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "recovered outbox row", diag);
	store_stmt_done(st);
	if (r != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_REC_OUT_ENV,
			    "INSERT INTO outbox_envelope (message_id, envelope) VALUES (?1, ?2)", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 2, env, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "recovered outbox envelope", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_outbox_put_recovered(gw_store *s, const struct out_msg *m, const uint8_t *env,
				   size_t len, const uint8_t *receipt, size_t rlen,
				   mla_diag *diag)
{
	int64_t now = store_now_ms();
	mla_err r;
	int own = 0, peer_case = 0;

	if ((r = store_check_str(m->message_id, sizeof(m->message_id), 1, "message id", diag)) ||
	    (r = store_check_str(m->to_state, sizeof(m->to_state), 1, "to state", diag)) ||
	    (r = store_check_str(m->last_error, sizeof(m->last_error), 0, "detail", diag)))
		return r;
	if (env == NULL || len == 0 || receipt == NULL || rlen == 0)
		return mla_fail(diag, MLA_ERR_ARG, "store: recovered message without its envelope "
				"or receipt");
	if (len > STORE_BLOB_MAX || rlen > STORE_BLOB_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: recovered message: blob too large");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_case_key(s, 0, m->case_id, m->in_reply_to, m->to_state, m->action,
				&peer_case, diag)) == MLA_OK &&
	    (r = insert_out(s, m, env, len, receipt, rlen, peer_case, now, diag)) == MLA_OK)
		r = store_history_add(s, m->message_id, "out", msg_state_name(MSG_DELIVERED), now,
				      m->last_error, diag);
	return store_write_leave(s, own, r, diag);
}

mla_err store_recovered_peer_case(gw_store *s, int outgoing, const char *message_id,
				  int peer_case, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	r = outgoing ? store_stmt(s, ST_REC_CASE_OUT, "UPDATE outbox SET peer_case = ?2 WHERE"
				  " message_id = ?1", &st, diag)
		     : store_stmt(s, ST_REC_CASE_IN, "UPDATE inbox SET peer_case = ?2 WHERE"
				  " message_id = ?1 AND accepted = 1", &st, diag);
	if (r != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 2, peer_case != 0)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "recovered case", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_recovered_step_known(gw_store *s, const char *message_id, int *known,
				   mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*known = 0;
	if ((r = store_stmt(s, ST_REC_STEP_KNOWN, "SELECT 1 FROM case_steps WHERE message_id = ?1",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "recovered step", diag);
	else
		*known = rc == SQLITE_ROW;
	store_stmt_done(st);
	return r;
}
