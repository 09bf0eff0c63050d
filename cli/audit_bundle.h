/* mlagw audit export | verify | reconcile: the offline audit bundle (protocol/SPEC.md section
 * 15), written from a gateway's store (cmd_audit_export.c), verified (cmd_audit_verify.c) and
 * reconciled (cmd_audit_reconcile.c) with the library calls of mlagw/audit.h. */
#ifndef MLAGW_CLI_AUDIT_BUNDLE_H
#define MLAGW_CLI_AUDIT_BUNDLE_H

#include <jansson.h>

#include "mlagw/audit.h"

int cmd_audit_export(int argc, char **argv);
int cmd_audit_verify(int argc, char **argv);
/* mlagw audit new-epoch (cmd_audit_epoch.c): a new log epoch after a store loss. */
int cmd_audit_new_epoch(int argc, char **argv);

/* The options verify and reconcile take (--trust DIR, --json, --help) and the operands into
 * files[] (room for max_files or nfiles, plus the NULL after the last); -1 after printing
 * usage for --help, else CLI_OK or a usage error naming `want` when the operands (or a
 * required --trust) are missing. */
struct audit_args_spec {
	const char *cmd, *usage;
	int nfiles, need_trust;
	const char *want;
	int max_files; /* 0: exactly nfiles; else nfiles to max_files (files[] ends in NULL) */
};
int audit_parse_args(int argc, char **argv, const struct audit_args_spec *spec,
		     const char **files, const char **dir, int *json);
/* verify's attachment options (SPEC 15 "Attachment files"): --attachments DIR, and
 * --all-attachments (a listed file absent is a failure). */
struct audit_attach_opts {
	const char *dir;
	int required;
	const char *directory_at; /* --directory-at TIME (NULL: not asked), at_ms its end */
	int64_t at_ms;
};
/* audit_parse_args, also taking those options into *att (NULL: they are refused). */
int audit_parse_args_att(int argc, char **argv, const struct audit_args_spec *spec,
			 const char **files, const char **dir, int *json,
			 struct audit_attach_opts *att);
/* audit_dir_at.c: the directory in force at o->at_ms in verified bundle b, as JSON (a new
 * reference) or a line of text. */
json_t *audit_dir_at_json(const mla_audit_bundle_result *b, const struct audit_attach_opts *o);
void audit_dir_at_text(const mla_audit_bundle_result *b, const struct audit_attach_opts *o);
/* The roots of DIR/ *.crt into *trust; CLI_OK, else CLI_IO after printing "mlagw CMD: ..." */
int audit_load_trust(const char *dir, const char *cmd, mla_audit_trust **trust);
/* CLI_OK when file is a regular file that opens; else CLI_IO after saying why on stderr. */
int audit_bundle_readable(const char *file, const char *cmd);

#endif
