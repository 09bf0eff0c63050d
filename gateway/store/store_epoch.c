/* Log epochs (protocol/SPEC.md section 14, "Log epochs"; docs/operations.md): the epoch the
 * store's audit log is in (meta "audit_epoch", absent: 1), the heads of it the peers showed at
 * start (meta "peer_head.<CC>", the note as the peer sent it), and the opening of the next
 * epoch by `mlagw audit new-epoch` in one transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "store_internal.h"

mla_err store_audit_epoch(gw_store *s, uint32_t *epoch, mla_diag *diag)
{
	char v[24];
	uint64_t e = 1;
	mla_err r = store_meta_get(s, "audit_epoch", v, sizeof(v), diag);

	if (r == MLA_ERR_NOT_FOUND) {
		*epoch = 1;
		return MLA_OK;
	}
	if (r != MLA_OK)
		return r;
	if (mla_parse_u64n(v, strlen(v), 2, MLA_AUDIT_EPOCH_MAX, &e) != MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store: meta audit_epoch '%.16s' is not an "
				"epoch from 2", v);
	*epoch = (uint32_t)e;
	return MLA_OK;
}

mla_err store_peer_head_put(gw_store *s, const char *state, const char *note, mla_diag *diag)
{
	char key[16];

	if (strlen(note) >= STORE_META_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "peer head of %s: note of %zu bytes",
				state, strlen(note));
	mla_require(mla_snprintf(key, sizeof(key), "peer_head.%.2s", state) == MLA_OK);
	return store_meta_put(s, key, note, 1, diag);
}

static mla_err exec(gw_store *s, const char *sql, const char *op, mla_diag *diag)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? MLA_OK : store_fail(s, rc, op, diag);
}

/* The writes of store_epoch_open, inside its transaction. */
static mla_err epoch_writes(gw_store *s, uint32_t epoch, const char *link, mla_diag *diag)
{
	char v[24];
	mla_err r;

	mla_require(mla_snprintf(v, sizeof(v), "%" PRIu32, epoch) == MLA_OK);
	if ((r = exec(s, "DELETE FROM audit", "new epoch: audit", diag)) != MLA_OK ||
	    (r = exec(s, "DELETE FROM audit_tree", "new epoch: audit tree", diag)) != MLA_OK ||
	    (r = exec(s, "DELETE FROM checkpoints", "new epoch: checkpoints", diag)) != MLA_OK ||
	    /* the keys held were named for the old origin; the new epoch records its own */
	    (r = exec(s, "DELETE FROM meta WHERE key LIKE 'peer\\_head.%' ESCAPE '\\' OR "
		      "key LIKE 'audit\\_key.%' ESCAPE '\\'", "new epoch: peer heads, keys",
		      diag)) != MLA_OK ||
	    /* the new log records the directory in force again at its first start (SPEC 18.6) */
	    (r = exec(s, "DELETE FROM meta WHERE key = 'directory_logged'", "new epoch: directory",
		      diag)) != MLA_OK ||
	    (r = store_meta_put(s, "audit_epoch", v, 1, diag)) != MLA_OK ||
	    /* what the peers hold of the messages since the loss is asked back at the start */
	    (r = store_recovery_mark(s, "new-epoch", diag)) != MLA_OK)
		return r;
	return store_meta_put(s, "epoch_link", link, 1, diag);
}

/* An exclusive transaction, with the connection in exclusive locking mode: refused (busy)
 * while any other connection has the store open, as a running gateway always does. */
static mla_err take_alone(gw_store *s, const char *path, mla_diag *diag)
{
	int rc = sqlite3_exec(s->db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE", NULL,
			      NULL, NULL);

	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return mla_fail(diag, MLA_ERR_EXISTS, "store %s is in use (a gateway running on "
				"it?): stop the gateway first", path);
	return rc == SQLITE_OK ? MLA_OK : store_fail(s, rc, "new epoch: begin", diag);
}

mla_err store_in_use(const char *path, int *in_use, mla_diag *diag)
{
	sqlite3 *db = NULL;
	int rc;

	*in_use = 0;
	/* a probe, not a close that may delete the write-ahead log (store_lifecycle.c) */
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL)) == SQLITE_OK &&
	    (rc = sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL)) == SQLITE_OK &&
	    (rc = sqlite3_busy_timeout(db, 1000)) == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE", NULL, NULL,
				  NULL);
	*in_use = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
	if (rc == SQLITE_OK)
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	(void)sqlite3_close(db);
	(void)diag; /* a file SQLite cannot open is not in use by a gateway either */
	return MLA_OK;
}

mla_err store_epoch_open(const char *path, uint32_t epoch, const char *link, mla_diag *diag)
{
	gw_store *s = NULL;
	uint32_t cur = 0;
	mla_err r;

	if (strlen(link) >= STORE_META_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "new epoch: link of %zu bytes",
				strlen(link));
	if ((r = store_open(path, &s, diag)) != MLA_OK)
		return r;
	if ((r = store_audit_epoch(s, &cur, diag)) != MLA_OK)
		goto out;
	if (epoch <= cur || epoch > MLA_AUDIT_EPOCH_MAX) {
		r = mla_fail(diag, MLA_ERR_EXISTS, "store %s is in epoch %" PRIu32 ": cannot open "
			     "epoch %" PRIu32, path, cur, epoch);
		goto out;
	}
	if ((r = take_alone(s, path, diag)) != MLA_OK)
		goto out;
	if ((r = epoch_writes(s, epoch, link, diag)) != MLA_OK ||
	    (r = exec(s, "COMMIT", "new epoch: commit", diag)) != MLA_OK) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		goto out;
	}
	r = store_mark_clean(s, diag); /* an offline tool's close is a clean stop */
out:
	store_close(s);
	return r;
}

mla_err store_witness_epoch(gw_store *s, const char *state, uint32_t *epoch, mla_diag *diag)
{
	char prefix[MLA_AUDIT_ORIGIN_MAX + 1], st3[3];
	sqlite3_stmt *st = NULL;
	uint32_t e;
	mla_err r = MLA_OK;
	int rc;

	*epoch = 0;
	if (mla_audit_origin_format(state, 1, prefix) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "witness epoch: bad State");
	if ((rc = sqlite3_prepare_v2(s->db, "SELECT DISTINCT origin FROM witnessed WHERE "
				     "substr(origin, 1, length(?1)) = ?1", -1, &st, NULL)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC)) != SQLITE_OK)
		r = store_fail(s, rc, "witness epoch", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_text(st, 0) != NULL &&
		    mla_audit_origin_parse((const char *)sqlite3_column_text(st, 0), st3, &e) ==
			    MLA_OK &&
		    e > *epoch)
			*epoch = e;
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "witness epoch", diag);
	(void)sqlite3_finalize(st);
	return r;
}
