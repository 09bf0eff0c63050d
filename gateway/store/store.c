/* The store's connection: creating the file (mode 0600), opening SQLite (WAL, synchronous=FULL),
 * the versioned schema, closing, and the row helpers. Transactions and the statement cache are
 * in store_tx.c; outbox, inbox, history and alerts in store_outbox.c, store_inbox.c, store_log.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "store_internal.h"

#define STORE_BUSY_TIMEOUT_MS 5000

static const char schema_v1[] =
	"CREATE TABLE outbox ("
	" message_id TEXT PRIMARY KEY NOT NULL,"
	" case_id TEXT NOT NULL,"
	" to_state TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 2),"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 5),"
	" attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
	" created_ms INTEGER NOT NULL,"
	" next_attempt_ms INTEGER NOT NULL,"
	" deadline_ms INTEGER NOT NULL,"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" last_error TEXT,"
	" updated_ms INTEGER NOT NULL,"
	" in_reply_to TEXT NOT NULL DEFAULT '',"
	" submitted_by TEXT NOT NULL DEFAULT '',"   /* the API caller, "role:name" (docs/api) */
	" receipt BLOB);" /* last: written once, never read by the scans */
	/* the envelope lives apart so that state changes rewrite a small row only */
	"CREATE TABLE outbox_envelope ("
	" message_id TEXT PRIMARY KEY NOT NULL REFERENCES outbox (message_id),"
	" envelope BLOB NOT NULL);"
	/* the order of store_outbox_due, so the relay's query needs no sort */
	"CREATE INDEX outbox_due ON outbox (state, priority DESC, created_ms, message_id);"
	"CREATE INDEX outbox_case ON outbox (case_id);"
	"CREATE TABLE inbox ("
	" message_id TEXT PRIMARY KEY NOT NULL,"
	" case_id TEXT NOT NULL,"
	" in_reply_to TEXT NOT NULL,"
	" from_state TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 2),"
	" created_ms INTEGER NOT NULL,"
	" received_ms INTEGER NOT NULL,"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),"
	" envelope BLOB,"
	" receipt BLOB NOT NULL,"
	" CHECK (accepted = 0 OR envelope IS NOT NULL));"
	"CREATE TABLE history ("
	" id INTEGER PRIMARY KEY,"
	" message_id TEXT NOT NULL,"
	" direction TEXT NOT NULL CHECK (direction IN ('out', 'in')),"
	" state TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" detail TEXT);"
	"CREATE INDEX history_message ON history (message_id, id);"
	"CREATE TABLE alerts ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" message_id TEXT,"
	" at_ms INTEGER NOT NULL,"
	" detail TEXT);"
	"CREATE INDEX alerts_kind ON alerts (kind);"
	/* the audit log: entry = the canonical serialization (SPEC §14), leaf = its RFC 6962
	 * leaf hash; seq is the leaf index, dense from 0 */
	"CREATE TABLE audit ("
	" seq INTEGER PRIMARY KEY CHECK (seq >= 0),"
	" entry BLOB NOT NULL,"
	" leaf BLOB NOT NULL CHECK (length(leaf) = 32));"
	/* signed checkpoints of the audit log (SPEC §14): size = tree size, note = the signed
	 * C2SP note as signed, at_ms = when; sizes only grow */
	"CREATE TABLE checkpoints ("
	" size INTEGER PRIMARY KEY CHECK (size > 0),"
	" note BLOB NOT NULL,"
	" at_ms INTEGER NOT NULL);"
	"PRAGMA user_version = 1;";

/* Version 2 adds witnessing (SPEC §14): the peers' checkpoints this gateway cosigned (note as
 * received plus its cosignature line; sizes per origin only grow) and the peers' audit
 * certificates their checkpoints and cosignatures are verified with. */
static const char schema_v2[] =
	"CREATE TABLE witnessed ("
	" origin TEXT NOT NULL,"
	" size INTEGER NOT NULL CHECK (size > 0),"
	" root BLOB NOT NULL CHECK (length(root) = 32),"
	" note BLOB NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" PRIMARY KEY (origin, size));"
	"CREATE TABLE peer_audit_certs ("
	" fingerprint BLOB PRIMARY KEY CHECK (length(fingerprint) = 32),"
	" state TEXT NOT NULL,"
	" der BLOB NOT NULL,"
	" at_ms INTEGER NOT NULL);"
	"PRAGMA user_version = 2;";

/* Version 3 adds a key-value table for the store's own state: "clean" is "1" only between a
 * clean stop and the next start (store_lifecycle.c), so a crash is noticed whatever happened
 * to the write-ahead log since. */
static const char schema_v3[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value TEXT NOT NULL);"
	"PRAGMA user_version = 3;";

/* Version 4 adds case ownership (docs/api/README.md, "Own"): a case is keyed on (requesting
 * State, case id) and belongs to the principal that opened it. Every message says whose case
 * it is in (peer_case: 0 this State's, 1 the peer's; store_case_key); existing rows get it by
 * following in_reply_to from the messages that start a case. The owners of this State's
 * existing cases need the State's code, which the store does not know: the daemon's
 * store_cases_adopt does that once ("cases_adopt" in meta). */
#define CASE_TREE \
	"WITH RECURSIVE m(id, parent, cid, peer, incoming, req) AS (" \
	" SELECT message_id, in_reply_to, case_id, to_state, 0, 0 FROM outbox" \
	" UNION ALL SELECT message_id, in_reply_to, case_id, from_state, 1, action = 'request'" \
	"  FROM inbox)," \
	" k(id, pc) AS (" \
	" SELECT c.id, c.incoming FROM m AS c WHERE c.req = 1 OR NOT EXISTS (SELECT 1 FROM m AS p" \
	"  WHERE p.id = c.parent AND p.cid = c.cid AND p.peer = c.peer)" \
	" UNION SELECT c.id, k.pc FROM k JOIN m AS p ON p.id = k.id JOIN m AS c" \
	"  ON c.parent = p.id AND c.cid = p.cid AND c.peer = p.peer AND c.req = 0) "
static const char schema_v4[] =
	"CREATE TABLE cases ("
	" state TEXT NOT NULL,"        /* the requesting State */
	" case_id TEXT NOT NULL,"
	" owner TEXT NOT NULL,"        /* "role:name" of the principal that opened it */
	" opened_ms INTEGER NOT NULL,"
	" PRIMARY KEY (state, case_id));"
	"ALTER TABLE outbox ADD COLUMN peer_case INTEGER NOT NULL DEFAULT 0"
	" CHECK (peer_case IN (0, 1));"
	"ALTER TABLE inbox ADD COLUMN peer_case INTEGER NOT NULL DEFAULT 1"
	" CHECK (peer_case IN (0, 1));"
	CASE_TREE "UPDATE outbox SET peer_case = coalesce((SELECT min(pc) FROM k"
	" WHERE k.id = outbox.message_id), 0);"
	CASE_TREE "UPDATE inbox SET peer_case = coalesce((SELECT max(pc) FROM k"
	" WHERE k.id = inbox.message_id), 1);"
	"INSERT INTO meta (key, value) VALUES ('cases_adopt', 'pending');"
	"PRAGMA user_version = 4;";

/* Version 5 adds idempotency keys (docs/api/README.md, "Idempotency"): a submission's key,
 * scoped per principal ("role:name", the socket's too), with the SHA-256 of the request it
 * came with and the message it made. Written in the transaction of the outbox row itself
 * (store_outbox_put), so a key answered 202 survives any crash; rows older than [limits]
 * idempotency_keep are ignored and purged (store_idem.c). */
static const char schema_v5[] =
	"CREATE TABLE idempotency ("
	" principal TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" message_id TEXT NOT NULL REFERENCES outbox (message_id),"
	" created_ms INTEGER NOT NULL,"
	" PRIMARY KEY (principal, key));"
	"CREATE INDEX idempotency_created ON idempotency (created_ms);"
	"PRAGMA user_version = 5;";

/* Version 6 keeps the earlier seals of a message sealed again (SPEC 13 Time, Re-sealing): the
 * envelope bytes, their digest and the verified negative receipt that refused them, numbered
 * from 1 in the order they were replaced. The outbox row always holds the current seal. */
static const char schema_v6[] =
	"CREATE TABLE outbox_seals ("
	" message_id TEXT NOT NULL REFERENCES outbox (message_id),"
	" seal INTEGER NOT NULL CHECK (seal BETWEEN 1 AND 9),"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" envelope BLOB NOT NULL,"
	" receipt BLOB NOT NULL,"
	" PRIMARY KEY (message_id, seal));"
	"PRAGMA user_version = 6;";

/* Version 7 keeps the audit tree's interior hashes (docs/internals/audit-tree.md), so the
 * daemon holds only the tree's right edge and reads older hashes from here: one row per
 * complete subtree of 2^level leaves (level >= 1; a leaf's hash is audit.leaf), keyed by the
 * last entry it covers and its level, written in the transaction of that entry
 * (store_tree.c). An older store gets them from its stored leaves in the upgrade's
 * transaction (store_tree_fill). */
static const char schema_v7[] =
	"CREATE TABLE audit_tree ("
	" seq INTEGER NOT NULL CHECK (seq >= 0),"
	" level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 63),"
	" hash BLOB NOT NULL CHECK (length(hash) = 32),"
	" PRIMARY KEY (seq, level)) WITHOUT ROWID;"
	"PRAGMA user_version = 7;";

/* Version 8 keeps each case's lifecycle (SPEC 16.8, store_life.c): one row per case and
 * peer with this gateway's side, the case's state, the last step applied, this gateway's step
 * awaiting its receipt and the request's receipt time; and every step applied, numbered from
 * 1 per case. A step is written in the transaction of the inbox row that brought it (the
 * receiver) or of the positive receipt that answered it (the sender). Earlier stores have no
 * case state to carry over: their cases start outside the lifecycle. */
static const char schema_v8[] =
	"CREATE TABLE case_life ("
	" state TEXT NOT NULL,"          /* the requesting State */
	" case_id TEXT NOT NULL,"
	" peer TEXT NOT NULL,"           /* the other State of the case */
	" side INTEGER NOT NULL CHECK (side IN (0, 1)),"   /* this gateway's: 0 requesting */
	" life TEXT NOT NULL,"           /* the lifecycle state's name */
	" last_step TEXT NOT NULL DEFAULT '',"
	" pending TEXT NOT NULL DEFAULT '',"
	" pending_action TEXT NOT NULL DEFAULT '',"
	" received_ms INTEGER NOT NULL DEFAULT 0,"
	" updated_ms INTEGER NOT NULL,"
	" PRIMARY KEY (state, case_id, peer));"
	"CREATE INDEX case_life_pending ON case_life (pending) WHERE pending <> '';"
	"CREATE TABLE case_steps ("
	" state TEXT NOT NULL,"
	" case_id TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" seq INTEGER NOT NULL CHECK (seq >= 1),"
	" message_id TEXT NOT NULL UNIQUE,"
	" action TEXT NOT NULL,"
	" side INTEGER NOT NULL CHECK (side IN (0, 1)),"  /* the side that took the step */
	" from_life TEXT NOT NULL,"
	" to_life TEXT NOT NULL,"
	" at_ms INTEGER NOT NULL,"
	" PRIMARY KEY (state, case_id, peer, seq));"
	"PRAGMA user_version = 8;";

/* Version 9 keeps what each case's deadlines are computed from (SPEC 16.9, store_deadline.c):
 * the facts its request's document gave when it was sealed or accepted (never its text), and
 * per deadline (a rule, or the wished date) the highest escalation threshold whose run is
 * over. A case of an earlier store
 * has no such row: it shows no deadline and escalates nothing. */
static const char schema_v9[] =
	"CREATE TABLE case_deadline ("
	" state TEXT NOT NULL,"          /* the key of case_life */
	" case_id TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" doctype TEXT NOT NULL,"        /* the request's kind part (mla_case_doctype_name) */
	" urgent INTEGER NOT NULL CHECK (urgent IN (0, 1)),"
	" eio INTEGER NOT NULL CHECK (eio IN (0, 1)),"
	" wished_ms INTEGER,"            /* end of DateWished; NULL: none */
	" kind TEXT NOT NULL,"           /* the header Kind */
	" priority INTEGER NOT NULL CHECK (priority IN (0, 1, 2)),"
	" PRIMARY KEY (state, case_id, peer));"
	"CREATE TABLE case_deadline_fired ("
	" state TEXT NOT NULL,"
	" case_id TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" deadline TEXT NOT NULL,"       /* a rule's name, or 'wished' */
	" pct INTEGER NOT NULL CHECK (pct IN (50, 90, 100)),"
	" PRIMARY KEY (state, case_id, peer, deadline));"
	"PRAGMA user_version = 9;";

/* Version 10 keeps the retrieval notices of SPEC 16.10: per request received, when this
 * State's agencies first opened its document and the notices reserved for it; per request
 * sent, the peer's notices. Requests of an earlier store are not watched (no notice). */
static const char schema_v10[] =
	"CREATE TABLE retrieval ("
	" message_id TEXT PRIMARY KEY NOT NULL,"   /* a request received (inbox) */
	" received_ms INTEGER NOT NULL,"
	" first_read_ms INTEGER,"                  /* NULL: never opened */
	" retrieved_id TEXT NOT NULL DEFAULT '',"  /* the notice's MessageId; '-': none */
	" not_retrieved_id TEXT NOT NULL DEFAULT '',"
	" not_retrieved_ms INTEGER);"
	"CREATE INDEX retrieval_read ON retrieval (first_read_ms)"
	" WHERE first_read_ms IS NOT NULL AND retrieved_id = '';"
	"CREATE INDEX retrieval_unread ON retrieval (received_ms)"
	" WHERE first_read_ms IS NULL AND not_retrieved_id = '';"
	"CREATE TABLE retrieval_in ("
	" request_id TEXT NOT NULL,"               /* a request sent (outbox) */
	" action TEXT NOT NULL CHECK (action IN ('retrieved', 'not-retrieved')),"
	" notice_id TEXT NOT NULL UNIQUE,"
	" at_ms INTEGER NOT NULL,"
	" PRIMARY KEY (request_id, action));"
	"PRAGMA user_version = 10;";

/* Version 11 keeps what the steps after a request say for the deadlines (SPEC 16.9): whether
 * the request is a European arrest warrant (case_deadline.eaw), and per step the rule a
 * deadline-extended names and the time a person-arrested or surrender-consented records
 * (case_step_facts, by the step's message id: written with the pending step on the sender,
 * with the applied step on the receiver). Earlier records: no arrest warrant, no step facts
 * (an extension step of theirs names no rule). */
static const char schema_v11[] =
	"ALTER TABLE case_deadline ADD COLUMN eaw INTEGER NOT NULL DEFAULT 0"
	" CHECK (eaw IN (0, 1));"
	"CREATE TABLE case_step_facts ("
	" message_id TEXT PRIMARY KEY,"  /* the step's */
	" state TEXT NOT NULL,"          /* the key of case_life */
	" case_id TEXT NOT NULL,"
	" peer TEXT NOT NULL,"
	" rule TEXT,"                    /* deadline-extended: the rule named; NULL: none */
	" recorded_ms INTEGER);"         /* person-arrested, surrender-consented: the time */
	"CREATE INDEX case_step_facts_case ON case_step_facts (state, case_id, peer);"
	"PRAGMA user_version = 11;";

/* Version 12 keeps, per case, a summary of its deadlines and when it must be computed again
 * (SPEC 16.9 "Cost"; store_due.c): due_next_ms, the earliest time its deadlines' states or
 * escalation thresholds can change without a write to the case (0: to compute; every write
 * of the case row puts it back to 0, its columns taking their defaults), and due_state,
 * due_priority and due_fire (a threshold reached and not fired), what it showed then. The
 * escalation scan and the metrics read only the cases whose time has come (and the scan those
 * with a threshold to fire). After the upgrade every case is to compute once. */
static const char schema_v12[] =
	"ALTER TABLE case_life ADD COLUMN due_next_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE case_life ADD COLUMN due_state INTEGER NOT NULL DEFAULT 0"
	" CHECK (due_state IN (0, 1, 2));"
	"ALTER TABLE case_life ADD COLUMN due_priority INTEGER NOT NULL DEFAULT 0"
	" CHECK (due_priority IN (0, 1, 2));"
	"ALTER TABLE case_life ADD COLUMN due_fire INTEGER NOT NULL DEFAULT 0"
	" CHECK (due_fire IN (0, 1));"
	"CREATE INDEX case_life_due_next ON case_life (due_next_ms);"
	"CREATE INDEX case_life_due_state ON case_life (due_state, due_priority, due_next_ms)"
	" WHERE due_state > 0;"
	"CREATE INDEX case_life_due_fire ON case_life (due_next_ms) WHERE due_fire = 1;"
	"PRAGMA user_version = 12;";

/* Version 13 holds the messages whose attachments are being received (SPEC 17.13): the
 * envelope accepted but not yet delivered, its public attachment list (56 bytes an
 * attachment: index, size, segment size, segments, root, big-endian), and one row per
 * segment held, written after the segment's bytes are fsynced in its file. On completion
 * the message moves to the inbox and its rows go. Empty after the upgrade. */
static const char schema_v13[] =
	"CREATE TABLE transfer_in ("
	" message_id TEXT PRIMARY KEY NOT NULL,"
	" from_state TEXT NOT NULL,"
	" digest BLOB NOT NULL CHECK (length(digest) = 32),"
	" received_ms INTEGER NOT NULL,"
	" envelope BLOB NOT NULL,"
	" list BLOB NOT NULL CHECK (length(list) % 56 = 0 AND length(list) > 0));"
	"CREATE TABLE transfer_seg ("
	" message_id TEXT NOT NULL REFERENCES transfer_in (message_id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL CHECK (idx BETWEEN 1 AND 64),"
	" k INTEGER NOT NULL CHECK (k >= 0),"
	" PRIMARY KEY (message_id, idx, k)) WITHOUT ROWID;"
	"PRAGMA user_version = 13;";

/* Version 14 keeps every directory this gateway adopted (SPEC 18.6), the signed bytes by
 * their SHA-256, so that an audit bundle can carry the documents its directory-adopted
 * entries name (SPEC 15). Empty after the upgrade: the directory in force is kept, and its
 * entry written, at the first start that holds it. */
static const char schema_v14[] =
	"CREATE TABLE directory_docs ("
	" digest BLOB PRIMARY KEY NOT NULL CHECK (length(digest) = 32),"
	" serial INTEGER NOT NULL CHECK (serial >= 1),"
	" doc BLOB NOT NULL CHECK (length(doc) > 0),"
	" at_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 14;";

const char *msg_state_name(msg_state s)
{
	static const char *const names[] = {"queued", "sending", "awaiting-receipt",
					    "delivered", "rejected", "failed"};

	if ((unsigned)s >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[s];
}

int64_t store_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		abort(); /* CLOCK_REALTIME always exists */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- opening --- */

#define STORE_INIT_HINT "a gateway runs only on a store created by `mlagw store init` or " \
	"`mlagwd --init`; if it was lost, restore it from a backup (docs/operations.md)"

/* init: creates the file with mode 0600 before SQLite sees it (SQLite gives its -wal and -shm
 * files the database's mode) and makes the new name durable; an existing file is refused.
 * Otherwise the file must exist and not be empty (a lost store is never silently recreated
 * empty), and is tightened to 0600. */
static mla_err create_file(const char *path, int init, mla_diag *diag)
{
	mla_err r = MLA_ERR_STORE;
	struct stat st;
	int fd, dfd = -1;
	char *dir = NULL, *slash;

	fd = init ? open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)
		  : open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && init && errno == EEXIST) {
		r = mla_fail(diag, MLA_ERR_EXISTS, "store: %s already exists: a store is never "
			     "created over another file", path);
		goto out;
	}
	if (fd < 0 && errno == ENOENT) {
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: %s does not exist: " STORE_INIT_HINT,
			     path);
		goto out;
	}
	if (fd < 0) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: cannot open %s: %s", path,
			     strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s is not a regular file", path);
		goto out;
	}
	if (!init && st.st_size == 0) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s is empty (0 bytes): " STORE_INIT_HINT,
			     path);
		goto out;
	}
	if ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: cannot set mode 0600 on %s: %s", path,
			     strerror(errno));
		goto out;
	}
	if (init) {
		if ((dir = strdup(path)) == NULL) {
			r = mla_fail(diag, MLA_ERR_NOMEM, "store: out of memory");
			goto out;
		}
		if ((slash = strrchr(dir, '/')) == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		dfd = open(slash != NULL ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0 || fsync(dfd) != 0) {
			r = mla_fail(diag, MLA_ERR_STORE, "store: cannot sync directory of %s: %s",
				     path, strerror(errno));
			goto out;
		}
	}
	r = MLA_OK;
out:
	if (dfd >= 0)
		(void)close(dfd);
	if (fd >= 0)
		(void)close(fd);
	free(dir);
	return r;
}

static mla_err pragma_text(gw_store *s, const char *sql, const char *want, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	mla_err r;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store_fail(s, rc, sql, diag);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = store_fail(s, rc, sql, diag);
	} else if ((v = sqlite3_column_text(st, 0)) == NULL ||
		   strcmp((const char *)v, want) != 0) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s: got %s, need %s", sql,
			     v != NULL ? (const char *)v : "nothing", want);
	} else {
		r = MLA_OK;
	}
	(void)sqlite3_finalize(st);
	return r;
}

static mla_err configure(gw_store *s, mla_diag *diag)
{
	mla_err r;
	int rc;

	(void)sqlite3_extended_result_codes(s->db, 1);
	if ((rc = sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL)) !=
		    SQLITE_OK)
		return store_fail(s, rc, "configuring the connection", diag);
	if ((r = pragma_text(s, "PRAGMA journal_mode = WAL", "wal", diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
			       NULL, NULL, NULL)) != SQLITE_OK)
		return store_fail(s, rc, "setting pragmas", diag);
	/* Durability depends on these: read them back rather than trust a silent no-op. */
	if ((r = pragma_text(s, "PRAGMA synchronous", "2", diag)) != MLA_OK)
		return r;
	return pragma_text(s, "PRAGMA foreign_keys", "1", diag);
}

mla_err store_user_version(gw_store *s, int *v, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)) != SQLITE_OK)
		return store_fail(s, rc, "reading the schema version", diag);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else
		r = store_fail(s, rc, "reading the schema version", diag);
	(void)sqlite3_finalize(st);
	return r;
}

/* Creates the schema (init only) or brings an older file up to date in one transaction, or
 * refuses a version this mlagw does not know. */
static mla_err apply_schema(gw_store *s, const char *path, int init, mla_diag *diag)
{
	mla_err r;
	int v = -1, rc;

	if ((r = store_tx_begin(s, diag)) != MLA_OK)
		return r;
	if ((r = store_user_version(s, &v, diag)) != MLA_OK)
		goto out;
	if (v == 0 && !init) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: %s holds no mlagw schema: " STORE_INIT_HINT,
			     path);
		goto out;
	}
	if ((v == 0 && (rc = sqlite3_exec(s->db, schema_v1, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 1 && (rc = sqlite3_exec(s->db, schema_v2, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 2 && (rc = sqlite3_exec(s->db, schema_v3, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 3 && (rc = sqlite3_exec(s->db, schema_v4, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 4 && (rc = sqlite3_exec(s->db, schema_v5, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 5 && (rc = sqlite3_exec(s->db, schema_v6, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 6 && (rc = sqlite3_exec(s->db, schema_v7, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 7 && (rc = sqlite3_exec(s->db, schema_v8, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 8 && (rc = sqlite3_exec(s->db, schema_v9, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 9 && (rc = sqlite3_exec(s->db, schema_v10, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 10 && (rc = sqlite3_exec(s->db, schema_v11, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 11 && (rc = sqlite3_exec(s->db, schema_v12, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 12 && (rc = sqlite3_exec(s->db, schema_v13, NULL, NULL, NULL)) != SQLITE_OK) ||
	    (v <= 13 && (rc = sqlite3_exec(s->db, schema_v14, NULL, NULL, NULL)) != SQLITE_OK)) {
		r = store_fail(s, rc, "creating the schema", diag);
		goto out;
	}
	if (v >= 1 && v <= 6 && (r = store_tree_fill(s, diag)) != MLA_OK)
		goto out;
	if (v > STORE_SCHEMA_VERSION)
		r = mla_fail(diag, MLA_ERR_STORE,
			     "store: %s has schema version %d; this mlagw knows version %d", path,
			     v, STORE_SCHEMA_VERSION);
out:
	if (r == MLA_OK)
		return store_tx_commit(s, diag);
	store_tx_abort(s);
	return r;
}

/* "created": when store_init made this file (ISO 8601, UTC), for the operator. */
static mla_err put_created(gw_store *s, mla_diag *diag)
{
	char at[21];

	mla_time_format((time_t)(store_now_ms() / 1000), at);
	return store_meta_put(s, "created", at, 0, diag);
}

/* init: store_init's creation; o: the quick_check schedule (NULL: only after a crash). */
static mla_err open_store(const char *path, int init, const struct store_open_opts *o,
			  gw_store **out, mla_diag *diag)
{
	gw_store *s = NULL;
	mla_err r;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "store: no database path");
	if ((r = create_file(path, init, diag)) != MLA_OK)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "store: out of memory");
	s->unclean = store_wal_left_over(path);
	/* an empty log is as good as none: a read-only reader (mlagw store show) creates one */
	s->wal_absent = !s->unclean;
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc == SQLITE_OK) /* until the clean mark (store_lifecycle.c) */
		(void)sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if (rc != SQLITE_OK) {
		r = mla_fail(diag, MLA_ERR_STORE, "store: cannot open %s: %s", path,
			     s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto out;
	}
	/* the checks read only: a refused store is left as it was found */
	if ((r = configure(s, diag)) != MLA_OK) {
		/* damage reaching the schema's pages shows here, before quick_check can run */
		rc = sqlite3_errcode(s->db) & 0xff;
		if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
			r = mla_fail(diag, MLA_ERR_STORE, "store: %s fails its integrity check (%s): "
				     "refusing to start; restore it from a backup or inspect it",
				     path, sqlite3_errmsg(s->db));
		goto out;
	}
	if ((r = store_check_unclean(s, path, o, diag)) != MLA_OK ||
	    (!init && (r = store_upgrade_backup(s, path, diag)) != MLA_OK) ||
	    (r = apply_schema(s, path, init, diag)) != MLA_OK ||
	    (init && (r = put_created(s, diag)) != MLA_OK) ||
	    (r = store_mark_running(s, diag)) != MLA_OK ||
	    ((s->quick_checked || s->fresh) && o != NULL &&
	     (r = store_mark_checked(s, o->now_ms, diag)) != MLA_OK))
		goto out;
	*out = s;
	s = NULL;
out:
	store_close(s);
	return r;
}

mla_err store_open(const char *path, gw_store **out, mla_diag *diag)
{
	return open_store(path, 0, NULL, out, diag);
}

mla_err store_open_opts(const char *path, const struct store_open_opts *o, gw_store **out,
			mla_diag *diag)
{
	return open_store(path, 0, o, out, diag);
}

mla_err store_init(const char *path, mla_diag *diag)
{
	struct store_open_opts o = {0, store_now_ms()}; /* the check schedule starts now */
	gw_store *s = NULL;
	mla_err r = open_store(path, 1, &o, &s, diag);

	if (r == MLA_OK)
		r = store_mark_clean(s, diag);
	store_close(s);
	return r;
}

void store_close(gw_store *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->db != NULL && s->in_tx)
		store_tx_abort(s); /* an unfinished group is discarded, as after a crash */
	for (i = 0; i < ST_COUNT_; i++)
		(void)sqlite3_finalize(s->stmt[i]);
	(void)sqlite3_close_v2(s->db);
	free(s->upgrade_backup);
	free(s);
}

/* --- row helpers --- */

mla_err store_check_str(const char *v, size_t cap, int nonempty, const char *field,
			mla_diag *diag)
{
	if (v == NULL || memchr(v, '\0', cap) == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: %s is not a bounded string", field);
	if (nonempty && *v == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "store: %s is empty", field);
	return MLA_OK;
}

mla_err store_col_text(sqlite3_stmt *st, int col, char *dst, size_t cap, const char *op,
		       mla_diag *diag)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (v == NULL) {
		n = 0;
	} else if (n >= cap) {
		return mla_fail(diag, MLA_ERR_STORE, "store: %s: column %s is too long", op,
				sqlite3_column_name(st, col));
	}
	if (n > 0)
		memcpy(dst, v, n);
	dst[n] = '\0';
	return MLA_OK;
}

mla_err store_col_blob(sqlite3_stmt *st, int col, mla_buf *out, const char *op,
		       mla_diag *diag)
{
	const void *v = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	mla_err r;

	if (n == 0)
		return MLA_OK;
	if (v == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "store: %s: out of memory", op);
	if ((r = mla_buf_append(out, v, n)) != MLA_OK)
		return mla_fail(diag, r, "store: %s: %zu bytes do not fit the buffer", op, n);
	return MLA_OK;
}

mla_err store_col_digest(sqlite3_stmt *st, int col, uint8_t digest[32], const char *op,
			 mla_diag *diag)
{
	const void *v = sqlite3_column_blob(st, col);

	if (v == NULL || sqlite3_column_bytes(st, col) != 32)
		return mla_fail(diag, MLA_ERR_STORE, "store: %s: stored digest is not 32 bytes", op);
	memcpy(digest, v, 32);
	return MLA_OK;
}
