/* The directories adopted, as the audit log records them (SPEC 18.6; see store.h): their
 * signed bytes by SHA-256 (table directory_docs, schema 14), and the serial of the latest
 * directory-adopted entry (meta "directory_logged"). */
#include <stdint.h>
#include <string.h>

#include "mlagw/codec.h"
#include "store_internal.h"
#include "store_reader.h"

#define DIR_LOGGED_KEY "directory_logged"

mla_err store_directory_doc_put(gw_store *s, uint64_t serial, const uint8_t digest[32],
				const uint8_t *doc, size_t len, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	if (serial == 0 || serial > INT64_MAX || doc == NULL || len == 0)
		return mla_fail(diag, MLA_ERR_ARG, "store: directory document: bad serial or bytes");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO directory_docs (digest, serial, "
				     "doc, at_ms) VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 1, digest, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)serial)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 3, doc, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, store_now_ms())) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "directory document put", diag);
	(void)sqlite3_finalize(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_directory_logged_get(gw_store *s, uint64_t *serial, mla_diag *diag)
{
	char v[24];
	mla_err r;

	if ((r = store_meta_get(s, DIR_LOGGED_KEY, v, sizeof(v), diag)) != MLA_OK)
		return r;
	if (mla_parse_u64n(v, strlen(v), 1, UINT64_MAX, serial) != MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store meta %s is damaged", DIR_LOGGED_KEY);
	return MLA_OK;
}

mla_err store_directory_logged_put(gw_store *s, uint64_t serial, mla_diag *diag)
{
	char v[24];
	mla_err r;

	if ((r = mla_snprintf(v, sizeof(v), "%llu", (unsigned long long)serial)) != MLA_OK)
		return r;
	return store_meta_put(s, DIR_LOGGED_KEY, v, 1, diag);
}

struct doc_one {
	store_bytes_fn fn;
	void *arg;
	int found;
};

static mla_err doc_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	struct doc_one *o = arg;
	size_t len = 0;
	const uint8_t *p = store_reader_blob(st, 0, &len);

	(void)diag;
	o->found = 1;
	return o->fn(p, len, o->arg);
}

mla_err store_reader_directory_doc(store_reader *r, const uint8_t digest[32], store_bytes_fn fn,
				   void *arg, mla_diag *diag)
{
	struct doc_one o = {fn, arg, 0};
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if (r->version < 14)
		return MLA_ERR_NOT_FOUND;
	if ((e = store_reader_stmt(r, SR_DIR_DOC, "SELECT doc FROM directory_docs WHERE digest = ?1",
				   &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_bind_blob(st, 1, digest, 32, SQLITE_STATIC)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "directory document", diag);
	if ((e = store_reader_each(r, st, doc_row, &o, "directory document", diag)) != MLA_OK)
		return e;
	return o.found ? MLA_OK : MLA_ERR_NOT_FOUND;
}
