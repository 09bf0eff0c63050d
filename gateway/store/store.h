/* The gateway's durable store (SQLite, WAL, synchronous=FULL): outbox of messages to send,
 * inbox of envelopes received with their receipts, the history of every state change, and
 * alerts. Every function that returns MLA_OK for a write has made it durable (fsync). */
#ifndef MLAGW_GATEWAY_STORE_H
#define MLAGW_GATEWAY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/deadline.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"
#include "mlagw/lifecycle.h"
#include "mlagw/merkle.h"

typedef struct gw_store gw_store;

/* The schema this code writes (store_open brings older files up to it) and reads
 * (store_reader.h refuses newer ones). */
#define STORE_SCHEMA_VERSION 14

/* Longest idempotency key (docs/api/README.md, "Idempotency"). */
#define STORE_IDEM_KEY_MAX 64

typedef enum msg_state {
	MSG_QUEUED = 0,
	MSG_SENDING = 1,
	MSG_AWAITING_RECEIPT = 2,
	MSG_DELIVERED = 3,
	MSG_REJECTED = 4,
	MSG_FAILED = 5
} msg_state;

const char *msg_state_name(msg_state s);

/* A case of the lifecycle (SPEC 16.8): its requesting State, its id, the other State. */
struct store_life_key {
	char state[3];
	char case_id[MLA_CASE_ID_MAX + 1];
	char peer[3];
};

/* A step of a case as this gateway records it (store_life.c): in the case key, taken by
 * side `by`, this gateway being on side `side`; at_ms: when it took effect here (the receipt
 * time: issued by the receiver, signed in the receipt the sender verified). */
struct store_life_step {
	struct store_life_key key;
	int side;   /* mla_life_side of this gateway */
	int by;     /* mla_life_side of the State that took the step */
	char message_id[MLA_UUID_LEN + 1];
	char action[MLA_TOKEN_MAX + 1];
	int64_t at_ms;
	/* store_life_apply only: this gateway's pending step, applied first (the peer's step
	 * follows it); "" when none */
	char settle_first[MLA_UUID_LEN + 1];
	/* a request: what its document says for the case's deadlines (schema 9), kept with
	 * the case from this step on; deadline-extended, person-arrested, surrender-consented:
	 * what theirs says (schema 11), kept with the step; NULL when it has none (an opaque
	 * document) */
	const struct store_deadline_facts *facts;
};

/* What a case's deadlines are computed from (SPEC 16.9), read from its request's document
 * when the request is sealed (requesting side) or accepted (requested side): never any of
 * its text, only these facts. */
struct store_deadline_facts {
	int type;                     /* mla_case_doctype of the request's kind part */
	int urgent;                   /* Common/Urgency/Urgent is true */
	int eio;                      /* a LegalBasis/Basis/Instrument is eio-directive */
	int64_t wished_ms;            /* end of Common/Urgency/DateWished, or
				       * MLA_DEADLINE_NO_TIME (INT64_MIN) */
	char kind[MLA_TOKEN_MAX + 1]; /* the request's header Kind */
	int priority;                 /* its header Priority (mla_priority) */
	int eaw;                      /* an arrest warrant under FD 2002/584 (schema 11) */
	/* a step after the request (schema 11; type is then the answer's root): the rule a
	 * deadline-extended names (an mla_deadline_rule_id; MLA_DEADLINE_RULE_N: none), the
	 * time a person-arrested or surrender-consented records (MLA_DEADLINE_NO_TIME: none) */
	int rule;
	int64_t recorded_ms;
};

/* One outgoing message as the relay sees it (the envelope bytes travel separately). */
struct out_msg {
	char message_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char to_state[3];
	char kind[MLA_TOKEN_MAX + 1];
	char action[MLA_TOKEN_MAX + 1];
	int priority;          /* mla_priority */
	msg_state state;
	unsigned attempts;
	int64_t created_ms;    /* wall clock, ms since the epoch */
	int64_t next_attempt_ms;
	int64_t deadline_ms;
	uint8_t digest[32];    /* SHA-256 of the envelope */
	char last_error[MLA_DIAG_MAX];
	char in_reply_to[MLA_UUID_LEN + 1]; /* written by store_outbox_put only */
	char submitted_by[96];              /* the API caller "role:name"; empty: the socket */
	/* Case ownership (store_cases.c), for store_outbox_put only: when case_state is set (this
	 * State's code) and the message belongs to a case of this State, the case is opened for
	 * submitted_by if nobody owns it; if another owns it the put is MLA_ERR_FORBIDDEN unless
	 * case_granted (the configuration lets submitted_by act in that owner's cases). */
	char case_state[3];
	int case_granted;
	/* Idempotency (store_idem.c), for store_outbox_put only: when idem_key is set, the key
	 * row (submitted_by, idem_key, idem_digest, this message) is written with the outbox
	 * row, in its transaction; a row of that key written before idem_not_before_ms is
	 * expired and replaced, a later one makes the put MLA_ERR_EXISTS. */
	char idem_key[STORE_IDEM_KEY_MAX + 1];
	uint8_t idem_digest[32];
	int64_t idem_not_before_ms;
	/* Lifecycle (store_life.c), for store_outbox_put only: when set, the step becomes the
	 * case's pending step in the put's transaction (a request also opens the case in state
	 * transmitted); MLA_ERR_CASE_CONFLICT when the case has one already. */
	const struct store_life_step *life;
};

/* One received envelope. */
struct in_msg {
	char message_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char in_reply_to[MLA_UUID_LEN + 1];
	char from_state[3];
	char kind[MLA_TOKEN_MAX + 1];
	char action[MLA_TOKEN_MAX + 1];
	int priority;
	int64_t created_ms;    /* header Created */
	int64_t received_ms;
	uint8_t digest[32];
	/* Lifecycle (store_life.c), for an accepted store_inbox_put only: when set, the step is
	 * applied to its case in the put's transaction (checked again: MLA_ERR_CASE_STEP). */
	const struct store_life_step *life;
};

/* Whether the store is failing (docs/api/README.md, getHealth): a fault of the disk or the
 * file (SQLite I/O error, disk full, corrupt, read-only, cannot open, busy, out of memory)
 * sets failing with SQLite's reason and counts; the next successful commit clears it. A
 * refused row (constraint, too big) is no fault. */
struct store_health {
	int failing;
	uint64_t errors;     /* faults since the start */
	int64_t since_ms;    /* wall clock: the first fault of the current failure */
	char reason[128];    /* the last fault: operation and SQLite's message */
};
void store_health_get(const gw_store *s, struct store_health *out);
/* While failing and outside a group commit: one small write (a "probe" row in meta) and its
 * commit, so that health comes back as soon as the disk does, traffic or not. */
mla_err store_probe(gw_store *s, mla_diag *diag);


/* Creates a new store at path (mode 0600, the schema, "created" in meta), refusing any
 * existing file (MLA_ERR_EXISTS). The only way a store comes into being. */
mla_err store_init(const char *path, mla_diag *diag);
/* Opens the store at path and brings an older schema up to date. A missing file
 * (MLA_ERR_NOT_FOUND), an empty one or one without an mlagw schema is refused: a lost store
 * is never silently replaced by an empty one. */
mla_err store_open(const char *path, gw_store **out, mla_diag *diag);
/* The daemon's open: besides after an unclean stop, quick_check runs when the last one that
 * passed (meta "checked_at", recorded by store_mark_checked) is older than check_interval_ms
 * at now_ms (wall clock; a check dated in the future is taken as due). 0: only after an
 * unclean stop. */
struct store_open_opts {
	uint64_t check_interval_ms;
	int64_t now_ms;
};
mla_err store_open_opts(const char *path, const struct store_open_opts *o, gw_store **out,
			mla_diag *diag);
/* Whether the store was left unclean (a crash or a kill): store_open then ran SQLite's
 * quick_check and refused the file if it failed. */
int store_unclean(const gw_store *s);
/* The copy taken before this open upgraded the schema (STORE.schema-N-TIME.bak, N in *from),
 * or NULL (*from 0) when it upgraded nothing; owned by s. */
const char *store_upgraded(const gw_store *s, int *from);
/* Whether quick_check ran (and passed) at open: unclean, or due. */
int store_quick_checked(const gw_store *s);
/* quick_check passed at at_ms (wall clock): the next one is due an interval later. */
mla_err store_mark_checked(gw_store *s, int64_t at_ms, mla_diag *diag);
/* The last write of a clean stop: the next open will not take it for a crash, and closing
 * may now checkpoint and delete the write-ahead log (no other close does). */
mla_err store_mark_clean(gw_store *s, mla_diag *diag);
void store_close(gw_store *s);

/* The operator accepts that the write-ahead log of an unclean stop was lost (store_open
 * refuses such a store): after quick_check passes, the store is marked as stopped cleanly and
 * "wal_loss_accepted" records when. Never while the -wal file exists (MLA_ERR_ARG). */
mla_err store_accept_loss(const char *path, int64_t now_ms, mla_diag *diag);

/* The store's own state: short text values (at most STORE_META_MAX bytes) by key;
 * MLA_ERR_NOT_FOUND for a key never written. */
#define STORE_META_MAX 4096
mla_err store_meta_get(gw_store *s, const char *key, char *out, size_t cap, mla_diag *diag);
/* The serial and SHA-256 of the signed directory last adopted (SPEC 18.6), kept so that an
 * older one is refused after a restart too: meta "directory_held". MLA_ERR_NOT_FOUND when
 * none was ever adopted. */
mla_err store_directory_held_get(gw_store *s, uint64_t *serial, uint8_t digest[32],
				 mla_diag *diag);
mla_err store_directory_held_put(gw_store *s, uint64_t serial, const uint8_t digest[32],
				 mla_diag *diag);
/* The directory adopted as the audit log records it (store_directory.c; SPEC 18.6): its
 * signed bytes kept by their SHA-256 (schema 14; a document kept already stays as it is), and
 * meta "directory_logged", the serial of the latest directory-adopted entry, written in the
 * transaction of that entry, so that each serial is recorded once, a restart included.
 * logged_get: MLA_ERR_NOT_FOUND when no entry was ever written. */
mla_err store_directory_doc_put(gw_store *s, uint64_t serial, const uint8_t digest[32],
				const uint8_t *doc, size_t len, mla_diag *diag);
mla_err store_directory_logged_get(gw_store *s, uint64_t *serial, mla_diag *diag);
mla_err store_directory_logged_put(gw_store *s, uint64_t serial, mla_diag *diag);

/* --- log epochs (store_epoch.c; SPEC 14 "Log epochs") --- */
/* The audit log's epoch: meta "audit_epoch", 1 when absent. */
mla_err store_audit_epoch(gw_store *s, uint32_t *epoch, mla_diag *diag);
/* Records the head of our log peer state showed at start (meta "peer_head.<CC>", the note
 * as it came; replaced by later answers), for `mlagw audit new-epoch`. */
mla_err store_peer_head_put(gw_store *s, const char *state, const char *note, mla_diag *diag);
/* mlagw audit new-epoch, on a stopped gateway's store (MLA_ERR_EXISTS while another
 * connection has it open): in one transaction the audit entries
 * and checkpoints go (the archive bundle keeps them), the peer heads and the audit keys held
 * (named for the old origin; the new epoch records them again) and "directory_logged" (the
 * new log records the directory in force at its first start), "audit_epoch"
 * becomes epoch (later than the current one: MLA_ERR_EXISTS otherwise; more than one later
 * when a peer showed an epoch opened after the store's backup was taken) and
 * "epoch_link" link: the serialized epoch-opened entry the daemon writes as entry 0. */
mla_err store_epoch_open(const char *path, uint32_t epoch, const char *link, mla_diag *diag);

/* Whether another connection has the store at path open (*in_use 1), as a running gateway
 * always does: SQLite's exclusive locking is refused then. Nothing is written. */
mla_err store_in_use(const char *path, int *in_use, mla_diag *diag);
/* The latest epoch of state's log this gateway cosigned a checkpoint of (0: none): the
 * largest among the witnessed origins "mlagw.<cc>/audit[/<n>]". */
mla_err store_witness_epoch(gw_store *s, const char *state, uint32_t *epoch, mla_diag *diag);

/* Group commit: writes between begin and commit share one transaction and one fsync. Without
 * an explicit begin each write is its own durable transaction. Inside a group a write that
 * fails undoes only itself (a savepoint). begin while a group is open, and commit or rollback
 * without one, are MLA_ERR_ARG; store_close discards a group left open. */
mla_err store_begin(gw_store *s, mla_diag *diag);
mla_err store_commit(gw_store *s, mla_diag *diag);
mla_err store_rollback(gw_store *s);
/* Commits without waiting for the disk: for writes whose loss in a crash is harmless (the
 * relay's "sending" marks: a message found queued after a crash is simply sent again and
 * the receiver answers a resend with its original receipt). They become durable with the
 * next ordinary commit. */
mla_err store_commit_relaxed(gw_store *s, mla_diag *diag);

/* --- outbox --- */
/* Inserts a sealed message in state queued with its envelope; records history "queued".
 * A message id that exists already is MLA_ERR_EXISTS. */
mla_err store_outbox_put(gw_store *s, const struct out_msg *m, const uint8_t *env, size_t len,
			 mla_diag *diag);
/* Up to max queued messages due at now_ms (next_attempt_ms <= now_ms): crisis, then urgent,
 * then normal; oldest first within a priority; only those for which take(to_state, arg) is
 * non-zero (take may be NULL to take all). take must not call the store. */
typedef int (*store_peer_filter)(const char *to_state, void *arg);
mla_err store_outbox_due(gw_store *s, int64_t now_ms, store_peer_filter take, void *arg,
			 struct out_msg *out, size_t max, size_t *n, mla_diag *diag);
/* The envelope bytes of a message (out initialised by the callee). */
mla_err store_outbox_envelope(gw_store *s, const char *message_id, mla_buf *out,
			      mla_diag *diag);
mla_err store_outbox_get(gw_store *s, const char *message_id, struct out_msg *out,
			 mla_diag *diag);
/* Moves a message to state with a history row (detail: short reason, may be NULL; it becomes
 * last_error). For MSG_QUEUED (retry) next_attempt_ms is set and attempts incremented.
 * MSG_DELIVERED needs the receipt (store_outbox_receipt); a message in a final state
 * (delivered, rejected, failed) never changes again: MLA_ERR_ARG. */
mla_err store_outbox_set_state(gw_store *s, const char *message_id, msg_state state,
			       int64_t next_attempt_ms, const char *detail, mla_diag *diag);
/* A history row of message_id (direction out) that changes no state: "transferring" when
 * its attachments' segments start going out (SPEC 17.13, Sending states). */
mla_err store_outbox_note(gw_store *s, const char *message_id, const char *what,
			  const char *detail, mla_diag *diag);
/* Final states with the receipt as received: delivered (positive) or rejected (negative).
 * A message already in a final state keeps its first receipt: MLA_ERR_ARG. */
mla_err store_outbox_receipt(gw_store *s, const char *message_id, msg_state final_state,
			     const uint8_t *receipt, size_t len, const char *detail,
			     mla_diag *diag);
/* The same with the receipt's own time (its signed received_at, ms): a step of a case
 * (store_life.c) takes effect at it; store_outbox_receipt uses now. The case's pending step
 * is settled in the same write: applied on a positive receipt, forgotten on a negative one. */
mla_err store_outbox_receipt_at(gw_store *s, const char *message_id, msg_state final_state,
				const uint8_t *receipt, size_t len, const char *detail,
				int64_t receipt_ms, mla_diag *diag);
/* The receipt stored for a message (MLA_ERR_NOT_FOUND if none). */
mla_err store_outbox_receipt_get(gw_store *s, const char *message_id, mla_buf *out,
				 mla_diag *diag);
/* Up to max queued messages whose deadline has passed at now_ms, earliest deadline first
 * (whether or not they are due for an attempt: a peer that stays down must not keep them). */
mla_err store_outbox_overdue(gw_store *s, int64_t now_ms, struct out_msg *out, size_t max,
			     size_t *n, mla_diag *diag);
/* Makes every queued message for to_state due at now_ms (its peer is reachable again);
 * *n is how many. */
mla_err store_outbox_wake(gw_store *s, const char *to_state, int64_t now_ms, size_t *n,
			  mla_diag *diag);
/* After a restart: sending and awaiting-receipt go back to queued, due now. Returns how many. */
mla_err store_outbox_recover(gw_store *s, int64_t now_ms, size_t *n, mla_diag *diag);
/* Counts per state (array indexed by msg_state, 6 entries). */
mla_err store_outbox_counts(gw_store *s, uint64_t counts[6], mla_diag *diag);

/* A message sealed again (SPEC 13 Time, Re-sealing): the new envelope replacing the seal
 * whose digest is old_digest, refused by the receipt refusal (a verified negative receipt);
 * why is the history detail and last_error ("replay: ..."). */
struct store_seal {
	uint8_t old_digest[32];
	const uint8_t *envelope;
	size_t len;
	uint8_t digest[32];
	const uint8_t *refusal;
	size_t refusal_len;
	const char *why;
};
/* At most this many seals are replaced per message (record names <id>.1 .. <id>.9, SPEC 15). */
#define STORE_SEALS_MAX 9u
/* Keeps the current seal as seal n (from 1) with its refusal and puts the new one in its
 * place, queued and due now, with a history row "resealed"; *seal_no is n. MLA_ERR_ARG when
 * the message is final or its current digest is not old_digest (sealed again already),
 * MLA_ERR_TOO_LARGE past STORE_SEALS_MAX. */
mla_err store_outbox_reseal(gw_store *s, const char *message_id, const struct store_seal *n,
			    unsigned *seal_no, mla_diag *diag);

/* --- inbox --- */
/* Looks up a received message id: *found is 0 or 1; when 1, digest and the stored receipt
 * (positive or negative) are filled (receipt initialised by the callee). */
mla_err store_inbox_lookup(gw_store *s, const char *message_id, int *found, uint8_t digest[32],
			   mla_buf *receipt, mla_diag *diag);
/* Stores a received envelope with the receipt it was answered with (accepted=1) or a refusal
 * (accepted=0, env may be NULL). A message id that exists already is MLA_ERR_EXISTS. */
mla_err store_inbox_put(gw_store *s, const struct in_msg *m, int accepted, const uint8_t *env,
			size_t env_len, const uint8_t *receipt, size_t receipt_len,
			mla_diag *diag);
mla_err store_inbox_count(gw_store *s, uint64_t *accepted, uint64_t *rejected, mla_diag *diag);
/* The State a received message id came from (found 0 or 1): a peer asking about an id is
 * answered only about its own messages. */
mla_err store_inbox_from_state(gw_store *s, const char *message_id, int *found,
			       char from_state[3], mla_diag *diag);

/* --- local API reads (store_api.c) --- */
/* A message as the API lists it: sent (outbox) or received and accepted (inbox). */
struct store_api_row {
	int incoming;                       /* 1: received (state is 6, "received") */
	char message_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char in_reply_to[MLA_UUID_LEN + 1];
	char peer[3];                       /* recipient of a sent one, sender of a received one */
	char kind[MLA_TOKEN_MAX + 1];
	char action[MLA_TOKEN_MAX + 1];
	int priority;
	int state;                          /* msg_state, or 6 for received */
	int64_t created_ms, received_ms;
	char submitted_by[96];
	unsigned attempts;
	int peer_case;                      /* 1: the case the peer opened, 0: this State's */
	char last_error[MLA_DIAG_MAX];
};
/* Filters; NULL, -1 or 0 leave a field out. */
struct store_api_filter {
	const char *direction;              /* "out" or "in" */
	const char *message_id, *case_id, *in_reply_to, *peer, *kind, *action;
	int priority, state;
	int64_t since_ms, until_ms;
	/* Own cases (x-mlagw-own): with own_state set, only messages of cases of this State
	 * (own_state) whose owner is one of owners (a JSON array of "role:name"), or any owner
	 * when own_all (a supervisor). */
	const char *own_state, *owners;
	int own_all;
	int unanswered;                     /* only messages no sent message answers */
	size_t limit, offset;               /* limit 0: all */
};
/* fn is called for each row (newest first); a non-MLA_OK return stops and is returned. */
typedef mla_err (*store_api_row_fn)(const struct store_api_row *row, void *arg);
mla_err store_api_select(gw_store *s, const struct store_api_filter *f, store_api_row_fn fn,
			 void *arg, size_t *n, mla_diag *diag);
/* --- cases (store_cases.c): who opened which case of this State --- */
/* A case is keyed on (requesting State, case id): a message is in a case of this State
 * (*peer_case 0) or of the peer's (1). A message without in_reply_to is in its sender's case
 * (incoming: the peer's; outgoing: this State's), and so is an incoming request; otherwise a
 * message is in the case of the message it answers when that one is known, has the same
 * case id and was exchanged with the same peer (else as without in_reply_to). */
mla_err store_case_key(gw_store *s, int incoming, const char *case_id, const char *in_reply_to,
		       const char *peer, const char *action, int *peer_case, mla_diag *diag);
/* The owner ("role:name") of case (state, case_id) in owner (96 bytes), "" when nobody has
 * opened it. */
mla_err store_case_owner(gw_store *s, const char *state, const char *case_id, char owner[96],
			 mla_diag *diag);
/* Once after an upgrade from schema 3: every case of this State (state) found in the outbox
 * gets the submitter of its earliest message as owner (socket_actor for the socket's rows,
 * stored with no submitter), so nothing changes hands (*n: how many). A no-op afterwards. */
mla_err store_cases_adopt(gw_store *s, const char *state, const char *socket_actor,
			  size_t *n, mla_diag *diag);
/* --- idempotency keys (store_idem.c) --- */
/* What a key answered: the message it made (case, recipient, in-reply-to as stored) and the
 * SHA-256 of the request it came with. */
struct store_idem {
	char message_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char to_state[3];
	char in_reply_to[MLA_UUID_LEN + 1];
	uint8_t digest[32];
};
/* The key (principal, key) written at or after not_before_ms (older ones are expired and
 * ignored): *found 0 when there is none. */
mla_err store_idem_get(gw_store *s, const char *principal, const char *key,
		       int64_t not_before_ms, struct store_idem *out, int *found, mla_diag *diag);
/* Deletes the keys written before before_ms; *n how many. */
mla_err store_idem_purge(gw_store *s, int64_t before_ms, size_t *n, mla_diag *diag);
/* The stored envelope of an accepted received message (MLA_ERR_NOT_FOUND if none). */
mla_err store_inbox_envelope(gw_store *s, const char *message_id, mla_buf *out,
			     mla_diag *diag);

/* Rejections recorded as alerts, by error name: fn(error, count) for each. */
typedef void (*store_api_count_fn)(const char *label, uint64_t n, void *arg);
mla_err store_api_rejects(gw_store *s, store_api_count_fn fn, void *arg, mla_diag *diag);
/* Sum of the outbox's attempts counters (retries scheduled). */
mla_err store_api_retries(gw_store *s, uint64_t *retries, mla_diag *diag);
/* Submission-to-verified-receipt latency of delivered messages as a cumulative histogram:
 * counts[i] of those at most bounds_ms[i] (ascending), total and sum. */
mla_err store_api_latency(gw_store *s, const int64_t *bounds_ms, size_t n, uint64_t *counts,
			  uint64_t *total, int64_t *sum_ms, mla_diag *diag);

/* --- history and alerts --- */
/* One row per state change: (message_id, state or event name, at_ms, detail). Calls fn for
 * each row of message_id in the order recorded (detail may be NULL; the strings live only
 * during the call; fn must not call the store). */
typedef void (*store_history_fn)(const char *state, int64_t at_ms, const char *detail,
				 void *arg);
mla_err store_history(gw_store *s, const char *message_id, store_history_fn fn, void *arg,
		      mla_diag *diag);
/* Records an alert (e.g. "duplicate-id") with a message id and a short detail. */
mla_err store_alert(gw_store *s, const char *kind, const char *message_id, const char *detail,
		    mla_diag *diag);
mla_err store_alert_count(gw_store *s, const char *kind, uint64_t *n, mla_diag *diag);

/* --- audit log (entries in the form of SPEC §14) --- */
/* Appends entry (its bytes and leaf hash) at exactly seq, which must be the next index
 * (MLA_ERR_EXISTS if seq is taken, MLA_ERR_ARG if it would leave a gap). In the open group
 * commit, if any: the entry becomes durable with the action it records. */
mla_err store_audit_append(gw_store *s, uint64_t seq, const uint8_t *entry, size_t len,
			   const uint8_t leaf[32], mla_diag *diag);
/* The index of the next entry, which is the number of entries. */
mla_err store_audit_next(gw_store *s, uint64_t *next, mla_diag *diag);
/* Entry seq's bytes (out initialised by the callee) and leaf hash (may be NULL). */
mla_err store_audit_get(gw_store *s, uint64_t seq, mla_buf *out, uint8_t leaf[32],
			mla_diag *diag);
/* Calls fn(seq, leaf, arg) for each entry from seq from on, in order (to rebuild the tree);
 * a non-MLA_OK return from fn stops and is returned. fn must not call the store. */
typedef mla_err (*store_leaf_fn)(uint64_t seq, const uint8_t leaf[32], void *arg);
mla_err store_audit_leaves(gw_store *s, uint64_t from, store_leaf_fn fn, void *arg,
			   mla_diag *diag);
/* The same with each entry's bytes (len bytes at entry; NULL when empty), for re-reading the
 * log at start. */
typedef mla_err (*store_entry_fn)(uint64_t seq, const uint8_t leaf[32], const void *entry,
				  size_t len, void *arg);
mla_err store_audit_entries(gw_store *s, uint64_t from, store_entry_fn fn, void *arg,
			    mla_diag *diag);

/* --- the audit tree's persisted hashes (store_tree.c, docs/internals/audit-tree.md) --- */
/* The root of the complete subtree of 2^level leaves at index idx (leaves idx << level ..
 * ((idx + 1) << level) - 1): the stored leaf hash at level 0, the persisted hash above;
 * MLA_ERR_NOT_FOUND when the log does not hold all its leaves. */
mla_err store_tree_node(gw_store *s, unsigned level, uint64_t idx, uint8_t out[32],
			mla_diag *diag);
/* One scan of the whole log: efn for each entry in order (as store_audit_entries; its error
 * stops the scan and is returned), and every persisted hash recomputed from the leaves and
 * compared with its row. A row missing, different or beyond the log: MLA_ERR_STORE naming it.
 * edge gets the right edge of the leaves read (edge->size of them). */
mla_err store_tree_check(gw_store *s, store_entry_fn efn, void *arg, mla_merkle_compact *edge,
			 mla_diag *diag);

/* --- audit checkpoints (store_checkpoint.c): signed notes of the tree heads --- */
/* Stores the signed note of the checkpoint at size (1 .. number of entries, else
 * MLA_ERR_ARG), which must be larger than every stored one (MLA_ERR_EXISTS otherwise). */
mla_err store_checkpoint_put(gw_store *s, uint64_t size, const char *note, size_t len,
			     int64_t at_ms, mla_diag *diag);
/* The same, and in the same transaction, when vkey is not NULL, records the audit key that
 * signed it as held (store_check.h, store_audit_key_add): the first checkpoint of each key. */
mla_err store_checkpoint_put_key(gw_store *s, uint64_t size, const char *note, size_t len,
				 int64_t at_ms, const char *vkey, mla_diag *diag);
/* The latest checkpoint (largest size): MLA_ERR_NOT_FOUND when there is none. note is
 * initialised by the callee and NUL-terminated; size and at_ms may be NULL. */
mla_err store_checkpoint_latest(gw_store *s, uint64_t *size, mla_buf *note, int64_t *at_ms,
				mla_diag *diag);
/* The checkpoint of exactly size (MLA_ERR_NOT_FOUND if none); note as above. */
mla_err store_checkpoint_get(gw_store *s, uint64_t size, mla_buf *note, int64_t *at_ms,
			     mla_diag *diag);
/* Appends a witness's cosignature line (ending in a newline) to the checkpoint of size.
 * MLA_OK without change when the note already holds a signature under name (a second line
 * by one key would make the note invalid); MLA_ERR_TOO_LARGE past the note limit. */
mla_err store_checkpoint_cosign(gw_store *s, uint64_t size, const char *name, const char *line,
				mla_diag *diag);

/* --- witnessing (store_witness.c): peers' checkpoints this gateway cosigned --- */
/* The largest size cosigned for origin and its root: MLA_ERR_NOT_FOUND when none. */
mla_err store_witness_latest(gw_store *s, const char *origin, uint64_t *size,
			     uint8_t root[32], mla_diag *diag);
/* The note (as the peer sent it) of the latest checkpoint of origin this gateway cosigned,
 * appended to note; MLA_ERR_NOT_FOUND when none. */
mla_err store_witness_latest_note(gw_store *s, const char *origin, mla_buf *note,
				  mla_diag *diag);
/* Calls fn with each audit certificate (DER) state presented, newest first, until fn
 * returns non-zero. */
mla_err store_peer_certs_each(gw_store *s, const char *state,
			      int (*fn)(const uint8_t *der, size_t len, void *arg), void *arg,
			      mla_diag *diag);
/* Records the cosigned checkpoint of origin (note as received plus the cosignature line);
 * size must be larger than the latest one (MLA_ERR_EXISTS otherwise): sizes only grow. */
mla_err store_witness_put(gw_store *s, const char *origin, uint64_t size, const uint8_t root[32],
			  const char *note, size_t len, int64_t at_ms, mla_diag *diag);
/* Keeps a peer's audit certificate (DER), once per SHA-256 fingerprint, for the bundle; at
 * most 32 per State (MLA_ERR_TOO_LARGE for a further new one). */
mla_err store_peer_cert_put(gw_store *s, const char *state, const uint8_t *der, size_t len,
			    mla_diag *diag);

/* --- recovery after a store loss (store_recover.c; SPEC 14 "Log epochs", Recovery) --- */
/* meta "recovery_pending" = why ("restore", "new-epoch", "accept-loss"): set by the
 * operator's tools, cleared by the daemon once every peer gave back what it holds. The _file
 * form writes a store file no gateway has open (a restored copy before it is put in place). */
mla_err store_recovery_mark(gw_store *s, const char *why, mla_diag *diag);
mla_err store_recovery_mark_file(const char *path, const char *why, mla_diag *diag);
/* *pending 1 when the mark is set (why, cap bytes, gets its value). */
mla_err store_recovery_pending(gw_store *s, int *pending, char *why, size_t cap,
			       mla_diag *diag);
mla_err store_recovery_clear(gw_store *s, mla_diag *diag);
/* The newest creation time (ms) of any message the store holds, outbox or inbox; 0: none. */
mla_err store_newest_message_ms(gw_store *s, int64_t *ms, mla_diag *diag);
/* A row's place in the order of store_recover_page: creation time, direction (0: received
 * from the peer, an inbox row; 1: sent to it, an outbox row), message id. */
struct store_recover_key {
	int64_t time_ms;
	int dir;
	char message_id[MLA_UUID_LEN + 1];
};
/* A row as the page gives it: the bytes live only during the call. */
struct store_recover_row {
	struct store_recover_key key;
	const uint8_t *envelope, *receipt;
	size_t envelope_len, receipt_len;
};
/* fn returns 1 to go on, 0 when the page is full (that row is not taken). */
typedef int (*store_recover_fn)(const struct store_recover_row *row, void *arg);
/* What the gateway of peer may ask back: the accepted inbox rows it sent and the delivered
 * outbox rows sent to it (with the receipt it signed), created at or after since_ms, after
 * the key after (NULL: from the start), at most max, in key order. */
mla_err store_recover_page(gw_store *s, const char *peer, int64_t since_ms,
			   const struct store_recover_key *after, size_t max,
			   store_recover_fn fn, void *arg, mla_diag *diag);
/* A message this gateway had sent, given back by its recipient: an outbox row in state
 * delivered with its envelope and the recipient's receipt, and a history row "delivered"
 * with m->last_error as detail (submitted_by is unknown: empty; the case's owner is not
 * re-learnt). MLA_ERR_EXISTS when the message id is there already. */
mla_err store_outbox_put_recovered(gw_store *s, const struct out_msg *m, const uint8_t *env,
				   size_t len, const uint8_t *receipt, size_t rlen,
				   mla_diag *diag);

/* The case a recovered message is in (peer_case as store_case_key reads it), once its step
 * was replayed: the rows come back in the peer's order, so a row put before the message it
 * answers was given the wrong one. */
mla_err store_recovered_peer_case(gw_store *s, int outgoing, const char *message_id,
				  int peer_case, mla_diag *diag);
/* *known 1 when the step of message_id is in its case's history already (a message the
 * store held with its step: a recovery does not replay it again). */
mla_err store_recovered_step_known(gw_store *s, const char *message_id, int *known,
				   mla_diag *diag);

/* --- case lifecycle (store_life.c; SPEC 16.8) --- */
/* One side's record of a case. */
struct store_life_case {
	struct store_life_key key;
	int side;                                  /* mla_life_side of this gateway */
	mla_life_track track;                      /* state, last step, pending step */
	char pending_action[MLA_TOKEN_MAX + 1];
	int64_t received_ms; /* the request's receipt time (deadlines start there); 0 before */
	int64_t updated_ms;
};
/* The case of key; *found 0 (and out->track.state MLA_LIFE_NONE) when it has none. */
mla_err store_life_get(gw_store *s, const struct store_life_key *key, struct store_life_case *out,
		       int *found, mla_diag *diag);
/* The cases named case_id with peer (this State's and the peer's, at most 2). */
mla_err store_life_find(gw_store *s, const char *case_id, const char *peer,
			struct store_life_case out[2], size_t *n, mla_diag *diag);
/* Applies a step to its case (checked by mla_life_next: MLA_ERR_CASE_STEP), with its row in
 * the case's history; inside the caller's write or its own. */
mla_err store_life_apply(gw_store *s, const struct store_life_step *step, mla_diag *diag);
/* Settles this gateway's pending step message_id (no pending step of that id: nothing to do):
 * positive, it is applied at at_ms (a request's at_ms becomes the case's receipt time);
 * otherwise only forgotten (a case whose request was refused or failed is removed). */
mla_err store_life_settle(gw_store *s, const char *message_id, int positive, int64_t at_ms,
			  mla_diag *diag);
/* One applied step of a case, oldest first (seq from 1). */
struct store_life_row {
	unsigned seq;
	char message_id[MLA_UUID_LEN + 1];
	char action[MLA_TOKEN_MAX + 1];
	int by;
	mla_life_state from, to;
	int64_t at_ms;
	int rule;            /* a deadline-extended's rule; MLA_DEADLINE_RULE_N: none (schema 11) */
	int64_t recorded_ms; /* the time its document records, or MLA_DEADLINE_NO_TIME */
};
typedef mla_err (*store_life_row_fn)(const struct store_life_row *row, void *arg);
/* The history of the case of key, oldest first: the deadline clock reads the request's
 * receipt time (store_life_get) and the intervals spent in additional-information-requested
 * (a row to it, up to the next row) from here. */
mla_err store_life_history(gw_store *s, const struct store_life_key *key, store_life_row_fn fn,
			   void *arg, mla_diag *diag);
/* Recovery (SPEC 14, Recovery): a step this gateway had sent, given back with its positive
 * receipt, made as it was live: held pending, then settled at step->at_ms (the receipt's
 * time), in one write. MLA_ERR_CASE_CONFLICT / MLA_ERR_CASE_STEP as the live path. */
mla_err store_life_replay_sent(gw_store *s, const struct store_life_step *step, mla_diag *diag);
typedef mla_err (*store_life_case_fn)(const struct store_life_case *c, void *arg);
/* Every case, ordered by requesting State, case id, peer. */
mla_err store_life_list(gw_store *s, store_life_case_fn fn, void *arg, mla_diag *diag);

/* --- case deadline summaries (store_due.c; schema 12; SPEC 16.9 "Cost") --- */
/* What a case's deadlines showed when they were last computed, and until when that holds:
 * next_ms, the earliest time they can change without a write to the case (0: to compute
 * now; STORE_DUE_NEVER: not without a write); state, the worst mla_deadline_state of its
 * running deadlines (0 with none); priority, its mla_deadline_priority; fire, 1 when a
 * threshold reached was not fired. Any write of the case's row, facts, step facts or fired
 * marks puts next_ms back to 0. */
#define STORE_DUE_NEVER INT64_MAX
struct store_due {
	struct store_life_case c;
	int64_t next_ms;
	int state, priority, fire;
};
typedef mla_err (*store_due_fn)(const struct store_due *d, void *arg);
/* Every case whose next_ms <= now_ms (the only ones whose summary may have changed), soonest
 * first, then (fire 1) every other case with fire 1; fn must not call the store. */
mla_err store_due_list(gw_store *s, int64_t now_ms, int fire, store_due_fn fn, void *arg,
		       mla_diag *diag);
/* Writes the summaries v[0..n) (each keyed by v[i].c.key) in one write that does not wait
 * for the disk (a summary lost in a crash is computed again), or inside the open group. */
mla_err store_due_put(gw_store *s, const struct store_due *v, size_t n, mla_diag *diag);
/* The cases whose summary still holds at now_ms (next_ms > now_ms) with state > 0, counted
 * by state (1 due soon, 2 overdue) and priority: out[state][priority]. */
mla_err store_due_counts(gw_store *s, int64_t now_ms, uint64_t out[3][3], mla_diag *diag);
/* rules, the text of the deadline rules the summaries are computed under: when it is not
 * the one they were computed under (meta deadline_rules; a reload, a new configuration),
 * every summary is to compute again, and rules is kept. */
mla_err store_due_rules(gw_store *s, const char *rules, mla_diag *diag);

/* --- case deadlines (store_deadline.c; schema 9; SPEC 16.9) --- */
/* The deadlines of a case, for their escalation marks: each legal rule by its
 * mla_deadline_rule_id, and the wished date. */
#define STORE_DEADLINE_WISHED MLA_DEADLINE_RULE_N
#define STORE_DEADLINE_N (MLA_DEADLINE_RULE_N + 1)
/* A case's deadline facts and, per deadline, the highest escalation threshold fired (0, 50,
 * 90 or 100). */
struct store_deadline {
	struct store_deadline_facts facts;
	unsigned fired_pct[STORE_DEADLINE_N];
};
/* The deadline record of the case of key; *found 0 when it has none (no lifecycle, an opaque
 * request, a store from before schema 9). */
mla_err store_deadline_get(gw_store *s, const struct store_life_key *key,
			   struct store_deadline *out, int *found, mla_diag *diag);
/* Records that threshold pct (50, 90 or 100) of deadline `which` (a rule id or
 * STORE_DEADLINE_WISHED) of the case ran; the mark only rises (a lower pct than the one
 * stored changes nothing). MLA_ERR_ARG for another pct or deadline, MLA_ERR_NOT_FOUND when
 * the case has no deadline record. */
mla_err store_deadline_fired(gw_store *s, const struct store_life_key *key, int which,
			     unsigned pct, mla_diag *diag);

/* --- retrieval notices (store_retrieval.c; schema 10; SPEC 16.10) --- */
/* A notice the requested side owes: for request request_id (received from peer), Action
 * action with the time at_ms; notice_id is the MessageId reserved for it already (send it
 * under that id again: nothing with it is in the outbox), or "" (a new one). */
struct store_notice_due {
	char request_id[MLA_UUID_LEN + 1];
	char case_id[MLA_CASE_ID_MAX + 1];
	char peer[3];
	char kind[MLA_TOKEN_MAX + 1];
	int priority;
	char action[16];
	int64_t at_ms;
	char notice_id[MLA_UUID_LEN + 1];
};
/* A request accepted from a peer at received_ms starts being watched (in the write of its
 * inbox row). A second call for the same id changes nothing. */
mla_err store_retrieval_open(gw_store *s, const char *request_id, int64_t received_ms,
			     mla_diag *diag);
/* Its document was opened at at_ms: *first 1 when this is the first time (the time is kept),
 * 0 for a later reading or for a message not watched (an answer, a request of a store from
 * before schema 10). */
mla_err store_retrieval_read(gw_store *s, const char *request_id, int64_t at_ms, int *first,
			     mla_diag *diag);
/* The next notice owed at now_ms: with orphans set, first one reserved but absent from the
 * outbox (after a restart or a failed sealing); then a first reading without its retrieved
 * notice (oldest first); then a request unread since received_ms + after_ms without its
 * not-retrieved notice. *found 0 when none is owed. */
mla_err store_retrieval_due(gw_store *s, int64_t now_ms, uint64_t after_ms, int orphans,
			    struct store_notice_due *out, int *found, mla_diag *diag);
/* Reserves notice_id for the notice action ("retrieved", "not-retrieved") of request_id,
 * or "-" for none (the peer reads no envelope version with it); at_ms is kept with a
 * not-retrieved one. */
mla_err store_retrieval_reserve(gw_store *s, const char *request_id, const char *action,
				const char *notice_id, int64_t at_ms, mla_diag *diag);
/* The requesting side got notice notice_id (action, at_ms) for its request request_id; a
 * second one of the same action for the request changes nothing. */
mla_err store_retrieval_got(gw_store *s, const char *request_id, const char *action,
			    const char *notice_id, int64_t at_ms, mla_diag *diag);
/* What is known of message_id's reading, on either side (0 / "": nothing). */
struct store_retrieval {
	int watched;                              /* a request received: this side reads it */
	int64_t first_read_ms;
	char retrieved_id[MLA_UUID_LEN + 1];      /* the notice sent ("-": none, v1 peer) */
	char not_retrieved_id[MLA_UUID_LEN + 1];
	int64_t not_retrieved_ms;
	int64_t got_retrieved_ms;                 /* a request sent: the peer's notices */
	char got_retrieved_id[MLA_UUID_LEN + 1];
	int64_t got_not_retrieved_ms;
	char got_not_retrieved_id[MLA_UUID_LEN + 1];
};
mla_err store_retrieval_get(gw_store *s, const char *message_id, struct store_retrieval *out,
			    mla_diag *diag);

/* ---- attachments being received (store_transfer.c, schema 13, SPEC 17.13) ----
 * An envelope version 3 accepted by every check waits here, invisible to the inbox and its
 * readers, until every segment of every attachment is held; then it moves to the inbox. */
struct store_transfer_in {
	char message_id[MLA_UUID_LEN + 1];
	char from_state[3];
	uint8_t digest[32];
	int64_t received_ms;
	size_t n;                             /* attachments */
	mla_attach_entry att[MLA_ATTACH_MAX]; /* the signed list's public parts */
};
/* Records t (n 1..64) with its envelope bytes. MLA_ERR_EXISTS when its id is there. */
mla_err store_transfer_in_put(gw_store *s, const struct store_transfer_in *t, const uint8_t *env,
			      size_t len, mla_diag *diag);
/* *found 0 when message_id is not being received; else *out, and the envelope into *env when
 * env is not NULL (initialised by the callee). */
mla_err store_transfer_in_get(gw_store *s, const char *message_id, int *found,
			      struct store_transfer_in *out, mla_buf *env, mla_diag *diag);
/* Segment k of attachment idx is held (its bytes fsynced first): *added 0 when it was. */
mla_err store_transfer_seg_put(gw_store *s, const char *message_id, unsigned idx, uint64_t k,
			       int *added, mla_diag *diag);
/* Segments held for message_id, over all its attachments. */
mla_err store_transfer_held(gw_store *s, const char *message_id, uint64_t *held,
			    mla_diag *diag);
/* The segments of attachment idx (segments in all) not held, as ranges [first, last] in
 * order: at most max into ranges, *more 1 when more exist; *held counts those held. */
mla_err store_transfer_missing(gw_store *s, const char *message_id, unsigned idx,
			       uint64_t segments, uint64_t (*ranges)[2], size_t max, size_t *n,
			       int *more, uint64_t *held, mla_diag *diag);
/* Forgets message_id's transfer and its segments (completed, or given up). */
mla_err store_transfer_in_drop(gw_store *s, const char *message_id, mla_diag *diag);
/* The transfers being received from from_state: how many, and the ciphertext bytes of all
 * their attachments (what is reserved for them). */
mla_err store_transfer_in_of_peer(gw_store *s, const char *from_state, uint64_t *count,
				  uint64_t *bytes, mla_diag *diag);
/* Up to max transfers received before before_ms (to give up), oldest first. */
mla_err store_transfer_in_older(gw_store *s, int64_t before_ms,
				char (*ids)[MLA_UUID_LEN + 1], size_t max, size_t *n,
				mla_diag *diag);

#endif
