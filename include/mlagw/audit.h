/* The auditor's side of the audit log (protocol/SPEC.md section 15): export of a log's audit
 * bundle through a storage-agnostic source, offline verification of audit bundles with the
 * States' roots only, the split-view check across several bundles, reconciliation of two
 * States' bundles, and the message filter export and verify share.
 * Library calls with structured results: nothing here prints. */
#ifndef MLAGW_AUDIT_H
#define MLAGW_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mlagw/attach.h"
#include "mlagw/audit_entry.h"
#include "mlagw/bundle.h"
#include "mlagw/checkpoint.h"
#include "mlagw/error.h"

/* ---- the message filter (SPEC section 15, Export) ----
 * A case and a time range selecting the messages whose envelopes and receipts a bundle holds.
 * mlagw audit export applies it; verification recomputes it from the entries and the manifest,
 * so that a filtered bundle holds exactly what its filter selects. */
struct mla_audit_filter {
	const char *case_id;	/* NULL: any case */
	int64_t from_ms, to_ms; /* inclusive; 0 and MLA_AUDIT_TIME_MAX_MS when not given */
	const char *from, *to;	/* as given (NULL when not): an export's manifest names them */
};

/* YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC) to ms; end_of_day for --to, which is inclusive:
 * the last millisecond of that day (a date) or of that second (a time). 0 when s is not such a
 * time (a date that does not exist included). */
int mla_audit_filter_time(const char *s, int end_of_day, int64_t *ms);
/* Fills f from the three strings (each may be NULL; f points to them); 0 when from or to is
 * not a time. */
int mla_audit_filter_init(struct mla_audit_filter *f, const char *case_id, const char *from,
		      const char *to);
/* Whether entry e selects its message: it names one, of the case, within the range. */
int mla_audit_filter_selects(const struct mla_audit_filter *f, const mla_audit_entry *e);

/* ---- export (SPEC section 15, Export) ----
 * A log's audit bundle written from wherever the log is kept, read through a source: a struct
 * of callbacks that stream rows (gateway/store/store_reader.h fills one over the store's
 * read-only reader; a test fills one over arrays). In every callback, strings and bytes live
 * only during the call; a row callback's non-MLA_OK return stops the iteration and the
 * source returns it. A source's own failures come back as its mla_err with diag set. */

typedef struct mla_audit_source_meta {
	char state[3];				    /* of the origin; "" before a checkpoint */
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1]; /* the latest checkpoint's, or "" */
	uint64_t entries, checkpoints, witnessed, peer_certs; /* rows of each */
} mla_audit_source_meta;

/* An entry exactly as kept: entry NULL when len is 0, leaf NULL when the kept leaf hash is
 * not 32 bytes (export writes the entry; no proof is written from a missing leaf). */
typedef struct mla_audit_source_entry {
	uint64_t seq;
	const uint8_t *entry;
	size_t len;
	const uint8_t *leaf;
} mla_audit_source_entry;

/* A signed checkpoint (note as signed, with the peers' cosignature lines), or a peer's
 * checkpoint this log's gateway cosigned (origin "mlagw.<state>/audit"). */
typedef struct mla_audit_source_note {
	const char *origin; /* witnessed heads only */
	uint64_t size;
	const char *note;
	size_t len;
} mla_audit_source_note;

/* A peer's audit certificate (DER) as kept when witnessing. */
typedef struct mla_audit_source_cert {
	const char *state;
	const uint8_t *fingerprint; /* SHA-256 of der, 32 bytes */
	const uint8_t *der;
	size_t len;
} mla_audit_source_cert;

typedef mla_err (*mla_audit_entry_fn)(const mla_audit_source_entry *row, void *arg);
typedef mla_err (*mla_audit_note_fn)(const mla_audit_source_note *row, void *arg);
typedef mla_err (*mla_audit_cert_fn)(const mla_audit_source_cert *row, void *arg);
typedef mla_err (*mla_audit_bytes_fn)(const uint8_t *p, size_t len, void *arg);

/* An earlier seal of a message sealed again (SPEC 13 Time, Re-sealing): its number from 1,
 * its envelope bytes and the negative receipt that refused them. */
typedef struct mla_audit_source_seal {
	unsigned seal;
	const uint8_t *envelope;
	size_t envelope_len;
	const uint8_t *receipt;
	size_t receipt_len;
} mla_audit_source_seal;
typedef mla_err (*mla_audit_seal_fn)(const mla_audit_source_seal *row, void *arg);

typedef struct mla_audit_source {
	void *ctx; /* the first argument of every callback */
	/* the log's State, origin and row counts */
	mla_err (*meta)(void *ctx, mla_audit_source_meta *m, mla_diag *diag);
	/* entries with from <= seq < to in seq order; a missing seq is skipped, not reported */
	mla_err (*entries)(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			   void *arg, mla_diag *diag);
	/* signed checkpoints in ascending size */
	mla_err (*checkpoints)(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag);
	/* cosigned peers' checkpoints by origin, then size */
	mla_err (*witnessed)(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag);
	/* peers' audit certificates by State, then fingerprint */
	mla_err (*peer_certs)(void *ctx, mla_audit_cert_fn fn, void *arg, mla_diag *diag);
	/* one message's envelope (as sent, else as accepted) and receipt (as received, else as
	 * issued): fn once, or MLA_ERR_NOT_FOUND */
	mla_err (*envelope)(void *ctx, const char *message_id, mla_audit_bytes_fn fn, void *arg,
			    mla_diag *diag);
	mla_err (*receipt)(void *ctx, const char *message_id, mla_audit_bytes_fn fn, void *arg,
			   mla_diag *diag);
	/* a message's earlier seals in ascending number (none: no call to fn); NULL for a
	 * source that holds none */
	mla_err (*seals)(void *ctx, const char *message_id, mla_audit_seal_fn fn, void *arg,
			 mla_diag *diag);
	/* the audit certificates the gateway used (DER), for a log whose audit key changed
	 * (SPEC 14 "Audit key changes"); NULL for a source that keeps none */
	mla_err (*audit_certs)(void *ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag);
	/* the root of the complete subtree (level, idx) of the log's tree as the source keeps it
	 * (merkle_nodes.h): the proofs are computed from it with no leaf in memory; NULL for a
	 * source that keeps no tree (export keeps the leaves, 32 bytes an entry) */
	mla_err (*node)(void *ctx, unsigned level, uint64_t idx, uint8_t out[32],
			mla_diag *diag);
	/* the signed directory document whose SHA-256 is digest (SPEC 18.6), fn once, or
	 * MLA_ERR_NOT_FOUND; NULL for a source that keeps none */
	mla_err (*directory)(void *ctx, const uint8_t digest[32], mla_audit_bytes_fn fn,
			     void *arg, mla_diag *diag);
	/* the CRLs the gateway relied on (SPEC 18.7; PEM or DER), fn once each, in any order,
	 * called with crl_ctx (the revocation cache lies beside the store, not in it:
	 * mla_audit_crl_dir); NULL for a source that keeps none. Called twice by an export. */
	mla_err (*crls)(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag);
	void *crl_ctx;
	/* the OCSP answers the gateway relied on (SPEC 18.7; DER OCSPResponse), likewise, called
	 * with crl_ctx (mla_audit_ocsp_dir); NULL for a source that keeps none */
	mla_err (*ocsps)(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag);
} mla_audit_source;

/* A source's crls callback over a gateway's revocation cache, crl_ctx its folder
 * (STORE.revocation, SPEC 18.7): every regular file named crl-* in it, in name order, each
 * at most MLA_CRL_MAX_BYTES (a larger one is skipped); at most MLA_AUDIT_CRLS_MAX files. A
 * folder that does not exist holds none. */
#define MLA_AUDIT_CRLS_MAX 256
mla_err mla_audit_crl_dir(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag);
/* The same for the OCSP answers the gateway kept: the files named ocsp-answer-* (SPEC 18.7),
 * each at most MLA_OCSP_MAX_BYTES; at most MLA_AUDIT_CRLS_MAX files. */
#define MLA_AUDIT_OCSP_PREFIX "ocsp-answer-"
mla_err mla_audit_ocsp_dir(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag);

/* What stopped an export, so that a caller can word it: diag holds the message. */
typedef enum mla_audit_export_fault {
	MLA_AUDIT_EXPORT_OK = 0,
	MLA_AUDIT_EXPORT_SOURCE,	/* the source failed: its error and message */
	MLA_AUDIT_EXPORT_NO_CHECKPOINT, /* the log has no checkpoint yet */
	MLA_AUDIT_EXPORT_CONTENT,	/* the source holds a row export cannot use (names it) */
	MLA_AUDIT_EXPORT_CERTIFICATE,	/* the audit certificate names no State (C=) */
	MLA_AUDIT_EXPORT_BUNDLE		/* the bundle cannot be built or written */
} mla_audit_export_fault;

/* The log's entries below its latest checkpoint are not all there: no proofs were written
 * (the verifier names what is missing). */
#define MLA_AUDIT_EXPORT_W_NO_PROOFS 1u
/* A directory-adopted entry names a document the source does not keep: it is not in the
 * bundle (the verifier names it, `missing`). */
#define MLA_AUDIT_EXPORT_W_NO_DIRECTORY 2u

typedef struct mla_audit_export_result {
	mla_audit_export_fault fault;
	char state[3]; /* the certificate's, as the manifest names it */
	size_t entries, checkpoints, witnessed, peer_certs, proofs, envelopes, receipts;
	uint64_t covered;  /* entries the latest checkpoint covers */
	unsigned warnings; /* MLA_AUDIT_EXPORT_W_* */
	size_t directories; /* directory documents written (format 5) */
	size_t crls;	    /* CRLs written (format 6) */
	size_t ocsps;	    /* OCSP answers written (format 6) */
} mla_audit_export_result;

/* Writes the audit bundle of src to out: the manifest, the audit certificate (cert_pem, PEM,
 * its subject's C= the State), the peers' certificates, every entry up to the latest
 * checkpoint, every checkpoint, the witnessed heads, the proofs, and the envelopes and
 * receipts of the messages filter selects (NULL: all). Entries are streamed into a temporary
 * file (TMPDIR, or for mla_audit_export_file the bundle's directory), removed at once, and
 * the bundle written from it once complete; the entries naming messages are joined with
 * their envelopes and receipts in a sort on disk (temporary files in TMPDIR, else /tmp): memory
 * does not grow with the log (SPEC 15 "Export memory"; a filtered export reads the entries
 * twice). *res is filled either
 * way; on failure res->fault says what stopped it. Needs mla_crypto_init. */
mla_err mla_audit_export(const mla_audit_source *src, const uint8_t *cert_pem, size_t cert_len,
			 const struct mla_audit_filter *filter, FILE *out,
			 mla_audit_export_result *res, mla_diag *diag);
/* The same to path, through a temporary file beside it (fsync, then rename): path holds
 * either the whole bundle or what it held before. */
mla_err mla_audit_export_file(const mla_audit_source *src, const uint8_t *cert_pem,
			      size_t cert_len, const struct mla_audit_filter *filter,
			      const char *path, mla_audit_export_result *res, mla_diag *diag);

/* ---- the trust set: the States' root certificates ---- */
typedef struct mla_audit_trust mla_audit_trust;

/* Every DIR/ *.crt as a root. MLA_ERR_NOT_FOUND when DIR cannot be read, MLA_ERR_CERT_FILE
 * when a *.crt is refused (the message: "<path>: <why>"), MLA_ERR_ARG when there is none. */
mla_err mla_audit_trust_load(const char *dir, mla_audit_trust **out, mla_diag *diag);
void mla_audit_trust_free(mla_audit_trust *t);

/* ---- verification ---- */

/* The check families, in the order they run; each counts the records it accepted and the
 * failures it recorded. */
typedef enum mla_audit_check {
	MLA_AUDIT_CHECK_BUNDLE,	     /* the container and its manifest */
	MLA_AUDIT_CHECK_CERTIFICATE, /* the audit certificate */
	MLA_AUDIT_CHECK_CHECKPOINTS, /* signed by the audit key */
	MLA_AUDIT_CHECK_ENTRIES,     /* canonical, dense, in time order */
	MLA_AUDIT_CHECK_TREE,	     /* the signed roots recomputed from the entries */
	MLA_AUDIT_CHECK_WITNESS,     /* peers' certificates, cosignatures, cosigned heads */
	MLA_AUDIT_CHECK_PROOFS,	     /* consistency and inclusion proofs */
	MLA_AUDIT_CHECK_ENVELOPES,
	MLA_AUDIT_CHECK_RECEIPTS,
	MLA_AUDIT_CHECK_DELIVERED, /* each delivered entry has the positive receipt it names */
	MLA_AUDIT_CHECK_ATTACHMENTS, /* attachment files beside the bundle (SPEC 15, 17.15) */
	MLA_AUDIT_CHECK_DIRECTORIES, /* the directory documents the log adopted (SPEC 15, 18.6) */
	MLA_AUDIT_CHECK_REVOCATION,  /* the CRLs, OCSP answers and the signers they revoke */
	MLA_AUDIT_CHECK_N
} mla_audit_check;

/* Why a record (or a bundle, or a set of bundles) was refused: one class per kind of check
 * that can fail, whatever the wording of the message. */
typedef enum mla_audit_refusal {
	MLA_AUDIT_R_NONE = 0,
	MLA_AUDIT_R_CONTAINER,	   /* the container does not parse (truncated, unknown type...) */
	MLA_AUDIT_R_MANIFEST,	   /* a manifest field is wrong or does not match the records */
	MLA_AUDIT_R_CERT_FORM,	   /* audit certificate misnamed, not PEM, not Ed25519 */
	MLA_AUDIT_R_CERT_STATE,	   /* its State is not the manifest's */
	MLA_AUDIT_R_CERT_CHAIN,	   /* it does not chain to that State's root */
	MLA_AUDIT_R_CHECKPOINT_SIG,  /* a checkpoint's signature or form is refused */
	MLA_AUDIT_R_CHECKPOINT_NAME, /* not its record name, the bundle's log, or not ascending */
	MLA_AUDIT_R_NO_CHECKPOINT,
	MLA_AUDIT_R_ENTRY_FORM,	   /* not a canonical entry */
	MLA_AUDIT_R_ENTRY_SEQ,	   /* missing, duplicated or reordered */
	MLA_AUDIT_R_ENTRY_TIME,	   /* time goes back */
	MLA_AUDIT_R_TREE_SHORT,	   /* a checkpoint covers more entries than the bundle holds */
	MLA_AUDIT_R_TREE_ROOT,	   /* a signed root is not the root of the entries */
	MLA_AUDIT_R_TREE_CONSISTENCY,
	MLA_AUDIT_R_TREE_UNCOVERED, /* entries beyond the latest checkpoint */
	MLA_AUDIT_R_PEER_CERT,	   /* a peer's audit certificate is refused */
	MLA_AUDIT_R_COSIGNATURE,   /* a signature line on a checkpoint does not verify */
	MLA_AUDIT_R_UNCERTIFIED,   /* signature lines by keys the bundle does not certify */
	MLA_AUDIT_R_WITNESSED,	   /* a peer checkpoint this gateway cosigned is refused */
	MLA_AUDIT_R_PROOF_FORM,
	MLA_AUDIT_R_PROOF_CHECKPOINT, /* a proof names checkpoints it cannot be about */
	MLA_AUDIT_R_PROOF_INVALID,    /* a proof does not verify against the signed roots */
	MLA_AUDIT_R_PROOF_MISSING,
	MLA_AUDIT_R_ORDER,	   /* envelopes or receipts duplicated or out of order */
	MLA_AUDIT_R_ENVELOPE_INVALID, /* does not verify with the trust set */
	MLA_AUDIT_R_RECEIPT_INVALID,
	MLA_AUDIT_R_MESSAGE_ID,	   /* the record holds another message than its name says */
	MLA_AUDIT_R_RECEIPT_MATCH, /* a receipt does not match its envelope */
	MLA_AUDIT_R_DIGEST,	   /* a record's SHA-256 is not the one its entries name */
	MLA_AUDIT_R_UNREFERENCED,  /* no entry names the record */
	MLA_AUDIT_R_MISSING,	   /* an entry records an envelope or receipt the bundle lacks */
	MLA_AUDIT_R_NOT_SELECTED,  /* a filtered bundle holds a message not selected */
	MLA_AUDIT_R_DELIVERED,	   /* delivered without a verified positive receipt */
	MLA_AUDIT_R_SPLIT_ROOTS,   /* split view: two roots for one log and size */
	MLA_AUDIT_R_SPLIT_LOG,	   /* split view: a head not the root of the log's entries */
	MLA_AUDIT_R_SPLIT_WITNESS, /* a cosigned head missing from the witness's bundle */
	MLA_AUDIT_R_UNVERIFIED,	   /* reconcile: a bundle does not verify */
	MLA_AUDIT_R_NO_STATE,	   /* reconcile: the manifest names no State */
	MLA_AUDIT_R_EPOCH_LINK,	   /* a log epoch's link to the previous one is refused */
	MLA_AUDIT_R_SEAL,	   /* an earlier seal is not of the message, or the seals' chain breaks */
	MLA_AUDIT_R_KEY_CHANGE,	   /* the audit keys do not follow the log's audit-key-changed entries */
	MLA_AUDIT_R_ATTACHMENT,	   /* an attachment file is not the ciphertext its signed list commits to */
	MLA_AUDIT_R_ATTACHMENT_UNLISTED, /* a file beside the bundle that no verified envelope lists */
	MLA_AUDIT_R_DIRECTORY,	   /* a directory document does not verify, differs from its entry,
				    * or its serial goes back along the log */
	MLA_AUDIT_R_CRL,	   /* a crl record is not a root's valid CRL */
	MLA_AUDIT_R_REVOKED,	   /* signed at or after its signer's revocation time */
	MLA_AUDIT_R_OCSP,	   /* an ocsp record is not a root's valid OCSP answer */
	MLA_AUDIT_R_N
} mla_audit_refusal;

/* "bundle", "certificate", ... (the words mlagw audit verify prints); NULL out of range. */
const char *mla_audit_check_name(mla_audit_check c);
/* "container", "manifest", ... ; NULL out of range. */
const char *mla_audit_refusal_name(mla_audit_refusal r);

/* One failure, naming the record it is about. */
typedef struct mla_audit_failure {
	mla_audit_check check;
	mla_audit_refusal refusal;
	mla_bundle_type record_type;	      /* MLA_BUNDLE_TYPE_N: none (the bundle) */
	char record[MLA_BUNDLE_NAME_MAX + 1]; /* entry position, checkpoint size, message id... */
	char *message; /* one line, as mlagw audit verify prints it (control bytes as '?') */
} mla_audit_failure;

/* A verified signed head of a log: the bundle's own checkpoints and the peers' checkpoints
 * it cosigned. */
typedef struct mla_audit_head {
	char origin[MLA_AUDIT_ORIGIN_MAX + 1]; /* an audit log's: verified as one, SPEC 14 */
	uint64_t size;
	uint8_t root[MLA_MERKLE_HASH_LEN];
	char what[24];					/* "checkpoint", "cosigned by ES" */
	char cosigners[2 * MLA_NOTE_VERIFIERS_MAX + 1]; /* own checkpoints: "ESFR" */
	char witness[3]; /* witnessed heads: the State that cosigned ("" for own checkpoints) */
} mla_audit_head;

/* Receives each verified head of bundle (an index into the inputs) as it is verified, its
 * own checkpoints in order, then the witnessed heads; h lives only during the call. A
 * return other than MLA_OK stops the verification, which returns it. */
typedef mla_err (*mla_audit_head_fn)(void *arg, size_t bundle, const mla_audit_head *h);

/* A directory-adopted entry of a verified bundle (SPEC 14, 18.6) and what step 12 found of
 * its document: the bundle holds it (held) and it verified and states the entry's fields
 * (verified). */
typedef struct mla_audit_dir_adopted {
	uint64_t seq, serial;
	int64_t time_ms, issued, expires; /* the entry's time (ms); the directory's (s) */
	char publisher[3];
	uint8_t sha[32];
	int held, verified;
} mla_audit_dir_adopted;

/* The directory-adopted entry in force at time at_ms (the last one whose time is not after
 * it), or NULL when none was adopted by then. */
const mla_audit_dir_adopted *mla_audit_directory_at(const mla_audit_dir_adopted *d, size_t n,
						    int64_t at_ms);

typedef struct mla_audit_bundle_result {
	char *name;			     /* the input's */
	char state[3];			     /* the manifest's; "" when it names none */
	size_t records[MLA_BUNDLE_TYPE_N];   /* per record type; 0 when the container is refused */
	size_t cosignatures;		     /* peers' valid cosignatures on its checkpoints */
	size_t ok[MLA_AUDIT_CHECK_N], failed[MLA_AUDIT_CHECK_N];
	size_t nheads; /* verified heads (mla_audit_verify_heads hands them out) */
	mla_audit_failure *failures; /* in the order found, at most MLA_AUDIT_FAILURES_LISTED */
	size_t nfailures;
	size_t unlisted; /* failures beyond those listed: counted in failed[], not described */
	int attachments_dir; /* an attachments folder was checked (mla_audit_input.attachments) */
	size_t attachments_absent; /* listed by a verified envelope, not in the folder: unchecked */
	mla_audit_dir_adopted *directories; /* the directory-adopted entries, in seq order */
	size_t ndirectories;
	size_t crls; /* crl records verified: the revocation evidence (0: signers not judged) */
	size_t ocsps; /* ocsp records verified: revocation evidence too */
} mla_audit_bundle_result;

/* The revoked certificates a verifier keeps from a bundle's CRLs, in all (32 bytes each). */
#define MLA_AUDIT_REVOKED_MAX 1000000

/* The failures of one bundle described at most (the rest counted): a bundle made to fail at
 * every one of ten million entries must not make its auditor's memory grow with it. */
#define MLA_AUDIT_FAILURES_LISTED 10000

/* A split view found across bundles: the log, the size, and the two bundles it is between
 * (indexes into the inputs; for MLA_AUDIT_R_SPLIT_WITNESS the log's and the witness's). */
typedef struct mla_audit_split {
	mla_audit_refusal kind; /* MLA_AUDIT_R_SPLIT_* */
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	size_t bundle[2];
	char *message;
} mla_audit_split;

/* The link of a log epoch from 2 to the epoch before (SPEC 14 "Log epochs", 15 "Several
 * bundles"): what its entry 0 names and, with the previous epoch's bundle among the inputs,
 * what that bundle holds of it. */
typedef struct mla_audit_link {
	size_t bundle;	  /* the epoch's bundle (index into the inputs) */
	size_t prev;	  /* the previous epoch's bundle, or SIZE_MAX when not given */
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1], prev_origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t prev_size; /* the linked head's size */
	uint64_t archived;  /* entries the previous bundle holds (its latest checkpoint) */
	uint64_t lost;	    /* prev_size - archived when the head is beyond them: in no bundle */
	int checked;	    /* the link was verified against the previous bundle */
	int failed;	    /* it was refused (message says why) */
	char *message;	    /* one line */
} mla_audit_link;

typedef struct mla_audit_result {
	mla_audit_bundle_result *bundles;
	size_t nbundles;
	mla_audit_link *links; /* one per bundle of an epoch from 2 whose entry 0 links */
	size_t nlinks;
	/* across the bundles (n > 1): heads that agree, heads beyond the exported logs */
	size_t split_compared, split_unchecked;
	mla_audit_split *splits;     /* at most MLA_AUDIT_FAILURES_LISTED described */
	size_t nsplits;
	size_t split_unlisted;	     /* split views beyond those: counted, not described */
	size_t failures; /* every bundle's and the split views': 0 when everything verifies */
} mla_audit_result;

/* One bundle's bytes, and the name its reports use (the file name). */
/* A bundle to verify: its bytes (data, len), or with data NULL the file at path, read in
 * passes in bounded memory (SPEC 15 "Verification"). */
typedef struct mla_audit_input {
	const char *name;
	const uint8_t *data;
	size_t len;
	const char *path;
} mla_audit_input;

/* The attachment files beside a bundle (SPEC 15 "Attachment files"): the folder (NULL: none)
 * whose <message id>/<n>.ct are checked against the verified envelopes' signed lists. */
typedef struct mla_audit_attach_in {
	const char *folder;
	int required; /* a listed file absent is a failure, not only counted */
} mla_audit_attach_in;

/* ---- attachment files beside a bundle (SPEC 15 "Attachment files", 17.15) ---- */

/* Checks the file at path against attachment e of message_id with no key: its size exactly
 * e->size, each segment of the length the list gives read in order through one buffer of
 * one segment (memory does not grow with the file) and hashed into the Merkle root, which
 * must be the signed one (mla_attach_checker). MLA_ERR_SIG_INVALID naming the attachment and
 * the segment (never content), MLA_ERR_IO when the file cannot be read, MLA_ERR_NOT_FOUND
 * when it does not exist. When the root fails and "<n>.tree" is beside path (path ending in
 * ".ct"), the sender's tree file whose leaves give the signed root, the message names the
 * first segment that differs. */
mla_err mla_audit_attach_check_file(const char *path, const mla_attach_entry *e,
				    const char *message_id, mla_diag *diag);

/* Where export finds the complete ciphertext of attachment index of message_id (the store's
 * layout): the path into out (cap bytes); MLA_OK, or an error. */
typedef mla_err (*mla_audit_attach_src_fn)(void *arg, const char *message_id, unsigned index,
					    char *out, size_t cap, mla_diag *diag);
/* Told of each listed attachment whose file the store does not hold (complete). */
typedef void (*mla_audit_attach_missing_fn)(void *arg, const char *message_id, unsigned index);

typedef struct mla_audit_attach_export {
	size_t envelopes; /* version 3 envelopes of the bundle (their own records, not seals) */
	size_t copied, missing;
	size_t trees;   /* the sender's tree files copied beside (<n>.tree) */
	uint64_t bytes; /* copied (the ciphertext files) */
} mla_audit_attach_export;

/* Writes beside the bundle at bundle_path, in out_dir (created, mode 0700; it must not exist),
 * <message id>/<n>.ct for each attachment listed by each version 3 envelope record of the
 * bundle (named by its message id; earlier seals are not), copied from src's path in
 * pieces of 1 MiB, fsynced, written as <n>.ct.part and renamed. A file src does not hold is
 * counted and told to on_missing, not an error. With tree (NULL: none), the sender's tree
 * file of each copied attachment, when it exists there, is copied as <n>.tree (the verifier
 * uses it to name an altered segment). The lists are read from the envelopes
 * without their signatures (mla_envelope_attach_list_unsigned): the verifier checks them. */
mla_err mla_audit_export_attachments(const char *bundle_path, const char *out_dir,
				     mla_audit_attach_src_fn src, mla_audit_attach_src_fn tree,
				     mla_audit_attach_missing_fn on_missing, void *arg,
				     mla_audit_attach_export *res, mla_diag *diag);

/* Verifies n bundles (SPEC section 15, Verification) with the roots of trust, and with
 * n > 1 the split-view check across them. MLA_OK when the checks ran, whatever they found:
 * (*out)->failures says whether everything verified. MLA_ERR_ARG for n == 0, MLA_ERR_NOMEM.
 * Needs mla_crypto_init. */
mla_err mla_audit_verify(const mla_audit_input *in, size_t n, const mla_audit_trust *trust,
			 mla_audit_result **out, mla_diag *diag);
/* The same, handing each verified head to on_head (NULL: none) as it is verified: the
 * verifier keeps no head of a single bundle (a log may have a checkpoint per entry); with
 * n > 1 the split-view check pools them, about 240 bytes a head. MLA_ERR_IO when the
 * verifier's temporary file (TMPDIR, else /tmp: about 64 bytes a checkpoint) fails;
 * on_head's error when it stopped the verification. */
mla_err mla_audit_verify_heads(const mla_audit_input *in, size_t n, const mla_audit_trust *trust,
			       mla_audit_head_fn on_head, void *arg, mla_audit_result **out,
			       mla_diag *diag);
/* mla_audit_verify, with att[i] the attachment files of bundle in[i] (att NULL: none). */
mla_err mla_audit_verify_attach(const mla_audit_input *in, const mla_audit_attach_in *att,
				size_t n, const mla_audit_trust *trust, mla_audit_result **out,
				mla_diag *diag);
void mla_audit_result_free(mla_audit_result *r);

/* ---- reconciliation of two States' bundles ---- */

/* The entries of one side that reconciliation compares, as fixed-size rows sorted on disk
 * (reconcile_side.c): opaque. */
typedef struct mla_audit_side_rows mla_audit_side_rows;

/* One bundle read for reconciliation: its State and the entries reconciliation compares. */
typedef struct mla_audit_side {
	char *name;
	mla_audit_refusal refusal;	   /* MLA_AUDIT_R_NONE: ready to reconcile */
	char state[3];
	size_t nentries; /* entry records that parse */
	/* of those, the ones reconciliation compares (sent, delivered, resealed, received,
	 * receipt-issued, naming a message): nkept rows of some 120 bytes, sorted in bounded
	 * memory (runs of MLAGW_VERIFY_SORT_MEM bytes, as the verifier's, SPEC 15 "Verifier
	 * memory"), spilled to a temporary file when they do not fit one run */
	mla_audit_side_rows *rows;
	size_t nkept;
	/* entry records that do not parse (MLA_AUDIT_R_ENTRY_FORM): the first
	 * MLA_AUDIT_FAILURES_LISTED, the others counted in skipped_unlisted */
	mla_audit_failure *skipped;
	size_t nskipped, skipped_unlisted;
	mla_audit_bundle_result *verified; /* with a trust set: the verification */
} mla_audit_side;

/* Reads in (its bytes, or its file read in passes as mla_audit_verify reads it: no whole
 * bundle in memory); with trust, first verifies it as mla_audit_verify does. MLA_OK
 * with a side ready to reconcile; otherwise *out still describes why not (refusal):
 * MLA_ERR_SCHEMA the container (diag: the parser's message), MLA_ERR_IO the file cannot be
 * read, or the verifier's or the sorted rows' temporary file (TMPDIR, else /tmp) cannot be
 * written or read (refusal MLA_AUDIT_R_CONTAINER), MLA_ERR_SIG_INVALID it does not verify
 * (see verified), MLA_ERR_HEADER the manifest names no State; MLA_ERR_NOMEM with *out
 * NULL. */
mla_err mla_audit_side_load(const mla_audit_input *in, const mla_audit_trust *trust,
			    mla_audit_side **out, mla_diag *diag);
/* The same for a bundle already open as f, read from its start (left open): e.g. standard
 * input spooled to an unlinked temporary file. */
mla_err mla_audit_side_load_file(const char *name, FILE *f, const mla_audit_trust *trust,
				 mla_audit_side **out, mla_diag *diag);
void mla_audit_side_free(mla_audit_side *s);

typedef enum mla_audit_mismatch {
	MLA_AUDIT_ONE_SIDED,	   /* an entry on one side with none on the other */
	MLA_AUDIT_ENVELOPE_DIGEST, /* the two sides name different envelopes */
	MLA_AUDIT_RECEIPT_DIGEST,  /* the sender holds a receipt the receiver did not issue */
	MLA_AUDIT_IN_FLIGHT	   /* sent, not delivered, not received: not a problem */
} mla_audit_mismatch;

#define MLA_AUDIT_NO_SEQ UINT64_MAX

/* One message's finding: its direction, id, the entries on each side and the message. */
typedef struct mla_audit_finding {
	mla_audit_mismatch kind;
	char from[3], to[3];
	char message_id[MLA_UUID_LEN + 1];
	uint64_t from_seq, to_seq; /* MLA_AUDIT_NO_SEQ: that side has no such entry */
	char *message;
} mla_audit_finding;

typedef struct mla_audit_direction {
	char from[3], to[3];
	size_t matched, in_flight, problems;
} mla_audit_direction;

typedef struct mla_audit_reconciliation {
	mla_audit_direction directions[2]; /* a -> b, b -> a */
	/* each list in the order found (direction a -> b then b -> a, by message id), at most
	 * MLA_AUDIT_FAILURES_LISTED described; the others counted in *_unlisted */
	mla_audit_finding *problems;
	size_t nproblems, problems_unlisted;
	mla_audit_finding *in_flight;
	size_t nin_flight, in_flight_unlisted;
	size_t exchanges;	 /* messages matched in both directions */
	size_t problem_messages; /* messages with problems: 0 when reconciled */
} mla_audit_reconciliation;

/* "one-sided", "envelope-digest", "receipt-digest", "in-flight"; NULL out of range. */
const char *mla_audit_mismatch_name(mla_audit_mismatch k);
/* Compares two ready sides exchange by exchange (SPEC section 15, Reconciliation), as a merge
 * of their sorted rows: memory does not grow with the entries. MLA_ERR_ARG when a side is not
 * ready or both are one State's (the message says so), MLA_ERR_IO when a side's temporary
 * file cannot be read, MLA_ERR_NOMEM. Each side is read once per direction (one call at a
 * time per side). */
mla_err mla_audit_reconcile(const mla_audit_side *a, const mla_audit_side *b,
			    mla_audit_reconciliation **out, mla_diag *diag);
void mla_audit_reconciliation_free(mla_audit_reconciliation *r);

#endif
