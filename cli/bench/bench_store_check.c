/* The store integrity figures of `mlagw bench audit` (bench_store_check.h), measured on the
 * bench's own N-entry store with the functions the daemon and the CLI run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "bench_gateway.h"
#include "bench_store_check.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/merkle_nodes.h"
#include "mlagw/pem.h"
#include "store/store_check.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* As gateway/tlog/checkpoint.c's check_entry: leaf hash, canonical parse, seq. */
static int entry_ok(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len)
{
	mla_audit_entry e;
	uint8_t want[32];

	return entry != NULL && mla_merkle_leaf_hash(entry, len, want) == MLA_OK &&
	       memcmp(want, leaf, sizeof(want)) == 0 &&
	       mla_audit_entry_parse(entry, len, &e, NULL) == MLA_OK && e.seq == seq;
}

/* Before schema 7: the tree of every hash in memory, built from the same scan. */
static mla_err rehash_tree(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			   void *arg)
{
	return entry_ok(seq, leaf, entry, len) ? mla_merkle_tree_append(arg, leaf)
					       : MLA_ERR_STORE;
}

static mla_err rehash_only(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			   void *arg)
{
	(void)arg;
	return entry_ok(seq, leaf, entry, len) ? MLA_OK : MLA_ERR_STORE;
}

static mla_err node(unsigned level, uint64_t idx, uint8_t out[32], void *arg)
{
	return store_tree_node(arg, level, idx, out, NULL);
}

/* The daemon's start on db: open, every entry and tree hash checked against the leaves in one
 * scan (store_tree_check), the right edge and the root read from the persisted hashes
 * (tree.c); before (the tree in memory, as until schema 6) when old is set. */
static mla_err start_path(const char *db, int old, mla_diag *d)
{
	mla_merkle_compact scanned, edge;
	mla_merkle_tree *t = NULL;
	uint8_t a[32], b[32];
	gw_store *s = NULL;
	mla_err r;

	if ((r = store_open(db, &s, d)) != MLA_OK)
		return r;
	if (old) {
		if ((r = mla_merkle_tree_new(UINT64_C(1) << 40, &t)) == MLA_OK)
			r = store_audit_entries(s, 0, rehash_tree, t, d);
		mla_merkle_tree_free(t);
	} else if ((r = store_tree_check(s, rehash_only, NULL, &scanned, d)) == MLA_OK &&
		   (r = mla_merkle_nodes_compact(node, s, scanned.size, &edge)) == MLA_OK &&
		   (r = mla_merkle_compact_root(&scanned, a)) == MLA_OK &&
		   (r = mla_merkle_nodes_root(node, s, scanned.size, b)) == MLA_OK &&
		   memcmp(a, b, sizeof(a)) != 0) {
		r = mla_fail(d, MLA_ERR_STORE, "the persisted hashes give another root");
	}
	store_close(s);
	return r;
}

/* start_path in a child process: its time and memory (VmRSS before it, VmHWM after). */
static mla_err start_measured(const char *db, int old, struct bench_start *out, mla_diag *d)
{
	struct bench_start m = {0};
	int fd[2], st = 0;
	pid_t pid;

	fflush(NULL);
	if (pipe(fd) != 0 || (pid = fork()) < 0)
		return mla_fail(d, MLA_ERR_INTERNAL, "fork failed");
	if (pid == 0) {
		double t0;
		close(fd[0]);
		/* the peak from here on, not the bench's before the fork ("5": reset VmHWM) */
		FILE *cr = fopen("/proc/self/clear_refs", "w");
		if (cr != NULL) {
			(void)fputs("5", cr);
			(void)fclose(cr);
		}
		m.base_kib = bgw_proc_kib(getpid(), "VmRSS:");
		t0 = now_s();
		if (start_path(db, old, NULL) != MLA_OK)
			_exit(1);
		m.s = now_s() - t0;
		m.hwm_kib = bgw_proc_kib(getpid(), "VmHWM:");
		_exit(write(fd[1], &m, sizeof(m)) == (ssize_t)sizeof(m) ? 0 : 1);
	}
	close(fd[1]);
	ssize_t n = read(fd[0], out, sizeof(*out));
	close(fd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
	    n != (ssize_t)sizeof(*out))
		return mla_fail(d, MLA_ERR_STORE, "the start path failed on %s", db);
	return MLA_OK;
}

static mla_err start_rehash(const char *db, struct bench_store_check *out, mla_diag *d)
{
	mla_err r = start_measured(db, 1, &out->before, d);

	return r == MLA_OK ? start_measured(db, 0, &out->now, d) : r;
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
