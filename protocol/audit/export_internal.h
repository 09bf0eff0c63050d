/* The state of one export (mla_audit_export, include/mlagw/audit.h) shared by export.c (the
 * records read from the source) and export_proofs.c (the proofs and the messages' records):
 * internal to protocol/audit. */
#ifndef MLAGW_AUDIT_EXPORT_INTERNAL_H
#define MLAGW_AUDIT_EXPORT_INTERNAL_H

#include <stddef.h>

#include <jansson.h>

#include "mlagw/audit.h"
#include "mlagw/merkle.h"
#include "verify_xsort.h"

/* One entry that names a message, a row of the sort on disk (export_sort.c): sorted by id,
 * then seq (big-endian), so that a message's rows are consecutive and in log order. */
struct export_mrow {
	char id[MLA_UUID_LEN + 1]; /* NUL-padded */
	uint8_t seq[8];
	uint8_t flags; /* EXPORT_MROW_* */
	uint8_t sha[32]; /* the receipt's it names (EXPORT_MROW_RECEIPT) */
};
#define EXPORT_MROW_KEY offsetof(struct export_mrow, flags)
#define EXPORT_MROW_SELECTED 1u	 /* the filter selects the entry (or there is none) */
#define EXPORT_MROW_RECEIPT 2u	 /* it names a receipt, sha */
#define EXPORT_MROW_KEY_CHANGE 4u /* audit-key-changed: names no receipt of an unfiltered bundle */

/* One message's rows of the sort: [first, end). */
struct export_group {
	uint64_t first, end;
	char id[MLA_UUID_LEN + 1];
	int selected; /* an entry of it is */
};

struct export_ctx {
	const mla_audit_source *src;
	const struct mla_audit_filter *filter; /* NULL: every message */
	int filtered;			       /* a case or a time was given */
	mla_audit_export_result *res;
	mla_diag *diag;
	mla_err err;			/* what a row callback stopped with */
	/* the records from the entries to the receipts, in a temporary file (a bundle of ten
	 * million entries is gigabytes); the checkpoints and peers' certificates in memory */
	FILE *body;
	uint64_t body_bytes, body_records;
	mla_buf peer_certs;
	size_t sizes_chars;		/* checkpoint_sizes' text so far (formats 2 and 3) */
	size_t notes_written;		/* the second read of the checkpoints */
	json_t *sizes;			/* the checkpoints' sizes while a manifest holds them */
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1]; /* the log's, from its latest checkpoint */
	struct xsort msgs;		/* the entries naming messages (export_sort.c) */
	struct xsort sel;		/* filtered: the ids of the entries it selects */
	struct xsort incl;		/* filtered: the seqs of the selected messages' entries */
	int have_msgs, have_sel, have_incl;
	/* of the entries exported, for the proofs of a source that keeps no tree (src->node) */
	uint8_t (*leaves)[MLA_MERKLE_HASH_LEN];
	int leaf_missing;		/* an entry came without its leaf: no proof is written */
	uint64_t last_size; /* the latest checkpoint's */
	struct export_sealed {
		char id[MLA_UUID_LEN + 1];
		unsigned n; /* resealed entries exported: seals 1..n go into the bundle */
	} *sealed; /* messages sealed again, sorted by export_messages */
	size_t nsealed, capsealed;
	int sealed_sorted;
	size_t seal_records; /* written: format 3 when non-zero */
	uint8_t (*key_changes)[32]; /* the certificates audit-key-changed entries name, in order */
	size_t nkey_changes, capkey_changes;
	mla_buf first_note; /* the first checkpoint: its signer's certificate is `audit` */
	uint8_t (*dirs)[32]; /* the documents directory-adopted entries name (export_dir.c) */
	size_t ndirs, capdirs;
};

/* Records why the export stops (fault, err, the message) and returns err. */
mla_err export_fail(struct export_ctx *x, mla_audit_export_fault f, mla_err err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Appends one record to b; a refusal stops the export (MLA_AUDIT_EXPORT_BUNDLE). */
mla_err export_add(struct export_ctx *x, mla_buf *b, mla_bundle_type t, const char *name,
		   const void *p, size_t n);
/* The same to the body file. */
mla_err export_put(struct export_ctx *x, mla_bundle_type t, const char *name, const void *p,
		   size_t n);
/* The status of a source call: MLA_OK, a row callback's error, else the source's own
 * (MLA_AUDIT_EXPORT_SOURCE, its message from d). */
mla_err export_source_done(struct export_ctx *x, mla_err e, const mla_diag *d);
/* export_sort.c: the sort of the entries naming messages, in audit_sort_mem bytes. */
mla_err export_sort_open(struct export_ctx *x);
/* Entry e (naming a message), the source's row seq, at the first read (first) or a filtered
 * export's second: a row of the sort, or at a filtered export's first read, its id when the
 * filter selects it. */
mla_err export_sort_entry(struct export_ctx *x, const mla_audit_entry *e, uint64_t seq,
			  int first);
/* Sorts the rows: in a filtered export, after a second read of the entries for the rows of
 * the messages it selects; then the seqs of their entries (their inclusion proofs: x->incl,
 * read with export_named_seq). */
mla_err export_second_read(struct export_ctx *x);
/* The message whose rows begin at row at (below x->msgs.total), after export_second_read. */
mla_err export_group(struct export_ctx *x, uint64_t at, struct export_group *g);
/* Whether an exported entry of g names the receipt p (n bytes), into *named. */
mla_err export_receipt_named(struct export_ctx *x, const struct export_group *g,
			     const uint8_t *p, size_t n, int *named);
/* The i-th seq of x->incl (i below x->incl.total). */
mla_err export_named_seq(struct export_ctx *x, uint64_t i, uint64_t *seq);
void export_sort_free(struct export_ctx *x);
/* Appends the proofs, the envelopes and the receipts to the body, the messages in id order:
 * a stored receipt only when an exported entry names it (its delivered entry may lie beyond
 * the latest checkpoint). */
mla_err export_messages(struct export_ctx *x);
/* export_seals.c: a selected entry `resealed` counts one more seal of its message. */
mla_err export_remember_seal(struct export_ctx *x, const char *id);
/* The earlier seals of message id (its envelope or its receipt records, by t), named
 * "<id>.<n>", after that message's own record. */
mla_err export_seal_records(struct export_ctx *x, const char *id, mla_bundle_type t);
/* export_keys.c: an exported audit-key-changed entry, in seq order. */
mla_err export_remember_key_change(struct export_ctx *x, const mla_audit_entry *e);
/* The audit certificate records into head: `audit` (pem, or when the key changed, the kept
 * certificate of the first checkpoint's key), then `audit.<n>` for each change. */
mla_err export_audit_certs(struct export_ctx *x, const uint8_t *pem, size_t len, mla_buf *head);

/* export_dir.c: an exported directory-adopted entry's document; after the receipts, each
 * document named (once, ascending) as a `directory` record (format 5). */
mla_err export_remember_directory(struct export_ctx *x, const mla_audit_entry *e);
mla_err export_directories(struct export_ctx *x);
/* export_crl.c: the source's CRLs, each once as DER, as `crl <hex SHA-256>` records in
 * ascending name after the directory documents, then its OCSP answers likewise as `ocsp`
 * records (format 6). */
mla_err export_crls(struct export_ctx *x);

#endif
