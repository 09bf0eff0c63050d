/* Signed checkpoints of the audit log (see store.h): one row per signed tree head, the note
 * exactly as signed, sizes only growing and never beyond the log. */
#include <string.h>

#include "store_check.h"
#include "store_internal.h"

#define CP_NOTE_MAX 16384 /* MLA_NOTE_MAX: a note is never longer */

/* The checkpoint's row, inside a transaction or savepoint the caller holds. */
static mla_err insert(gw_store *s, uint64_t size, const char *note, size_t len, int64_t at_ms,
		      mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint64_t next = 0, latest = 0;
	mla_err r;
	int rc;

	if ((r = store_audit_next(s, &next, diag)) != MLA_OK)
		goto out;
	if (size > next) {
		r = mla_fail(diag, MLA_ERR_ARG, "store: checkpoint of size %llu, the log has %llu",
			     (unsigned long long)size, (unsigned long long)next);
		goto out;
	}
	r = store_checkpoint_latest(s, &latest, NULL, NULL, diag);
	if (r == MLA_OK && latest >= size) {
		r = mla_fail(diag, MLA_ERR_EXISTS,
			     "store: checkpoint of size %llu, one of size %llu exists",
			     (unsigned long long)size, (unsigned long long)latest);
		goto out;
	}
	if (r != MLA_OK && r != MLA_ERR_NOT_FOUND)
		goto out;
	if ((r = store_stmt(s, ST_CP_INSERT,
			    "INSERT INTO checkpoints (size, note, at_ms) VALUES (?1, ?2, ?3)", &st,
			    diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)size)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 2, note, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 3, at_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "checkpoint put", diag);
out:
	store_stmt_done(st);
	return r;
}

mla_err store_checkpoint_put(gw_store *s, uint64_t size, const char *note, size_t len,
			     int64_t at_ms, mla_diag *diag)
{
	return store_checkpoint_put_key(s, size, note, len, at_ms, NULL, diag);
}

mla_err store_checkpoint_put_key(gw_store *s, uint64_t size, const char *note, size_t len,
				 int64_t at_ms, const char *vkey, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if (note == NULL || len == 0 || len > CP_NOTE_MAX || size == 0 ||
	    size > (uint64_t)INT64_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "store: checkpoint put: bad arguments");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = insert(s, size, note, len, at_ms, diag)) == MLA_OK && vkey != NULL)
		r = store_audit_key_add(s, vkey, size, diag);
	return store_write_leave(s, own, r, diag);
}

/* Reads the row st is on: size, note (NUL-terminated), at_ms. */
static mla_err read_row(sqlite3_stmt *st, uint64_t *size, mla_buf *note, int64_t *at_ms,
			mla_diag *diag)
{
	mla_err r = MLA_OK;

	if (size != NULL)
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	if (at_ms != NULL)
		*at_ms = sqlite3_column_int64(st, 2);
	if (note != NULL &&
	    ((r = store_col_blob(st, 1, note, "checkpoint", diag)) != MLA_OK ||
	     (r = mla_buf_terminate(note)) != MLA_OK))
		return mla_fail(diag, r, "store: checkpoint: note does not fit");
	return r;
}

static mla_err select_one(gw_store *s, enum store_stmt_id id, const char *sql, int bind,
			  uint64_t arg, uint64_t *size, mla_buf *note, int64_t *at_ms,
			  mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = SQLITE_OK;

	if (note != NULL)
		mla_buf_init(note, CP_NOTE_MAX + 1);
	if (arg > (uint64_t)INT64_MAX)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no checkpoint of that size");
	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	if ((bind && (rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)arg)) != SQLITE_OK) ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "checkpoint get", diag);
	else if (rc == SQLITE_DONE)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no checkpoint%s",
			     bind ? " of that size" : "");
	else
		r = read_row(st, size, note, at_ms, diag);
	store_stmt_done(st);
	return r;
}

mla_err store_checkpoint_latest(gw_store *s, uint64_t *size, mla_buf *note, int64_t *at_ms,
				mla_diag *diag)
{
	return select_one(s, ST_CP_LATEST,
			  "SELECT size, note, at_ms FROM checkpoints ORDER BY size DESC LIMIT 1", 0,
			  0, size, note, at_ms, diag);
}

mla_err store_checkpoint_get(gw_store *s, uint64_t size, mla_buf *note, int64_t *at_ms,
			     mla_diag *diag)
{
	return select_one(s, ST_CP_GET, "SELECT size, note, at_ms FROM checkpoints WHERE size = ?1",
			  1, size, NULL, note, at_ms, diag);
}
