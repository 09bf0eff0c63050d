/* mlagw audit verify --directory-at TIME (SPEC 15 "The directory in force"): which
 * directory serial the verified log had adopted at TIME, read from its directory-adopted
 * entries, and whether the bundle holds that document verified. */
#include <stdio.h>

#include "audit_bundle.h"
#include "mlagw/codec.h"

static const char *doc_state(const mla_audit_dir_adopted *d)
{
	return d->verified ? "verified" : d->held ? "refused" : "not in the bundle";
}

json_t *audit_dir_at_json(const mla_audit_bundle_result *b, const struct audit_attach_opts *o)
{
	const mla_audit_dir_adopted *d =
		mla_audit_directory_at(b->directories, b->ndirectories, o->at_ms);
	char serial[24], hex[65], adopted[MLA_TIME_MS_LEN], issued[MLA_TIME_LEN],
		expires[MLA_TIME_LEN];

	if (d == NULL)
		return json_pack("{sssn}", "at", o->directory_at, "serial");
	mla_require(mla_snprintf(serial, sizeof(serial), "%llu", (unsigned long long)d->serial) ==
		    MLA_OK);
	mla_require(mla_hex_encode(d->sha, 32, hex, sizeof(hex)) == MLA_OK);
	mla_time_ms_format(d->time_ms, adopted);
	mla_time_format((time_t)d->issued, issued);
	mla_time_format((time_t)d->expires, expires);
	return json_pack("{sssssssssssssIssss}", "at", o->directory_at, "serial", serial,
			 "publisher", d->publisher, "issued_at", issued, "expires", expires,
			 "sha256", hex, "entry", (json_int_t)d->seq, "adopted", adopted,
			 "document", doc_state(d));
}

void audit_dir_at_text(const mla_audit_bundle_result *b, const struct audit_attach_opts *o)
{
	const mla_audit_dir_adopted *d =
		mla_audit_directory_at(b->directories, b->ndirectories, o->at_ms);
	char hex[65], adopted[MLA_TIME_MS_LEN], issued[MLA_TIME_LEN], expires[MLA_TIME_LEN];

	if (d == NULL) {
		printf("directory at %s: none adopted by then\n", o->directory_at);
		return;
	}
	mla_require(mla_hex_encode(d->sha, 32, hex, sizeof(hex)) == MLA_OK);
	mla_time_ms_format(d->time_ms, adopted);
	mla_time_format((time_t)d->issued, issued);
	mla_time_format((time_t)d->expires, expires);
	printf("directory at %s: serial %llu of %s (issued %s, expires %s), sha256 %s, adopted "
	       "at %s (entry %llu); document %s\n", o->directory_at,
	       (unsigned long long)d->serial, d->publisher, issued, expires, hex, adopted,
	       (unsigned long long)d->seq, doc_state(d));
}
