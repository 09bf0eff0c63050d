/* The store across crashes and at rest (see store.h, store_unclean): an unclean stop is
 * noticed by the "clean" mark in meta not being set (it is set only by the last transaction of
 * a clean stop, and cleared at every start); for files from before the mark, by a write-ahead
 * log left over at open. Then, and also when the last passed check ("checked_at") is older
 * than the configured interval, PRAGMA quick_check must say "ok" before anything is written.
 * The connection checkpoints on close (which deletes the write-ahead log) only after the
 * clean mark: every other close, like a crash, leaves the log behind, so a refused store is
 * left exactly as found, and a store marked unclean without its log has lost it. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mlagw/codec.h"
#include "store_internal.h"

int store_wal_left_over(const char *path)
{
	char wal[PATH_MAX + 8];
	struct stat st;

	return snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
	       stat(wal, &st) == 0 && st.st_size > 0;
}

mla_err store_quick_check_db(sqlite3 *db, char *what, size_t cap, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	mla_err r = MLA_OK;
	int rc;

	(void)mla_snprintf_cut(what, cap, "%s", "ok");
	if ((rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = store_fail_db(db, rc, "quick_check", diag);
		(void)mla_snprintf_cut(what, cap, "%s", sqlite3_errstr(rc));
	} else if ((t = sqlite3_column_text(st, 0)) == NULL || strcmp((const char *)t, "ok") != 0) {
		(void)mla_snprintf_cut(what, cap, "%s", t != NULL ? (const char *)t : "no answer");
		for (char *c = what; *c != '\0'; c++)
			if (*c == '\n' || *c == '\r' || *c == '"')
				*c = ' ';
		r = mla_fail(diag, MLA_ERR_STORE, "quick_check: %s", what);
	}
	(void)sqlite3_finalize(st);
	return r;
}

/* quick_check at open must say "ok"; its report (several lines) shortened to one. */
static mla_err integrity_check(gw_store *s, const char *path, const char *why, mla_diag *diag)
{
	char what[160];

	if (store_quick_check_db(s->db, what, sizeof(what), diag) == MLA_OK)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_STORE, "store: %s fails its integrity check %s (%s...): "
			"refusing to start; restore it from a backup or inspect it (mlagw store "
			"check)", path, why, what);
}

/* When quick_check last passed (meta "checked_at", wall clock ms); 0 when never or unknown. */
static int64_t checked_at(gw_store *s)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	uint64_t v = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'checked_at'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && (t = sqlite3_column_text(st, 0)) != NULL &&
	    mla_parse_u64((const char *)t, 0, INT64_MAX, &v) != MLA_OK)
		v = 0;
	(void)sqlite3_finalize(st);
	return (int64_t)v;
}

/* The schedule survives restarts: a check older than the interval (or one in the future: the
 * clock went back) is due at this open. */
static int check_due(gw_store *s, const struct store_open_opts *o)
{
	int64_t at;

	if (o == NULL || o->check_interval_ms == 0)
		return 0;
	at = checked_at(s);
	return at <= 0 || at > o->now_ms || (uint64_t)(o->now_ms - at) >= o->check_interval_ms;
}

/* INSERT OR REPLACE into meta on a plain connection (accept-loss). */
static int meta_set_db(sqlite3 *db, const char *key, const char *value)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
				     -1, &st, NULL)) == SQLITE_OK &&
	    (rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC)) == SQLITE_OK &&
	    (rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	(void)sqlite3_finalize(st);
	return rc;
}

/* The marks: "1" after a clean stop; "2" while running (this version keeps its write-ahead
 * log on every close but the clean one); "0" while running under an earlier version, which
 * did not, so that a log missing after it tells nothing. */
#define MARK_CLEAN "1"
#define MARK_RUNNING "2"

/* The mark meta holds, into mark (empty when none). */
static void read_mark(gw_store *s, char mark[8])
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;

	mark[0] = '\0';
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'clean'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && (t = sqlite3_column_text(st, 0)) != NULL)
		(void)mla_snprintf_cut(mark, 8, "%s", (const char *)t);
	(void)sqlite3_finalize(st);
}

/* Whether the file's header says write-ahead-log mode (bytes 18 and 19 are 2): only such a
 * file can have lost a log (a backup is a single file in rollback mode). */
static int header_says_wal(const char *path)
{
	unsigned char h[20];
	FILE *f = fopen(path, "rb");
	int wal = f != NULL && fread(h, 1, sizeof(h), f) == sizeof(h) && h[18] == 2 && h[19] == 2;

	if (f != NULL)
		(void)fclose(f);
	return wal;
}

mla_err store_check_unclean(gw_store *s, const char *path, const struct store_open_opts *o,
			    mla_diag *diag)
{
	char mark[8];
	int v = 0;

	if (store_user_version(s, &v, diag) != MLA_OK)
		return MLA_ERR_STORE;
	/* the mark decides from schema 3 on; a write-ahead log left over only tells for older
	 * files, since a reader that was open when we closed also leaves one behind */
	read_mark(s, mark);
	if (v >= 3)
		s->unclean = strcmp(mark, MARK_CLEAN) != 0;
	else if (v == 0)
		s->unclean = 0;
	s->fresh = v == 0; /* nothing in it to check: its schedule starts now */
	/* an unclean stop always leaves its write-ahead log (readers never delete it): none
	 * means it was deleted, and with it whatever SQLite had not yet copied back */
	if (v >= 3 && strcmp(mark, MARK_RUNNING) == 0 && s->wal_absent && header_says_wal(path))
		return mla_fail(diag, MLA_ERR_STORE,
				"store: unclean stop without its write-ahead log (-wal missing): "
				"acknowledged writes may be lost; restore a backup or run `mlagw store "
				"accept-loss` (docs/operations.md): %s", path);
	if (!s->unclean && (v == 0 || !check_due(s, o)))
		return MLA_OK;
	s->quick_checked = 1;
	return integrity_check(s, path, s->unclean ? "after an unclean stop" :
				"(its last check is older than [store] check_interval)", diag);
}

mla_err store_meta_put(gw_store *s, const char *key, const char *value, int replace,
		       mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, replace ? "INSERT OR REPLACE INTO meta (key, value) "
				     "VALUES (?1, ?2)" : "INSERT OR IGNORE INTO meta (key, value) "
				     "VALUES (?1, ?2)", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, key, diag);
	(void)sqlite3_finalize(st);
	return r;
}

static mla_err set_mark(gw_store *s, const char *value, mla_diag *diag)
{
	return store_meta_put(s, "clean", value, 1, diag);
}

mla_err store_mark_checked(gw_store *s, int64_t at_ms, mla_diag *diag)
{
	char v[24];

	mla_require(mla_snprintf(v, sizeof(v), "%lld", (long long)at_ms) == MLA_OK);
	return store_meta_put(s, "checked_at", v, 1, diag); /* autocommit, or in the open group */
}

int store_quick_checked(const gw_store *s)
{
	return s->quick_checked;
}

mla_err store_mark_running(gw_store *s, mla_diag *diag)
{
	mla_err r = set_mark(s, MARK_RUNNING, diag); /* autocommit: durable (synchronous=FULL) */
	int log = 0, copied = 0;

	/* copied into the database file at once: a write-ahead log lost later is then told by
	 * the mark there with no log beside it, even if SQLite had not checkpointed yet. A reader
	 * (mlagw store show) may hold frames back from a passive checkpoint: then a full one,
	 * which waits for it up to the busy timeout; should that fail too, only this local sign
	 * is weaker (the peers' heads still tell at the next start). */
	if (r == MLA_OK &&
	    (sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied) !=
		     SQLITE_OK ||
	     copied < log))
		(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_FULL, NULL, NULL);
	return r;
}

mla_err store_mark_clean(gw_store *s, mla_diag *diag)
{
	mla_err r = set_mark(s, MARK_CLEAN, diag);

	/* the log may go now: everything in it is marked clean (inside an open transaction the
	 * mark would be rolled back at close while the log went: keep it then) */
	if (r == MLA_OK && sqlite3_get_autocommit(s->db))
		(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	return r;
}

int store_unclean(const gw_store *s)
{
	return s->unclean;
}

/* The operator accepts that the write-ahead log of an unclean stop is gone: the store is
 * marked as after a clean stop (quick_check still runs: it is due or forced here), and
 * "wal_loss_accepted" records when. The peers' heads decide at the next start whether the log
 * can go on. A plain connection: store_open is what refuses this store. */
mla_err store_accept_loss(const char *path, int64_t now_ms, mla_diag *diag)
{
	sqlite3 *db = NULL;
	char at[21], what[160];
	mla_err r = MLA_OK;
	int rc;

	if (store_wal_left_over(path))
		return mla_fail(diag, MLA_ERR_ARG, "store: %s still has its write-ahead log: "
				"nothing to accept (is the gateway running?)", path);
	mla_time_format((time_t)(now_ms / 1000), at);
	if ((rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL)) != SQLITE_OK) {
		r = store_fail_db(db, rc, path, diag);
		goto out;
	}
	if ((r = store_quick_check_db(db, what, sizeof(what), diag)) != MLA_OK)
		goto out;
	if (strcmp(what, "ok") != 0) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s fails its integrity check (%s): "
			     "restore it from a backup", path, what);
		goto out;
	}
	if ((rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = meta_set_db(db, "clean", MARK_CLEAN)) != SQLITE_OK ||
	    (rc = meta_set_db(db, "wal_loss_accepted", at)) != SQLITE_OK ||
	    /* the lost log's messages are asked back from the peers at the next start */
	    (rc = meta_set_db(db, "recovery_pending", "accept-loss")) != SQLITE_OK ||
	    (rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK)
		r = store_fail_db(db, rc, path, diag);
out:
	(void)sqlite3_close_v2(db);
	return r;
}
