/* The store read-only (store_reader*.c): for the audit exporter, the benchmarks, `mlagw store
 * show` and the tests, which must never run SQL of their own. It opens the file with
 * SQLITE_OPEN_READONLY (it never writes the database or its write-ahead log, so it can read a
 * store while the daemon runs) and streams rows to callbacks: memory does not grow with the
 * store. */
#ifndef MLAGW_GATEWAY_STORE_READER_H
#define MLAGW_GATEWAY_STORE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/audit.h"
#include "store.h"

typedef struct store_reader store_reader;

/* Opens path read-only and reads the schema version from the store's own record (the version
 * store_open writes in the same transaction as the tables). A file without an mlagw schema is
 * MLA_ERR_STORE, and so is a store newer than this code (STORE_SCHEMA_VERSION), by name:
 * the rows it holds may mean something this code does not know. Every read then sees one
 * snapshot of the store, taken at open (and at each store_reader_refresh). */
mla_err store_reader_open(const char *path, store_reader **out, mla_diag *diag);
void store_reader_close(store_reader *r);
/* The schema version of the open store (1 .. STORE_SCHEMA_VERSION): parts added later
 * (witnessing in 2, meta in 3) read as empty in an older store. */
int store_reader_version(const store_reader *r);
/* Ends the snapshot and takes a new one: rows committed since become visible. */
mla_err store_reader_refresh(store_reader *r, mla_diag *diag);

/* How many rows each part holds; checkpoint_latest is the largest checkpoint size (0: none),
 * audit_next the entry after the last one (max seq + 1: equals audit in a dense log). */
struct store_counts {
	uint64_t outbox, inbox, history, alerts, audit, audit_next, checkpoints,
		checkpoint_latest, witnessed, peer_certs;
};
mla_err store_reader_counts(store_reader *r, struct store_counts *c, mla_diag *diag);

/* In every callback below, strings and bytes live only during the call; a callback must not
 * call the reader, and a non-MLA_OK return stops the iteration and is returned. */

/* The store's own key-value record (meta: "clean" = "1" between a clean stop and the next
 * start), by key. */
typedef mla_err (*store_meta_fn)(const char *key, const char *value, void *arg);
mla_err store_reader_meta(store_reader *r, store_meta_fn fn, void *arg, mla_diag *diag);

/* Audit entries with from <= seq < to, in seq order, exactly as stored: a missing seq is not
 * reported (the auditor's verifier names it), leaf is NULL when the stored one is not 32
 * bytes, entry is NULL when len is 0. */
struct store_audit_row {
	uint64_t seq;
	const uint8_t *entry;
	size_t len;
	const uint8_t *leaf;
};
typedef mla_err (*store_audit_row_fn)(const struct store_audit_row *row, void *arg);
mla_err store_reader_audit(store_reader *r, uint64_t from, uint64_t to, store_audit_row_fn fn,
			   void *arg, mla_diag *diag);

/* Signed checkpoints in ascending size: the note as signed, with the cosignature lines the
 * peers added. */
struct store_checkpoint_row {
	uint64_t size;
	const char *note;
	size_t len;
	int64_t at_ms;
};
typedef mla_err (*store_checkpoint_row_fn)(const struct store_checkpoint_row *row, void *arg);
mla_err store_reader_checkpoints(store_reader *r, store_checkpoint_row_fn fn, void *arg,
				 mla_diag *diag);

/* The log's origin as its latest checkpoint names it (the note's first line, e.g.
 * "mlagw.es/audit": the State is in it), NUL-terminated in origin (cap bytes);
 * MLA_ERR_NOT_FOUND before the first checkpoint. */
mla_err store_reader_origin(store_reader *r, char *origin, size_t cap, mla_diag *diag);

/* Peers' checkpoints this gateway cosigned (note as received plus the cosignature line), by
 * origin then size. */
struct store_witnessed_row {
	const char *origin;
	uint64_t size;
	const uint8_t *root; /* 32 bytes */
	const char *note;
	size_t len;
	int64_t at_ms;
};
typedef mla_err (*store_witnessed_row_fn)(const struct store_witnessed_row *row, void *arg);
mla_err store_reader_witnessed(store_reader *r, store_witnessed_row_fn fn, void *arg,
			       mla_diag *diag);

/* Peers' audit certificates (DER) as kept when witnessing, by State then fingerprint. */
struct store_peer_cert_row {
	const char *state;
	const uint8_t *fingerprint; /* SHA-256 of der, 32 bytes */
	const uint8_t *der;
	size_t len;
	int64_t at_ms;
};
typedef mla_err (*store_peer_cert_row_fn)(const struct store_peer_cert_row *row, void *arg);
mla_err store_reader_peer_certs(store_reader *r, store_peer_cert_row_fn fn, void *arg,
				mla_diag *diag);

/* Every outgoing message by message id, with its receipt (NULL when none yet). */
struct store_outbox_row {
	const struct out_msg *msg;
	const uint8_t *receipt;
	size_t receipt_len;
	int64_t updated_ms;
};
typedef mla_err (*store_outbox_row_fn)(const struct store_outbox_row *row, void *arg);
mla_err store_reader_outbox(store_reader *r, store_outbox_row_fn fn, void *arg,
			    mla_diag *diag);

/* Every received message by message id: accepted (with its envelope) or refused (envelope
 * NULL), and the receipt it was answered with. */
struct store_inbox_row {
	const struct in_msg *msg;
	int accepted;
	const uint8_t *envelope;
	size_t envelope_len;
	const uint8_t *receipt;
	size_t receipt_len;
};
typedef mla_err (*store_inbox_row_fn)(const struct store_inbox_row *row, void *arg);
mla_err store_reader_inbox(store_reader *r, store_inbox_row_fn fn, void *arg, mla_diag *diag);

/* The bytes of one message: fn(bytes, len, arg) once, or MLA_ERR_NOT_FOUND. The envelope as
 * sent (outbox) or else as received and accepted (inbox); the receipt as received (outbox)
 * or else as issued (inbox). */
typedef mla_err (*store_bytes_fn)(const uint8_t *p, size_t len, void *arg);
mla_err store_reader_envelope(store_reader *r, const char *message_id, store_bytes_fn fn,
			      void *arg, mla_diag *diag);
/* The earlier seals of a message sealed again (store_outbox_reseal), by ascending number;
 * none for a store from before schema 6. */
struct store_seal_row {
	unsigned seal;
	const uint8_t *envelope;
	size_t envelope_len;
	const uint8_t *receipt;
	size_t receipt_len;
};
typedef mla_err (*store_seal_row_fn)(const struct store_seal_row *row, void *arg);
mla_err store_reader_seals(store_reader *r, const char *message_id, store_seal_row_fn fn,
			   void *arg, mla_diag *diag);
mla_err store_reader_receipt(store_reader *r, const char *message_id, store_bytes_fn fn,
			     void *arg, mla_diag *diag);

/* The history of one message (message_id) or of all (NULL), in the order recorded: direction
 * "out" or "in", state or event name, detail (NULL when none). */
struct store_history_row {
	const char *message_id, *direction, *state, *detail;
	int64_t at_ms;
};
typedef mla_err (*store_history_row_fn)(const struct store_history_row *row, void *arg);
mla_err store_reader_history(store_reader *r, const char *message_id, store_history_row_fn fn,
			     void *arg, mla_diag *diag);

/* Alerts in the order recorded (message_id and detail NULL when none). */
struct store_alert_row {
	const char *kind, *message_id, *detail;
	int64_t at_ms;
};
typedef mla_err (*store_alert_row_fn)(const struct store_alert_row *row, void *arg);
mla_err store_reader_alerts(store_reader *r, store_alert_row_fn fn, void *arg, mla_diag *diag);

/* The open reader as the source mla_audit_export reads a log's audit bundle from
 * (store_audit_source.c): valid while r is open; the meta's counts and origin are
 * store_reader_counts' and store_reader_origin's. */
mla_audit_source store_reader_audit_source(store_reader *r);
/* The root of the complete subtree (level, idx) of the audit tree (schema 7: audit.leaf for
 * level 0, audit_tree above); MLA_ERR_NOT_FOUND when the store does not hold it. */
mla_err store_reader_tree_node(store_reader *r, unsigned level, uint64_t idx, uint8_t out[32],
			       mla_diag *diag);
/* Whether the snapshot keeps the audit tree's hashes (schema 7 and later). */
int store_reader_has_tree(const store_reader *r);

/* The SQLite library's version, for benchmark reports. */
const char *store_sqlite_version(void);

/* ---- the messages with attachment files (store_reader_attach.c, SPEC 17.13) ----
 * Every message whose attachment files the store's folder must hold: outbox and inbox
 * envelopes of version 3 (found by their namespace "urn:mlagw:envelope:3" before any parse),
 * and the receiver's transfers in progress (schema 13, in_progress 1), in message id order.
 * The envelope is given as stored; the caller reads its signed list. */
struct store_attach_msg_row {
	const char *message_id;
	const uint8_t *envelope;
	size_t envelope_len;
	int in_progress; /* transfer_in: its files are "<n>.ct.part" until complete */
};
typedef mla_err (*store_attach_msg_fn)(const struct store_attach_msg_row *row, void *arg);
mla_err store_reader_attach_msgs(store_reader *r, store_attach_msg_fn fn, void *arg,
				 mla_diag *diag);
/* *known 1 when message_id is a row of the outbox, the inbox or transfer_in. */
mla_err store_reader_attach_known(store_reader *r, const char *message_id, int *known,
				  mla_diag *diag);

/* The signed directory document whose SHA-256 is digest (schema 14, SPEC 18.6), handed to fn;
 * MLA_ERR_NOT_FOUND when the store does not keep it (an older store keeps none). */
mla_err store_reader_directory_doc(store_reader *r, const uint8_t digest[32], store_bytes_fn fn,
				   void *arg, mla_diag *diag);

#endif
