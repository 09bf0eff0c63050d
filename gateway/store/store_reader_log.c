/* The reader's view of the audit log (store_reader.h): entries by seq range as stored,
 * signed checkpoints, the peers' checkpoints this gateway cosigned and their certificates.
 * Rows are streamed to the caller's callback straight from SQLite's memory. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "store_internal.h"

struct audit_ctx {
	store_audit_row_fn fn;
	void *arg;
};

static mla_err audit_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct audit_ctx *a = arg;
	struct store_audit_row row;
	size_t leaf_len = 0;

	(void)diag;
	row.seq = (uint64_t)sqlite3_column_int64(st, 0);
	row.entry = store_reader_blob(st, 1, &row.len);
	row.leaf = store_reader_blob(st, 2, &leaf_len);
	if (leaf_len != 32) /* a damaged row is handed on as it is: the caller reports it */
		row.leaf = NULL;
	return a->fn(&row, a->arg);
}

mla_err store_reader_audit(store_reader *r, uint64_t from, uint64_t to, store_audit_row_fn fn,
			   void *arg, mla_diag *diag)
{
	struct audit_ctx a = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if (from >= to || from > (uint64_t)INT64_MAX)
		return MLA_OK;
	if (to > (uint64_t)INT64_MAX) /* seq is a signed 64-bit column */
		to = (uint64_t)INT64_MAX;
	if ((e = store_reader_stmt(r, SR_AUDIT, "SELECT seq, entry, leaf FROM audit WHERE seq >= ?1"
				   " AND seq < ?2 ORDER BY seq", &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)from)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)to)) != SQLITE_OK) {
		store_stmt_done(st);
		return store_fail_db(r->db, rc, "audit entries", diag);
	}
	return store_reader_each(r, st, audit_row, &a, "audit entries", diag);
}

struct cp_ctx {
	store_checkpoint_row_fn fn;
	void *arg;
};

static mla_err checkpoint_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct cp_ctx *c = arg;
	struct store_checkpoint_row row;

	(void)diag;
	row.size = (uint64_t)sqlite3_column_int64(st, 0);
	row.note = (const char *)store_reader_blob(st, 1, &row.len);
	row.at_ms = sqlite3_column_int64(st, 2);
	return c->fn(&row, c->arg);
}

mla_err store_reader_checkpoints(store_reader *r, store_checkpoint_row_fn fn, void *arg,
				 mla_diag *diag)
{
	struct cp_ctx c = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if ((e = store_reader_stmt(r, SR_CHECKPOINTS, "SELECT size, note, at_ms FROM checkpoints "
				   "ORDER BY size", &st, diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, checkpoint_row, &c, "checkpoints", diag);
}

mla_err store_reader_origin(store_reader *r, char *origin, size_t cap, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const char *note, *nl = NULL;
	size_t len = 0;
	mla_err e;
	int rc;

	if ((e = store_reader_stmt(r, SR_LATEST_CP, "SELECT note FROM checkpoints ORDER BY size "
				   "DESC LIMIT 1", &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE) {
		e = store_fail_db(r->db, rc, "latest checkpoint", diag);
	} else if (rc == SQLITE_DONE) {
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no checkpoint yet");
	} else {
		note = (const char *)store_reader_blob(st, 0, &len);
		if (note != NULL)
			nl = memchr(note, '\n', len);
		if (nl == NULL || nl == note || (size_t)(nl - note) >= cap)
			e = mla_fail(diag, MLA_ERR_STORE, "store: the latest checkpoint names no "
				     "origin");
		else
			e = mla_snprintf(origin, cap, "%.*s", (int)(nl - note), note);
	}
	store_stmt_done(st);
	return e;
}

struct wit_ctx {
	store_witnessed_row_fn fn;
	void *arg;
};

static mla_err witnessed_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct wit_ctx *w = arg;
	struct store_witnessed_row row;
	size_t root_len = 0;

	row.origin = store_reader_text(st, 0);
	row.size = (uint64_t)sqlite3_column_int64(st, 1);
	row.root = store_reader_blob(st, 2, &root_len);
	row.note = (const char *)store_reader_blob(st, 3, &row.len);
	row.at_ms = sqlite3_column_int64(st, 4);
	if (row.origin == NULL || root_len != 32)
		return mla_fail(diag, MLA_ERR_STORE, "store: witnessed checkpoint %llu is damaged",
				(unsigned long long)row.size);
	return w->fn(&row, w->arg);
}

mla_err store_reader_witnessed(store_reader *r, store_witnessed_row_fn fn, void *arg,
			       mla_diag *diag)
{
	struct wit_ctx w = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if (r->version < 2) /* witnessing came with version 2 */
		return MLA_OK;
	/* by State, then epoch ("mlagw.es/audit", ".../2", ... ".../10"), then size */
	if ((e = store_reader_stmt(r, SR_WITNESSED, "SELECT origin, size, root, note, at_ms FROM "
				   "witnessed ORDER BY substr(origin, 1, 8), length(origin), "
				   "origin, size", &st, diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, witnessed_row, &w, "witnessed checkpoints", diag);
}

struct pc_ctx {
	store_peer_cert_row_fn fn;
	void *arg;
};

static mla_err peer_cert_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct pc_ctx *p = arg;
	struct store_peer_cert_row row;
	size_t fp_len = 0;

	row.state = store_reader_text(st, 0);
	row.fingerprint = store_reader_blob(st, 1, &fp_len);
	row.der = store_reader_blob(st, 2, &row.len);
	row.at_ms = sqlite3_column_int64(st, 3);
	if (row.state == NULL || fp_len != 32 || row.der == NULL)
		return mla_fail(diag, MLA_ERR_STORE, "store: a peer audit certificate is damaged");
	return p->fn(&row, p->arg);
}

mla_err store_reader_peer_certs(store_reader *r, store_peer_cert_row_fn fn, void *arg,
				mla_diag *diag)
{
	struct pc_ctx p = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if (r->version < 2)
		return MLA_OK;
	if ((e = store_reader_stmt(r, SR_PEER_CERTS, "SELECT state, fingerprint, der, at_ms FROM "
				   "peer_audit_certs ORDER BY state, fingerprint", &st, diag)) !=
	    MLA_OK)
		return e;
	return store_reader_each(r, st, peer_cert_row, &p, "peer certificates", diag);
}
