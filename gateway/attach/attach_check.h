/* The attachment files checked against the store (SPEC 17.13 "Durability"): every message
 * whose envelope is version 3 (outbox, inbox) or whose transfer is in progress (schema 13)
 * must have, under the attachments root, each listed file of exactly the signed list's
 * ciphertext size ("<n>.ct" complete; "<n>.ct.part", or "<n>.ct" once renamed, while a
 * transfer is in progress); anything else under the root is a stray (reported, not a
 * failure). Sizes only (stat) unless ATTACH_CHECK_DEEP, which also recomputes each complete
 * file's Merkle root against the signed list (mla_audit_attach_check_file, streaming).
 * Reports name the message id and the index, never a name from the descriptor. The same
 * walk gives the backup (attach_backup.c) its files. */
#ifndef GW_ATTACH_CHECK_H
#define GW_ATTACH_CHECK_H
#include <stdint.h>

#include "mlagw/attach.h"
#include "mlagw/error.h"
#include "store/store_reader.h"

#define ATTACH_CHECK_DEEP 1u /* also each complete file's Merkle root (cost: its bytes) */

struct attach_check_result {
	uint64_t messages;	/* messages with attachment files */
	uint64_t files, bytes;	/* files checked and their bytes */
	uint64_t parts;		/* of them, transfers in progress ("<n>.ct.part") */
	uint64_t deep;		/* files whose root was recomputed */
	uint64_t bad;		/* files missing, of another size, or (deep) another root */
	char first_bad[MLA_DIAG_MAX]; /* "message <id> attachment <n>: <why>", or "" */
	uint64_t strays;	/* folders or files under the root no message lists */
	char first_stray[MLA_DIAG_MAX];
};

/* One listed attachment file: message_id's attachment e, in_progress a transfer in progress,
 * path the file found ("" when none is there). A non-MLA_OK return stops the walk. */
typedef mla_err (*attach_file_fn)(const char *message_id, const mla_attach_entry *e,
				  int in_progress, const char *path, void *arg, mla_diag *diag);
/* Walks every listed attachment of r's snapshot, its files looked for under root. */
mla_err attach_walk(store_reader *r, const char *root, attach_file_fn fn, void *arg,
		    mla_diag *diag);

/* The check on r's snapshot with the files under root (attach_root_path of the store, or a
 * backup's folder). MLA_OK when it ran (res says what failed); otherwise it could not (the
 * store unreadable, out of memory, *stop set: MLA_ERR_INTERNAL). Needs mla_crypto_init. */
mla_err attach_check_run(store_reader *r, const char *root, unsigned flags,
			 const volatile int *stop, struct attach_check_result *res,
			 mla_diag *diag);

#endif
