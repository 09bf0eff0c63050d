/* Internal to the audit verifier (include/mlagw/audit.h): the state of one verification
 * (bundle, trust set, parsed records) and the check families of verify_log.c, verify_msgs.c,
 * verify_witness.c and verify_proofs.c, each counting successes and recording failures that
 * name the record (entry seq, message id, checkpoint size); verify_cross.c compares bundles. */
#ifndef MLAGW_AUDIT_VERIFY_INTERNAL_H
#define MLAGW_AUDIT_VERIFY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "mlagw/audit.h"
#include "mlagw/audit_entry.h"
#include "mlagw/bundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/envelope.h"
#include "mlagw/receipt.h"
#include "verify_xsort.h"

/* The check families under short names (the public enum's order). */
enum vfam_id {
	F_BUNDLE = MLA_AUDIT_CHECK_BUNDLE, F_CERT = MLA_AUDIT_CHECK_CERTIFICATE,
	F_CHECKPOINTS = MLA_AUDIT_CHECK_CHECKPOINTS, F_ENTRIES = MLA_AUDIT_CHECK_ENTRIES,
	F_TREE = MLA_AUDIT_CHECK_TREE, F_WITNESS = MLA_AUDIT_CHECK_WITNESS,
	F_PROOFS = MLA_AUDIT_CHECK_PROOFS, F_ENVELOPES = MLA_AUDIT_CHECK_ENVELOPES,
	F_RECEIPTS = MLA_AUDIT_CHECK_RECEIPTS, F_DELIVERED = MLA_AUDIT_CHECK_DELIVERED,
	F_ATTACH = MLA_AUDIT_CHECK_ATTACHMENTS, F_DIRS = MLA_AUDIT_CHECK_DIRECTORIES,
	F_REVOC = MLA_AUDIT_CHECK_REVOCATION, F_N = MLA_AUDIT_CHECK_N
};

/* The trust set (trust.c): the roots for envelopes and receipts, and the same roots as
 * certificates with their State for the audit and peer certificates' chains. */
struct mla_audit_trust {
	char *dir;	 /* named in messages */
	mla_trust *trust;
	X509 **roots;
	char (*states)[3];
	size_t nroots;
};

struct vfam {
	size_t ok, failed;
};

/* What the checks after a receipt's own read of it (delivered, seals) use of the receipt:
 * not the whole parsed mla_receipt, whose diagnostic text would cost some 400 bytes a
 * receipt held (SPEC 15 "Verifier memory"). */
struct vreceipt {
	uint8_t envelope_digest[32];
	char receiver_state[3];
	mla_outcome outcome;
	mla_err error;
};

/* The facts of r that struct vreceipt keeps, into out. */
void audit_receipt_keep(struct vreceipt *out, const mla_receipt *r);

/* One envelope or receipt record of the message being checked (verify_msgs.c): the first of
 * its name, the one the entries' digests are compared with. */
struct gslot {
	int have;
	uint64_t ord;	      /* its number among the records of its type */
	uint64_t offset, len; /* in the bundle */
	unsigned seal;	      /* an earlier seal's n (<id>.<n>), 0 for the message's own */
	int verified;
	uint8_t sha[32];
	size_t refs;
	char to_state[3];     /* an envelope's recipient */
	int has_att;          /* a version 3 envelope: att_sha is its list's (entry version 7) */
	uint8_t att_sha[32];
	struct vreceipt r;    /* a receipt's */
};

/* The message being checked: its rows among the sorted ones, when it was recorded (its
 * certificates are judged at those times), its records. */
struct vgroup {
	char id[MLA_BUNDLE_NAME_MAX + 1];
	uint64_t first, entries_end; /* its entries' rows */
	uint64_t index;		     /* messages before it, in id order */
	int have_time;
	int64_t first_ms, last_ms;
	unsigned reported; /* a missing envelope (1) or receipt (2) is reported once */
	struct gslot env, rec, senv[9], srec[9];
};

/* The places of the message checks' failures, in the order of SPEC 15's steps 8 to 11
 * (struct vdkey's phase). */
enum {
	P_ENV_REC = 1, P_ENV_ENTRY, P_ENV_UNREF, P_REC_REC, P_REC_ENTRY, P_REC_UNREF,
	P_DELIVERED, P_SEALS, P_SENV_UNREF, P_SREC_UNREF
};

/* A peer whose audit certificate the bundle holds: its log key and its cosigner key. */
struct vpeer {
	char state[3];
	mla_note_verifier log, cosigner;
};

/* One of the log's audit keys: its verifier, its certificate and the SHA-256 of its DER. */
struct vkey {
	mla_note_verifier v;
	X509 *cert;
	uint8_t sha[32];
};

/* What the message and key checks read of an entry verify_entries keeps: a quarter of a
 * parsed entry's size (an unfiltered bundle keeps every message's entries). */
struct ventry {
	uint64_t seq;
	int64_t time_ms;
	mla_audit_event event;
	uint8_t has_envelope_sha256, has_receipt_sha256;
	char to[3];
	char message_id[MLA_UUID_LEN + 1];
	uint8_t envelope_sha256[32], receipt_sha256[32];
};

/* What a resealed or audit-key-changed entry holds besides (such entries are few: kept
 * apart, so that a kept entry is 128 bytes, not 232). */
struct vextra {
	uint64_t seq;
	char error[MLA_AUDIT_ERROR_MAX + 1]; /* resealed */
	uint8_t sha[32]; /* resealed: prev-envelope-sha256; audit-key-changed: audit-cert-sha256 */
};

/* The leaf of an entry an inclusion proof is of (verify_entries keeps it). */
struct vleaf {
	uint64_t seq;
	uint8_t leaf[32];
	int have, proven; /* the leaf was read; a proof of it verified */
};

/* What the checks learn of one checkpoint record, one row per record in record order
 * (verify_cptab.c keeps them in a temporary file: a log may have a checkpoint per entry). */
struct vcp {
	uint64_t size;	 /* signed size; 0 when refused (verify_checkpoints) */
	uint8_t root[32];	 /* the signed root */
	int64_t last_ms; /* the time of its last entry (0: none or not parsed; verify_entries) */
	uint32_t key;	 /* which audit key (index in keys) signed it */
	uint8_t tree;	 /* its entries hash to its root (verify_entries) */
	uint8_t pair;	 /* a consistency proof to the next opened one verified (verify_proofs) */
	uint8_t pad[2];
	/* the size of the last opened row at or before this one (0: none), set by cptab_put:
	 * ascending over all rows, so a size is found by binary search however long the
	 * refused runs a hostile bundle puts between opened ones */
	uint64_t floor;
};

struct vcptab {
	int fd;
	size_t n;			/* rows */
	struct vcp *blk;		/* the cached block */
	size_t blk_first;
	uint64_t last_floor;		/* the floor of row n - 1 */
	uint64_t reads;			/* reads from the file (the tests bound the cost) */
	int have_blk, dirty;
};

/* A temporary file (TMPDIR, else /tmp), unlinked at once; -1 when it cannot be made. */
int cptab_open(struct vcptab *t);
void cptab_close(struct vcptab *t);
/* Row i (below t->n) into *out; put writes row i (at most t->n: appends). 0, else -1. */
int cptab_get(struct vcptab *t, size_t i, struct vcp *out);
int cptab_put(struct vcptab *t, size_t i, const struct vcp *in);
int cptab_flush(struct vcptab *t);
/* The row of the opened checkpoint of size n, or -1 (*err set when the file failed). */
long cptab_find(struct vcptab *t, uint64_t n, int *err);
/* The opened row after row k, or -1. */
long cptab_next(struct vcptab *t, long k, int *err);

/* Failures found out of the steps' order (the message checks, which join entries, envelopes
 * and receipts by message) are deferred with the key of where the steps find them: the step
 * (phase), then two positions (a record's number in its type, an entry's seq, ...), then the
 * order of failures at one place (sub). vdefer_end sorts them into the list after those
 * found before; of more than the list holds, the first ones by key are kept, all counted. */
struct vdkey {
	uint8_t phase;
	uint64_t a, b;
	uint32_t sub;
};

struct vdfail {
	struct vdkey k;
	mla_audit_failure f;
};

struct vdefer {
	int on;
	size_t cap;	  /* room left in the list when it began */
	struct vdfail *h; /* a heap, the last kept (greatest key) on top */
	size_t n;
	struct vdkey cur; /* the key of the next failure */
};

/* The message checks' rows (verify_msgs.c), sorted by name, kind and position on disk
 * (verify_xsort.c): the kept entries that name a message (by seq), the envelope and receipt
 * records (by their number in their type; an earlier seal's, <id>.<n>, under its message id).
 * The key is name, kind, pos (big endian); a message's rows are contiguous, entries first. */
enum mrow_kind { MR_ENTRY = 0, MR_ENV = 1, MR_REC = 2, MR_SENV = 3, MR_SREC = 4 };

struct mrow {
	char name[MLA_BUNDLE_NAME_MAX];	/* NUL padded: sorts as strcmp does */
	uint8_t kind;
	uint8_t pos[8];
	uint8_t event;			/* an entry's */
	uint8_t flags;			/* MRF_* */
	char to[3];			/* an entry's */
	uint8_t seal;			/* an earlier seal's n */
	uint8_t pad;
	int64_t time_ms;		/* an entry's */
	union {
		struct {
			uint64_t offset, len; /* a record's, in the bundle */
		} r;
		struct {
			uint8_t env[32], rec[32]; /* an entry's digests */
			uint8_t att[32]; /* SHA-256 of its attachments value (version 7) */
		} e;
	} u;
};
#define MROW_KEY offsetof(struct mrow, event)
#define MRF_ENV 1	/* entry: has envelope-sha256 */
#define MRF_REC 2	/* entry: has receipt-sha256 */
#define MRF_IN_ORDER 4	/* record: after the previous one of its type */
#define MRF_ATT 8	/* entry: names an attachment list (entry version 7) */

/* Filtered: an entry of a selected message (its inclusion proof is required), by seq. */
struct prow {
	uint8_t seq[8]; /* big endian */
	char id[MLA_UUID_LEN + 1];
	uint8_t pad[3];
};
struct vctx;
int audit_psort_row(struct vctx *v, const mla_audit_entry *e);
/* An envelope of a bundle, of versions 1 to 3 (an envelope with attachments verifies with its
 * signed list, SPEC 17.8; the list itself is what entries of version 7 record). */
mla_err audit_envelope_verify(const mla_buf *data, const mla_trust *trust,
			      const mla_limits *at, mla_verified *out, mla_diag *d);
/* The same, and for a version 3 envelope the SHA-256 of its signed list as an entry of
 * version 7 writes it (mla_audit_attachments_format) into att, *has_att 1 (0 otherwise). */
mla_err audit_envelope_verify_list(const mla_buf *data, const mla_trust *trust,
				   const mla_limits *at, mla_verified *out, uint8_t att[32],
				   int *has_att, mla_diag *d);
/* The same, keeping the signed list in *keep (NULL for versions 1 and 2; the caller frees). */
mla_err audit_envelope_verify_keep(const mla_buf *data, const mla_trust *trust,
				   const mla_limits *at, mla_verified *out, uint8_t att[32],
				   int *has_att, mla_attach_list **keep, mla_diag *d);

/* A certificate a verified crl record lists (verify_crl.c): the root that issued it (an
 * index into the trust set), its serial (magnitude, big endian) and revocation time. */
struct vrevoked {
	uint16_t root;
	uint8_t negative, len;
	uint8_t serial[20];
	int64_t at;
};

/* The earliest revocation among the signers of the document being verified. */
struct vrevhit {
	int have;
	int64_t at;
	char what[MLA_DIAG_MAX];
};

/* One bundle's verification: what the checks parsed, counted and found. The entries are
 * read from f twice, in bounded memory (SPEC 15 "Verification"): once for which messages
 * the bundle must hold (audit_prepass), once for every check (verify_entries), which puts
 * the entries of those messages in the message checks' sort (msort) and keeps what later
 * checks need. */
struct vctx {
	const mla_bundle *b; /* an index: the manifest and certificates (mla_bundle_index) */
	FILE *f;	     /* the bundle */
	int broken;	     /* f could not be read again as indexed: the entries' checks stop */
	uint8_t entries_digest[32]; /* of the entries as the first read saw them */
	int have_entries_digest;
	char state[3];
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	uint32_t epoch; /* of the log (its origin), from 1 */
	const mla_audit_trust *trust;
	mla_limits limits;
	mla_note_verifier key;
	int have_key;
	int filtered; /* the manifest names a filter: only selected messages are held */
	struct mla_audit_filter filter;
	char filter_case[MLA_CASE_ID_MAX + 1];
	char (*selected)[MLA_UUID_LEN + 1]; /* filtered: the ids it selects, sorted */
	size_t nselected;
	/* parsed, in seq order: the audit-key-changed entries (verify_keys.c); the kept entries
	 * that name a message are rows of msort instead (audit_keep_entry says which are kept) */
	struct ventry *entries;
	size_t nkept, capkept;
	struct vextra *extras; /* of the kept resealed and audit-key-changed entries, by seq */
	size_t nextras, capextras;
	size_t nentries;		     /* entry records */
	mla_audit_entry first;		     /* entry 0 as parsed (have_first) */
	int have_first;
	int64_t last_ms;		     /* the last entry's time; 0 when it does not parse */
	char (*held)[MLA_UUID_LEN + 1];	     /* ids the envelopes and receipts are named by */
	size_t nheld;
	struct vleaf *pleaves;		     /* of the entries `i.<seq>.<n>` proofs are of */
	size_t npleaves;
	struct vcptab cpt;		     /* a row per checkpoint record (verify_checkpoints) */
	int have_cpt;
	size_t ncps;			     /* checkpoint records */
	long last_cp;			     /* the row of the latest opened one, or -1 */
	uint64_t last_cp_size;		     /* its size (0: none) */
	uint64_t final_cp_size;		     /* the last checkpoint record's size (0: refused) */
	/* the first read of each streamed region's records (names and bytes): later reads must
	 * hash alike (region_digest[MLA_BUNDLE_ENTRY] unused: entries_digest) */
	uint8_t region_digest[MLA_BUNDLE_TYPE_N][32];
	int have_region[MLA_BUNDLE_TYPE_N];
	int tmp_failed;			     /* the temporary file failed */
	/* the log's audit keys (SPEC 14 "Audit key changes"): keys[0] is `audit` (= key), then
	 * audit.2, ... of a format 3 bundle (verify_keys.c) */
	struct vkey *keys;
	size_t nkeys;
	mla_note_verifier *key_verifiers; /* audit_keys()'s array */
	char (*resealed)[MLA_UUID_LEN + 1]; /* messages with a resealed entry, sorted */
	size_t nresealed;
	struct vpeer *peers;		     /* verify_witness.c */
	size_t npeers, cappeers;
	/* the verified heads: handed to on_head (bundle: this one's input index), and pooled in
	 * heads when pool_heads (the split-view check across several bundles needs them) */
	mla_audit_head_fn on_head;
	void *head_arg;
	size_t bundle;
	mla_err head_err; /* on_head's, which stopped the checks */
	int pool_heads;
	mla_audit_head *heads;
	size_t nheads, caphead;
	size_t heads_seen;
	size_t cosignatures;		     /* peers' valid cosignatures on our checkpoints */
	struct vfam fam[F_N];
	struct vdefer defer;		     /* while the message checks run */
	struct xsort msort;		     /* the message checks' rows (struct mrow) */
	int have_msort;
	struct xsort psort;		     /* filtered: the selected messages' entries (seq) */
	int have_psort;
	mla_audit_failure *failures;
	size_t nfailures, capfailures;
	size_t unlisted;		     /* beyond MLA_AUDIT_FAILURES_LISTED */
	int nomem;			     /* a failure could not be recorded */
	/* attachment files beside the bundle (verify_attach.c): the folder, the messages whose
	 * verified envelope listed attachments (id and count, for the scan of what no list
	 * names: 40 bytes a message with attachments) */
	const char *att_dir;
	int att_required;
	size_t att_absent;
	struct vattmsg *att_msgs;
	size_t natt_msgs, capatt_msgs;
	mla_audit_dir_adopted *dirs; /* the directory-adopted entries, in seq order (verify_dir.c) */
	size_t ndirs, capdirs;
	struct vrevoked *revs; /* from the verified crl records, sorted (verify_crl.c) */
	size_t nrevs, caprevs;
	size_t crls_ok, ocsps_ok;
	struct vrevhit hit;
};

struct vattmsg {
	char id[MLA_UUID_LEN + 1];
	uint8_t n;
};

/* Each attachment of list, the signed list of message id's verified envelope, checked in
 * the folder (verify_attach.c); the scan after every check of files no list names. 0, or
 * -1 out of memory. */
int audit_attach_check(struct vctx *v, const char *id, const mla_attach_list *list);
int audit_attach_scan(struct vctx *v);

/* The split-view check over several verified bundles (verify_cross.c). */
struct vcross {
	size_t compared, unchecked;
	mla_audit_split *splits;
	size_t nsplits, capsplits;
	size_t unlisted; /* beyond MLA_AUDIT_FAILURES_LISTED, as a bundle's failures */
	int nomem;
};

/* Records a failure of family f, class why, about the record of type t named rec (t is
 * MLA_BUNDLE_TYPE_N and rec "" for none); vfailn names the record by number. */
void vfail(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
	   const char *rec, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void vfailn(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
	    uint64_t rec, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* From now on vfail defers (above); vdefer_at sets the key of the next failures (each one
 * then takes the next sub); vdefer_end sorts them into v's list: 0, -1 when out of memory. */
void vdefer_begin(struct vctx *v);
void vdefer_at(struct vctx *v, unsigned phase, uint64_t a, uint64_t b, uint32_t sub);
void vdefer_put(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
		const char *rec, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
int vdefer_end(struct vctx *v);

/* Each returns 0, or -1 when out of memory. */
int verify_manifest(struct vctx *v);
/* verify_dir.c: a valid directory-adopted entry e of step 4's read, kept (its serial must
 * follow the previous one's); then, last, the directory documents they name (SPEC 15). */
int audit_dir_entry(struct vctx *v, const mla_audit_entry *e);
int verify_directories(struct vctx *v);
/* verify_crl.c: the crl records (SPEC 15 step 1a) into the table of revoked certificates. */
int verify_crls(struct vctx *v);
/* Adds one revoked certificate of root (an index into the trust set) to the table; 1 when
 * the table is full, -1 on no memory. */
int audit_revoked_add(struct vctx *v, uint16_t root, const uint8_t *serial, size_t len,
		      int negative, time_t at);
/* A crl or ocsp record's bytes into der (buf holds them), checked against its name (the
 * SHA-256, failure `digest`); 1 when a failure was recorded, 0 when der is the record's. */
int audit_revoc_record(struct vctx *v, const mla_bundle_record *rec, mla_buf *buf,
		       mla_bundle_record *der);
/* verify_ocsp.c: the ocsp records (SPEC 15 step 1a) into the same table (called by
 * verify_crls before it sorts). */
int verify_ocsps(struct vctx *v);
/* Whether cert, issued by issuer (a root, or NULL: not judged), is listed; the earliest
 * revocation of all looked up since the last reset is kept in *hit, described with role. */
int audit_revoked(const struct vctx *v, X509 *cert, X509 *issuer, const char *role,
		  struct vrevhit *hit);
/* The same for one of the log's own certificates (an audit key), its issuer the root of the
 * bundle's State that issued it. */
int audit_revoked_own(const struct vctx *v, X509 *cert, const char *role, struct vrevhit *hit);
/* Installs (on) or removes the trust set's revocation hook, which notes in v->hit the
 * revoked signers of each verified document. */
void audit_revoc_hook(struct vctx *v, int on);
/* Forgets v->hit, before a document is verified. */
void audit_revoc_reset(struct vctx *v);
/* After a document (record t named name, described by what) verified: a failure `revoked`
 * when a signer was revoked at or before signed_at (Unix seconds). */
void audit_revoc_judge(struct vctx *v, mla_bundle_type t, const char *name, int64_t signed_at,
		       const char *what);
/* verify_pass.c: the first read of the entries (selected and resealed messages, the last
 * entry's time), after the manifest; the second is verify_entries. */
int audit_prepass(struct vctx *v);
/* Whether the second read keeps parsed entry e (canonical, at its seq). */
int audit_keep_entry(const struct vctx *v, const mla_audit_entry *e);
/* The vextra of kept entry e (resealed or audit-key-changed); all zero for another. */
const struct vextra *audit_entry_extra(const struct vctx *v, const struct ventry *e);
/* The roots of the first sizes[i] entries (ascending sizes, each at most nentries) into
 * roots[i], read again from the bundle: 0, -1 when out of memory, unreadable, or when the
 * entries are not those the first read saw. */
int audit_roots_at(const struct vctx *v, const uint64_t *sizes, size_t n, uint8_t (*roots)[32]);
/* Every entry record of v's bundle to fn, in order (reconcile_side.c): 0, 1 when the file no
 * longer reads as indexed or the entries are not those the first read saw, -1 when fn
 * failed or no memory. */
int audit_entries_each(const struct vctx *v, int (*fn)(void *arg, const mla_bundle_record *r),
		       void *arg);
/* A streamed region's records read once more (checkpoints, witnessed heads, proofs): the
 * first read of a region keeps its digest, each later one must match it or the bundle fails
 * (the file changed between reads). next returns 1 with a record, 0 at the end (or when the
 * file no longer reads as indexed: recorded), -1 out of memory. */
struct vregion {
	mla_bundle_cursor *c; /* 16 KiB: on the heap */
	struct vctx *v;
	mla_bundle_type type;
	void *hash; /* EVP_MD_CTX */
	int ok, done, short_read;
};
int vregion_open(struct vctx *v, struct vregion *g, mla_bundle_type t);
int vregion_next(struct vregion *g, mla_bundle_record *rec);
/* After the last record: the digest kept or compared; -1 when hashing failed. Closing before
 * the end (an early stop) compares nothing. */
int vregion_close(struct vregion *g);
/* A verified head (the bundle's checkpoint, or a peer's it cosigned) out to on_head; -1 on
 * no memory or when on_head stopped the checks. */
int audit_put_head(struct vctx *v, const mla_audit_head *h);

/* Record rec's data (an envelope or a receipt, read from the bundle) into out; 0, else the
 * failure is recorded in family f. */
int audit_record_data(struct vctx *v, const mla_bundle_record *rec, enum vfam_id f,
		      mla_buf *out);
/* An empty buffer for audit_record_data (room for the largest envelope or receipt). */
void audit_record_buf(mla_buf *b);
/* rec as *out with its data: the index's, or read into buf (a peer's certificate); 0, else
 * -1 with the failure recorded in family f. */
int audit_record_loaded(struct vctx *v, const mla_bundle_record *rec, enum vfam_id f,
			mla_buf *buf, mla_bundle_record *out);
int verify_certificate(struct vctx *v);
int verify_checkpoints(struct vctx *v);
int verify_entries(struct vctx *v);
int verify_tree(struct vctx *v);
int verify_witness(struct vctx *v);
/* After the message checks (it needs the filter's selection). */
int verify_proofs(struct vctx *v);
/* Limits whose verification time is when g's message was first (last = 0) or last
 * recorded. */
mla_limits audit_limits_at(const struct vctx *v, const struct vgroup *g, int last);
/* Whether the bundle must hold what message id's entries record (verify_msgs.c). */
int audit_selected(const struct vctx *v, const char *id);
/* Pools the heads of the n verified bundles and records split views in x (messages name the
 * bundles by files[i]). -1: no memory. */
int audit_cross_check(const struct vctx *vs, const char *const *files, size_t n,
		      struct vcross *x);
/* The link of each bundle of a log epoch from 2 to its previous epoch, checked against that
 * epoch's bundle when it is among the n (verify_epoch.c), into res->links (failures counted
 * in res->failures). -1: no memory. */
int audit_epoch_links(const struct vctx *vs, size_t n, mla_audit_result *res);
/* Whether cert chains to a root of state in the trust set (why says otherwise), valid
 * at the bundle's last entry when check_time (the audit certificate), else whatever the
 * time (peers' certificates: judged by what they signed, whenever a rotation retired them). */
/* The same, judged at time at (0 now, -1 not at all). */
int audit_chain_to_root_at(struct vctx *v, X509 *cert, const char *state, time_t at,
			   char *why, size_t whylen);
int audit_chain_to_root(struct vctx *v, X509 *cert, const char *state, int check_time,
			char *why, size_t whylen);
/* verify_cert.c, for the audit and the peers' certificates alike: the record's one
 * certificate, or NULL unless it starts with the PEM header and is exactly one PEM block
 * CERTIFICATE (no PEM headers) holding exactly one DER certificate, followed by nothing but
 * whitespace (SP, HT, CR, LF). */
X509 *audit_one_pem_cert(const mla_bundle_record *r);
/* Why cert's key cannot be an audit key (not Ed25519, or key usage without
 * digitalSignature), or NULL. */
const char *audit_cert_key_problem(X509 *cert);
/* verify_msgs.c: steps 8 to 11. The message rows' sort, opened before the entries' read
 * (verify_entries), which puts a row for each kept entry naming a message. 0, else -1. */
int audit_msort_open(struct vctx *v);
int audit_msort_entry(struct vctx *v, const mla_audit_entry *e);
int verify_messages(struct vctx *v);
/* An entry's row as the entry's kept facts. */
void audit_row_entry(const struct mrow *r, struct ventry *e);
/* verify_keys.c: the audit key schedule (SPEC 14 "Audit key changes", SPEC 15 step 5a). */
int verify_keys(struct vctx *v);
/* How many `audit.<n>` certificates follow `audit` (0 in format 2). */
size_t audit_later_keys(const struct vctx *v);
/* Takes cert (the verified `audit`, owned from now on) as key 1 and checks the later ones;
 * 0, or -1 when out of memory. */
int audit_take_keys(struct vctx *v, X509 *cert);
/* The verifiers of keys[] in one array for mla_checkpoint_open (valid until the next call). */
const mla_note_verifier *audit_keys(struct vctx *v);
/* The index of the lowest signer bit: which key signed. */
size_t audit_signer(uint64_t signers);
/* verify_log.c: one of the bundle's own audit certificates (see there). */
int audit_own_cert(struct vctx *v, const mla_bundle_record *c, int check_time,
		   mla_note_verifier *key, X509 **certp);
/* verify_seals.c: the earlier seals of g's message, sealed again (SPEC 15 step 11), along
 * its entries' rows. 0, else -1 (the temporary file failed). */
int audit_seals_walk(struct vctx *v, struct vgroup *g);
/* Whether name is an earlier seal's record name, "<message id>.<n>" with n from 1 to 9. */
int audit_seal_name(const char *name);
/* Whether message id has a resealed entry (audit_prepass found them). */
int audit_resealed(const struct vctx *v, const char *id);

/* The memory of one run of the verifier's sorts (verify_msgs.c), shared with reconcile_side.c:
 * 16 MiB, or MLAGW_VERIFY_SORT_MEM bytes (4 KiB to 1 GiB; tests make runs small). */
size_t audit_sort_mem(void);
/* verify.c: the bundle of in as a stream (its file, or its bytes); NULL with diag set. */
FILE *audit_open_input(const mla_audit_input *in, mla_diag *d);
/* verify.c, shared with reconcile_side.c: v set up for the index b of the bundle f (NULL when
 * the container was refused) with trust (NULL: no trust set, for the manifest alone). */
void audit_vctx_init(struct vctx *v, const mla_bundle *b, FILE *f, const mla_audit_trust *trust);
/* Every check family in order; -1 when one could not run (out of memory). */
int audit_run_checks(struct vctx *v);
/* Frees what the checks allocated in v (and its failures). */
void audit_vctx_free(struct vctx *v);
size_t audit_failures(const struct vctx *v);
/* v's outcome as a result (its failures move there); NULL when out of memory. */
mla_audit_bundle_result *audit_vctx_result(struct vctx *v, const char *name);
/* Frees what r holds (not r itself). */
void audit_bundle_result_free(mla_audit_bundle_result *r);

#endif
