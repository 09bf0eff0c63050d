/* The store's own state in the meta table (see store.h): short text values under fixed keys
 * ("created", "clean", the audit epoch...). */
#include <string.h>

#include "store_internal.h"

mla_err store_meta_put(gw_store *s, const char *key, const char *value, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if (strlen(value) > STORE_META_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: meta %s: value too long", key);
	if ((rc = sqlite3_prepare_v2(s->db, "INSERT OR REPLACE INTO meta (key, value) "
				     "VALUES (?1, ?2)", -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "meta", diag);
	(void)sqlite3_finalize(st);
	return r;
}

mla_err store_meta_get(gw_store *s, const char *key, char *out, size_t cap, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = ?1", -1, &st,
				     NULL)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "meta", diag);
	else if (rc == SQLITE_DONE)
		r = MLA_ERR_NOT_FOUND;
	else
		r = store_col_text(st, 0, out, cap, "meta", diag);
	(void)sqlite3_finalize(st);
	return r;
}
