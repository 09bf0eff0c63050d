/* The store checked read-only (store_check.c, store_keys.c): SQLite's quick_check, every audit
 * entry re-hashed against its leaf, and the latest checkpoint verified under an audit key this
 * gateway has held with its root compared with the entries. `mlagw store check`, `mlagw store
 * backup` (on its copy) and the daemon's scheduled check run it on a store_reader, so on a
 * snapshot of a store a gateway may be writing; the daemon's start uses the key ring. */
#ifndef MLAGW_GATEWAY_STORE_CHECK_H
#define MLAGW_GATEWAY_STORE_CHECK_H

#include "mlagw/checkpoint.h"
#include "mlagw/envelope.h"
#include "store.h"
#include "store_reader.h"

/* Audit keys (Ed25519 note verifiers under the log's origin), each with the size of the first
 * checkpoint it signed. Zero-initialise; store_keyring_free frees. */
struct store_keyring {
	mla_note_verifier *v;
	uint64_t *first;
	size_t n, cap;
};
void store_keyring_free(struct store_keyring *k);
/* Adds v (once: a key already there is kept); MLA_ERR_NOMEM. */
mla_err store_keyring_add(struct store_keyring *k, const mla_note_verifier *v, uint64_t first);
/* Adds the keys the store records (meta "audit_key.<SHA-256 of the key, hex>" = "<first
 * size> <vkey>"); a damaged row is MLA_ERR_STORE. */
mla_err store_keyring_load(gw_store *s, struct store_keyring *k, mla_diag *diag);
mla_err store_reader_keyring(store_reader *r, struct store_keyring *k, mla_diag *diag);
/* Opens the checkpoint note under the keys: MLA_OK with *cp and *which (the index of the key
 * that signed it); otherwise the error of the last attempt (MLA_ERR_CERT_UNTRUSTED when no
 * key is there or none signed, MLA_ERR_SIG_INVALID, MLA_ERR_SCHEMA) and a message. */
mla_err store_keyring_open(const struct store_keyring *k, const char *note, size_t len,
			   mla_checkpoint *cp, size_t *which, mla_diag *diag);
/* Records vkey (mla_note_vkey_format of an Ed25519 verifier) as held since the checkpoint of
 * size first; a key already recorded keeps its first size. In the open group if any. */
mla_err store_audit_key_add(gw_store *s, const char *vkey, uint64_t first, mla_diag *diag);

/* The audit certificates this gateway used (SPEC 14 "Audit key changes"): each kept once by
 * the SHA-256 of its DER (meta "audit_cert.<hex>"), in the open group if any. */
mla_err store_audit_cert_put(gw_store *s, const uint8_t *der, size_t len, mla_diag *diag);
typedef mla_err (*store_cert_fn)(const uint8_t *der, size_t len, void *arg);
/* Each kept certificate's DER, in the order of their digests; a damaged row is MLA_ERR_STORE. */
mla_err store_reader_audit_certs(store_reader *r, store_cert_fn fn, void *arg, mla_diag *diag);

#define STORE_CHECK_QUICK 1u /* SQLite's quick_check (cost: the store's bytes) */
#define STORE_CHECK_LOG 2u   /* entries against leaves, the latest checkpoint (cost: the log) */
#define STORE_CHECK_CASES 4u /* each case's steps a legal path to its state (schema 8) */
#define STORE_CHECK_DIRS 8u  /* the adopted directories re-hashed (schema 14) */

struct store_check_result {
	unsigned failed;	 /* the STORE_CHECK_* that failed (res->log names which part) */
	unsigned cp_failed;	 /* the checkpoint part of STORE_CHECK_LOG failed */
	char quick[160];	 /* quick_check's report on one line ("ok") */
	uint64_t entries;	 /* entries read */
	uint64_t bad_entries;	 /* not matching their leaf, or missing */
	uint64_t first_bad;	 /* the first of them */
	char log[MLA_DIAG_MAX];	 /* what stopped reading the log, or "" */
	uint64_t checkpoint;	 /* the latest checkpoint's size; 0: none */
	char cp[MLA_DIAG_MAX];	 /* why it failed, or "" */
	char vkey[MLA_NOTE_VKEY_MAX]; /* the key it verified under */
	uint64_t key_first;	 /* that key's first checkpoint */
	size_t keys;		 /* keys tried */
	double quick_s, log_s;	 /* seconds each part took */
	uint64_t cases;		 /* cases read (STORE_CHECK_CASES) */
	uint64_t bad_cases;	 /* cases whose steps do not lead to their state */
	char case_bad[MLA_DIAG_MAX]; /* the first of them and why, or "" */
	uint64_t dirs;		 /* directory documents read (STORE_CHECK_DIRS) */
	uint64_t bad_dirs;	 /* not matching their key, or not verifying */
	uint64_t dirs_verified;	 /* whose signatures verified (with roots and publisher) */
	int dirs_signatures;	 /* signatures were checked (roots and publisher given) */
	char dir_bad[MLA_DIAG_MAX]; /* the first bad one and why, or "" */
};

/* Runs the parts in what on r's snapshot, the store's recorded keys plus extra (may be
 * NULL) for the checkpoint. MLA_OK when the checks ran (res->failed says what failed);
 * otherwise they could not (out of memory, or *stop set: MLA_ERR_INTERNAL). */
mla_err store_check_run(store_reader *r, unsigned what, const struct store_keyring *extra,
			const volatile int *stop, struct store_check_result *res, mla_diag *diag);
/* STORE_CHECK_CASES alone (store_check_cases.c; nothing before schema 8). */
mla_err store_check_cases(store_reader *r, struct store_check_result *res, mla_diag *diag);
/* STORE_CHECK_DIRS alone (store_check_dirs.c; nothing before schema 14): each adopted
 * directory's bytes against its SHA-256 key; with trust and publisher (both non-NULL) also
 * its signatures (SPEC 18.3, judged at the time it was stored, expiry not judged) and
 * serial. MLA_OK when it ran (res->failed says whether it failed). */
mla_err store_check_dirs(store_reader *r, const mla_trust *trust, const char *publisher,
			 struct store_check_result *res, mla_diag *diag);
/* Makes a query running on r return at once (from any thread). */
void store_reader_interrupt(store_reader *r);

/* mlagw store backup (store_backup.c): copies the store at src, as one snapshot read through
 * a read-only connection (SQLite's online backup, safe against a running gateway), into the
 * new file tmp (created mode 0600; MLA_ERR_EXISTS if it exists) as a single file (rollback
 * journal mode, no -wal beside it), synced. *bytes: its size. */
mla_err store_backup_copy(const char *src, const char *tmp, uint64_t *bytes, mla_diag *diag);
/* Gives tmp the name out, never over an existing file (MLA_ERR_EXISTS), and syncs the
 * directory; tmp is gone afterwards either way only on success. */
mla_err store_backup_place(const char *tmp, const char *out, mla_diag *diag);

#endif
