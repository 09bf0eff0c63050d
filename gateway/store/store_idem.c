/* Idempotency keys (schema 5; docs/api/README.md, "Idempotency"): a submission's key per
 * principal, the SHA-256 of the request it came with and the message it made. The row is
 * written by store_outbox_put in the outbox row's own transaction. */
#include <string.h>

#include "store_internal.h"

mla_err store_idem_get(gw_store *s, const char *principal, const char *key,
		       int64_t not_before_ms, struct store_idem *out, int *found, mla_diag *diag)
{
	static const char op[] = "idempotency key";
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if ((r = store_stmt(s, ST_IDEM_GET,
			    "SELECT i.message_id, o.case_id, o.to_state, o.in_reply_to, i.digest"
			    " FROM idempotency AS i JOIN outbox AS o ON o.message_id = i.message_id"
			    " WHERE i.principal = ?1 AND i.key = ?2 AND i.created_ms >= ?3",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, principal, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 3, not_before_ms)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		r = store_fail(s, rc, op, diag);
	} else if (rc == SQLITE_ROW &&
		   (r = store_col_text(st, 0, out->message_id, sizeof(out->message_id), op,
				       diag)) == MLA_OK &&
		   (r = store_col_text(st, 1, out->case_id, sizeof(out->case_id), op, diag)) ==
			   MLA_OK &&
		   (r = store_col_text(st, 2, out->to_state, sizeof(out->to_state), op, diag)) ==
			   MLA_OK &&
		   (r = store_col_text(st, 3, out->in_reply_to, sizeof(out->in_reply_to), op,
				       diag)) == MLA_OK &&
		   (r = store_col_digest(st, 4, out->digest, op, diag)) == MLA_OK) {
		*found = 1;
	}
	store_stmt_done(st);
	return r;
}

mla_err store_idem_put(gw_store *s, const struct out_msg *m, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	/* an expired key not purged yet is taken over; a live one is refused */
	if ((r = store_stmt(s, ST_IDEM_PUT,
			    "INSERT INTO idempotency (principal, key, digest, message_id, created_ms)"
			    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (principal, key) DO UPDATE"
			    " SET digest = excluded.digest, message_id = excluded.message_id,"
			    " created_ms = excluded.created_ms WHERE created_ms < ?6", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, m->submitted_by, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, m->idem_key, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, m->idem_digest, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, m->message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 5, m->created_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 6, m->idem_not_before_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "idempotency key put", diag);
	else if (sqlite3_changes(s->db) == 0)
		r = mla_fail(diag, MLA_ERR_EXISTS, "store: idempotency key already stored");
	store_stmt_done(st);
	return r;
}

mla_err store_idem_purge(gw_store *s, int64_t before_ms, size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	*n = 0;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_IDEM_PURGE, "DELETE FROM idempotency WHERE created_ms < ?1",
			    &st, diag)) == MLA_OK) {
		if ((rc = sqlite3_bind_int64(st, 1, before_ms)) != SQLITE_OK ||
		    (rc = sqlite3_step(st)) != SQLITE_DONE)
			r = store_fail(s, rc, "idempotency purge", diag);
		else
			*n = (size_t)sqlite3_changes(s->db);
		store_stmt_done(st);
	}
	return store_write_leave(s, own, r, diag);
}
