/* The attachment files of a backup (mlagw store backup, mlagw store restore; SPEC 17.13
 * "Durability"): the files the store's snapshot lists copied from one attachments root to
 * another as the layout names them ("<n>.ct"; "<n>.ct.part" for a transfer in progress,
 * copied as it is: the receiver resumes from its status), with the sender's "<n>.tree"
 * when there is one. Files of messages the snapshot does not hold are not copied. */
#ifndef GW_ATTACH_BACKUP_H
#define GW_ATTACH_BACKUP_H
#include <stdint.h>

#include "attach/attach_check.h"

struct attach_backup_result {
	uint64_t messages, files, parts, trees;
	uint64_t bytes;	  /* every file copied, trees included */
	uint64_t missing; /* listed, not found under the source root (the check names them) */
};

/* Copies src to the new file dst through "dst.part" (fsynced, linked as dst, never over an
 * existing file: MLA_ERR_EXISTS); *bytes += the bytes copied. The caller fsyncs the folder. */
mla_err attach_copy_file(const char *src, const char *dst, uint64_t *bytes, mla_diag *diag);
/* Every file r's snapshot lists, from src_root to dst_root (folders created 0700). */
mla_err attach_backup_run(store_reader *r, const char *src_root, const char *dst_root,
			  struct attach_backup_result *res, mla_diag *diag);
/* Removes a copy attach_backup_run left (a backup given up). */
void attach_backup_remove(const char *dst_root);

#endif
