/* History (one row per state change of a sent or received message) and alerts (events an
 * operator must see, such as a known message id arriving with another digest). Details are
 * short reasons, cut to MLA_DIAG_MAX - 1 bytes; never content. */
#include <string.h>

#include "store_internal.h"

static int bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, (int)strnlen(v, MLA_DIAG_MAX - 1), SQLITE_STATIC);
}

mla_err store_history_add(gw_store *s, const char *message_id, const char *direction,
			  const char *state, int64_t at_ms, const char *detail, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_HIST_INSERT,
			    "INSERT INTO history (message_id, direction, state, at_ms, detail)"
			    " VALUES (?1, ?2, ?3, ?4, ?5)",
			    &st, diag)) != MLA_OK)
		return r;
	rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, direction, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 4, at_ms);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 5, detail);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "history add", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_history(gw_store *s, const char *message_id, store_history_fn fn, void *arg,
		      mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if (message_id == NULL || fn == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: history: bad arguments");
	/* id is the order of insertion, which is the order of events even if the clock jumped */
	if ((r = store_stmt(s, ST_HIST_SELECT,
			    "SELECT state, at_ms, detail FROM history WHERE message_id = ?1"
			    " ORDER BY id",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
			   (const char *)sqlite3_column_text(st, 2), arg);
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "history", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_alert(gw_store *s, const char *kind, const char *message_id, const char *detail,
		    mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	if (kind == NULL || *kind == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "store: alert: no kind");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_ALERT_INSERT,
			    "INSERT INTO alerts (kind, message_id, at_ms, detail)"
			    " VALUES (?1, ?2, ?3, ?4)",
			    &st, diag)) != MLA_OK)
		goto out;
	rc = bind_opt_text(st, 1, kind);
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 2, message_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 3, store_now_ms());
	if (rc == SQLITE_OK)
		rc = bind_opt_text(st, 4, detail);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "alert", diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_alert_count(gw_store *s, const char *kind, uint64_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*n = 0;
	if (kind == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: alert count: no kind");
	if ((r = store_stmt(s, ST_ALERT_COUNT, "SELECT count(*) FROM alerts WHERE kind = ?1", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW)
		r = store_fail(s, rc, "alert count", diag);
	else
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return r;
}
