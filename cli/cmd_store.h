/* mlagw store show: a gateway's store read through its read-only reader, for operators,
 * scripts and tests (cmd_store.c: arguments, meta, message bytes; cmd_store_rows.c: the
 * row listings in text or streamed JSON). */
#ifndef MLAGW_CLI_CMD_STORE_H
#define MLAGW_CLI_CMD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_reader.h"

/* How rows are printed: text lines, or one JSON array streamed a row at a time. */
struct show_out {
	int json;
	int blobs;     /* JSON: receipts and envelopes of --outbox and --inbox (base64) */
	size_t n;      /* rows printed so far */
	int rc;        /* the CLI status a row callback stopped with */
};

/* Each lists one part of the store to stdout (the JSON array's brackets included); a CLI
 * status. message_id (history) may be NULL for all; audit: from <= seq <= to. */
int show_outbox(store_reader *r, struct show_out *o);
int show_inbox(store_reader *r, struct show_out *o);
int show_history(store_reader *r, const char *message_id, struct show_out *o);
int show_alerts(store_reader *r, struct show_out *o);
int show_audit(store_reader *r, uint64_t from, uint64_t to, struct show_out *o);
int show_checkpoints(store_reader *r, struct show_out *o);
int show_witnessed(store_reader *r, struct show_out *o);
int show_peer_certs(store_reader *r, struct show_out *o);

/* mlagw store init and accept-loss (cmd_store_admin.c): argv[0] is the subcommand. */
int store_init_cmd(int argc, char **argv);
int store_accept_loss_cmd(int argc, char **argv);

/* mlagw store restore (cmd_store_restore.c): argv[0] is "restore". */
int store_restore_cmd(int argc, char **argv);
/* The checks of mlagw store check on the store at path (cmd_store_check.c), its attachment
 * files under att_root (NULL: the store's own folder): CLI_OK, or CLI_REJECTED with res and
 * att saying what failed, or an error printed for cmd. */
struct store_check_result;
struct attach_check_result;
int store_check_file(const char *path, const char *att_root, const char *cmd,
		     struct store_check_result *res, struct attach_check_result *att);
void store_check_print(const char *path, const struct store_check_result *res,
		       const struct attach_check_result *att);

/* The CLI status of a reader call that ended with e (d: its diagnostic). */
int show_done(const struct show_out *o, mla_err e, const mla_diag *d);

#endif
