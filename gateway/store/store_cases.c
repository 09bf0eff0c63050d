/* Case ownership (docs/api/README.md, "Own"): which case a message belongs to, keyed on
 * (requesting State, case id), and who opened each case of this State. The case is opened in
 * the same transaction as the outbox row of its first message (store_outbox_put). */
#include <string.h>

#include "store_internal.h"

mla_err store_case_key(gw_store *s, int incoming, const char *case_id, const char *in_reply_to,
		       const char *peer, const char *action, int *peer_case, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	*peer_case = incoming;
	/* a request is always its sender's case (SPEC 16.8: the requesting State names it),
	 * whatever message it relates to: an outgoing request whose InReplyTo names a message of
	 * the peer's case of the same id must not land in that case (the answers to it would be
	 * refused there forever) */
	if (in_reply_to == NULL || in_reply_to[0] == '\0' || strcmp(action, "request") == 0 ||
	    strcmp(action, "other-channel") == 0) /* the record of a request: SPEC 16.11 */
		return MLA_OK;
	/* the message answered: exchanged with the same peer, in the same case id */
	if ((r = store_stmt(s, ST_CASE_KEY,
			    "SELECT peer_case FROM outbox WHERE message_id = ?1 AND case_id = ?2"
			    " AND to_state = ?3 UNION ALL SELECT peer_case FROM inbox"
			    " WHERE message_id = ?1 AND case_id = ?2 AND from_state = ?3"
			    " AND accepted = 1 LIMIT 1", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, in_reply_to, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case key", diag);
	else if (rc == SQLITE_ROW)
		*peer_case = sqlite3_column_int(st, 0) != 0;
	store_stmt_done(st);
	return r;
}

mla_err store_case_owner(gw_store *s, const char *state, const char *case_id, char owner[96],
			 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	owner[0] = '\0';
	if ((r = store_stmt(s, ST_CASE_OWNER,
			    "SELECT owner FROM cases WHERE state = ?1 AND case_id = ?2", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, case_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case owner", diag);
	else if (rc == SQLITE_ROW)
		r = store_col_text(st, 0, owner, 96, "case owner", diag);
	store_stmt_done(st);
	return r;
}

/* Opens (state, case_id) for m's submitter if nobody has; MLA_ERR_FORBIDDEN when another
 * owns it and m is not granted. Inside store_outbox_put's write. */
mla_err store_case_claim(gw_store *s, const struct out_msg *m, int64_t now, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char owner[96];
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_CASE_OPEN,
			    "INSERT OR IGNORE INTO cases (state, case_id, owner, opened_ms)"
			    " VALUES (?1, ?2, ?3, ?4)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, m->case_state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, m->case_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 3, m->submitted_by, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, now)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case open", diag);
	store_stmt_done(st);
	if (r == MLA_OK && (r = store_case_owner(s, m->case_state, m->case_id, owner, diag)) ==
				   MLA_OK &&
	    strcmp(owner, m->submitted_by) != 0 && !m->case_granted)
		r = mla_fail(diag, MLA_ERR_FORBIDDEN, "the case belongs to another authority");
	return r;
}

mla_err store_cases_adopt(gw_store *s, const char *state, const char *socket_actor,
			  size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	*n = 0;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	/* SQLite takes the bare column submitted_by from the row of min(created_ms) */
	if ((rc = sqlite3_prepare_v2(s->db,
				     "INSERT OR IGNORE INTO cases (state, case_id, owner, opened_ms)"
				     " SELECT ?1, case_id, CASE submitted_by WHEN '' THEN ?2"
				     " ELSE submitted_by END, min(created_ms)"
				     " FROM outbox WHERE peer_case = 0 AND EXISTS (SELECT 1 FROM meta"
				     " WHERE key = 'cases_adopt') GROUP BY case_id", -1, &st,
				     NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, socket_actor, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "case adopt", diag);
		goto out;
	}
	*n = (size_t)sqlite3_changes(s->db);
	if ((rc = sqlite3_exec(s->db, "DELETE FROM meta WHERE key = 'cases_adopt'", NULL, NULL,
			       NULL)) != SQLITE_OK)
		r = store_fail(s, rc, "case adopt", diag);
out:
	sqlite3_finalize(st);
	return store_write_leave(s, own, r, diag);
}
