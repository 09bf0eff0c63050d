/* One audit log entry and its canonical serialization (protocol/SPEC.md section 14, "Entry
 * serialization"): the exact bytes that become a leaf of the RFC 6962 tree. An entry holds
 * metadata and digests only, never a document or personal data. */
#ifndef MLAGW_AUDIT_ENTRY_H
#define MLAGW_AUDIT_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"
#include "mlagw/merkle.h"

#define MLA_AUDIT_ACTOR_NAME_MAX 64 /* bytes of the name in "role:name" */
#define MLA_AUDIT_ACTOR_MAX (16 + MLA_AUDIT_ACTOR_NAME_MAX)
#define MLA_AUDIT_ERROR_MAX 32      /* an mla_errname() */
#define MLA_AUDIT_REASON_MAX 200    /* bytes of the free-text reason */
/* The attachments line of version 7 (SPEC 14): 64 entries "index:size:root" of at most
 * 2 + 1 + 14 + 1 + 64 bytes, comma-separated. */
#define MLA_AUDIT_ATTACHMENTS_MAX (64 * 83)
/* No canonical entry is longer (about 800 bytes, 6.2 KiB with a full attachments line);
 * parse refuses longer input. */
#define MLA_AUDIT_ENTRY_MAX 8192
/* A log origin (SPEC 14, "Log epochs"): "mlagw.<cc>/audit" for epoch 1,
 * "mlagw.<cc>/audit/<n>" for epoch n from 2 to MLA_AUDIT_EPOCH_MAX. */
#define MLA_AUDIT_ORIGIN_MAX 32
#define MLA_AUDIT_EPOCH_MAX UINT32_C(999999)
#define MLA_AUDIT_LINK_SIG_LEN 68 /* key ID (4) and Ed25519 signature (64) of a note line */
#define MLA_AUDIT_PRIORITY_MAX 6 /* "normal", "urgent", "crisis" */
#define MLA_AUDIT_GROUNDS_MAX 200 /* all 14 grounds take 170 bytes */
/* The latest time an entry can hold: 9999-12-31T23:59:59.999Z. */
#define MLA_AUDIT_TIME_MAX_MS INT64_C(253402300799999)

typedef enum mla_audit_event {
	MLA_AUDIT_SUBMITTED = 0,       /* a message accepted from the local API */
	MLA_AUDIT_SENT = 1,            /* one sending attempt */
	MLA_AUDIT_DELIVERED = 2,       /* the recipient's receipt verified */
	MLA_AUDIT_RECEIVED = 3,        /* an envelope accepted from a peer */
	MLA_AUDIT_RECEIPT_ISSUED = 4,  /* this gateway signed a receipt */
	MLA_AUDIT_REJECTED = 5,        /* refused, with the error */
	MLA_AUDIT_ANSWERED = 6,        /* answered or acknowledged: the action says which */
	MLA_AUDIT_FAILED = 7,          /* gave up, with the error */
	MLA_AUDIT_DOCUMENT_FETCHED = 8,/* a document read: who, which message, stated reason */
	MLA_AUDIT_CONFIG_RELOADED = 9,
	MLA_AUDIT_KEY_CHANGED = 10,
	MLA_AUDIT_ACCESS_DENIED = 11,
	MLA_AUDIT_EPOCH_OPENED = 12,   /* entry 0 of log epoch N >= 2: the link (version 3) */
	/* version 4 only (SPEC 14): */
	MLA_AUDIT_RESEALED = 13,       /* a refused envelope sealed again with a new Created */
	MLA_AUDIT_RECOVERED = 14,      /* a message re-fetched from a peer after a store loss */
	MLA_AUDIT_CLOCK_STEPPED = 15,  /* the wall clock stepped; reason says by how much */
	MLA_AUDIT_AUDIT_KEY_CHANGED = 16, /* the next audit key, under the current one's signature */
	MLA_AUDIT_PROTECTED_VIEWED = 17, /* protected persons shown: who, which message, why (v5) */
	MLA_AUDIT_DIRECTORY_ADOPTED = 18, /* a directory serial taken into force (v8, SPEC 18.6) */
	MLA_AUDIT_DIRECTORY_REFUSED = 19, /* a fetched directory refused: the reason (v9) */
	MLA_AUDIT_EVENT_N = 20
} mla_audit_event;

/* An entry. Strings are NUL-terminated; an empty string is an absent field ("-" in the
 * serialization). Which fields an event requires or forbids is in the SPEC. Initialise with
 * mla_audit_entry_init so that two equal entries are equal byte for byte (memcmp). */
typedef struct mla_audit_entry {
	uint64_t seq;          /* the entry's leaf index in the log */
	int64_t time_ms;       /* ms since 1970-01-01T00:00:00Z, 0 to MLA_AUDIT_TIME_MAX_MS */
	mla_audit_event event;
	char message_id[MLA_UUID_LEN + 1];   /* lower-case UUID */
	char case_id[MLA_CASE_ID_MAX + 1];
	char kind[MLA_TOKEN_MAX + 1];        /* one of mla_kinds (version 5 if of envelope v2) */
	char action[MLA_TOKEN_MAX + 1];      /* one of mla_actions (likewise) */
	char from[3];                        /* State codes */
	char to[3];
	char actor[MLA_AUDIT_ACTOR_MAX + 1]; /* "gateway", a State, or "role:name" */
	int has_envelope_sha256;
	uint8_t envelope_sha256[32];
	int has_receipt_sha256;
	uint8_t receipt_sha256[32];
	char error[MLA_AUDIT_ERROR_MAX + 1]; /* an mla_errname() */
	char reason[MLA_AUDIT_REASON_MAX + 1];
	/* How many identical events the entry stands for, the first at time_ms (SPEC 14): 1 for
	 * one event (written as version 1); 2 or more only for rejected and receipt-issued
	 * (written as version 2, with a count line). */
	uint32_t count;
	/* epoch-opened only (version 3, SPEC 14 "Log epochs"): the head of the previous epoch
	 * this log continues from, as the previous log signed it: its origin, size, root and
	 * the signature of its own line (key name = prev_origin). Empty prev_origin for every
	 * other event. */
	char prev_origin[MLA_AUDIT_ORIGIN_MAX + 1];
	uint64_t prev_size;
	uint8_t prev_root[32];
	uint8_t prev_sig[MLA_AUDIT_LINK_SIG_LEN];
	/* resealed only (version 4): the digest of the envelope this one replaces; the new
	 * seal's is envelope_sha256. */
	int has_prev_envelope_sha256;
	uint8_t prev_envelope_sha256[32];
	/* audit-key-changed only (version 4): the SHA-256 of the DER of the audit certificate
	 * whose key signs this log's checkpoints after the one that covers this entry. */
	int has_audit_cert_sha256;
	uint8_t audit_cert_sha256[32];
	/* version 6 only (SPEC 14): the header Priority of a case step's message ("normal",
	 * "urgent", "crisis"), for submitted, answered and received entries naming a case and an
	 * action; "" absent (an entry with one is always version 6). */
	char priority[MLA_AUDIT_PRIORITY_MAX + 1];
	/* version 6, action refused only: the coded grounds of the Refused answer (SPEC 16.5),
	 * distinct, comma-separated, in the order of mla_audit_grounds; "" when none. */
	char grounds[MLA_AUDIT_GROUNDS_MAX + 1];
	/* version 7 only (SPEC 14): the signed attachment list of the envelope the entry names
	 * (envelope version 3), "index:size:root" per attachment in list order, comma-separated
	 * (mla_audit_attachments_format); "" for none. */
	char attachments[MLA_AUDIT_ATTACHMENTS_MAX + 1];
	/* version 7, document-fetched only: the index (1-64) of the attachment read; 0 none. */
	uint32_t attachment;
	/* version 8, directory-adopted only (SPEC 14, 18.6), all required there and absent
	 * elsewhere: the directory's publisher (State code), serial (from 1; 0 absent), IssuedAt
	 * and Expires (seconds since the epoch, whole seconds as the directory states them) and
	 * the SHA-256 of its signed document's bytes. */
	char dir_publisher[3];
	uint64_t dir_serial;
	int64_t dir_issued;
	int64_t dir_expires;
	int has_dir_sha256;
	uint8_t dir_sha256[32];
} mla_audit_entry;

/* The attachments value of an entry for the signed list l (its public parts) into out
 * (MLA_AUDIT_ATTACHMENTS_MAX + 1 bytes): "1:1048592:<64 hex>,2:16:<64 hex>". */
mla_err mla_audit_attachments_format(const mla_attach_list *l, char *out, size_t size);
/* Non-zero when s is such a value: 1 to 64 entries, indices 1..n in order, each size a
 * decimal from 16 without leading zero (at most 14 digits), each root 64 lower-case hex. */
int mla_audit_attachments_ok(const char *s);

/* The refusal grounds an entry may name (answer.xsd RefusalGround), in their order;
 * NULL-terminated. */
extern const char *const mla_audit_grounds[];
/* Adds code to grounds (a value of the field: distinct codes in mla_audit_grounds order,
 * comma-separated; "" for none) in its place; nothing when it is there already.
 * MLA_ERR_ARG for an unknown code, MLA_ERR_TOO_LARGE when size cannot hold the result. */
mla_err mla_audit_grounds_add(char *grounds, size_t size, const char *code);

/* The origin of state's log (two upper-case letters) in epoch (1 .. MLA_AUDIT_EPOCH_MAX)
 * into out (MLA_AUDIT_ORIGIN_MAX + 1 bytes); MLA_ERR_ARG for a bad State or epoch. */
mla_err mla_audit_origin_format(const char *state, uint32_t epoch,
				char out[MLA_AUDIT_ORIGIN_MAX + 1]);
/* The inverse: the State (upper case, NUL-ended) and the epoch of an origin written exactly
 * as mla_audit_origin_format writes it; MLA_ERR_ARG for anything else. */
mla_err mla_audit_origin_parse(const char *origin, char state[3], uint32_t *epoch);
/* The checkpoint note of an epoch-opened entry's link, "<prev_origin>\n<prev_size>\n<base64
 * prev_root>\n\n— <prev_origin> <base64 prev_sig>\n", into out (reset first): what the
 * previous log signed, to verify under its audit key. */
mla_err mla_audit_entry_link_note(const mla_audit_entry *e, mla_buf *out);

/* Zeroes e: every field absent, seq and time 0, event submitted, count 1. */
void mla_audit_entry_init(mla_audit_entry *e);
/* Non-zero when s is free text an entry accepts (actor names, reasons; SPEC 14): 1 to max
 * bytes of UTF-8 without characters that are invisible or change how a line displays, no
 * space at either end, not "-". Whoever takes such text in checks it with this, where it
 * enters, so an entry never fails for a field it was handed. */
int mla_audit_text_ok(const char *s, size_t max);
/* "submitted", "receipt-issued", ...; NULL for a value out of range. */
const char *mla_audit_event_name(mla_audit_event ev);
mla_err mla_audit_event_parse(const char *s, mla_audit_event *out);

/* Checks every field and appends the canonical serialization to out: version 1 when count is
 * 1, version 2 (the v1 lines, then "count N") when it is more, version 3 (the v2 lines with
 * count 1, then the prev-* lines) for epoch-opened, the only event it holds, version 4 (the v3
 * lines with count 1 and the prev-* lines absent, then prev-envelope-sha256 and
 * audit-cert-sha256) for resealed, recovered, clock-stepped and audit-key-changed, the events
 * only it holds; version 5 (version 4's lines, each holding what the event has in the version
 * it would otherwise have: count, link, digests) for an entry whose kind or action only
 * envelope version 2 names (mla_kind_version, mla_action_version), which only it holds. On
 * failure out is
 * unchanged: MLA_ERR_ARG with a message naming the field, or MLA_ERR_TOO_LARGE when out
 * cannot grow. */
mla_err mla_audit_entry_serialize(const mla_audit_entry *e, mla_buf *out, mla_diag *diag);
/* The strict inverse: accepts exactly the byte strings serialize produces (one per entry),
 * of any version, each by its own first line (a version 1 entry has count 1; a version 2
 * one a count from 2; a version 3 one is epoch-opened; a version 4 one is resealed,
 * recovered, clock-stepped or audit-key-changed; a version 5 one names an envelope version 2
 * Kind or Action or is protected-viewed, and no entry that does is of another version), and refuses anything else, with MLA_ERR_HEADER (or MLA_ERR_TOO_LARGE beyond
 * MLA_AUDIT_ENTRY_MAX). e is initialised first; on failure its contents are unspecified. */
mla_err mla_audit_entry_parse(const uint8_t *data, size_t len, mla_audit_entry *e,
			      mla_diag *diag);
/* mla_merkle_leaf_hash of the serialization. */
mla_err mla_audit_entry_leaf_hash(const mla_audit_entry *e, uint8_t out[MLA_MERKLE_HASH_LEN],
				  mla_diag *diag);

#endif
