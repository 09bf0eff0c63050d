/* The store's own state in the meta table (see store.h): short text values under fixed keys
 * ("created", "clean", "checked_at", the audit keys held...); writing: store_meta_put in
 * store_lifecycle.c. */
#include <stdint.h>
#include <string.h>

#include "mlagw/codec.h"

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

/* meta "directory_held": "<serial> <hex SHA-256>" (SPEC 18.6). */
#define DIR_HELD_KEY "directory_held"

mla_err store_directory_held_get(gw_store *s, uint64_t *serial, uint8_t digest[32],
				 mla_diag *diag)
{
	char v[96];
	const char *sp;
	size_t got = 0;
	mla_err r;

	if ((r = store_meta_get(s, DIR_HELD_KEY, v, sizeof(v), diag)) != MLA_OK)
		return r;
	if ((sp = strchr(v, ' ')) == NULL || strlen(sp + 1) != 64 ||
	    mla_parse_u64n(v, (size_t)(sp - v), 1, UINT64_MAX, serial) != MLA_OK ||
	    mla_hex_decode(sp + 1, 64, digest, 32, &got) != MLA_OK || got != 32)
		return mla_fail(diag, MLA_ERR_STORE, "store meta %s is damaged", DIR_HELD_KEY);
	return MLA_OK;
}

mla_err store_directory_held_put(gw_store *s, uint64_t serial, const uint8_t digest[32],
				 mla_diag *diag)
{
	char hex[65], v[96];
	mla_err r;

	if ((r = mla_hex_encode(digest, 32, hex, sizeof(hex))) != MLA_OK ||
	    (r = mla_snprintf(v, sizeof(v), "%llu %s", (unsigned long long)serial, hex)) != MLA_OK)
		return r;
	return store_meta_put(s, DIR_HELD_KEY, v, 1, diag);
}
