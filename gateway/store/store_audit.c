/* The audit log table: append-only, dense sequence numbers, each row the canonical entry and
 * its leaf hash (see store.h); each append also writes the tree hashes it completes. */
#include <string.h>

#include "store_internal.h"

mla_err store_audit_next(gw_store *s, uint64_t *next, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*next = 0;
	if ((r = store_stmt(s, ST_AUDIT_NEXT, "SELECT coalesce(max(seq) + 1, 0) FROM audit", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*next = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = store_fail(s, rc, "audit next", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_audit_append(gw_store *s, uint64_t seq, const uint8_t *entry, size_t len,
			   const uint8_t leaf[32], mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint64_t next = 0;
	mla_err r;
	int own = 0, rc;

	if (entry == NULL || len == 0 || leaf == NULL || seq > (uint64_t)INT64_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "store: audit append: bad arguments");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	/* dense: a gap would read as a deleted entry to an auditor */
	if ((r = store_audit_next(s, &next, diag)) != MLA_OK)
		goto out;
	if (seq != next) {
		r = mla_fail(diag, seq < next ? MLA_ERR_EXISTS : MLA_ERR_ARG,
			     "store: audit append: entry %llu, the log's next is %llu",
			     (unsigned long long)seq, (unsigned long long)next);
		goto out;
	}
	if ((r = store_stmt(s, ST_AUDIT_INSERT,
			    "INSERT INTO audit (seq, entry, leaf) VALUES (?1, ?2, ?3)", &st, diag)) !=
	    MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)seq)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 2, entry, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, leaf, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "audit append", diag);
	else /* the tree's hashes it completes, in the same transaction (store_tree.c) */
		r = store_tree_add(s, seq, leaf, diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_audit_get(gw_store *s, uint64_t seq, mla_buf *out, uint8_t leaf[32],
			mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	mla_buf_init(out, 64 << 10);
	if ((r = store_stmt(s, ST_AUDIT_GET, "SELECT entry, leaf FROM audit WHERE seq = ?1", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)seq)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		r = store_fail(s, rc, "audit get", diag);
	} else if (rc == SQLITE_DONE) {
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no audit entry %llu",
			     (unsigned long long)seq);
	} else if ((r = store_col_blob(st, 0, out, "audit get", diag)) == MLA_OK && leaf != NULL) {
		if (sqlite3_column_bytes(st, 1) != 32)
			r = mla_fail(diag, MLA_ERR_STORE, "store: audit entry %llu has a bad leaf",
				     (unsigned long long)seq);
		else
			memcpy(leaf, sqlite3_column_blob(st, 1), 32);
	}
	store_stmt_done(st);
	return r;
}

/* The rows from seq from on, in order, dense: fn or efn (with the entry's bytes) for each. */
static mla_err scan(gw_store *s, uint64_t from, store_leaf_fn fn, store_entry_fn efn,
		    void *arg, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint64_t want = from;
	mla_err r;
	int rc;

	if (from > (uint64_t)INT64_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "store: audit rows: bad start");
	r = efn != NULL ? store_stmt(s, ST_AUDIT_ROWS, "SELECT seq, leaf, entry FROM audit "
				     "WHERE seq >= ?1 ORDER BY seq", &st, diag)
			: store_stmt(s, ST_AUDIT_LEAVES, "SELECT seq, leaf FROM audit WHERE seq >= ?1 "
				     "ORDER BY seq", &st, diag);
	if (r != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)from)) != SQLITE_OK) {
		r = store_fail(s, rc, "audit rows", diag);
		goto out;
	}
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* a gap or a bad leaf is a damaged log, never something to skip */
		if ((uint64_t)sqlite3_column_int64(st, 0) != want ||
		    sqlite3_column_bytes(st, 1) != 32)
			r = mla_fail(diag, MLA_ERR_STORE, "store: audit entry %llu is missing or bad",
				     (unsigned long long)want);
		else if (efn != NULL)
			r = efn(want++, sqlite3_column_blob(st, 1), sqlite3_column_blob(st, 2),
				(size_t)sqlite3_column_bytes(st, 2), arg);
		else
			r = fn(want++, sqlite3_column_blob(st, 1), arg);
	}
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "audit rows", diag);
out:
	store_stmt_done(st);
	return r;
}

mla_err store_audit_leaves(gw_store *s, uint64_t from, store_leaf_fn fn, void *arg,
			   mla_diag *diag)
{
	return scan(s, from, fn, NULL, arg, diag);
}

mla_err store_audit_entries(gw_store *s, uint64_t from, store_entry_fn fn, void *arg,
			    mla_diag *diag)
{
	return scan(s, from, NULL, fn, arg, diag);
}
