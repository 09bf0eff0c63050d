/* The directory documents of an audit bundle (SPEC 15 step 12, 18.6; family `directories`):
 * the log's directory-adopted entries (version 8) in seq order must adopt ever higher serials;
 * each names the SHA-256 of a signed directory the bundle must hold as `directory <hex>`
 * (format 5), which must hash to its name, verify as SPEC 18.3 steps 1 to 7 say with the
 * auditor's roots and the entry's publisher, its certificates judged at the entry's time (the
 * time the log records, as the audit key is judged), and state the entry's serial, publisher
 * and validity. The entries are kept at step 4's read (no read of its own); memory: some 80
 * bytes per directory-adopted entry, and one document (at most 4 MiB) at a time. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "mlagw/directory.h"
#include "verify_internal.h"

/* Expiry is not judged here: a gateway adopts within its grace period, which the bundle does
 * not state; the entry records the validity, and the signatures are what an auditor needs. */
#define NO_EXPIRY_JUDGED ((time_t)100 * 366 * 86400)

int audit_dir_entry(struct vctx *v, const mla_audit_entry *e)
{
	mla_audit_dir_adopted *p;

	if (v->ndirs > 0 && e->dir_serial <= v->dirs[v->ndirs - 1].serial)
		vfailn(v, F_DIRS, MLA_AUDIT_R_DIRECTORY, MLA_BUNDLE_ENTRY, e->seq,
		       "entry %" PRIu64 ": directory serial %" PRIu64 " does not follow serial %"
		       PRIu64 " adopted at entry %" PRIu64 " (serials never go back)", e->seq,
		       e->dir_serial, v->dirs[v->ndirs - 1].serial, v->dirs[v->ndirs - 1].seq);
	if ((p = mla_grow(v->dirs, &v->capdirs, v->ndirs, sizeof(*v->dirs))) == NULL)
		return -1;
	v->dirs = p;
	p = &v->dirs[v->ndirs++];
	memset(p, 0, sizeof(*p));
	p->seq = e->seq;
	p->serial = e->dir_serial;
	p->time_ms = e->time_ms;
	p->issued = e->dir_issued;
	p->expires = e->dir_expires;
	memcpy(p->publisher, e->dir_publisher, sizeof(p->publisher));
	memcpy(p->sha, e->dir_sha256, 32);
	return 0;
}

/* doc (the record named hex) against entry d. */
static void check_doc(struct vctx *v, mla_audit_dir_adopted *d, const char *hex,
		      const mla_bundle_record *doc)
{
	mla_dir_policy pol;
	mla_directory *dir = NULL;
	mla_diag diag = {MLA_OK, ""};

	memset(&pol, 0, sizeof(pol));
	pol.trust = v->trust != NULL ? v->trust->trust : NULL;
	pol.publisher = d->publisher;
	pol.now = (time_t)(d->time_ms / 1000);
	pol.grace = NO_EXPIRY_JUDGED;
	audit_revoc_reset(v);
	if (pol.trust == NULL ||
	    mla_directory_verify(doc->data, doc->len, &pol, &dir, NULL, &diag) != MLA_OK)
		vfail(v, F_DIRS, MLA_AUDIT_R_DIRECTORY, MLA_BUNDLE_DIRECTORY, hex,
		      "directory %.16s... (entry %" PRIu64 ", serial %" PRIu64 ") does not verify "
		      "at the entry's time: %s", hex, d->seq, d->serial,
		      pol.trust == NULL ? "no roots" : mla_diag_message(&diag));
	else if (dir->serial != d->serial || strcmp(dir->publisher, d->publisher) != 0 ||
		 (int64_t)dir->issued_at != d->issued || (int64_t)dir->expires != d->expires)
		vfail(v, F_DIRS, MLA_AUDIT_R_DIRECTORY, MLA_BUNDLE_DIRECTORY, hex,
		      "directory %.16s... is serial %" PRIu64 " of %s, not what entry %" PRIu64
		      " records (serial %" PRIu64 " of %s, its validity)", hex, dir->serial,
		      dir->publisher, d->seq, d->serial, d->publisher);
	else
		d->verified = 1;
	if (d->verified && v->hit.have) { /* a signer revoked: before the directory was issued? */
		char what[96];
		(void)mla_snprintf_cut(what, sizeof(what), "directory %.16s... (entry %" PRIu64
				       ", serial %" PRIu64 ")", hex, d->seq, d->serial);
		audit_revoc_judge(v, MLA_BUNDLE_DIRECTORY, hex, (int64_t)dir->issued_at, what);
	}
	v->fam[F_DIRS].ok += (size_t)d->verified;
	mla_directory_free(dir);
}

/* One directory record: its name is its digest; each entry naming it is checked. */
static int check_record(struct vctx *v, const mla_bundle_record *rec, mla_buf *buf)
{
	mla_bundle_record doc;
	uint8_t sha[32];
	char hex[65];
	int named = 0;

	if (audit_record_loaded(v, rec, F_DIRS, buf, &doc) != 0)
		return 0; /* recorded */
	SHA256(doc.data, doc.len, sha);
	mla_require(mla_hex_encode(sha, 32, hex, sizeof(hex)) == MLA_OK);
	if (strcmp(hex, rec->name) != 0) {
		vfail(v, F_DIRS, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_DIRECTORY, rec->name,
		      "directory %.16s...: its SHA-256 is %.16s..., not its name (altered)",
		      rec->name, hex);
		return 0;
	}
	for (size_t i = 0; i < v->ndirs; i++) {
		if (memcmp(v->dirs[i].sha, sha, 32) != 0)
			continue;
		named = v->dirs[i].held = 1;
		check_doc(v, &v->dirs[i], hex, &doc);
	}
	if (!named)
		vfail(v, F_DIRS, MLA_AUDIT_R_UNREFERENCED, MLA_BUNDLE_DIRECTORY, rec->name,
		      "directory %.16s...: no directory-adopted entry names it", rec->name);
	return 0;
}

int verify_directories(struct vctx *v)
{
	mla_buf buf;
	char hex[65];

	mla_buf_init(&buf, MLA_DIR_MAX_BYTES + 1);
	for (size_t i = 0; i < v->b->n; i++)
		if (v->b->rec[i].type == MLA_BUNDLE_DIRECTORY)
			(void)check_record(v, &v->b->rec[i], &buf);
	mla_buf_free(&buf);
	for (size_t i = 0; i < v->ndirs; i++) {
		const mla_audit_dir_adopted *d = &v->dirs[i];

		if (d->held)
			continue;
		mla_require(mla_hex_encode(d->sha, 32, hex, sizeof(hex)) == MLA_OK);
		vfailn(v, F_DIRS, MLA_AUDIT_R_MISSING, MLA_BUNDLE_ENTRY, d->seq,
		       "entry %" PRIu64 " (directory-adopted, serial %" PRIu64 ") names directory "
		       "%.16s..., which the bundle does not hold", d->seq, d->serial, hex);
	}
	return 0;
}

const mla_audit_dir_adopted *mla_audit_directory_at(const mla_audit_dir_adopted *d, size_t n,
						    int64_t at_ms)
{
	const mla_audit_dir_adopted *in_force = NULL;

	for (size_t i = 0; i < n && d[i].time_ms <= at_ms; i++) /* times never go back */
		in_force = &d[i];
	return in_force;
}
