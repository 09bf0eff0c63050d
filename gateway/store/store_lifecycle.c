/* The store across crashes (see store.h, store_unclean): an unclean stop is noticed by the
 * "clean" mark in meta not being set (it is set only by the last transaction of a clean stop,
 * and cleared at every start); for files from before the mark, by a write-ahead log left over
 * at open. Then, before
 * anything is written, PRAGMA quick_check must say "ok", and until the daemon has verified its
 * audit log the connection does not checkpoint on close: a refused store is left exactly as
 * found, and the next start checks it again. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mlagw/codec.h"
#include "store_internal.h"

int store_wal_left_over(const char *path)
{
	char wal[PATH_MAX + 8];
	struct stat st;

	return snprintf(wal, sizeof(wal), "%s-wal", path) < (int)sizeof(wal) &&
	       stat(wal, &st) == 0 && st.st_size > 0;
}

/* PRAGMA quick_check must say "ok"; its report (several lines) shortened to one. */
static mla_err integrity_check(gw_store *s, const char *path, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	mla_err r = MLA_OK;
	char what[160];
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = store_fail(s, rc, "integrity check", diag);
	} else if ((t = sqlite3_column_text(st, 0)) == NULL || strcmp((const char *)t, "ok") != 0) {
		(void)mla_snprintf_cut(what, sizeof(what), "%s", t != NULL ? (const char *)t : "no answer");
		for (char *c = what; *c != '\0'; c++)
			if (*c == '\n' || *c == '\r' || *c == '"')
				*c = ' ';
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s fails its integrity check after an "
			     "unclean stop (%s...): refusing to start; restore it from a backup or "
			     "inspect it", path, what);
	}
	(void)sqlite3_finalize(st);
	return r;
}

/* Whether meta says the last stop was clean. */
static int marked_clean(gw_store *s)
{
	sqlite3_stmt *st = NULL;
	int clean = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'clean'", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		clean = strcmp((const char *)sqlite3_column_text(st, 0), "1") == 0;
	(void)sqlite3_finalize(st);
	return clean;
}

mla_err store_check_unclean(gw_store *s, const char *path, mla_diag *diag)
{
	int v = 0;

	if (store_user_version(s, &v, diag) != MLA_OK)
		return MLA_ERR_STORE;
	/* the mark decides from schema 3 on; a write-ahead log left over only tells for older
	 * files, since a reader that was open when we closed also leaves one behind */
	if (v >= 3)
		s->unclean = !marked_clean(s);
	else if (v == 0)
		s->unclean = 0;
	if (!s->unclean)
		return MLA_OK;
	(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	return integrity_check(s, path, diag);
}

static mla_err set_mark(gw_store *s, const char *value, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta (key, value) "
				     "VALUES ('clean', ?1)", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "the clean-stop mark", diag);
	(void)sqlite3_finalize(st);
	return r;
}

mla_err store_mark_running(gw_store *s, mla_diag *diag)
{
	return set_mark(s, "0", diag); /* autocommit: durable (synchronous=FULL) */
}

void store_set_verified(gw_store *s)
{
	if (s != NULL)
		(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
}

mla_err store_mark_clean(gw_store *s, mla_diag *diag)
{
	return set_mark(s, "1", diag);
}

int store_unclean(const gw_store *s)
{
	return s->unclean;
}
