/* Earlier seals of a message sealed again (SPEC 13 Time, Re-sealing): the outbox row moves to
 * the new seal and the old one, with the negative receipt that refused it, is kept in
 * outbox_seals, all in one transaction with the history row. */
#include <string.h>

#include "store_internal.h"

/* The message's current digest and state, and how many seals it has replaced. */
static mla_err current_seal(gw_store *s, const char *message_id, uint8_t digest[32],
			    int *state, unsigned *replaced, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;

	if ((r = store_outbox_select(s, ST_SEAL_CUR,
				     "SELECT digest, state, (SELECT count(*) FROM outbox_seals"
				     " WHERE message_id = ?1) FROM outbox WHERE message_id = ?1",
				     message_id, "outbox reseal", &st, diag)) != MLA_OK)
		goto out;
	if ((r = store_col_digest(st, 0, digest, "outbox reseal", diag)) != MLA_OK)
		goto out;
	*state = sqlite3_column_int(st, 1);
	*replaced = (unsigned)sqlite3_column_int(st, 2);
out:
	store_stmt_done(st);
	return r;
}

/* Copies the current envelope into outbox_seals as seal n, with the refusal's receipt. */
static mla_err keep_old_seal(gw_store *s, const char *message_id, unsigned n,
			     const uint8_t digest[32], const uint8_t *refusal, size_t rlen,
			     mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_SEAL_KEEP,
			    "INSERT INTO outbox_seals (message_id, seal, digest, envelope, receipt)"
			    " SELECT message_id, ?2, ?3, envelope, ?4 FROM outbox_envelope"
			    " WHERE message_id = ?1",
			    &st, diag)) != MLA_OK)
		return r;
	rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, (int)n);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 3, digest, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 4, refusal, (sqlite3_uint64)rlen, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE && sqlite3_changes(s->db) != 1)
		r = mla_fail(diag, MLA_ERR_STORE, "store: outbox reseal: no envelope for %.36s",
			     message_id);
	else if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "outbox reseal", diag);
	store_stmt_done(st);
	return r;
}

/* The new seal in place of the old: envelope, digest, queued and due now. */
static mla_err put_new_seal(gw_store *s, const char *message_id, const struct store_seal *n,
			    int64_t now, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_SEAL_ENV,
			    "UPDATE outbox_envelope SET envelope = ?2 WHERE message_id = ?1", &st,
			    diag)) != MLA_OK)
		return r;
	rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob64(st, 2, n->envelope, (sqlite3_uint64)n->len, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "outbox reseal", diag);
	if ((r = store_stmt(s, ST_SEAL_ROW,
			    "UPDATE outbox SET digest = ?2, state = 0, next_attempt_ms = ?3,"
			    " last_error = ?4, updated_ms = ?3 WHERE message_id = ?1 AND state < 3",
			    &st, diag)) != MLA_OK)
		return r;
	rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, n->digest, 32, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 4, n->why, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	store_stmt_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(s, rc, "outbox reseal", diag);
	return store_history_add(s, message_id, "out", "resealed", now, n->why, diag);
}

mla_err store_outbox_reseal(gw_store *s, const char *message_id, const struct store_seal *n,
			    unsigned *seal_no, mla_diag *diag)
{
	uint8_t cur[32];
	unsigned replaced = 0;
	int state = 0, own = 0;
	mla_err r;

	if (message_id == NULL || n == NULL || n->envelope == NULL || n->len == 0 ||
	    n->refusal == NULL || n->refusal_len == 0 || n->why == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: outbox reseal: bad arguments");
	if (n->len > STORE_BLOB_MAX || n->refusal_len > STORE_BLOB_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: outbox reseal: too large");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = current_seal(s, message_id, cur, &state, &replaced, diag)) != MLA_OK)
		goto out;
	if (memcmp(cur, n->old_digest, 32) != 0 || state >= MSG_DELIVERED)
		r = mla_fail(diag, MLA_ERR_ARG, "store: outbox reseal: %.36s is %s or was sealed "
			     "again already", message_id, msg_state_name((msg_state)state));
	else if (replaced >= STORE_SEALS_MAX)
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "store: outbox reseal: %.36s was sealed %u "
			     "times already", message_id, replaced + 1);
	else if ((r = keep_old_seal(s, message_id, replaced + 1, cur, n->refusal, n->refusal_len,
				    diag)) == MLA_OK &&
		 (r = put_new_seal(s, message_id, n, store_now_ms(), diag)) == MLA_OK)
		*seal_no = replaced + 1;
out:
	return store_write_leave(s, own, r, diag);
}
