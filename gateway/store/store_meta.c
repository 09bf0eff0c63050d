/* The store's own state in the meta table (see store.h): short text values under fixed keys
 * ("created", "clean", "checked_at", the audit keys held...); writing: store_meta_put in
 * store_lifecycle.c. */
#include <string.h>

#include "store_internal.h"

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
