/* The read-only reader (store_reader.h): opening a store with SQLITE_OPEN_READONLY, its schema
 * version from the store's own record, one snapshot per open or refresh, the statement cache
 * and row loop its iterations share, counts and meta. The iterations are in
 * store_reader_log.c (audit log, checkpoints, witnessing) and store_reader_msgs.c (messages). */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define READER_BUSY_TIMEOUT_MS 5000

const char *store_sqlite_version(void)
{
	return sqlite3_libversion();
}

int store_reader_version(const store_reader *r)
{
	return r->version;
}

mla_err store_reader_stmt(store_reader *r, enum store_reader_stmt_id id, const char *sql,
			  sqlite3_stmt **out, mla_diag *diag)
{
	int rc;

	if (r->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->stmt[id],
					NULL);
		if (rc != SQLITE_OK) {
			r->stmt[id] = NULL;
			return store_fail_db(r->db, rc, "preparing a read", diag);
		}
	}
	store_stmt_done(r->stmt[id]);
	*out = r->stmt[id];
	return MLA_OK;
}

mla_err store_reader_each(store_reader *r, sqlite3_stmt *st, store_reader_row_fn row,
			  void *arg, const char *op, mla_diag *diag)
{
	mla_err e = MLA_OK;
	int rc;

	while (e == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		e = row(st, arg, diag);
	if (e == MLA_OK && rc != SQLITE_DONE)
		e = store_fail_db(r->db, rc, op, diag);
	store_stmt_done(st);
	return e;
}

const char *store_reader_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

const uint8_t *store_reader_blob(sqlite3_stmt *st, int col, size_t *len)
{
	const uint8_t *p = sqlite3_column_blob(st, col); /* before _bytes: SQLite's rule */

	*len = p != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return p;
}

/* The version in the store's header (SQLite's user_version, which store_open sets in the
 * transaction that creates or upgrades the tables); it also begins the snapshot. */
static mla_err read_version(store_reader *r, const char *path, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if ((e = store_reader_stmt(r, SR_VERSION, "PRAGMA user_version", &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		e = store_fail_db(r->db, rc, "reading the schema version", diag);
	else
		r->version = sqlite3_column_int(st, 0);
	store_stmt_done(st);
	if (e != MLA_OK)
		return e;
	if (r->version <= 0)
		return mla_fail(diag, MLA_ERR_STORE, "store: %s holds no mlagw store (no schema)",
				path != NULL ? path : "the file");
	if (r->version > STORE_SCHEMA_VERSION)
		return mla_fail(diag, MLA_ERR_STORE, "store: %s has schema version %d, newer than "
				"this mlagw's %d: read it with the mlagw that wrote it",
				path != NULL ? path : "the file", r->version, STORE_SCHEMA_VERSION);
	return MLA_OK;
}

static mla_err configure(store_reader *r, mla_diag *diag)
{
	int rc;

	(void)sqlite3_extended_result_codes(r->db, 1);
	if ((rc = sqlite3_busy_timeout(r->db, READER_BUSY_TIMEOUT_MS)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(r->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(r->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_exec(r->db, "PRAGMA query_only = 1", NULL, NULL, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "configuring the reader", diag);
	return MLA_OK;
}

mla_err store_reader_open(const char *path, store_reader **out, mla_diag *diag)
{
	store_reader *r = NULL;
	mla_err e = MLA_OK;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "store: no database path");
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "store: out of memory");
	/* a plain path (no URI): read-only never creates the file or writes the database */
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		e = mla_fail(diag, MLA_ERR_STORE, "store: cannot open %s: %s", path,
			     r->db != NULL ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		goto out;
	}
	if ((e = configure(r, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
		e = store_fail_db(r->db, rc, "beginning a read", diag);
		goto out;
	}
	if ((e = read_version(r, path, diag)) != MLA_OK)
		goto out;
	*out = r;
	r = NULL;
out:
	store_reader_close(r);
	return e;
}

mla_err store_reader_refresh(store_reader *r, mla_diag *diag)
{
	int rc;

	if ((rc = sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "refreshing the read", diag);
	return read_version(r, NULL, diag);
}

void store_reader_close(store_reader *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < SR_COUNT_; i++)
		(void)sqlite3_finalize(r->stmt[i]);
	(void)sqlite3_close_v2(r->db); /* a read transaction left open ends with the connection */
	free(r);
}

/* The values of a one-row select of counts, in order, into out[0..n). */
static mla_err count_row(store_reader *r, const char *sql, uint64_t *const *out, int n,
			 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "counting", diag);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		e = store_fail_db(r->db, rc, "counting", diag);
	for (int i = 0; e == MLA_OK && i < n; i++)
		*out[i] = (uint64_t)sqlite3_column_int64(st, i);
	(void)sqlite3_finalize(st);
	return e;
}

mla_err store_reader_counts(store_reader *r, struct store_counts *c, mla_diag *diag)
{
	uint64_t *const v1[] = {&c->outbox, &c->inbox, &c->history, &c->alerts, &c->audit,
				&c->audit_next, &c->checkpoints, &c->checkpoint_latest};
	uint64_t *const v2[] = {&c->witnessed, &c->peer_certs};
	mla_err e;

	memset(c, 0, sizeof(*c));
	e = count_row(r, "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM inbox),"
		      " (SELECT count(*) FROM history), (SELECT count(*) FROM alerts),"
		      " (SELECT count(*) FROM audit), (SELECT coalesce(max(seq) + 1, 0) FROM audit),"
		      " (SELECT count(*) FROM checkpoints),"
		      " (SELECT coalesce(max(size), 0) FROM checkpoints)", v1, 8, diag);
	if (e == MLA_OK && r->version >= 2) /* witnessing came with version 2 */
		e = count_row(r, "SELECT (SELECT count(*) FROM witnessed),"
			      " (SELECT count(*) FROM peer_audit_certs)", v2, 2, diag);
	return e;
}

struct meta_ctx {
	store_meta_fn fn;
	void *arg;
};

static mla_err meta_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct meta_ctx *m = arg;
	const char *k = store_reader_text(st, 0), *v = store_reader_text(st, 1);

	if (k == NULL || v == NULL)
		return mla_fail(diag, MLA_ERR_STORE, "store: a meta row is damaged");
	return m->fn(k, v, m->arg);
}

mla_err store_reader_meta(store_reader *r, store_meta_fn fn, void *arg, mla_diag *diag)
{
	struct meta_ctx m = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if (r->version < 3) /* meta came with version 3 */
		return MLA_OK;
	if ((e = store_reader_stmt(r, SR_META, "SELECT key, value FROM meta ORDER BY key", &st,
				   diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, meta_row, &m, "meta", diag);
}

int store_reader_has_tree(const store_reader *r)
{
	return r->version >= 7;
}
