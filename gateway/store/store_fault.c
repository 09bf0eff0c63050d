/* Test-only damage and inspection of a store file (store_fault.h): the one place outside the
 * store's own code paths that writes its tables directly, kept in the store's folder so the
 * schema stays known here only, and built as its own library that only tests link. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "store_fault.h"
#include "store_internal.h"

/* A plain read-write connection (no store_open: its marks and checks are what is tested). */
static mla_err fault_open(const char *path, sqlite3 **db, mla_diag *diag)
{
	int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL);

	/* damage, not a clean close: a write-ahead log found here stays, as after a crash (its
	 * deletion is what the gateway takes for a lost log) */
	if (rc == SQLITE_OK)
		rc = sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(*db, 5000);
	if (rc != SQLITE_OK)
		return store_fail_db(*db, rc, path, diag);
	return MLA_OK;
}

/* Runs sql with ?1 = seq (and ?2, ?3 = entry, leaf when entry is not NULL); *changed = rows. */
static mla_err run(const char *path, const char *sql, uint64_t seq, const uint8_t *entry,
		   size_t len, const uint8_t *leaf, int *changed, mla_diag *diag)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if ((e = fault_open(path, &db, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)seq)) != SQLITE_OK ||
	    (entry != NULL && (rc = sqlite3_bind_blob64(st, 2, entry, len, SQLITE_STATIC)) !=
				      SQLITE_OK) ||
	    (leaf != NULL && (rc = sqlite3_bind_blob(st, 3, leaf, 32, SQLITE_STATIC)) !=
				     SQLITE_OK) ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		e = store_fail_db(db, rc, "fault injection", diag);
	else
		*changed = sqlite3_changes(db);
out:
	(void)sqlite3_finalize(st);
	(void)sqlite3_close_v2(db);
	return e;
}

mla_err store_fault_set_entry(const char *path, uint64_t seq, const uint8_t *entry, size_t len,
			      const uint8_t leaf[32], mla_diag *diag)
{
	int changed = 0;
	mla_err e = leaf != NULL
			    ? run(path, "UPDATE audit SET entry = ?2, leaf = ?3 WHERE seq = ?1", seq,
				  entry, len, leaf, &changed, diag)
			    : run(path, "UPDATE audit SET entry = ?2 WHERE seq = ?1", seq, entry, len,
				  NULL, &changed, diag);

	if (e == MLA_OK && changed == 0)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no audit entry %llu",
			     (unsigned long long)seq);
	return e;
}

/* One statement: ?1 = id, ?2 = blob; *changed = rows. */
static mla_err run_id(sqlite3 *db, const char *sql, const char *id, const uint8_t *blob,
		      size_t len, int *changed, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 2, blob, len, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		e = store_fail_db(db, rc, "fault injection", diag);
	else
		*changed = sqlite3_changes(db);
	(void)sqlite3_finalize(st);
	return e;
}

mla_err store_fault_set_outbox_envelope(const char *path, const char *id, const uint8_t *env,
					size_t len, const uint8_t digest[32], mla_diag *diag)
{
	sqlite3 *db = NULL;
	int changed = 0, rc;
	mla_err e;

	if ((e = fault_open(path, &db, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK) {
		e = store_fail_db(db, rc, "fault injection", diag);
		goto out;
	}
	if ((e = run_id(db, "UPDATE outbox SET digest = ?2 WHERE message_id = ?1", id, digest, 32,
			&changed, diag)) == MLA_OK && changed == 1)
		e = run_id(db, "UPDATE outbox_envelope SET envelope = ?2 WHERE message_id = ?1", id,
			   env, len, &changed, diag);
	if (e == MLA_OK && changed != 1)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no sent message %.36s", id);
	if ((rc = sqlite3_exec(db, e == MLA_OK ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL)) !=
		    SQLITE_OK && e == MLA_OK)
		e = store_fail_db(db, rc, "fault injection", diag);
out:
	(void)sqlite3_close_v2(db);
	return e;
}

mla_err store_fault_delete_entry(const char *path, uint64_t seq, mla_diag *diag)
{
	int changed = 0;
	mla_err e = run(path, "DELETE FROM audit WHERE seq = ?1", seq, NULL, 0, NULL, &changed,
			diag);

	if (e == MLA_OK && changed == 0)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no audit entry %llu",
			     (unsigned long long)seq);
	return e;
}

mla_err store_fault_set_checkpoint(const char *path, uint64_t size, const char *note, size_t len,
				   mla_diag *diag)
{
	int changed = 0;
	mla_err e = run(path, "UPDATE checkpoints SET note = ?2 WHERE size = ?1", size,
			(const uint8_t *)note, len, NULL, &changed, diag);

	if (e == MLA_OK && changed == 0)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no checkpoint of size %llu",
			     (unsigned long long)size);
	return e;
}

mla_err store_fault_set_tree_hash(const char *path, uint64_t seq, unsigned level,
				   const uint8_t hash[32], mla_diag *diag)
{
	char sql[96];
	int changed = 0;
	mla_err e;

	mla_require(mla_snprintf(sql, sizeof(sql), hash != NULL
				 ? "UPDATE audit_tree SET hash = ?3 WHERE seq = ?1 AND level = %u"
				 : "DELETE FROM audit_tree WHERE seq = ?1 AND level = %u",
				 level) == MLA_OK);
	e = run(path, sql, seq, NULL, 0, hash, &changed, diag);
	if (e == MLA_OK && changed == 0)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no audit tree hash %llu/%u",
			     (unsigned long long)seq, level);
	return e;
}

/* The first column of the first row of sql as text (cap bytes with the NUL) and number. */
static mla_err first_value(sqlite3 *db, const char *sql, char *out, size_t cap, int64_t *num,
			   mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW)
		e = store_fail_db(db, rc, sql, diag);
	else if (out != NULL)
		e = mla_strcpy(out, cap, (const char *)sqlite3_column_text(st, 0));
	if (e == MLA_OK && num != NULL)
		*num = sqlite3_column_int64(st, 0);
	(void)sqlite3_finalize(st);
	return e;
}

mla_err store_fault_wal_truncate(const char *path, int64_t *pages, int64_t *page_size,
				 mla_diag *diag)
{
	sqlite3 *db = NULL;
	int64_t busy = 0;
	mla_err e;

	if ((e = fault_open(path, &db, diag)) == MLA_OK &&
	    (e = first_value(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, 0, &busy, diag)) ==
		    MLA_OK &&
	    (e = first_value(db, "PRAGMA page_count", NULL, 0, pages, diag)) == MLA_OK)
		e = first_value(db, "PRAGMA page_size", NULL, 0, page_size, diag);
	if (e == MLA_OK && busy != 0)
		e = mla_fail(diag, MLA_ERR_STORE, "store: %s is in use: the checkpoint was blocked",
			     path);
	(void)sqlite3_close_v2(db);
	return e;
}

static mla_err exec(const char *path, const char *sql, mla_diag *diag)
{
	sqlite3 *db = NULL;
	mla_err e;
	int rc;

	if ((e = fault_open(path, &db, diag)) == MLA_OK &&
	    (rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		e = store_fail_db(db, rc, sql, diag);
	(void)sqlite3_close_v2(db);
	return e;
}

mla_err store_fault_set_version(const char *path, int version, mla_diag *diag)
{
	char sql[64];

	mla_require(mla_snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version) == MLA_OK);
	return exec(path, sql, diag);
}

mla_err store_fault_make_v1(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP TABLE case_step_facts; DROP TABLE retrieval_in; DROP TABLE retrieval; "
		    "DROP TABLE case_deadline_fired; DROP TABLE case_deadline; DROP TABLE case_steps; DROP TABLE case_life; "
		    "DROP TABLE audit_tree; DROP TABLE outbox_seals; DROP TABLE idempotency; DROP TABLE cases; "
		    "ALTER TABLE outbox DROP COLUMN peer_case; "
		    "ALTER TABLE inbox DROP COLUMN peer_case; "
		    "DROP TABLE witnessed; DROP TABLE peer_audit_certs; DROP TABLE meta; "
		    "PRAGMA user_version = 1", diag);
}

mla_err store_fault_make_v6(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP TABLE case_step_facts; DROP TABLE retrieval_in; DROP TABLE retrieval; "
		    "DROP TABLE case_deadline_fired; DROP TABLE case_deadline; DROP TABLE case_steps; DROP TABLE case_life; "
		    "DROP TABLE audit_tree; "
		    "PRAGMA user_version = 6", diag);
}

mla_err store_fault_case_life(const char *path, const char *case_id, const char *life,
			      mla_diag *diag)
{
	char sql[256];

	if (mla_snprintf(sql, sizeof(sql), "UPDATE case_life SET life = '%s' WHERE case_id ="
			 " '%s'", life, case_id) != MLA_OK || strchr(life, '\'') != NULL ||
	    strchr(case_id, '\'') != NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store_fault: case or state too long or quoted");
	return exec(path, sql, diag);
}

mla_err store_fault_case_drop(const char *path, const char *case_id, mla_diag *diag)
{
	char sql[160];

	if (mla_snprintf(sql, sizeof(sql), "DELETE FROM case_life WHERE case_id = '%s'",
			 case_id) != MLA_OK || strchr(case_id, '\'') != NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store_fault: case too long or quoted");
	return exec(path, sql, diag);
}

mla_err store_fault_make_v7(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP TABLE case_step_facts; DROP TABLE retrieval_in; DROP TABLE retrieval; "
		    "DROP TABLE case_deadline_fired; DROP TABLE case_deadline; DROP TABLE case_steps; DROP TABLE case_life; "
		    "PRAGMA user_version = 7", diag);
}

mla_err store_fault_make_v8(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP INDEX case_life_due_next; DROP INDEX case_life_due_state; DROP INDEX case_life_due_fire; "
		    "ALTER TABLE case_life DROP COLUMN due_next_ms; ALTER TABLE case_life DROP COLUMN due_state; "
		    "ALTER TABLE case_life DROP COLUMN due_priority; ALTER TABLE case_life DROP COLUMN due_fire; "
		    "DROP TABLE case_step_facts; DROP TABLE retrieval_in; DROP TABLE retrieval; "
		    "DROP TABLE case_deadline_fired; DROP TABLE case_deadline; PRAGMA user_version = 8", diag);
}

mla_err store_fault_make_v9(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP INDEX case_life_due_next; DROP INDEX case_life_due_state; DROP INDEX case_life_due_fire; "
		    "ALTER TABLE case_life DROP COLUMN due_next_ms; ALTER TABLE case_life DROP COLUMN due_state; "
		    "ALTER TABLE case_life DROP COLUMN due_priority; ALTER TABLE case_life DROP COLUMN due_fire; "
		    "DROP TABLE case_step_facts; ALTER TABLE case_deadline DROP COLUMN eaw; "
		    "DROP TABLE retrieval_in; DROP TABLE retrieval; PRAGMA user_version = 9", diag);
}

mla_err store_fault_make_v10(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP INDEX case_life_due_next; DROP INDEX case_life_due_state; DROP INDEX case_life_due_fire; "
		    "ALTER TABLE case_life DROP COLUMN due_next_ms; ALTER TABLE case_life DROP COLUMN due_state; "
		    "ALTER TABLE case_life DROP COLUMN due_priority; ALTER TABLE case_life DROP COLUMN due_fire; "
		    "DROP TABLE case_step_facts; ALTER TABLE case_deadline DROP COLUMN eaw; "
		    "PRAGMA user_version = 10", diag);
}

mla_err store_fault_make_v11(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "DROP INDEX case_life_due_next; DROP INDEX case_life_due_state; DROP INDEX case_life_due_fire; "
		    "ALTER TABLE case_life DROP COLUMN due_next_ms; ALTER TABLE case_life DROP COLUMN due_state; "
		    "ALTER TABLE case_life DROP COLUMN due_priority; ALTER TABLE case_life DROP COLUMN due_fire; "
		    "PRAGMA user_version = 11", diag);
}

mla_err store_fault_make_v12(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; DROP TABLE transfer_seg; DROP TABLE transfer_in; "
		    "PRAGMA user_version = 12", diag);
}

mla_err store_fault_make_v13(const char *path, mla_diag *diag)
{
	return exec(path, "DROP TABLE directory_docs; PRAGMA user_version = 13", diag);
}

mla_err store_fault_dir_doc_alter(const char *path, mla_diag *diag)
{
	return exec(path, "UPDATE directory_docs SET doc = CAST(doc || X'0A' AS BLOB) WHERE "
		    "serial = (SELECT min(serial) FROM directory_docs)", diag);
}

mla_err store_fault_pragma(const char *path, const char *name, char *out, size_t cap,
			   mla_diag *diag)
{
	static const char *const known[] = {"journal_mode", "integrity_check"};
	sqlite3 *db = NULL;
	char sql[64];
	mla_err e = MLA_ERR_ARG;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(name, known[i]) == 0)
			e = MLA_OK;
	if (e != MLA_OK)
		return mla_fail(diag, e, "store: pragma %s is not one the tests read", name);
	mla_require(mla_snprintf(sql, sizeof(sql), "PRAGMA %s", name) == MLA_OK);
	if ((e = fault_open(path, &db, diag)) == MLA_OK)
		e = first_value(db, sql, out, cap, NULL, diag);
	(void)sqlite3_close_v2(db);
	return e;
}

mla_err store_fault_pages(const char *path, const char *name, int64_t *page_size,
			  store_fault_page_fn fn, void *arg, mla_diag *diag)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if ((e = fault_open(path, &db, diag)) != MLA_OK ||
	    (e = first_value(db, "PRAGMA page_size", NULL, 0, page_size, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_prepare_v2(db, "SELECT pageno FROM dbstat WHERE name = ?1 AND "
				     "pagetype = 'leaf' ORDER BY pageno", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC)) != SQLITE_OK) {
		e = store_fail_db(db, rc, "dbstat", diag);
		goto out;
	}
	while (e == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		e = fn(sqlite3_column_int64(st, 0), arg);
	if (e == MLA_OK && rc != SQLITE_DONE)
		e = store_fail_db(db, rc, "dbstat", diag);
out:
	(void)sqlite3_finalize(st);
	(void)sqlite3_close_v2(db);
	return e;
}
