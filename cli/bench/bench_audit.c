/* mlagw bench audit: the audit log's figures on this machine, measured in one run in a temp
 * dir: appends/s to a real store (SQLite, WAL, synchronous=FULL) in group commits and one by
 * one, inclusion-proof generation and verification at N entries, and the time `mlagw audit
 * verify` takes on a bundle of N entries (the log alone: every entry and checkpoint, no
 * envelope) written by `mlagw audit export` (both called as they
 * are, the verifier in a child process pinned to one core), beside the SHA-256 rate of the
 * machine. It prints figures and the issue's targets; it never passes or fails on them. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "store/store.h"
#include "store/store_reader.h"
#include "../audit_bundle.h"
#include "bench_bound.h"
#include "bench_store_check.h"
#include "../cli_util.h"
#include "../commands.h"
#include "mlagw/audit_entry.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"

#define CMD "bench audit"
#define STATE "ES"
#define ORIGIN "mlagw.es/audit"
#define GROUP 1000
#define PROOFS 10000


struct ba_args {
	uint64_t entries;
	double seconds;
	int json;
	uint64_t checkpoint_every; /* 0: one checkpoint, of all the entries */
};

struct ba_res {
	double sha_small, sha_bulk;	 /* s per 400-byte hash, per 1 MiB hash */
	size_t entry_len_min, entry_len_max;
	double append_group, append_single; /* s */
	uint64_t single_n;
	double proof_mean, proof_max, pverify_mean, pverify_max;
	size_t proof_len_max;
	double export_s, verify_wall, verify_cpu;
	long export_rss_kib, verify_rss_kib; /* peak RSS of each child */
	size_t bundle_bytes;
	unsigned bundle_format;
	int verify_rc;
	char verify_last[128];
	struct bench_store_check sc; /* start-up re-hash, quick_check, store check, backup */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* A realistic entry for seq: a message's life (submitted, sent, receipt-issued, received)
 * with its ids, case, States, actor and digests; times ascending from t0_ms. */
static void make_entry(uint64_t seq, int64_t t0_ms, mla_audit_entry *e)
{
	static const mla_audit_event evs[4] = {MLA_AUDIT_SUBMITTED, MLA_AUDIT_SENT,
					       MLA_AUDIT_RECEIPT_ISSUED, MLA_AUDIT_RECEIVED};
	uint64_t msg = seq / 4, h = msg * UINT64_C(0x9E3779B97F4A7C15) + 1;

	mla_audit_entry_init(e);
	e->seq = seq;
	e->time_ms = t0_ms + (int64_t)(seq / 16);
	e->event = evs[seq % 4];
	/* made-up values sized for the fields: not fitting would be a bug here */
	if (mla_snprintf(e->message_id, sizeof(e->message_id), "%08x-%04x-4%03x-8%03x-%012llx",
			 (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffffu, (unsigned)h & 0xfffu,
			 (unsigned)(h >> 20) & 0xfffu,
			 (unsigned long long)(msg & 0xffffffffffffULL)) != MLA_OK ||
	    mla_snprintf(e->case_id, sizeof(e->case_id), "CO-FGN/2026.%07llu",
			 (unsigned long long)(msg / 3)) != MLA_OK ||
	    mla_strcpy(e->kind, sizeof(e->kind), "mla") != MLA_OK ||
	    mla_strcpy(e->action, sizeof(e->action), "request") != MLA_OK ||
	    mla_strcpy(e->from, sizeof(e->from), "ES") != MLA_OK ||
	    mla_strcpy(e->to, sizeof(e->to), "CO") != MLA_OK ||
	    mla_strcpy(e->actor, sizeof(e->actor),
		       e->event == MLA_AUDIT_SUBMITTED ? "authority:fiscalia-madrid"
		       : e->event == MLA_AUDIT_RECEIVED ? "CO"
							: "gateway") != MLA_OK)
		abort();
	e->has_envelope_sha256 = 1;
	for (int i = 0; i < 32; i++)
		e->envelope_sha256[i] = (uint8_t)(h >> (i % 8 * 8)) ^ (uint8_t)i;
	if (e->event == MLA_AUDIT_RECEIPT_ISSUED) {
		e->has_receipt_sha256 = 1;
		for (int i = 0; i < 32; i++)
			e->receipt_sha256[i] = (uint8_t)(e->envelope_sha256[i] * 31u + 7u);
	}
}

static int parse(int argc, char **argv, struct ba_args *a)
{
	static const struct option opts[] = {
		{"entries", 1, NULL, 'n'}, {"seconds", 1, NULL, 's'}, {"json", 0, NULL, 'j'},
		{"checkpoint-every", 1, NULL, 'c'},
		{"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	static const char usage[] =
		"usage: mlagw bench audit [--entries N] [--seconds S] [--checkpoint-every K] [--json]\n"
		"In a temp dir: the SHA-256 rate; appends/s of N audit entries (serialized, leaf\n"
		"hashed, added to the tree) to a real store (WAL, synchronous=FULL) in group commits\n"
		"of 1000, and for S seconds with one commit per entry; inclusion proofs at N entries\n"
		"(mean and max of 10000 random indices) and their verification; the store's checks\n"
		"(the daemon's start path: time and RSS); and the time and peak RSS of `mlagw audit\n"
		"export` and of `mlagw audit verify` (one core) on a bundle of the N entries and a\n"
		"signed checkpoint. Prints figures beside the targets; never fails on them.\n"
		"--checkpoint-every K signs a checkpoint every K entries (a quiet log has about one per\n"
		"entry), so the bundle holds N/K checkpoints and their consistency proofs.\n"
		"N defaults to 1000000 (at most 20000000; 10000000 takes about 15 minutes and 12 GB\n"
		"of disk: scripts/bench-audit-10m.sh), S to 2. MLAGW_BENCH_KEEP=1 keeps the temp dir.\n";
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			return -1;
		} else if (c == 'n') {
			uint64_t v;
			if (mla_parse_u64(optarg, 1, 20000000, &v) != MLA_OK)
				return cli_usage_error(CMD, "--entries: 1 to 20000000");
			a->entries = v;
		} else if (c == 's') {
			a->seconds = strtod(optarg, &end);
			if (*end != '\0' || !(a->seconds > 0.0 && a->seconds <= 600.0))
				return cli_usage_error(CMD, "--seconds: a number in (0, 600]");
		} else if (c == 'j') {
			a->json = 1;
		} else if (c == 'c') {
			if (mla_parse_u64(optarg, 1, UINT64_MAX, &a->checkpoint_every) != MLA_OK)
				return cli_usage_error(CMD, "--checkpoint-every: a whole number from 1");
		} else {
			return cli_usage_error(CMD, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(CMD, "unexpected argument: %s", argv[optind]);
	return CLI_OK;
}

/* Appends entries [from, to) to s, in groups of group (0: no explicit transaction), and
 * their leaves to t when t is not NULL; stops early after max_s seconds when max_s > 0.
 * *done is how many were appended. */
static mla_err append_run(gw_store *s, mla_merkle_tree *t, uint64_t from, uint64_t to,
			  unsigned group, double max_s, int64_t t0_ms, struct ba_res *res,
			  uint64_t *done, mla_diag *d)
{
	mla_audit_entry e;
	mla_buf b;
	uint8_t leaf[32];
	double start = now_s();
	mla_err r = MLA_OK;
	uint64_t i;

	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	for (i = from; i < to && r == MLA_OK; i++) {
		if (group > 0 && (i - from) % group == 0 && (r = store_begin(s, d)) != MLA_OK)
			break;
		make_entry(i, t0_ms, &e);
		b.len = 0;
		if ((r = mla_audit_entry_serialize(&e, &b, d)) != MLA_OK ||
		    (r = mla_merkle_leaf_hash(b.data, b.len, leaf)) != MLA_OK ||
		    (r = store_audit_append(s, i, b.data, b.len, leaf, d)) != MLA_OK ||
		    (t != NULL && (r = mla_merkle_tree_append(t, leaf)) != MLA_OK))
			break;
		if (res->entry_len_min == 0 || b.len < res->entry_len_min)
			res->entry_len_min = b.len;
		if (b.len > res->entry_len_max)
			res->entry_len_max = b.len;
		if (group > 0 && ((i - from + 1) % group == 0 || i + 1 == to) &&
		    (r = store_commit(s, d)) != MLA_OK)
			break;
		if (max_s > 0 && (i & 15) == 15 && now_s() - start >= max_s) {
			i++;
			break;
		}
	}
	if (r != MLA_OK && group > 0)
		(void)store_rollback(s);
	*done = i - from;
	mla_buf_free(&b);
	return r;
}

static mla_err bench_proofs(const mla_merkle_tree *t, struct ba_res *res)
{
	uint64_t n = mla_merkle_tree_size(t), seed = UINT64_C(0x2545F4914F6CDD1D);
	uint8_t root[32], leaf[32];
	double sum_p = 0, sum_v = 0;
	mla_merkle_proof p;
	mla_err r;

	if ((r = mla_merkle_tree_root(t, n, root)) != MLA_OK)
		return r;
	for (int k = 0; k < PROOFS; k++) {
		uint64_t idx = rng_next(&seed) % n;
		double t0, t1, t2;

		if ((r = mla_merkle_tree_leaf(t, idx, leaf)) != MLA_OK)
			return r;
		t0 = now_s();
		r = mla_merkle_tree_inclusion_proof(t, idx, n, &p);
		t1 = now_s();
		if (r == MLA_OK)
			r = mla_merkle_inclusion_verify(idx, n, leaf, &p, root);
		t2 = now_s();
		if (r != MLA_OK)
			return r;
		sum_p += t1 - t0;
		sum_v += t2 - t1;
		if (t1 - t0 > res->proof_max)
			res->proof_max = t1 - t0;
		if (t2 - t1 > res->pverify_max)
			res->pverify_max = t2 - t1;
		if (p.len > res->proof_len_max)
			res->proof_len_max = p.len;
	}
	res->proof_mean = sum_p / PROOFS;
	res->pverify_mean = sum_v / PROOFS;
	return MLA_OK;
}

/* Signs the checkpoints of the tree with the audit key and stores them: one every `every`
 * entries (0: none but) and the one of the whole tree, in one transaction. */
static mla_err put_checkpoints(gw_store *s, const mla_merkle_tree *t, uint64_t every,
			       const char *key_path, mla_diag *d)
{
	uint64_t n = mla_merkle_tree_size(t);
	mla_checkpoint cp;
	mla_privkey *key = NULL;
	mla_err r;

	memset(&cp, 0, sizeof(cp));
	if ((r = mla_strcpy(cp.origin, sizeof(cp.origin), ORIGIN)) != MLA_OK ||
	    (r = mla_privkey_load(key_path, &key, d)) != MLA_OK || (r = store_begin(s, d)) != MLA_OK) {
		mla_privkey_free(key);
		return r;
	}
	for (uint64_t size = every > 0 && every < n ? every : n; r == MLA_OK && size <= n;
	     size = size == n ? n + 1 : size + every > n ? n : size + every) {
		char *note = NULL;
		size_t len = 0;

		cp.size = size;
		if ((r = mla_merkle_tree_root(t, cp.size, cp.root)) == MLA_OK &&
		    (r = mla_checkpoint_sign(&cp, ORIGIN, key, &note, &len, d)) == MLA_OK)
			r = store_checkpoint_put(s, cp.size, note, len, wall_ms(), d);
		free(note);
	}
	r = r == MLA_OK ? store_commit(s, d) : (store_rollback(s), r);
	mla_privkey_free(key);
	return r;
}

/* One mlagw command run in a child as the user would (fn with argv), stdout or stderr (which)
 * going to out_path, pinned to CPU 0 when pin: its exit status, wall time, CPU time and peak
 * RSS. */
struct child_run {
	double wall, cpu;
	long rss_kib;
	int rc;
};

static mla_err run_child(int (*fn)(int, char **), int argc, char **argv, FILE *which,
			 const char *out_path, int pin, struct child_run *out, mla_diag *d)
{
	struct rusage ru;
	double t0 = now_s();
	int st = 0;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return mla_fail(d, MLA_ERR_INTERNAL, "fork failed");
	if (pid == 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		if (pin)
			(void)sched_setaffinity(0, sizeof(set), &set); /* a hint: one core */
		if (freopen(out_path, "w", which) == NULL)
			_exit(125);
		int rc = fn(argc, argv);
		fflush(NULL);
		_exit(rc);
	}
	if (wait4(pid, &st, 0, &ru) != pid)
		return mla_fail(d, MLA_ERR_INTERNAL, "wait for %s failed", argv[0]);
	out->wall = now_s() - t0;
	out->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	out->rss_kib = ru.ru_maxrss;
	out->rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return MLA_OK;
}

/* Runs `mlagw audit verify BUNDLE --trust DIR` in a child pinned to one CPU, its report going
 * to out_path; wall and CPU time and peak RSS of the child, and its last line. */
static mla_err time_verify(const char *bundle, const char *trust, const char *out_path,
			   struct ba_res *res, mla_diag *d)
{
	char *av[] = {"verify", (char *)bundle, "--trust", (char *)trust, NULL};
	char line[sizeof(res->verify_last)];
	struct child_run c;
	FILE *f;
	mla_err r;

	if ((r = run_child(cmd_audit_verify, 4, av, stdout, out_path, 1, &c, d)) != MLA_OK)
		return r;
	res->verify_wall = c.wall;
	res->verify_cpu = c.cpu;
	res->verify_rss_kib = c.rss_kib;
	res->verify_rc = c.rc;
	f = fopen(out_path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		memcpy(res->verify_last, line, sizeof(line));
	if (f != NULL)
		fclose(f);
	res->verify_last[strcspn(res->verify_last, "\n")] = '\0';
	return MLA_OK;
}

struct ba_paths;
static mla_err time_export(const struct ba_paths *p, struct ba_res *res, mla_diag *d);

/* The format number of the bundle's first line (0 when unreadable). */
static unsigned bundle_format_of(const char *path)
{
	char line[32] = "";
	FILE *f = fopen(path, "r");
	unsigned v = 0;

	if (f != NULL && fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "mlagw-audit-bundle/%u", &v) != 1)
		v = 0;
	if (f != NULL)
		fclose(f);
	return v;
}

struct ba_paths {
	char dir[PATH_MAX - 64], db[PATH_MAX], single[PATH_MAX], crt[PATH_MAX], key[PATH_MAX],
		root[PATH_MAX], trust[PATH_MAX], trust_root[PATH_MAX], bundle[PATH_MAX],
		vout[PATH_MAX], backup[PATH_MAX];
};

static void make_paths(struct ba_paths *p)
{
	/* dir is 64 bytes shorter than each path: every suffix fits, or this is a bug */
	if (mla_snprintf(p->db, sizeof(p->db), "%s/audit.db", p->dir) != MLA_OK ||
	    mla_snprintf(p->single, sizeof(p->single), "%s/single.db", p->dir) != MLA_OK ||
	    mla_snprintf(p->crt, sizeof(p->crt), "%s/" STATE "/audit.crt", p->dir) != MLA_OK ||
	    mla_snprintf(p->key, sizeof(p->key), "%s/" STATE "/audit.key", p->dir) != MLA_OK ||
	    mla_snprintf(p->root, sizeof(p->root), "%s/" STATE "/root.crt", p->dir) != MLA_OK ||
	    mla_snprintf(p->trust, sizeof(p->trust), "%s/trust", p->dir) != MLA_OK ||
	    mla_snprintf(p->trust_root, sizeof(p->trust_root), "%s/trust/" STATE ".crt",
			 p->dir) != MLA_OK ||
	    mla_snprintf(p->bundle, sizeof(p->bundle), "%s/audit.bundle", p->dir) != MLA_OK ||
	    mla_snprintf(p->vout, sizeof(p->vout), "%s/verify.out", p->dir) != MLA_OK ||
	    mla_snprintf(p->backup, sizeof(p->backup), "%s/backup.db", p->dir) != MLA_OK)
		abort();
}

/* Runs `mlagw audit export` of the log alone in a child (its summary line kept in vout):
 * wall time and peak RSS. A case filter that selects no message: the bundle holds every
 * entry and checkpoint and no envelope (the synthetic entries name envelopes that were
 * never stored, which an unfiltered bundle must hold). */
static mla_err time_export(const struct ba_paths *p, struct ba_res *res, mla_diag *d)
{
	char *av[] = {"export", "--store", (char *)p->db, "--cert", (char *)p->crt, "--out",
		      (char *)p->bundle, "--case", "bench-log-only", NULL};
	struct child_run c;
	mla_err r;

	if ((r = run_child(cmd_audit_export, 9, av, stderr, p->vout, 0, &c, d)) != MLA_OK)
		return r;
	res->export_s = c.wall;
	res->export_rss_kib = c.rss_kib;
	if (c.rc != CLI_OK)
		return mla_fail(d, MLA_ERR_IO, "audit export failed (exit %d)", c.rc);
	return MLA_OK;
}

static mla_err run(const struct ba_args *a, const struct ba_paths *p, struct ba_res *res,
		   mla_diag *d)
{
	mla_pki_opts po = {.state = STATE, .out_dir = p->dir, .rsa_bits = 2048};
	struct bench_bulk bulk;
	mla_merkle_tree *t = NULL;
	gw_store *s = NULL;
	int64_t t0_ms = wall_ms();
	uint64_t done = 0;
	struct stat sb;
	double t0;
	mla_err r;

	/* (1) SHA-256 of 400-byte inputs and of 1 MiB */
	if ((r = bench_bound_bulk(400, a->seconds / 2, &bulk, d)) != MLA_OK)
		return r;
	res->sha_small = bulk.sha256;
	if ((r = bench_bound_bulk(1 << 20, a->seconds / 2, &bulk, d)) != MLA_OK)
		return r;
	res->sha_bulk = bulk.sha256;

	/* (2) appends: N in groups of 1000 (also building the tree), then one per commit */
	if ((r = mla_merkle_tree_new(a->entries, &t)) != MLA_OK)
		return mla_fail(d, r, "cannot allocate the tree");
	if ((r = store_init(p->db, d)) != MLA_OK || (r = store_open(p->db, &s, d)) != MLA_OK)
		goto out;
	t0 = now_s();
	r = append_run(s, t, 0, a->entries, GROUP, 0, t0_ms, res, &done, d);
	res->append_group = now_s() - t0;
	if (r != MLA_OK)
		goto out;
	{
		gw_store *s1 = NULL;
		if ((r = store_init(p->single, d)) != MLA_OK ||
		    (r = store_open(p->single, &s1, d)) != MLA_OK)
			goto out;
		t0 = now_s();
		r = append_run(s1, NULL, 0, a->entries, 0, a->seconds, t0_ms, res,
			       &res->single_n, d);
		res->append_single = now_s() - t0;
		store_close(s1);
		if (r != MLA_OK)
			goto out;
	}

	/* (3) inclusion proofs at size N */
	if ((r = bench_proofs(t, res)) != MLA_OK) {
		r = mla_fail(d, r, "inclusion proof failed");
		goto out;
	}

	/* (4) audit PKI, signed checkpoint, bundle by `audit export`, timed `audit verify` */
	if ((r = mla_pki_init(&po, d)) != MLA_OK)
		goto out;
	if (mkdir(p->trust, 0700) != 0 || symlink(p->root, p->trust_root) != 0) {
		r = mla_fail(d, MLA_ERR_IO, "cannot make %s", p->trust);
		goto out;
	}
	if ((r = put_checkpoints(s, t, a->checkpoint_every, p->key, d)) != MLA_OK)
		goto out;
	store_close(s);
	s = NULL;
	mla_merkle_tree_free(t);
	t = NULL;
	/* (5) the store's integrity checks at N entries */
	if ((r = bench_store_check(p->db, p->crt, ORIGIN, p->backup, &res->sc, d)) != MLA_OK)
		goto out;
	if ((r = time_export(p, res, d)) != MLA_OK)
		goto out;
	if (stat(p->bundle, &sb) == 0)
		res->bundle_bytes = (size_t)sb.st_size;
	res->bundle_format = bundle_format_of(p->bundle);
	r = time_verify(p->bundle, p->trust, p->vout, res, d);
out:
	store_close(s);
	mla_merkle_tree_free(t);
	return r;
}

static double mib(long kib)
{
	return (double)kib / 1024.0;
}

static void print_text(const struct ba_args *a, const struct ba_res *x)
{
	char cpu[256];
	double group_rate = (double)a->entries / x->append_group;
	double single_rate = (double)x->single_n / x->append_single;

	bench_cpu_model(cpu, sizeof(cpu));
	printf("mlagw bench audit: %llu entries\n", (unsigned long long)a->entries);
	printf("machine: %s, %ld cores; %s; SQLite %s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
	       OpenSSL_version(OPENSSL_VERSION), store_sqlite_version());
	printf("SHA-256 (one core): %.0f MB/s over 1 MiB; %.0f hashes/s of 400 bytes "
	       "(%.2f us each)\n", (double)(1 << 20) / x->sha_bulk / 1e6, 1.0 / x->sha_small,
	       x->sha_small * 1e6);
	printf("entries: %zu-%zu bytes serialized\n\n", x->entry_len_min, x->entry_len_max);
	printf("%-52s %16s   %s\n", "measure", "result", "target");
	printf("%-52s %12.0f /s   >= 20000 /s\n",
	       "appends, group commit of 1000 (WAL, sync=FULL)", group_rate);
	printf("%-52s %12.0f /s   (contrast)\n", "appends, one commit each", single_rate);
	printf("%-52s %12.1f us   < 1000 us\n", "inclusion proof at N, mean", x->proof_mean * 1e6);
	printf("%-52s %12.1f us   < 1000 us\n", "inclusion proof at N, max of 10000",
	       x->proof_max * 1e6);
	printf("%-52s %12.1f us\n", "inclusion proof verify, mean", x->pverify_mean * 1e6);
	printf("%-52s %12.1f us\n", "inclusion proof verify, max", x->pverify_max * 1e6);
	printf("%-52s %12.2f s    < 3 s at 1M\n", "bundle verify (audit verify, one core), wall",
	       x->verify_wall);
	printf("%-52s %12.2f s\n", "bundle verify, CPU time", x->verify_cpu);
	printf("%-52s %12.1f MiB  < 256 MiB at 10M\n", "bundle verify, peak RSS",
	       mib(x->verify_rss_kib));
	printf("%-52s %12.2f s\n", "bundle export (audit export), wall", x->export_s);
	printf("%-52s %12.1f MiB  (bounded: no target)\n", "bundle export, peak RSS",
	       mib(x->export_rss_kib));
	printf("%-52s %12.2f s\n", "daemon start path (store checks), wall", x->sc.now.s);
	printf("%-52s %12.1f MiB  < 64 MiB at 10M\n", "daemon start path, peak RSS",
	       mib(x->sc.now.hwm_kib));
	printf("\nappends: %llu in %.2f s (each serialized, leaf-hashed, stored, added to the "
	       "tree); one by one: %llu in %.2f s\n", (unsigned long long)a->entries,
	       x->append_group, (unsigned long long)x->single_n, x->append_single);
	printf("proofs: %d random indices at size %llu, up to %zu hashes\n", PROOFS,
	       (unsigned long long)a->entries, x->proof_len_max);
	printf("store integrity at %llu entries (store %.1f MB; checks %s):\n"
	       "  daemon start path, schema 7 (entries and tree hashes checked against the leaves,\n"
	       "    right edge from the store)        %8.2f s, peak RSS %6.1f MiB (+%.1f MiB)  "
	       "target < 64 MiB at 10M\n"
	       "  before (schema 6: every hash in a tree in memory)\n"
	       "                                      %8.2f s, peak RSS %6.1f MiB (+%.1f MiB)\n"
	       "  quick_check                                                   %8.2f s\n"
	       "  mlagw store check (quick_check + entries + checkpoint)       %8.2f s "
	       "(log part %.2f s)\n"
	       "  mlagw store backup: copy %.2f s (%.1f MB), check of the copy %.2f s\n",
	       (unsigned long long)a->entries, (double)x->sc.db_bytes / 1e6,
	       x->sc.ok ? "passed" : "FAILED", x->sc.now.s, mib(x->sc.now.hwm_kib),
	       mib(x->sc.now.hwm_kib - x->sc.now.base_kib), x->sc.before.s,
	       mib(x->sc.before.hwm_kib), mib(x->sc.before.hwm_kib - x->sc.before.base_kib),
	       x->sc.quick_s, x->sc.check_s,
	       x->sc.log_s, x->sc.backup_copy_s, (double)x->sc.backup_bytes / 1e6,
	       x->sc.backup_check_s);
	printf("bundle: format %u, %.1f MB (%llu entries, %llu checkpoint(s), no envelopes), "
	       "written by audit export in %.2f s; verifier exit %d: \"%s\"\n", x->bundle_format,
	       (double)x->bundle_bytes / 1e6, (unsigned long long)a->entries,
	       (unsigned long long)(a->checkpoint_every > 0 && a->checkpoint_every < a->entries
					    ? (a->entries + a->checkpoint_every - 1) /
						      a->checkpoint_every
					    : 1),
	       x->export_s, x->verify_rc, x->verify_last);
}

static void print_json(const struct ba_args *a, const struct ba_res *x)
{
	char cpu[256];

	bench_cpu_model(cpu, sizeof(cpu));
	for (char *c = cpu; *c; c++)
		if (*c == '"' || *c == '\\')
			*c = ' ';
	printf("{\"benchmark\":\"audit\",\"entries\":%llu,\"cpu\":\"%s\",\"cores\":%ld,"
	       "\"openssl\":\"%s\",\"sha256_mb_s\":%.1f,\"sha256_400b_per_s\":%.0f,"
	       "\"appends_group_per_s\":%.0f,\"appends_single_per_s\":%.0f,"
	       "\"proof_mean_us\":%.2f,\"proof_max_us\":%.2f,\"proof_verify_mean_us\":%.2f,"
	       "\"proof_verify_max_us\":%.2f,\"verify_wall_s\":%.3f,\"verify_cpu_s\":%.3f,"
	       "\"verify_exit\":%d,\"bundle_bytes\":%zu,\"bundle_format\":%u,"
	       "\"verify_peak_rss_kib\":%ld,\"export_s\":%.3f,\"export_peak_rss_kib\":%ld,"
	       "\"start_s\":%.3f,\"start_peak_rss_kib\":%ld}\n",
	       (unsigned long long)a->entries, cpu, sysconf(_SC_NPROCESSORS_ONLN),
	       OpenSSL_version(OPENSSL_VERSION), (double)(1 << 20) / x->sha_bulk / 1e6,
	       1.0 / x->sha_small, (double)a->entries / x->append_group,
	       (double)x->single_n / x->append_single, x->proof_mean * 1e6, x->proof_max * 1e6,
	       x->pverify_mean * 1e6, x->pverify_max * 1e6, x->verify_wall, x->verify_cpu,
	       x->verify_rc, x->bundle_bytes, x->bundle_format, x->verify_rss_kib, x->export_s,
	       x->export_rss_kib, x->sc.now.s, x->sc.now.hwm_kib);
}

int bench_audit(int argc, char **argv)
{
	struct ba_args a = {1000000, 2.0, 0, 0};
	struct ba_res res;
	struct ba_paths p;
	mla_diag d = {MLA_OK, ""};
	const char *tmp = getenv("TMPDIR");
	mla_err r;
	int rc;

	if ((rc = parse(argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	memset(&res, 0, sizeof(res));
	memset(&p, 0, sizeof(p));
	if (mla_crypto_init(&d) != MLA_OK)
		return cli_fail(CMD, MLA_ERR_INTERNAL, &d);
	if (mla_snprintf(p.dir, sizeof(p.dir), "%s/mlagw-bench-audit.XXXXXX",
			 tmp != NULL && tmp[0] ? tmp : "/tmp") != MLA_OK ||
	    mkdtemp(p.dir) == NULL) {
		fprintf(stderr, "mlagw " CMD ": cannot make a temp dir in %s\n",
			tmp != NULL && tmp[0] ? tmp : "/tmp");
		return CLI_IO;
	}
	make_paths(&p);
	r = run(&a, &p, &res, &d);
	if (getenv("MLAGW_BENCH_KEEP") != NULL) /* by hand: the store and bundle stay */
		fprintf(stderr, "mlagw " CMD ": kept %s\n", p.dir);
	else
		(void)bench_remove_tree(p.dir);
	if (r != MLA_OK)
		return cli_fail(CMD, r, &d);
	if (a.json)
		print_json(&a, &res);
	else
		print_text(&a, &res);
	return res.verify_rc == 0 ? CLI_OK : CLI_INTERNAL;
}
