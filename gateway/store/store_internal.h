/* Internals shared by the store's files (store.c: connection, schema, row helpers; store_tx.c:
 * statements, errors, transactions; store_outbox.c and store_outbox_state.c; store_inbox.c;
 * store_log.c: history and alerts; store_reader*.c: the read-only reader). Not part of the
 * API. */
#ifndef MLAGW_GATEWAY_STORE_INTERNAL_H
#define MLAGW_GATEWAY_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"
#include "store_reader.h"

/* Largest envelope or receipt handed back in an mla_buf. */
#define STORE_BLOB_MAX ((size_t)1 << 30)

/* One slot per cached prepared statement; each is prepared on first use. */
enum store_stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_OUT_INSERT,
	ST_OUT_INSERT_ENV,
	ST_OUT_DUE,
	ST_OUT_ENVELOPE,
	ST_OUT_GET,
	ST_OUT_STATE,
	ST_OUT_REQUEUE,
	ST_OUT_SET,
	ST_OUT_RETRY,
	ST_OUT_RECEIPT,
	ST_OUT_RECEIPT_GET,
	ST_OUT_RECOVER_HIST,
	ST_OUT_RECOVER,
	ST_OUT_WAKE,
	ST_OUT_OVERDUE,
	ST_OUT_COUNTS,
	ST_SEAL_CUR,
	ST_SEAL_KEEP,
	ST_SEAL_ENV,
	ST_SEAL_ROW,
	ST_IN_LOOKUP,
	ST_IN_INSERT,
	ST_IN_COUNTS,
	ST_HIST_INSERT,
	ST_HIST_SELECT,
	ST_ALERT_INSERT,
	ST_ALERT_COUNT,
	ST_AUDIT_INSERT,
	ST_AUDIT_NEXT,
	ST_AUDIT_GET,
	ST_AUDIT_LEAVES,
	ST_AUDIT_ROWS,
	ST_TREE_INSERT,
	ST_TREE_GET,
	ST_TREE_LEAF,
	ST_TREE_SCAN,
	ST_TREE_ROWS,
	ST_CP_INSERT,
	ST_CP_LATEST,
	ST_CP_GET,
	ST_CP_COSIGN,
	ST_WIT_LATEST,
	ST_WIT_PUT,
	ST_PEER_CERT_PUT,
	ST_PEER_CERT_COUNT,
	ST_CASE_KEY,
	ST_CASE_OWNER,
	ST_CASE_OPEN,
	ST_IDEM_GET,
	ST_IDEM_PUT,
	ST_IDEM_PURGE,
	ST_PROBE,
	ST_REC_PAGE,
	ST_REC_NEWEST,
	ST_REC_OUT,
	ST_REC_OUT_ENV,
	ST_REC_CLEAR,
	ST_LIFE_GET,
	ST_LIFE_FIND,
	ST_LIFE_PUT,
	ST_LIFE_STEP_ADD,
	ST_LIFE_PENDING,
	ST_LIFE_DROP,
	ST_LIFE_HISTORY,
	ST_LIFE_LIST,
	ST_DL_PUT,
	ST_DL_DROP,
	ST_DL_GET,
	ST_DL_FIRED,
	ST_DL_MARKS,
	ST_DL_MARKS_DROP,
	ST_RET_OPEN,
	ST_RET_READ,
	ST_RET_ORPHAN_R,
	ST_RET_ORPHAN_N,
	ST_RET_READ_DUE,
	ST_RET_UNREAD_DUE,
	ST_RET_RESERVE_R,
	ST_RET_RESERVE_N,
	ST_RET_GOT,
	ST_RET_GET,
	ST_RET_GET_IN,
	ST_REC_CASE_OUT,
	ST_REC_CASE_IN,
	ST_STEP_FACTS_PUT,
	ST_STEP_FACTS_DROP,
	ST_STEP_FACTS_FORGET,
	ST_REC_STEP_KNOWN,
	ST_DUE_LIST,
	ST_DUE_FIRE,
	ST_DUE_PUT,
	ST_DUE_STALE,
	ST_DUE_STALE_STEP,
	ST_DUE_COUNTS,
	ST_DUE_RESET,
	ST_XFER_PUT,
	ST_XFER_GET,
	ST_XFER_SEG_PUT,
	ST_XFER_SEG_COUNT,
	ST_XFER_SEG_LIST,
	ST_XFER_DROP,
	ST_XFER_OLDER,
	ST_XFER_PEER,
	ST_IN_FROM,
	ST_COUNT_
};

struct gw_store {
	sqlite3 *db;
	int in_tx; /* an explicit store_begin() transaction is open */
	int unclean; /* a write-ahead log was left over at open: checked (store_open) */
	int quick_checked; /* quick_check ran (and passed) at open */
	int fresh; /* created by this open */
	int wal_absent; /* no or an empty write-ahead log at open (unclean: it was lost) */
	sqlite3_stmt *stmt[ST_COUNT_];
	struct store_health health; /* store_fail counts faults, a commit clears failing */
	sqlite3_int64 changes_at_begin; /* a commit that wrote nothing proves nothing */
	int upgraded_from; /* the schema version this open upgraded from, 0: none */
	char *upgrade_backup; /* the copy taken before that upgrade (store_upgrade.c), owned */
};

/* The cached statement of slot id (prepared from sql on first use), reset and unbound. */
mla_err store_stmt(gw_store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **out,
		   mla_diag *diag);
/* Resets st and clears its bindings (blobs bound SQLITE_STATIC must not outlive the call). */
void store_stmt_done(sqlite3_stmt *st);
/* Runs a statement that returns no rows (slot id, sql) to completion. */
mla_err store_exec(gw_store *s, enum store_stmt_id id, const char *sql, const char *op,
		   mla_diag *diag);

/* Maps an SQLite result code to an error naming the operation op: a duplicate primary key is
 * MLA_ERR_EXISTS, SQLITE_TOOBIG is MLA_ERR_TOO_LARGE, anything else MLA_ERR_STORE. */
mla_err store_fail(gw_store *s, int rc, const char *op, mla_diag *diag);
/* The same for any connection (db may be NULL). */
mla_err store_fail_db(sqlite3 *db, int rc, const char *op, mla_diag *diag);

/* BEGIN IMMEDIATE; COMMIT (rolling back if it fails); ROLLBACK unless SQLite has already. */
mla_err store_tx_begin(gw_store *s, mla_diag *diag);
mla_err store_tx_commit(gw_store *s, mla_diag *diag);
void store_tx_abort(gw_store *s);

/* Every write runs between enter and leave: inside store_begin() as a savepoint (so a failed
 * write leaves the group intact), otherwise as its own BEGIN IMMEDIATE .. COMMIT. leave
 * commits or releases when r is MLA_OK, rolls back otherwise, and returns the final result. */
/* The persisted hashes of the audit tree (store_tree.c). add: the complete subtrees that the
 * leaf at seq completes, in the open write (store_audit_append); fill: all of them from the
 * stored leaves (the upgrade to schema 7, in its transaction). */
mla_err store_tree_add(gw_store *s, uint64_t seq, const uint8_t leaf[32], mla_diag *diag);
/* Pushes leaf into the right edge c (mla_merkle_compact_append), calling fn(arg, seq, level,
 * hash) for each complete subtree the push completes: the hashes schema 7 keeps. */
typedef mla_err (*store_tree_node_fn)(void *arg, uint64_t seq, unsigned level,
				      const uint8_t h[32]);
mla_err store_tree_push(mla_merkle_compact *c, const uint8_t leaf[32], store_tree_node_fn fn,
			void *arg);
/* Steps rows (seq, level, hash of audit_tree in key order): SQLITE_ROW when the next row is
 * (seq, level) with hash h; SQLITE_MISMATCH with why (the entries the hash covers) when it is
 * not or is missing; another SQLite code when the read failed. One check, for the start and
 * for mlagw store check. */
int store_tree_row_step(sqlite3_stmt *rows, uint64_t seq, unsigned level, const uint8_t h[32],
			char *why, size_t whylen);
mla_err store_tree_fill(gw_store *s, mla_diag *diag);

mla_err store_write_enter(gw_store *s, int *own, mla_diag *diag);
mla_err store_write_leave(gw_store *s, int own, mla_err r, mla_diag *diag);

/* store.c: PRAGMA user_version. */
mla_err store_user_version(gw_store *s, int *v, mla_diag *diag);
/* Before apply_schema upgrades an older schema: a copy of the store as it is, beside it
 * (store_upgrade.c); nothing for a current, newer or empty one. Upgrading without it is
 * refused (the error names why the copy failed). */
mla_err store_upgrade_backup(gw_store *s, const char *path, mla_diag *diag);
/* store_lifecycle.c: a non-empty write-ahead log beside path (before opening it). */
int store_wal_left_over(const char *path);
/* At open, before any write: notices an unclean stop (the mark in meta) and then requires
 * quick_check to pass. */
mla_err store_check_unclean(gw_store *s, const char *path, const struct store_open_opts *o,
			    mla_diag *diag);
/* PRAGMA quick_check on db: MLA_OK when it says "ok"; what (cap bytes) gets its report on one
 * line ("ok" when it passed). */
mla_err store_quick_check_db(sqlite3 *db, char *what, size_t cap, mla_diag *diag);
/* Sets meta key to value (replace: over an existing value; else kept), in the open group if
 * any. */
mla_err store_meta_put(gw_store *s, const char *key, const char *value, int replace,
		       mla_diag *diag);
/* After the schema: "clean" = 0 until store_mark_clean. */
mla_err store_mark_running(gw_store *s, mla_diag *diag);

/* store_idem.c: the key row of m (m->idem_key set) for message m, inside the put's write. */
mla_err store_idem_put(gw_store *s, const struct out_msg *m, mla_diag *diag);

/* store_outbox.c: binds an outbox row's columns to ?1 .. ?13 (message_id, case_id, to_state,
 * kind, action, priority, created_ms, next_attempt_ms, deadline_ms, digest, updated_ms = now,
 * in_reply_to, submitted_by), for every insert of an outbox row. */
int store_outbox_bind_row(sqlite3_stmt *st, const struct out_msg *m, int64_t now);

/* Wall clock in ms since the epoch, for updated_ms and history rows. */
int64_t store_now_ms(void);

/* Checks that a fixed-size string field is NUL-terminated (and non-empty when required). */
mla_err store_check_str(const char *v, size_t cap, int nonempty, const char *field,
			mla_diag *diag);
/* Copies text column col into dst (cap bytes with the NUL); too long is a corrupt row. */
mla_err store_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap, const char *op,
		       mla_diag *diag);
/* Appends blob column col to out (initialised by the caller). */
mla_err store_col_blob(sqlite3_stmt *st, int col, mla_buf *out, const char *op,
		       mla_diag *diag);
/* Copies a 32-byte digest column; any other length is a corrupt row. */
mla_err store_col_digest(sqlite3_stmt *st, int col, uint8_t digest[32], const char *op,
			 mla_diag *diag);

/* Runs the one-row select (slot id, sql with ?1 = message id) for message_id, leaving *st on
 * the row; no row is MLA_ERR_NOT_FOUND. The caller calls store_stmt_done(*st). */
mla_err store_outbox_select(gw_store *s, enum store_stmt_id id, const char *sql,
			    const char *message_id, const char *op, sqlite3_stmt **st,
			    mla_diag *diag);

/* The outbox columns store_outbox_read_row reads, in its order. */
#define STORE_OUT_COLS                                                                    \
	"message_id, case_id, to_state, kind, action, priority, state, attempts, created_ms," \
	" next_attempt_ms, deadline_ms, digest, last_error"
/* Reads one outbox row selected with STORE_OUT_COLS into o. */
mla_err store_outbox_read_row(sqlite3_stmt *st, struct out_msg *o, const char *op,
			      mla_diag *diag);

/* store_deadline.c, inside the caller's write: the facts of the case of key (its fired
 * marks start at 0), and the removal of its record with the case. */
mla_err store_deadline_put_in(gw_store *s, const struct store_life_key *key,
			      const struct store_deadline_facts *f, mla_diag *diag);
/* store_life.c: binds a case key (state, case id, peer) as ?1, ?2, ?3 (a SQLite code), and
 * runs a DELETE of the rows of one case key (sql with those three parameters), what naming it
 * in a failure. */
/* The columns of a case_life row as store_life_read_case reads them (columns 0 .. 9). */
#define STORE_LIFE_COLS                                                                      \
	"state, case_id, peer, side, life, last_step, pending, pending_action, received_ms," \
	" updated_ms"
mla_err store_life_read_case(sqlite3_stmt *st, struct store_life_case *c, mla_diag *diag);
/* store_due.c: the case's deadline summary is to compute again (a write that changes what
 * its deadlines read: facts, step facts, fired marks), inside the caller's write. */
mla_err store_due_stale_in(gw_store *s, const struct store_life_key *k, mla_diag *diag);
/* The same for the case of the step message_id (its step facts). */
mla_err store_due_stale_step_in(gw_store *s, const char *message_id, mla_diag *diag);
int store_life_bind_key(sqlite3_stmt *st, const struct store_life_key *k);
mla_err store_life_delete_key(gw_store *s, enum store_stmt_id id, const char *sql,
			      const char *what, const struct store_life_key *k, mla_diag *diag);
mla_err store_deadline_drop_in(gw_store *s, const struct store_life_key *key, mla_diag *diag);
/* store_deadline.c, inside the caller's write (schema 11): what step message_id's document
 * says for the deadlines; its removal with a refused step (forget) or with the case (drop). */
mla_err store_step_facts_put_in(gw_store *s, const struct store_life_key *key,
				const char *message_id, const struct store_deadline_facts *f,
				mla_diag *diag);
mla_err store_step_facts_forget_in(gw_store *s, const char *message_id, mla_diag *diag);

/* store_life.c: makes m's step the pending step of its case (inside store_outbox_put). */
mla_err store_life_pend(gw_store *s, const struct store_life_step *step, mla_diag *diag);
/* store_life_apply and store_life_settle inside the caller's write (the inbox put, the
 * outbox receipt and failure). */
mla_err store_life_apply_in(gw_store *s, const struct store_life_step *step, mla_diag *diag);
mla_err store_life_settle_in(gw_store *s, const char *message_id, int positive, int64_t at_ms,
			     mla_diag *diag);

/* Adds a history row (inside the caller's write). detail may be NULL. */
mla_err store_history_add(gw_store *s, const char *message_id, const char *direction,
			  const char *state, int64_t at_ms, const char *detail, mla_diag *diag);

/* --- the read-only reader (store_reader.c, store_reader_log.c, store_reader_msgs.c) --- */

/* One slot per cached statement of a reader, prepared on first use. */
enum store_reader_stmt_id {
	SR_VERSION,
	SR_META,
	SR_AUDIT,
	SR_CHECKPOINTS,
	SR_LATEST_CP,
	SR_WITNESSED,
	SR_PEER_CERTS,
	SR_OUTBOX,
	SR_INBOX,
	SR_ENV_OUT,
	SR_ENV_IN,
	SR_REC_OUT,
	SR_REC_IN,
	SR_SEALS,
	SR_TREE_ROWS,
	SR_HISTORY_ONE,
	SR_HISTORY_ALL,
	SR_ALERTS,
	SR_TREE_NODE,
	SR_TREE_LEAF,
	SR_ATTACH_MSGS,
	SR_ATTACH_KNOWN,
	SR_DIR_DOC,
	SR_DIR_DOCS,
	SR_COUNT_
};

struct store_reader {
	sqlite3 *db;
	int version;		/* the schema version of the snapshot */
	sqlite3_stmt *stmt[SR_COUNT_];
};

/* The cached statement of slot id (prepared from sql on first use), reset and unbound. */
mla_err store_reader_stmt(store_reader *r, enum store_reader_stmt_id id, const char *sql,
			  sqlite3_stmt **out, mla_diag *diag);
/* Steps st (bound by the caller) to its end, calling row(st, arg, diag) for each row; a
 * non-MLA_OK return stops. Resets st. */
typedef mla_err (*store_reader_row_fn)(sqlite3_stmt *st, void *arg, mla_diag *diag);
mla_err store_reader_each(store_reader *r, sqlite3_stmt *st, store_reader_row_fn row,
			  void *arg, const char *op, mla_diag *diag);
/* A text column (NULL stays NULL) and a blob column with its length (NULL when empty). */
const char *store_reader_text(sqlite3_stmt *st, int col);
const uint8_t *store_reader_blob(sqlite3_stmt *st, int col, size_t *len);

/* store_cases.c: opens the case of m (m->case_state, m->case_id) for m->submitted_by if
 * nobody has; MLA_ERR_FORBIDDEN when another owns it and m is not granted. */
mla_err store_case_claim(gw_store *s, const struct out_msg *m, int64_t now, mla_diag *diag);

#endif
