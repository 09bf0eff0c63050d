/* The copy of a store taken before its schema is upgraded (store.c's open, before the
 * upgrade's transaction): SQLite's online backup (store_backup.c) into
 * STORE.schema-N-TIME.bak beside it, synced and never over a file. A package upgrade then
 * leaves the store as the older mlagw wrote it, for an operator who takes that mlagw back or
 * finds the upgrade wrong; attachment files are not copied (no schema change touches them). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "store_check.h"
#include "store_internal.h"

mla_err store_upgrade_backup(gw_store *s, const char *path, mla_diag *diag)
{
	char out[PATH_MAX], tmp[PATH_MAX], at[MLA_TIME_LEN], why[MLA_DIAG_MAX];
	uint64_t bytes = 0;
	mla_err r;
	int v = 0;

	if ((r = store_user_version(s, &v, diag)) != MLA_OK)
		return r;
	/* 0: no mlagw schema, newer: refused by apply_schema; neither is upgraded */
	if (v <= 0 || v >= STORE_SCHEMA_VERSION)
		return MLA_OK;
	mla_time_format(time(NULL), at);
	if (mla_snprintf(out, sizeof(out), "%s.schema-%d-%s.bak", path, v, at) != MLA_OK ||
	    mla_snprintf(tmp, sizeof(tmp), "%s.tmp", out) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "store: %s: path too long for the backup "
				"taken before a schema upgrade", path);
	if ((r = store_backup_copy(path, tmp, &bytes, diag)) != MLA_OK ||
	    (r = store_backup_place(tmp, out, diag)) != MLA_OK) {
		(void)unlink(tmp);
		(void)mla_snprintf_cut(why, sizeof(why), "%s", diag->msg);
		return mla_fail(diag, r, "store: no upgrade of %s from schema %d without its "
				"backup: %s", path, v, why);
	}
	if ((s->upgrade_backup = strdup(out)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "store: out of memory");
	s->upgraded_from = v;
	return MLA_OK;
}

const char *store_upgraded(const gw_store *s, int *from)
{
	*from = s->upgraded_from;
	return s->upgrade_backup;
}
