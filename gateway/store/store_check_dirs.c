/* Part STORE_CHECK_DIRS of the store check (store_check.h): every directory this gateway
 * adopted (table directory_docs, schema 14) re-hashed against its key, and, when the caller
 * gives the roots and the publisher, its signatures verified again as SPEC 18.3 says (the
 * certificates judged at the time the row was stored, the adoption; expiry not judged, as
 * the audit verifier does, SPEC 15 step 12) and its serial compared with the row's. The
 * rows are read one at a time (a document is at most 4 MiB). */
#include <stdint.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "mlagw/directory.h"
#include "store_check.h"
#include "store_internal.h"

/* Expiry is not judged: the gateway adopted within its grace period (SPEC 15 step 12). */
#define NO_EXPIRY_JUDGED ((time_t)100 * 366 * 86400)

struct dirs_scan {
	const mla_trust *trust;
	const char *publisher;
	struct store_check_result *res;
};

/* The first bad row is named: "directory serial N: why". */
static void bad(struct dirs_scan *s, uint64_t serial, const char *why)
{
	if (s->res->bad_dirs++ == 0)
		(void)mla_snprintf_cut(s->res->dir_bad, sizeof(s->res->dir_bad),
				       "directory serial %llu: %s", (unsigned long long)serial, why);
}

static mla_err dir_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	struct dirs_scan *s = arg;
	size_t dlen = 0, len = 0;
	const uint8_t *digest = store_reader_blob(st, 0, &dlen), *doc;
	uint64_t serial = (uint64_t)sqlite3_column_int64(st, 1);
	int64_t at_ms = sqlite3_column_int64(st, 3);
	mla_dir_policy pol;
	mla_directory *dir = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t sha[32];

	(void)diag;
	doc = store_reader_blob(st, 2, &len);
	s->res->dirs++;
	SHA256(doc, len, sha);
	if (digest == NULL || dlen != 32 || doc == NULL || memcmp(sha, digest, 32) != 0) {
		bad(s, serial, "its SHA-256 is not its key (altered)");
		return MLA_OK;
	}
	if (s->trust == NULL)
		return MLA_OK;
	memset(&pol, 0, sizeof(pol));
	pol.trust = s->trust;
	pol.publisher = s->publisher;
	pol.now = (time_t)(at_ms / 1000);
	pol.grace = NO_EXPIRY_JUDGED;
	if (mla_directory_verify(doc, len, &pol, &dir, NULL, &d) != MLA_OK) {
		char why[MLA_DIAG_MAX + 32];
		(void)mla_snprintf_cut(why, sizeof(why), "does not verify: %s",
				       mla_diag_message(&d));
		bad(s, serial, why);
	} else if (dir->serial != serial) {
		bad(s, serial, "the document states another serial");
	} else {
		s->res->dirs_verified++;
	}
	mla_directory_free(dir);
	return MLA_OK;
}

mla_err store_check_dirs(store_reader *r, const mla_trust *trust, const char *publisher,
			 struct store_check_result *res, mla_diag *diag)
{
	struct dirs_scan s = {publisher != NULL ? trust : NULL, publisher, res};
	sqlite3_stmt *st = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	res->dirs = res->bad_dirs = res->dirs_verified = 0;
	res->dir_bad[0] = '\0';
	res->dirs_signatures = s.trust != NULL;
	if (r->version < 14)
		return MLA_OK; /* no table before schema 14 */
	if ((e = store_reader_stmt(r, SR_DIR_DOCS, "SELECT digest, serial, doc, at_ms FROM "
				   "directory_docs ORDER BY serial, digest", &st, &d)) == MLA_OK)
		e = store_reader_each(r, st, dir_row, &s, "directory documents", &d);
	if (e == MLA_ERR_NOMEM)
		return mla_fail(diag, e, "store check: out of memory");
	if (e != MLA_OK && res->bad_dirs++ == 0)
		(void)mla_snprintf_cut(res->dir_bad, sizeof(res->dir_bad), "reading the directory "
				       "documents: %s", d.msg);
	if (res->bad_dirs > 0)
		res->failed |= STORE_CHECK_DIRS;
	return MLA_OK;
}
