/* The directory in force in the audit log (SPEC 18.6 "In the audit log"; see directory.h):
 * each serial adopted is one directory-adopted entry (version 8, SPEC 14), written in one
 * transaction with its signed bytes (kept by digest, for audit bundles) and the serial
 * recorded (meta directory_logged), so that a serial is recorded exactly once: a restart on
 * the same serial finds it recorded, and a crash before the commit leaves nothing, so the
 * next start records the serial then in force. */
#include <string.h>

#include "mlagw/codec.h"
#include "core/log.h"
#include "directory.h"
#include "tlog/audit.h"

/* The entry of dir, adopted how ("start", "reload"). */
static mla_err append_entry(struct gw *g, const mla_directory *dir, const char *how)
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_DIRECTORY_ADOPTED;
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) != MLA_OK ||
	    (r = mla_strcpy(e.reason, sizeof(e.reason), how)) != MLA_OK ||
	    (r = mla_strcpy(e.dir_publisher, sizeof(e.dir_publisher), dir->publisher)) != MLA_OK)
		return r;
	e.dir_serial = dir->serial;
	e.dir_issued = (int64_t)dir->issued_at;
	e.dir_expires = (int64_t)dir->expires;
	e.has_dir_sha256 = 1;
	memcpy(e.dir_sha256, dir->digest, sizeof(e.dir_sha256));
	return gw_audit(g, &e);
}

/* The rows and the entry: in the group commit open, else in a transaction of their own. */
static mla_err record(struct gw *g, const mla_directory *dir, const mla_buf *doc,
		      const char *how, mla_diag *d)
{
	int own = !gw_batch_is_open(g);
	mla_err r;

	if (own && (r = store_begin(g->store, d)) != MLA_OK)
		return r;
	if ((r = store_directory_doc_put(g->store, dir->serial, dir->digest, doc->data, doc->len,
					 d)) == MLA_OK &&
	    (r = store_directory_held_put(g->store, dir->serial, dir->digest, d)) == MLA_OK &&
	    (r = append_entry(g, dir, how)) != MLA_OK)
		(void)mla_fail(d, r, "the directory-adopted entry is not written");
	if (r == MLA_OK)
		r = store_directory_logged_put(g->store, dir->serial, d);
	if (!own)
		return r;
	if (r == MLA_OK && (r = store_commit(g->store, d)) == MLA_OK)
		return MLA_OK;
	(void)store_rollback(g->store);
	(void)gw_audit_sync(g, NULL); /* the entry appended, if any, went with the rollback */
	return r;
}

mla_err gw_directory_record(struct gw *g, const char *how, mla_diag *d)
{
	const struct gw_snapshot *s = g->snap;
	uint64_t logged = 0;
	mla_err r;

	if (s->dir == NULL)
		return MLA_OK;
	if ((r = store_directory_logged_get(g->store, &logged, d)) == MLA_OK &&
	    logged == s->dir->serial)
		return MLA_OK;
	if (r != MLA_OK && r != MLA_ERR_NOT_FOUND)
		return r;
	d->code = MLA_OK;
	d->msg[0] = '\0';
	if ((r = record(g, s->dir, &s->dir_doc, how, d)) != MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "directory-recorded", NULL, "serial=%llu publisher=%s how=%s",
	       (unsigned long long)s->dir->serial, s->dir->publisher, how);
	return MLA_OK;
}
