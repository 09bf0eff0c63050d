/* The store integrity figures of `mlagw bench audit` (bench_store_check.h), measured on the
 * bench's own N-entry store with the functions the daemon and the CLI run. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "bench_store_check.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/pem.h"
#include "store/store_check.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* As gateway/tlog/checkpoint.c's start: leaf hash, canonical parse, seq, tree append. */
static mla_err rehash(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
		      void *arg)
{
	mla_audit_entry e;
	uint8_t want[32];

	if (entry == NULL || mla_merkle_leaf_hash(entry, len, want) != MLA_OK ||
	    memcmp(want, leaf, sizeof(want)) != 0 ||
	    mla_audit_entry_parse(entry, len, &e, NULL) != MLA_OK || e.seq != seq)
		return MLA_ERR_STORE;
	return mla_merkle_tree_append(arg, leaf);
}

static mla_err leaf_only(uint64_t seq, const uint8_t leaf[32], void *arg)
{
	(void)seq;
	return mla_merkle_tree_append(arg, leaf);
}

static mla_err start_rehash(const char *db, struct bench_store_check *out, mla_diag *d)
{
	mla_merkle_tree *t = NULL;
	gw_store *s = NULL;
	double t0;
	mla_err r;

	if ((r = mla_merkle_tree_new(UINT64_C(1) << 40, &t)) != MLA_OK)
		return mla_fail(d, r, "cannot allocate the tree");
	if ((r = store_open(db, &s, d)) == MLA_OK) {
		t0 = now_s();
		r = store_audit_leaves(s, 0, leaf_only, t, d);
		out->start_leaves_s = now_s() - t0;
	}
	mla_merkle_tree_free(t);
	t = NULL;
	if (r == MLA_OK && (r = mla_merkle_tree_new(UINT64_C(1) << 40, &t)) == MLA_OK) {
		t0 = now_s();
		r = store_audit_entries(s, 0, rehash, t, d);
		out->start_rehash_s = now_s() - t0;
	}
	store_close(s);
	mla_merkle_tree_free(t);
	return r;
}

static mla_err check(const char *db, const struct store_keyring *k, unsigned what,
		     struct store_check_result *res, mla_diag *d)
{
	store_reader *r = NULL;
	mla_err e;

	if ((e = store_reader_open(db, &r, d)) == MLA_OK)
		e = store_check_run(r, what, k, NULL, res, d);
	store_reader_close(r);
	return e;
}

mla_err bench_store_check(const char *db, const char *crt, const char *origin, const char *backup,
			  struct bench_store_check *out, mla_diag *d)
{
	struct store_keyring k = {0};
	struct store_check_result res;
	mla_note_verifier v;
	X509 *x = NULL;
	struct stat st;
	double t0;
	mla_err r;
	char tmp[4200];

	memset(out, 0, sizeof(*out));
	if ((r = mla_pem_load_cert(crt, &x, d)) != MLA_OK ||
	    (r = mla_note_verifier_from_key(origin, X509_get0_pubkey(x), &v, d)) != MLA_OK ||
	    (r = store_keyring_add(&k, &v, 0)) != MLA_OK || (r = start_rehash(db, out, d)) != MLA_OK)
		goto out;
	if (stat(db, &st) == 0)
		out->db_bytes = (uint64_t)st.st_size;
	t0 = now_s();
	if ((r = check(db, &k, STORE_CHECK_QUICK | STORE_CHECK_LOG, &res, d)) != MLA_OK)
		goto out;
	out->check_s = now_s() - t0;
	out->quick_s = res.quick_s;
	out->log_s = res.log_s;
	out->ok = res.failed == 0;
	if ((r = mla_snprintf(tmp, sizeof(tmp), "%s.tmp", backup)) != MLA_OK)
		goto out;
	t0 = now_s();
	if ((r = store_backup_copy(db, tmp, &out->backup_bytes, d)) != MLA_OK)
		goto out;
	out->backup_copy_s = now_s() - t0;
	t0 = now_s();
	if ((r = check(tmp, &k, STORE_CHECK_QUICK | STORE_CHECK_LOG, &res, d)) == MLA_OK &&
	    (r = store_backup_place(tmp, backup, d)) == MLA_OK)
		out->backup_check_s = now_s() - t0;
	out->ok = out->ok && res.failed == 0;
out:
	store_keyring_free(&k);
	X509_free(x);
	return r;
}
