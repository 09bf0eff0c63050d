/* The store's statement cache, SQLite error mapping and transactions: explicit group commit
 * (store_begin/commit/rollback) and the savepoint or transaction around every single write. */
#include "mlagw/codec.h"
#include "store_internal.h"

/* The result codes of a failing disk or file, as opposed to a refused row or statement. */
static int is_fault(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_NOMEM:
	case SQLITE_PROTOCOL:
		return 1;
	default:
		return 0;
	}
}

mla_err store_fail(gw_store *s, int rc, const char *op, mla_diag *diag)
{
	mla_diag own = {MLA_OK, ""};
	mla_err r = store_fail_db(s != NULL ? s->db : NULL, rc, op, diag != NULL ? diag : &own);

	if (s != NULL && is_fault(rc)) {
		if (!s->health.failing)
			s->health.since_ms = store_now_ms();
		s->health.failing = 1;
		s->health.errors++;
		(void)mla_snprintf_cut(s->health.reason, sizeof(s->health.reason), "%s",
				       mla_diag_message(diag != NULL ? diag : &own));
	}
	return r;
}

void store_health_get(const gw_store *s, struct store_health *out)
{
	*out = s->health;
}

mla_err store_probe(gw_store *s, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if (!s->health.failing || s->in_tx)
		return MLA_OK;
	if ((r = store_tx_begin(s, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_PROBE, "INSERT OR REPLACE INTO meta (key, value)"
			    " VALUES ('probe', ?1)", &st, diag)) == MLA_OK) {
		if ((rc = sqlite3_bind_int64(st, 1, store_now_ms())) != SQLITE_OK ||
		    (rc = sqlite3_step(st)) != SQLITE_DONE)
			r = store_fail(s, rc, "probe", diag);
		store_stmt_done(st);
	}
	if (r != MLA_OK) {
		store_tx_abort(s);
		return r;
	}
	return store_tx_commit(s, diag);
}

mla_err store_fail_db(sqlite3 *db, int rc, const char *op, mla_diag *diag)
{
	/* SQLite's messages name tables, columns and constraints, never bound values. A bind
	 * failure does not set the connection's message: then use the code's generic one. */
	const char *why = db != NULL && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db)
									    : sqlite3_errstr(rc);

	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return mla_fail(diag, MLA_ERR_EXISTS, "store: %s: message id already stored", op);
	if (rc == SQLITE_TOOBIG)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: %s: %s", op, why);
	return mla_fail(diag, MLA_ERR_STORE, "store: %s: %s", op, why);
}

mla_err store_stmt(gw_store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **out,
		   mla_diag *diag)
{
	int rc;

	if (s->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[id],
					NULL);
		if (rc != SQLITE_OK) {
			s->stmt[id] = NULL;
			return store_fail(s, rc, "preparing a statement", diag);
		}
	}
	store_stmt_done(s->stmt[id]);
	*out = s->stmt[id];
	return MLA_OK;
}

void store_stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	/* reset repeats the last step's error, which the caller has already reported */
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

mla_err store_exec(gw_store *s, enum store_stmt_id id, const char *sql, const char *op,
		   mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? MLA_OK : store_fail(s, rc, op, diag);
	store_stmt_done(st);
	return r;
}

/* --- transactions --- */

mla_err store_tx_begin(gw_store *s, mla_diag *diag)
{
	s->changes_at_begin = sqlite3_total_changes64(s->db);
	return store_exec(s, ST_BEGIN, "BEGIN IMMEDIATE", "begin transaction", diag);
}

/* Rolls back whatever is open; SQLite may already have done so after an I/O error. */
void store_tx_abort(gw_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)store_exec(s, ST_ROLLBACK, "ROLLBACK", "rollback", NULL);
}

mla_err store_tx_commit(gw_store *s, mla_diag *diag)
{
	mla_err r = store_exec(s, ST_COMMIT, "COMMIT", "commit", diag);

	if (r != MLA_OK)
		store_tx_abort(s);
	else if (sqlite3_total_changes64(s->db) != s->changes_at_begin)
		s->health.failing = 0; /* the disk took a write: errors stays a count */
	return r;
}

mla_err store_begin(gw_store *s, mla_diag *diag)
{
	mla_err r;

	if (s->in_tx)
		return mla_fail(diag, MLA_ERR_ARG, "store: begin: a transaction is already open");
	if ((r = store_tx_begin(s, diag)) != MLA_OK)
		return r;
	s->in_tx = 1;
	return MLA_OK;
}

mla_err store_commit(gw_store *s, mla_diag *diag)
{
	if (!s->in_tx)
		return mla_fail(diag, MLA_ERR_ARG, "store: commit: no transaction is open");
	s->in_tx = 0;
	if (sqlite3_get_autocommit(s->db))
		return mla_fail(diag, MLA_ERR_STORE,
				"store: commit: the transaction was rolled back after an error");
	return store_tx_commit(s, diag);
}

mla_err store_commit_relaxed(gw_store *s, mla_diag *diag)
{
	mla_err r, r2;

	/* WAL with synchronous=NORMAL commits without fsync; the frames become durable with the
	 * next FULL commit. Changing the setting between transactions is allowed. */
	if (sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK)
		return store_commit(s, diag);
	r = store_commit(s, diag);
	if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) {
		r2 = mla_fail(diag, MLA_ERR_STORE, "store: cannot restore synchronous=FULL");
		return r == MLA_OK ? r2 : r;
	}
	return r;
}

mla_err store_rollback(gw_store *s)
{
	if (!s->in_tx)
		return MLA_ERR_ARG;
	s->in_tx = 0;
	store_tx_abort(s);
	return sqlite3_get_autocommit(s->db) ? MLA_OK : MLA_ERR_STORE;
}

mla_err store_write_enter(gw_store *s, int *own, mla_diag *diag)
{
	*own = !s->in_tx;
	if (*own)
		return store_tx_begin(s, diag);
	if (sqlite3_get_autocommit(s->db))
		return mla_fail(diag, MLA_ERR_STORE,
				"store: the transaction was rolled back after an error");
	return store_exec(s, ST_SAVEPOINT, "SAVEPOINT w", "savepoint", diag);
}

mla_err store_write_leave(gw_store *s, int own, mla_err r, mla_diag *diag)
{
	if (own) {
		if (r == MLA_OK)
			return store_tx_commit(s, diag);
		store_tx_abort(s);
		return r;
	}
	if (r == MLA_OK) {
		if ((r = store_exec(s, ST_RELEASE, "RELEASE w", "release savepoint", diag)) ==
		    MLA_OK)
			return MLA_OK;
	}
	/* Undo this write only; the group stays open unless SQLite has already ended it. */
	if (!sqlite3_get_autocommit(s->db)) {
		(void)store_exec(s, ST_ROLLBACK_TO, "ROLLBACK TO w", "rollback to savepoint", NULL);
		(void)store_exec(s, ST_RELEASE, "RELEASE w", "release savepoint", NULL);
	}
	return r;
}
