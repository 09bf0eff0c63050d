/* Test-only access to a store file (store_fault.c, library gw_store_fault_lib): damaging it
 * on purpose to test what the gateway and the auditor's tools make of it, and reading SQLite
 * settings the unit tests check. Never linked into mlagwd or mlagw. The store must not be
 * open in a running gateway (a killed or stopped one is fine). */
#ifndef MLAGW_GATEWAY_STORE_FAULT_H
#define MLAGW_GATEWAY_STORE_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

/* Replaces audit entry seq's bytes; its leaf hash too when leaf is not NULL (else the stored
 * leaf stays and no longer matches). MLA_ERR_NOT_FOUND if there is no entry seq. */
mla_err store_fault_set_entry(const char *path, uint64_t seq, const uint8_t *entry, size_t len,
			      const uint8_t leaf[32], mla_diag *diag);
/* Replaces the persisted audit tree hash of the subtree of 2^level leaves whose last entry is
 * seq (level >= 1), or deletes it when hash is NULL. MLA_ERR_NOT_FOUND if there is none. */
mla_err store_fault_set_tree_hash(const char *path, uint64_t seq, unsigned level,
				  const uint8_t hash[32], mla_diag *diag);
/* Replaces the envelope of sent message id, and its digest (SHA-256 of env), as if the sender
 * had sealed env: what a sender that does not validate its documents would send (issue 13).
 * MLA_ERR_NOT_FOUND if there is no such message. */
mla_err store_fault_set_outbox_envelope(const char *path, const char *id, const uint8_t *env,
					size_t len, const uint8_t digest[32], mla_diag *diag);
/* Deletes audit entry seq, leaving a gap. */
mla_err store_fault_delete_entry(const char *path, uint64_t seq, mla_diag *diag);
/* Moves the write-ahead log into the database file and empties it (so the file alone holds
 * every page); *pages and *page_size describe the file then. */
mla_err store_fault_wal_truncate(const char *path, int64_t *pages, int64_t *page_size,
				 mla_diag *diag);
/* Replaces the signed note of the checkpoint of size (MLA_ERR_NOT_FOUND if none). */
mla_err store_fault_set_checkpoint(const char *path, uint64_t size, const char *note, size_t len,
				   mla_diag *diag);
/* The pages of table or index name in the database file (SQLite's dbstat), in page order,
 * leaves only (interior pages hold no rows): fn(page number, arg) for each; *page_size set. */
typedef mla_err (*store_fault_page_fn)(int64_t page, void *arg);
mla_err store_fault_pages(const char *path, const char *name, int64_t *page_size,
			  store_fault_page_fn fn, void *arg, mla_diag *diag);
/* Sets the schema version number alone (e.g. to one this code does not know). */
mla_err store_fault_set_version(const char *path, int version, mla_diag *diag);
/* One byte appended to the adopted directory of the lowest serial (its key unchanged). */
mla_err store_fault_dir_doc_alter(const char *path, mla_diag *diag);
/* Turns a current store into one of schema version 1 (drops what versions 2 to 9 added). */
mla_err store_fault_make_v1(const char *path, mla_diag *diag);
/* Turns a current store into one of schema version 6 (drops the audit tree's hashes and the
 * case lifecycle). */
mla_err store_fault_make_v6(const char *path, mla_diag *diag);
/* Sets the lifecycle state (a name) of the cases named case_id, behind their steps' back. */
mla_err store_fault_case_life(const char *path, const char *case_id, const char *life,
			      mla_diag *diag);
/* Removes the lifecycle row of the cases named case_id, leaving their steps and deadline
 * records behind. */
mla_err store_fault_case_drop(const char *path, const char *case_id, mla_diag *diag);
/* The store as schema 7 left it (no case lifecycle: case_life, case_steps). */
mla_err store_fault_make_v7(const char *path, mla_diag *diag);
/* The store as schema 8 left it (no case deadline records: case_deadline, case_deadline_fired). */
mla_err store_fault_make_v8(const char *path, mla_diag *diag);
/* The same for version 9: without the retrieval tables of schema 10 (SPEC 16.10). */
mla_err store_fault_make_v9(const char *path, mla_diag *diag);
/* The store as schema 10 left it (no arrest warrant facts, no step facts: case_step_facts). */
mla_err store_fault_make_v10(const char *path, mla_diag *diag);
/* A store as schema 11 wrote it: case_life without the deadline summary of schema 12. */
mla_err store_fault_make_v11(const char *path, mla_diag *diag);
/* A store as schema 12 wrote it: no attachments being received (transfer_in, transfer_seg). */
mla_err store_fault_make_v12(const char *path, mla_diag *diag);
/* Schema 13: without the directories adopted (directory_docs). */
mla_err store_fault_make_v13(const char *path, mla_diag *diag);
/* The text of "PRAGMA name" (journal_mode, integrity_check: a fixed list), first row. */
mla_err store_fault_pragma(const char *path, const char *name, char *out, size_t cap,
			   mla_diag *diag);

#endif
