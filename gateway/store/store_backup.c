/* mlagw store backup's file work (store_check.h): SQLite's online backup from a read-only
 * connection in one step (one read transaction: a consistent snapshot, which a running
 * gateway's writes do not restart), into a new file that is then turned into a single file
 * (rollback journal mode), synced, and put in place without ever replacing a file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "store_check.h"
#include "store_internal.h"

static mla_err sync_path(const char *path, int dir, mla_diag *diag)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int ok = fd >= 0 && fsync(fd) == 0;

	if (fd >= 0)
		(void)close(fd);
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_IO, "cannot sync %s: %s", path,
				      strerror(errno));
}

static mla_err dir_of(const char *path, char out[PATH_MAX])
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return mla_strcpy(out, PATH_MAX, ".");
	if (slash == path)
		return mla_strcpy(out, PATH_MAX, "/");
	if ((size_t)(slash - path) >= PATH_MAX)
		return MLA_ERR_TOO_LARGE;
	memcpy(out, path, (size_t)(slash - path));
	out[slash - path] = '\0';
	return MLA_OK;
}

/* Whether db has the meta table (schema 1 had none); an error reads as yes, so the mark's
 * own statement reports it. */
static int has_meta(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int yes = 1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
			       "name = 'meta'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		yes = sqlite3_column_int(st, 0) > 0;
	(void)sqlite3_finalize(st);
	return yes;
}

/* Copies every page of src's snapshot into dst, then leaves dst a single file. */
static mla_err copy(sqlite3 *src, sqlite3 *dst, mla_diag *diag)
{
	sqlite3_backup *b;
	int rc;

	if ((rc = sqlite3_exec(dst, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF", NULL,
			       NULL, NULL)) != SQLITE_OK)
		return store_fail_db(dst, rc, "backup: preparing the copy", diag);
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL)
		return store_fail_db(dst, sqlite3_errcode(dst), "backup", diag);
	rc = sqlite3_backup_step(b, -1); /* all pages under one read transaction */
	(void)sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return store_fail_db(src, rc, "backup: reading the store", diag);
	/* a complete copy at rest, as after a clean stop: not a store that lost its log (a
	 * schema too old for meta, copied before its upgrade, has no such mark) */
	if (has_meta(dst) &&
	    (rc = sqlite3_exec(dst, "UPDATE meta SET value = '1' WHERE key = 'clean'", NULL, NULL,
			       NULL)) != SQLITE_OK)
		return store_fail_db(dst, rc, "backup: marking the copy", diag);
	if ((rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL)) != SQLITE_OK)
		return store_fail_db(dst, rc, "backup: single-file mode", diag);
	return MLA_OK;
}

mla_err store_backup_copy(const char *src, const char *tmp, uint64_t *bytes, mla_diag *diag)
{
	sqlite3 *in = NULL, *out = NULL;
	struct stat st;
	mla_err r;
	int fd, rc;

	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return mla_fail(diag, errno == EEXIST ? MLA_ERR_EXISTS : MLA_ERR_IO,
				"cannot create %s: %s", tmp, strerror(errno));
	(void)close(fd);
	if ((rc = sqlite3_open_v2(src, &in, SQLITE_OPEN_READONLY, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_busy_timeout(in, 5000)) != SQLITE_OK) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: cannot open %s: %s", src,
			     in != NULL ? sqlite3_errmsg(in) : sqlite3_errstr(rc));
		goto out;
	}
	if ((rc = sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL)) != SQLITE_OK) {
		r = mla_fail(diag, MLA_ERR_IO, "cannot open %s: %s", tmp,
			     out != NULL ? sqlite3_errmsg(out) : sqlite3_errstr(rc));
		goto out;
	}
	r = copy(in, out, diag);
out:
	(void)sqlite3_close_v2(in);
	if (sqlite3_close(out) != SQLITE_OK && r == MLA_OK)
		r = mla_fail(diag, MLA_ERR_IO, "cannot close %s", tmp);
	if (r == MLA_OK && (r = sync_path(tmp, 0, diag)) == MLA_OK && stat(tmp, &st) == 0)
		*bytes = (uint64_t)st.st_size;
	return r;
}

mla_err store_backup_place(const char *tmp, const char *out, mla_diag *diag)
{
	char dir[PATH_MAX];

	/* link() never replaces: an existing out is refused, whoever made it meanwhile */
	if (link(tmp, out) != 0)
		return mla_fail(diag, errno == EEXIST ? MLA_ERR_EXISTS : MLA_ERR_IO,
				"cannot create %s: %s", out, strerror(errno));
	if (unlink(tmp) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot remove %s: %s", tmp, strerror(errno));
	if (dir_of(out, dir) != MLA_OK)
		return mla_fail(diag, MLA_ERR_IO, "%s: directory name too long", out);
	return sync_path(dir, 1, diag);
}
