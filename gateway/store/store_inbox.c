/* The inbox: every envelope received, with the receipt it was answered with (accepted), or the
 * negative receipt of a refusal. Looking a message id up is how a duplicate gets the very same
 * answer as the original, never a positive receipt after a refusal. */
#include <string.h>

#include "store_internal.h"

mla_err store_inbox_lookup(gw_store *s, const char *message_id, int *found, uint8_t digest[32],
			   mla_buf *receipt, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	mla_buf_init(receipt, STORE_BLOB_MAX);
	if (message_id == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: inbox lookup: no message id");
	if ((r = store_stmt(s, ST_IN_LOOKUP,
			    "SELECT digest, receipt FROM inbox WHERE message_id = ?1", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		r = store_fail(s, rc, "inbox lookup", diag);
		goto out;
	}
	if (rc == SQLITE_DONE)
		goto out;
	if ((r = store_col_digest(st, 0, digest, "inbox lookup", diag)) != MLA_OK ||
	    (r = store_col_blob(st, 1, receipt, "inbox lookup", diag)) != MLA_OK) {
		mla_buf_free(receipt);
		goto out;
	}
	*found = 1;
out:
	store_stmt_done(st);
	return r;
}

mla_err store_inbox_from_state(gw_store *s, const char *message_id, int *found,
			       char from_state[3], mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	from_state[0] = '\0';
	if (message_id == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: inbox sender: no message id");
	if ((r = store_stmt(s, ST_IN_FROM, "SELECT from_state FROM inbox WHERE message_id = ?1",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "inbox sender", diag);
	else if (rc == SQLITE_ROW &&
		 (r = store_col_text(st, 0, from_state, 3, "inbox sender", diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	return r;
}

static mla_err check_in(const struct in_msg *m, int accepted, const uint8_t *env,
			size_t env_len, const uint8_t *receipt, size_t receipt_len,
			mla_diag *diag)
{
	mla_err r;

	if ((r = store_check_str(m->message_id, sizeof(m->message_id), 1, "message id", diag)) ||
	    (r = store_check_str(m->case_id, sizeof(m->case_id), 0, "case id", diag)) ||
	    (r = store_check_str(m->in_reply_to, sizeof(m->in_reply_to), 0, "in reply to",
				 diag)) ||
	    (r = store_check_str(m->from_state, sizeof(m->from_state), 0, "from state", diag)) ||
	    (r = store_check_str(m->kind, sizeof(m->kind), 0, "kind", diag)) ||
	    (r = store_check_str(m->action, sizeof(m->action), 0, "action", diag)))
		return r;
	if (m->priority < MLA_PRIORITY_NORMAL || m->priority > MLA_PRIORITY_CRISIS)
		return mla_fail(diag, MLA_ERR_ARG, "store: inbox put: priority %d", m->priority);
	if ((accepted != 0 && accepted != 1) || (accepted && (env == NULL || env_len == 0)) ||
	    (env == NULL && env_len != 0))
		return mla_fail(diag, MLA_ERR_ARG, "store: inbox put: an accepted message needs"
			     " its envelope");
	if (receipt == NULL || receipt_len == 0)
		return mla_fail(diag, MLA_ERR_ARG, "store: inbox put: no receipt");
	if (env_len > STORE_BLOB_MAX || receipt_len > STORE_BLOB_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: inbox put: blob too large");
	return MLA_OK;
}

static int bind_in(sqlite3_stmt *st, const struct in_msg *m, int accepted, const uint8_t *env,
		   size_t env_len, const uint8_t *receipt, size_t receipt_len)
{
	int rc = sqlite3_bind_text(st, 1, m->message_id, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, m->case_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, m->in_reply_to, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, m->from_state, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 5, m->kind, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 6, m->action, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 7, m->priority);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 8, m->created_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, m->received_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 10, m->digest, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 11, accepted);
	if (rc == SQLITE_OK)
		rc = env != NULL ? sqlite3_bind_blob64(st, 12, env, (sqlite3_uint64)env_len,
						       SQLITE_STATIC)
				 : sqlite3_bind_null(st, 12);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 13, receipt, (sqlite3_uint64)receipt_len,
					 SQLITE_STATIC);
	return rc;
}

mla_err store_inbox_put(gw_store *s, const struct in_msg *m, int accepted, const uint8_t *env,
			size_t env_len, const uint8_t *receipt, size_t receipt_len,
			mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, peer_case = 1, rc;

	if ((r = check_in(m, accepted, env, env_len, receipt, receipt_len, diag)) != MLA_OK)
		return r;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_case_key(s, 1, m->case_id, m->in_reply_to, m->from_state, m->action,
				&peer_case, diag)) != MLA_OK)
		goto out;
	if ((r = store_stmt(s, ST_IN_INSERT,
			    "INSERT INTO inbox (message_id, case_id, in_reply_to, from_state, kind,"
			    " action, priority, created_ms, received_ms, digest, accepted, envelope,"
			    " receipt, peer_case) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
			    " ?12, ?13, ?14)",
			    &st, diag)) != MLA_OK)
		goto out;
	if ((rc = bind_in(st, m, accepted, env, env_len, receipt, receipt_len)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 14, peer_case)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "inbox put", diag);
		goto out;
	}
	r = store_history_add(s, m->message_id, "in", accepted ? "received" : "rejected",
			      store_now_ms(), NULL, diag);
	if (r == MLA_OK && accepted && m->life != NULL) /* with its inbox row: exactly once */
		r = store_life_apply_in(s, m->life, diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_inbox_count(gw_store *s, uint64_t *accepted, uint64_t *rejected, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	sqlite3_int64 c;
	mla_err r;
	int rc;

	*accepted = 0;
	*rejected = 0;
	if ((r = store_stmt(s, ST_IN_COUNTS,
			    "SELECT accepted, count(*) FROM inbox GROUP BY accepted", &st, diag)) !=
	    MLA_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c = sqlite3_column_int64(st, 1);
		if (c < 0)
			continue;
		if (sqlite3_column_int(st, 0))
			*accepted = (uint64_t)c;
		else
			*rejected = (uint64_t)c;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "inbox count", diag);
	store_stmt_done(st);
	return r;
}
