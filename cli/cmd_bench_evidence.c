/* mlagw bench evidence (issue 15 §6): one attachment of --size bytes end to end. Without
 * --gateway it starts two gateways on this machine (A = ES, B = CO, bench_gateway_proc.c),
 * uploads the file to A through its local API, submits it to CO and times each phase up to
 * A's verified receipt (version 3, read back from A's store), optionally the download at B
 * with its SHA-256 checked, and reads each gateway's peak memory (VmHWM). With --gateway URL
 * only the upload to that running gateway and the sealing are timed. Beside the figures, the
 * bound measured in the same run: the slowest of AES-256-GCM and SHA-256 over 1 MiB segments
 * on one core (mla_attach_measure_speed) and fsynced sequential writes in the same directory;
 * and, with two gateways, the pipeline bound from the same rates: every operation the path
 * makes on each byte (PATH_GCM, PATH_SHA, PATH_WRITES in bench/bench_evidence_print.c), their
 * per-byte times summed and shared by the cores of this machine; and each gateway's CPU time. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bench/bench_evidence.h"
#include "bench/bench_gateway.h"
#include "cli_util.h"
#include "cmd_api.h"
#include "commands.h"
#include "mlagw/attach.h"
#include "mlagw/codec.h"

#define BOUND_BYTES ((uint64_t)64 << 20)
#define BENCH_RSA_BITS 3072
#define DISK_BOUND_MAX ((uint64_t)256 << 20) /* a disk shared with others varies: a longer sample */
#define DISK_SAMPLES 3

static const char usage[] =
	"usage: mlagw bench evidence --size BYTES [--download] [--dir DIR] [--mlagwd PATH]\n"
	"                            [--keep] [--json]\n"
	"       mlagw bench evidence --gateway URL (--token-file F | --cert C --key K) [--ca ROOT]\n"
	"                            --to CC --size BYTES [--dir DIR] [--json]\n"
	"Without --gateway: starts two gateways here (A = ES, B = CO, a throwaway PKI and stores\n"
	"in a new directory of DIR, default $TMPDIR or /tmp), uploads one generated file of BYTES\n"
	"(1G, 512M, ... as 2^30, 2^20) to A, submits it to CO as an attachment and waits for A's\n"
	"verified receipt (version 3); --download also fetches it at B and checks its SHA-256.\n"
	"Prints MB/s end to end and per phase, each gateway's peak RSS, and the bound measured now:\n"
	"the slowest of AES-256-GCM, SHA-256 (one core) and fsynced writes in DIR, and the\n"
	"pipeline bound: the per-byte times of every operation on the path (5 AES-256-GCM,\n"
	"3 SHA-256, 3 fsynced writes) summed and divided by the cores here.\n"
	"With --gateway: the upload to that running gateway and the sealing only. Figures only.\n";

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Pseudo-random bytes (xorshift64), cheap enough not to slow the file's writing. */
static void fill(uint8_t *p, size_t n, uint64_t *x)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		memcpy(p + i, x, 8);
	}
}

/* Writes bytes of generated data to a new file in dir (fsynced every 8 MiB if sync), the path
 * in path, its SHA-256 in hex if hex is not NULL; returns the MB/s (10^6 bytes), or a negative
 * value on failure. Streamed: 1 MiB in memory whatever the size. */
static double write_file(const char *dir, uint64_t bytes, int sync, char *path, size_t n,
			 char *hex)
{
	static uint8_t block[1 << 20];
	EVP_MD_CTX *md = hex != NULL ? EVP_MD_CTX_new() : NULL;
	uint64_t done = 0, x = 0x9e3779b97f4a7c15u;
	uint8_t digest[32];
	double t0 = now_s();
	int fd = -1, ok = (hex == NULL || (md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(),
									    NULL) == 1)) &&
		      mla_snprintf(path, n, "%s/mlagw-bench-evidence-XXXXXX", dir) == MLA_OK &&
		      (fd = mkstemp(path)) >= 0;

	while (ok && done < bytes) {
		size_t len = bytes - done < sizeof block ? (size_t)(bytes - done) : sizeof block;
		fill(block, len, &x);
		ok = write(fd, block, len) == (ssize_t)len &&
		     (md == NULL || EVP_DigestUpdate(md, block, len) == 1) &&
		     !(sync && (done + len) % (8u << 20) == 0 && fdatasync(fd) != 0);
		done += len;
	}
	ok = ok && !(sync && fdatasync(fd) != 0);
	if (fd >= 0 && close(fd) != 0)
		ok = 0;
	if (ok && md != NULL)
		ok = EVP_DigestFinal_ex(md, digest, NULL) == 1 &&
		     mla_hex_encode(digest, sizeof digest, hex, 65) == MLA_OK;
	EVP_MD_CTX_free(md);
	if (!ok && fd >= 0)
		unlink(path);
	return ok ? (double)bytes / 1e6 / (now_s() - t0) : -1;
}

struct ev_args {
	struct api_args a;
	const char *dir, *size, *mlagwd;
	int download, keep;
};

static int parse(int argc, char **argv, struct ev_args *e)
{
	static const struct option opts[] = {
		{"gateway", 1, NULL, 'g'}, {"token-file", 1, NULL, 't'}, {"cert", 1, NULL, 'c'},
		{"key", 1, NULL, 'k'},	   {"ca", 1, NULL, 'a'},	 {"to", 1, NULL, 'o'},
		{"size", 1, NULL, 's'},	   {"dir", 1, NULL, 'd'},	 {"json", 0, NULL, 'j'},
		{"download", 0, NULL, 'D'}, {"mlagwd", 1, NULL, 'm'},	 {"keep", 0, NULL, 'K'},
		{"help", 0, NULL, 'h'},	   {NULL, 0, NULL, 0}};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': e->a.c.gateway = optarg; break;
		case 't': e->a.token_file = optarg; break;
		case 'c': e->a.c.cert = optarg; break;
		case 'k': e->a.c.key = optarg; break;
		case 'a': e->a.c.ca = optarg; break;
		case 'o':
			if (e->a.nf > 0)
				return cli_usage_error("bench evidence", "--to is given once");
			e->a.f[e->a.nf][0] = "to";
			e->a.f[e->a.nf++][1] = optarg;
			break;
		case 's': e->size = optarg; break;
		case 'd': e->dir = optarg; break;
		case 'j': e->a.json = 1; break;
		case 'D': e->download = 1; break;
		case 'm': e->mlagwd = optarg; break;
		case 'K': e->keep = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return cli_usage_error("bench evidence", "unknown option or missing value");
		}
	}
	if (optind < argc)
		return cli_usage_error("bench evidence", "unexpected argument %s", argv[optind]);
	return CLI_OK;
}

/* 1G, 512M, 64K (powers of 2) or plain bytes, from 1 (the figures divide by the size) up to
 * the attachment ceiling. */
static int parse_size(const char *s, uint64_t *out)
{
	size_t n = strlen(s), shift = 0;
	uint64_t v;

	if (n > 1 && strchr("KMGT", s[n - 1]) != NULL)
		shift = (size_t)(strchr("KMGT", s[--n]) - "KMGT" + 1) * 10;
	if (n == 0 || mla_parse_u64n(s, n, 1, MLA_ATTACH_CEILING >> shift, &v) != MLA_OK)
		return -1;
	*out = v << shift;
	return 0;
}

/* The timed part: the upload (api_add_attachments), then the submission; the message id. */
static int run(struct ev_args *e, const char *file, struct bev_figures *f)
{
	json_t *req = json_pack("{s:s, s:s, s:b, s:s, s:s}", "to", api_field(&e->a, "to"),
				"kind", "mla", "new_case", 1, "content_type", "application/xml",
				"document_b64", "PEJlbmNoLz4="); /* <Bench/> */
	json_t *ans = NULL;
	const char *id;
	double t0;
	int rc;

	e->a.attach[0] = file;
	e->a.n_attach = 1;
	t0 = now_s();
	if ((rc = api_add_attachments(&e->a, req)) == CLI_OK) {
		f->upload_s = now_s() - t0;
		t0 = now_s();
		rc = api_call(&e->a.c, "bench evidence", "POST", "/api/v1/messages", req, &ans);
		f->seal_s = now_s() - t0;
	}
	if (rc == CLI_OK &&
	    ((id = json_string_value(json_object_get(ans, "message_id"))) == NULL ||
	     mla_snprintf(f->id, sizeof f->id, "%s", id) != MLA_OK)) {
		fprintf(stderr, "mlagw bench evidence: the gateway's answer names no message id\n");
		rc = CLI_INTERNAL;
	}
	json_decref(ans);
	json_decref(req);
	return rc;
}

/* The disk's rate in dir: the best of DISK_SAMPLES fsynced writes of sample bytes (a bound
 * is the best the disk does; on a shared or virtual disk one sample swings by 2-3x), or a
 * negative value. */
static double disk_rate(const char *dir, uint64_t sample)
{
	char disk[4096];
	double best = -1, r;

	for (int i = 0; i < DISK_SAMPLES; i++) {
		if ((r = write_file(dir, sample, 1, disk, sizeof disk, NULL)) < 0 ||
		    unlink(disk) != 0)
			return -1;
		best = r > best ? r : best;
	}
	return best;
}

/* The bound in dir (the disk's over the file's size, from 64 to 256 MiB), then the file of
 * f->size bytes there (its path in file), synced so that its write-back does not compete
 * with the timed phases for the disk. */
static int prepare(const char *dir, struct bev_figures *f, char file[4096])
{
	uint64_t sample = f->size < BOUND_BYTES ? BOUND_BYTES : f->size;

	if (sample > DISK_BOUND_MAX)
		sample = DISK_BOUND_MAX;
	if (mla_attach_measure_speed(BOUND_BYTES, &f->speed) != MLA_OK ||
	    (f->disk_mbps = disk_rate(dir, sample)) < 0 ||
	    write_file(dir, f->size, 1, file, 4096, f->sha256) < 0) {
		fprintf(stderr, "mlagw bench evidence: cannot measure the bound or write the file "
			"in %s: %s\n", dir, strerror(errno));
		return CLI_IO;
	}
	return CLI_OK;
}

static int run_one(struct ev_args *e, struct bev_figures *f)
{
	char file[4096];
	int rc;

	if (api_field(&e->a, "to") == NULL)
		return cli_usage_error("bench evidence", "--to CC is required with --gateway");
	if ((rc = api_client_ready(&e->a.c, "bench evidence", e->a.token_file)) != CLI_OK)
		return rc;
	if ((rc = prepare(e->dir != NULL ? e->dir : "/tmp", f, file)) == CLI_OK) {
		rc = run(e, file, f);
		unlink(file);
	}
	api_client_wipe(&e->a.c);
	return rc;
}

/* After the delivery: the download at B if asked, the peak memory, the stop. */
static int finish_two(struct ev_args *e, struct bgw_env *env, struct bev_figures *f)
{
	struct api_client b;
	char url[64];
	double t0 = now_s();
	int rc = CLI_OK;

	if (e->download) {
		bev_client(env, 1, url, &b);
		rc = bev_download(&b, f->id, env->dir, f->sha256);
		f->download_s = now_s() - t0;
		f->downloaded = rc == CLI_OK;
	}
	for (int i = 0; i < 2; i++) {
		f->hwm_kib[i] = bgw_proc_kib(env->gw[i].pid, "VmHWM:");
		f->cpu_s[i] = bgw_proc_cpu(env->gw[i].pid);
	}
	bgw_stop(env);
	for (int i = 0; i < 2 && rc == CLI_OK; i++) {
		int s = env->gw[i].exit_status;
		if (s < 0 || !WIFEXITED(s) || WEXITSTATUS(s) != 0) {
			fprintf(stderr, "mlagw bench evidence: gateway %s did not stop cleanly; see "
				"%s\n", env->gw[i].name, env->gw[i].log);
			rc = CLI_INTERNAL;
		}
	}
	return rc;
}

static int run_two(struct ev_args *e, struct bev_figures *f)
{
	struct bgw_args ga;
	struct bgw_env env;
	mla_diag d = {MLA_OK, ""};
	char file[4096], url[64];
	double t0;
	int rc;

	if (api_field(&e->a, "to") != NULL && strcmp(api_field(&e->a, "to"), "CO") != 0)
		return cli_usage_error("bench evidence", "without --gateway the receiver is CO");
	if (api_field(&e->a, "to") == NULL) {
		e->a.f[e->a.nf][0] = "to";
		e->a.f[e->a.nf++][1] = "CO";
	}
	if (e->dir != NULL && setenv("TMPDIR", e->dir, 1) != 0)
		return CLI_INTERNAL;
	memset(&ga, 0, sizeof ga);
	memset(&env, 0, sizeof env);
	ga.rsa_bits = BENCH_RSA_BITS;
	ga.attach = 1;
	ga.mlagwd = e->mlagwd;
	f->two = 1;
	if ((f->cores = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		f->cores = 1;
	if (bgw_env_setup(&env, &ga, &d) != MLA_OK || bgw_start(&env, &d) != MLA_OK) {
		fprintf(stderr, "mlagw bench evidence: %s\n", d.msg);
		if (env.have_dir) /* kept: its logs say why */
			fprintf(stderr, "mlagw bench evidence: kept %s\n", env.dir);
		bgw_env_free(&env, 1);
		return CLI_IO;
	}
	bev_client(&env, 0, url, &e->a.c);
	if ((rc = prepare(env.dir, f, file)) == CLI_OK && (rc = run(e, file, f)) == CLI_OK) {
		t0 = now_s();
		rc = bev_wait_delivered(&e->a.c, f->id, 120.0 + (double)f->size / 1e6);
		f->transfer_s = now_s() - t0;
	}
	if (rc == CLI_OK)
		unlink(file); /* before the download: the disk holds two stores and its copy */
	if (rc == CLI_OK)
		rc = finish_two(e, &env, f);
	if (rc == CLI_OK && bev_receipt_v3(env.gw[0].store, f->id, &d) != MLA_OK) {
		fprintf(stderr, "mlagw bench evidence: %s\n", d.msg);
		rc = CLI_REJECTED;
	}
	if (rc != CLI_OK || e->keep)
		fprintf(stderr, "mlagw bench evidence: the gateways' directory: %s%s\n", env.dir,
			e->keep ? " (kept)" : " (removed; --keep keeps it)");
	bgw_env_free(&env, e->keep);
	return rc;
}

int bench_evidence(int argc, char **argv)
{
	struct ev_args e;
	struct bev_figures f;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&f, 0, sizeof(f));
	e.a.cmd = "bench evidence";
	if ((rc = parse(argc, argv, &e)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (e.size == NULL || parse_size(e.size, &f.size) != 0)
		return cli_usage_error("bench evidence", "--size BYTES (1G, 512M, ...) is required");
	rc = e.a.c.gateway != NULL ? run_one(&e, &f) : run_two(&e, &f);
	if (rc == CLI_OK)
		bev_print(e.a.json, &f);
	return rc;
}
