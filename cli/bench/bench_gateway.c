/* mlagw bench gateway: two gateways on this machine, N envelopes from A to B, and the figures
 * (receipted envelopes/s, latency percentiles, peak RSS) printed beside the crypto bound of one
 * exchange measured in the same run. It prints figures only; it never passes or fails on speed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "mlagw/codec.h"
#include "bench_bound.h"
#include "bench_gateway.h"
#include "../cli_util.h"
#include "../commands.h"

#define BOUND_SECONDS 0.3
#define WARMUP 50
#define DEFAULT_IN_FLIGHT 8 /* the gateway's max_in_flight default (conf/README.md) */

enum { O_N = 256, O_CONC, O_RSA_BITS, O_WORKERS, O_IN_FLIGHT, O_JSON, O_KEEP, O_MLAGWD, O_PAIRS };

#define MAX_PAIRS 9

static const struct option gw_options[] = {
	{"n", required_argument, NULL, O_N},
	{"concurrency", required_argument, NULL, O_CONC},
	{"rsa-bits", required_argument, NULL, O_RSA_BITS},
	{"workers", required_argument, NULL, O_WORKERS},
	{"max-in-flight", required_argument, NULL, O_IN_FLIGHT},
	{"json", no_argument, NULL, O_JSON},
	{"keep", no_argument, NULL, O_KEEP},
	{"mlagwd", required_argument, NULL, O_MLAGWD},
	{"pairs", required_argument, NULL, O_PAIRS},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static const char gw_usage[] =
	"usage: mlagw bench gateway [--n N] [--concurrency C] [--rsa-bits B] [--workers W]\n"
	"                           [--max-in-flight M] [--pairs K] [--json] [--keep]\n"
	"                           [--mlagwd PATH]\n"
	"\n"
	"Starts two gateways on this machine (A = ES, B = CO; mutual TLS on loopback, durable\n"
	"SQLite stores, a throwaway test PKI), submits N 2 KiB documents to A over its unix socket\n"
	"with C requests at once, and waits until A has verified B's receipt for each. Then a second\n"
	"run of N submissions paced at half the measured rate. The keyholder's cost: K pairs of\n"
	"full-load runs, one with the keyholder and one with the private keys in the daemons\n"
	"(mlagwd --no-keyholder), their order alternating from pair to pair so that neither side\n"
	"always meets the larger store; the median of each side is compared.\n"
	"Prints receipted envelopes/s, the\n"
	"latency from submission to verified receipt (p50/p95/p99), each gateway's RSS, and the\n"
	"crypto bound of one exchange from OpenSSL's own rates measured in the same run.\n"
	"  --n N              envelopes per run (default 2000), after 50 unmeasured warm-up ones\n"
	"  --concurrency C    submissions in flight at once (default 32)\n"
	"  --rsa-bits B       encryption key size of both States (default 3072)\n"
	"  --workers W        crypto workers per gateway (default: the gateway's, one per CPU + 1)\n"
	"  --max-in-flight M  A's concurrent exchanges with B (default: the gateway's, 8)\n"
	"  --pairs K          full-load runs with and without the keyholder (default 3; odd, 1 to 9:\n"
	"                     the median is a run, and the last pair ends with the keyholder)\n"
	"  --json             print the figures as JSON\n"
	"  --keep             keep the temporary directory (configurations, stores, logs)\n"
	"  --mlagwd PATH      the daemon to run (default: ../gateway/mlagwd beside this mlagw)\n"
	"It prints figures only and exits 0 when both runs completed; it does not judge them.\n";

struct gw_result {
	struct bench_fixed fixed;
	struct bench_bulk bulk;
	double t_exchange; /* seconds of bare crypto per exchange */
	long cores;
	double scale; /* measured: the cores together reach scale x one core's rate */
	struct bgw_run warm, half;
	/* the full-load runs, [0] with the keyholder and [1] with --no-keyholder, pair by pair;
	 * full and full_nokh point at the median run of each side */
	struct bgw_run pair[MAX_PAIRS][2];
	long pairs;
	const struct bgw_run *full, *full_nokh;
};

static int apply_option(int c, const char *v, void *args)
{
	struct bgw_args *a = args;

	switch (c) {
	case O_N:
		return cli_parse_long(v, 1, 10000000, &a->n) == 0
			       ? CLI_OK
			       : cli_usage_error("bench", "--n must be from 1 to 10000000");
	case O_CONC:
		return cli_parse_long(v, 1, 1024, &a->concurrency) == 0
			       ? CLI_OK
			       : cli_usage_error("bench", "--concurrency must be from 1 to 1024");
	case O_RSA_BITS:
		return cli_parse_long(v, 2048, 16384, &a->rsa_bits) == 0
			       ? CLI_OK
			       : cli_usage_error("bench", "--rsa-bits must be from 2048 to 16384");
	case O_WORKERS:
		return cli_parse_long(v, 1, 64, &a->workers) == 0
			       ? CLI_OK
			       : cli_usage_error("bench", "--workers must be from 1 to 64");
	case O_IN_FLIGHT:
		return cli_parse_long(v, 1, 256, &a->in_flight) == 0
			       ? CLI_OK
			       : cli_usage_error("bench", "--max-in-flight must be from 1 to 256");
	case O_JSON: a->json = 1; return CLI_OK;
	case O_KEEP: a->keep = 1; return CLI_OK;
	case O_MLAGWD: a->mlagwd = v; return CLI_OK;
	case O_PAIRS:
		return cli_parse_long(v, 1, MAX_PAIRS, &a->pairs) == 0 && a->pairs % 2 == 1
			       ? CLI_OK
			       : cli_usage_error("bench", "--pairs must be odd, from 1 to 9");
	default: return cli_usage_error("bench", "unknown option");
	}
}

static const struct cli_optspec bench_spec = {
	"bench", gw_usage, "h", gw_options, apply_option,
};

static mla_err measure_bound(struct bgw_env *e, struct gw_result *res, mla_diag *d)
{
	mla_err r;

	if ((r = bench_bound_fixed(e->ec, e->rsa, BOUND_SECONDS, &res->fixed, d)) != MLA_OK ||
	    (r = bench_bound_bulk(BGW_DOC_BYTES, BOUND_SECONDS, &res->bulk, d)) != MLA_OK)
		return r;
	res->t_exchange = bench_bound_exchange(&res->fixed, &res->bulk);
	res->cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (res->cores < 1)
		res->cores = 1;
	/* cores may be hyperthreads of one another: measure what they add up to */
	return bench_parallel_scale(e->ec, e->rsa, (unsigned)res->cores, BOUND_SECONDS,
				    &res->scale, d);
}

static mla_err run_one(struct bgw_env *e, struct bgw_run *r, long n, long conc, double rate,
		       mla_diag *d)
{
	mla_err rc;

	r->n = n;
	r->concurrency = conc;
	r->rate = rate;
	if ((rc = bgw_run_load(e, r, d)) != MLA_OK)
		return rc;
	if (r->delivered == 0)
		return mla_fail(d, MLA_ERR_IO, "bench: no envelope was delivered; see %s and %s",
				e->gw[0].log, e->gw[1].log);
	return MLA_OK;
}

/* One full-load run on gateways started with or without the keyholder, then stopped, unless
 * keep_running (the paced run follows on the same gateways). */
static mla_err full_run(struct bgw_env *e, const struct bgw_args *a, struct gw_result *res,
			int no_keyholder, struct bgw_run *out, int keep_running, mla_diag *d)
{
	mla_err r;

	e->no_keyholder = no_keyholder;
	if (!a->json)
		fprintf(stderr, "mlagw bench: %s the keyholder: warm-up, then %ld envelopes at "
			"concurrency %ld...\n", no_keyholder ? "without" : "with", a->n,
			a->concurrency);
	if ((r = bgw_start(e, d)) != MLA_OK)
		return r;
	bgw_run_free(&res->warm);
	memset(&res->warm, 0, sizeof(res->warm)); /* its counts start again */
	if ((r = run_one(e, &res->warm, WARMUP, a->concurrency, 0.0, d)) == MLA_OK)
		r = run_one(e, out, a->n, a->concurrency, 0.0, d);
	if (r != MLA_OK || !keep_running)
		bgw_stop(e);
	return r;
}

static int by_throughput(const void *x, const void *y)
{
	double a = (*(const struct bgw_run *const *)x)->throughput;
	double b = (*(const struct bgw_run *const *)y)->throughput;

	return a < b ? -1 : a > b;
}

/* The run of median throughput among side (0: keyholder, 1: none) of every pair. */
static const struct bgw_run *median_run(const struct gw_result *res, int side)
{
	const struct bgw_run *runs[MAX_PAIRS];

	for (long i = 0; i < res->pairs; i++)
		runs[i] = &res->pair[i][side];
	qsort(runs, (size_t)res->pairs, sizeof(runs[0]), by_throughput);
	return runs[res->pairs / 2];
}

/* The bound, then the pairs (even pairs without the keyholder first, odd ones with it
 * first: an odd count, so the last run has the keyholder and its gateways stay up), then
 * the paced run on them, memory figures, stop. */
static mla_err run_all(struct bgw_env *e, const struct bgw_args *a, struct gw_result *res,
		       mla_diag *d)
{
	mla_err r;

	if ((r = measure_bound(e, res, d)) != MLA_OK)
		return r;
	res->pairs = a->pairs;
	for (long p = 0; p < res->pairs; p++)
		for (int k = 0; k < 2; k++) {
			int no_kh = (p % 2 == 0) == (k == 0);
			int last = p == res->pairs - 1 && k == 1;

			if ((r = full_run(e, a, res, no_kh, &res->pair[p][no_kh], last, d)) != MLA_OK)
				return r;
		}
	res->full = median_run(res, 0);
	res->full_nokh = median_run(res, 1);
	if (!a->json)
		fprintf(stderr, "mlagw bench: %.1f envelopes/s (median with the keyholder); now paced "
			"at %.1f/s...\n", res->full->throughput, res->full->throughput / 2.0);
	if ((r = run_one(e, &res->half, a->n, a->concurrency, res->full->throughput / 2.0, d)) !=
	    MLA_OK)
		return r;
	for (int i = 0; i < 2; i++) {
		e->gw[i].end_rss_kib = bgw_proc_kib(e->gw[i].pid, "VmRSS:");
		e->gw[i].hwm_kib = bgw_proc_kib(e->gw[i].pid, "VmHWM:");
	}
	bgw_stop(e);
	return MLA_OK;
}

static const char *exit_text(int status, char *buf, size_t n)
{
	if (status == -1)
		return "killed (no exit after SIGTERM)";
	if (WIFEXITED(status))
		(void)mla_snprintf_cut(buf, n, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		(void)mla_snprintf_cut(buf, n, "signal %d", WTERMSIG(status));
	else
		(void)mla_snprintf_cut(buf, n, "status %d", status);
	return buf;
}

static void print_run(const char *name, const struct bgw_run *r, const struct gw_result *res)
{
	double bound = res->scale / res->t_exchange;

	printf("%-22s | %8.1f | %5.1f%% | %8.1f%% | %7.1f | %7.1f | %7.1f | %7.1f | %5.2f | %5.2f\n",
	       name, r->throughput, 100.0 * r->throughput * res->t_exchange,
	       100.0 * r->throughput / bound, r->p50, r->p95, r->p99, r->max,
	       1000.0 * r->cpu_s[0] / (double)r->n, 1000.0 * r->cpu_s[1] / (double)r->n);
}

/* Each pair's two full-load runs, then the medians' comparison. */
static void print_pairs(const struct gw_result *res)
{
	printf("keyholder: recpt/s with it / without, pair by pair:");
	for (long p = 0; p < res->pairs; p++)
		printf(" %.1f/%.1f", res->pair[p][0].throughput, res->pair[p][1].throughput);
	printf("\nkeyholder: median %.1f recpt/s with it, %.1f without (mlagwd --no-keyholder, "
	       "same run): it costs %.1f%% (target at most 10%%)\n", res->full->throughput,
	       res->full_nokh->throughput,
	       res->full_nokh->throughput > 0
		       ? 100.0 * (1.0 - res->full->throughput / res->full_nokh->throughput)
		       : 0.0);
}

static void print_header(const struct bgw_env *e, const struct bgw_args *a,
			 const struct gw_result *res)
{
	char cpu[128], sign[48], rsa[48];
	const struct bench_fixed *f = &res->fixed;

	bench_cpu_model(cpu, sizeof(cpu));
	bench_key_names(e->ec, e->rsa, sign, sizeof(sign), rsa, sizeof(rsa));
	printf("mlagw bench gateway: A (ES) -> B (CO), both on this machine, mutual TLS on "
	       "loopback\n");
	printf("machine:  %s, %ld cores (shared by both gateways and this load generator)\n", cpu,
	       res->cores);
	printf("crypto:   %s; signatures %s/SHA-256, key transport %s OAEP\n",
	       OpenSSL_version(OPENSSL_VERSION), sign, rsa);
	printf("load:     N = %ld per run (after %d warm-up), 2 KiB documents, concurrency %ld, "
	       "workers %ld per gateway, max_in_flight %ld, store SQLite WAL synchronous=FULL\n",
	       a->n, WARMUP, a->concurrency, a->workers > 0 ? a->workers : res->cores + 1,
	       a->in_flight > 0 ? a->in_flight : DEFAULT_IN_FLIGHT);
	printf("openssl:  %s sign %.0f/s, verify %.0f/s; %s OAEP encrypt %.0f/s, decrypt %.0f/s "
	       "(one core)\n", sign, 1.0 / f->sign, 1.0 / f->verify, rsa, 1.0 / f->rsa_enc,
	       1.0 / f->rsa_dec);
	printf("bound:    one exchange = sign + RSA encrypt (seal) + verify + RSA decrypt (open) + "
	       "sign (receipt) + verify (receipt check) + 2 x AES-GCM/SHA-256 of 2 KiB = %.0f us,\n"
	       "          i.e. %.0f exchanges/s: the issue's bound (its 'about 500/s at 50%%' is this "
	       "figure on a core that decrypts RSA-3072 ~1000 times/s)\n", 1e6 * res->t_exchange,
	       1.0 / res->t_exchange);
	printf("contrast: %.0f exchanges/s if the crypto alone used all %ld cores (measured: %.2f x "
	       "one core, median of 3)\n\n", res->scale / res->t_exchange, res->cores, res->scale);
}

static void print_text(const struct bgw_env *e, const struct bgw_args *a,
		       const struct gw_result *res)
{
	char name[48], st[40];

	print_header(e, a, res);
	printf("%-22s | %8s | %6s | %9s | %7s | %7s | %7s | %7s | %5s | %5s\n", "run", "recpt/s",
	       "bound", "all cores", "p50 ms", "p95 ms", "p99 ms", "max ms", "cpu A", "cpu B");
	print_run("full load (median)", res->full, res);
	print_run("full, no kh (median)", res->full_nokh, res);
	(void)mla_snprintf_cut(name, sizeof(name), "paced at %.0f/s", res->half.rate);
	print_run(name, &res->half, res);
	print_pairs(res);
	printf("recpt/s = envelopes delivered with a verified receipt / (last receipt - first "
	       "submission); latency = submission to verified receipt (A's store); cpu = CPU ms "
	       "per envelope of the daemon and its keyholder\n");
	for (int i = 0; i < 2; i++) {
		const struct bgw_run *r = i == 0 ? res->full : &res->half;
		if (r->refused > 0 || r->not_delivered > 0)
			printf("%s: %zu submissions refused, %zu not delivered (rejected or failed)\n",
			       i == 0 ? "full load" : "paced", r->refused, r->not_delivered);
	}
	printf("\n%-8s | %14s | %14s | %14s | %s\n", "gateway", "idle RSS", "peak RSS (HWM)",
	       "RSS at end", "stop (SIGTERM)");
	for (int i = 0; i < 2; i++) {
		const struct bgw_gateway *g = &e->gw[i];
		printf("%s (%s)   | %10.1f MiB | %10.1f MiB | %10.1f MiB | %s\n", g->name, g->state,
		       (double)g->idle_rss_kib / 1024.0, (double)g->hwm_kib / 1024.0,
		       (double)g->end_rss_kib / 1024.0, exit_text(g->exit_status, st, sizeof(st)));
	}
	if (a->keep)
		printf("\nkept: %s (A.log, B.log, A.db, B.db, configurations)\n", e->dir);
}

static void json_run(const char *name, const struct bgw_run *r, const struct gw_result *res)
{
	printf("\"%s\":{\"n\":%ld,\"concurrency\":%ld,\"paced_rate_per_s\":%.1f,"
	       "\"delivered\":%zu,\"refused\":%zu,\"not_delivered\":%zu,\"seconds\":%.3f,"
	       "\"receipted_per_s\":%.1f,\"ratio_to_bound\":%.4f,\"ratio_to_all_cores\":%.4f,"
	       "\"latency_ms\":{\"p50\":%.1f,\"p95\":%.1f,\"p99\":%.1f,\"max\":%.1f},"
	       "\"cpu_ms_per_envelope\":{\"A\":%.3f,\"B\":%.3f}}",
	       name, r->n, r->concurrency, r->rate, r->delivered, r->refused, r->not_delivered,
	       r->seconds, r->throughput,
	       r->throughput * res->t_exchange, r->throughput * res->t_exchange / res->scale,
	       r->p50, r->p95, r->p99, r->max, 1000.0 * r->cpu_s[0] / (double)r->n,
	       1000.0 * r->cpu_s[1] / (double)r->n);
}

static void json_gateway(const struct bgw_gateway *g)
{
	printf("\"%s\":{\"state\":\"%s\",\"idle_rss_kib\":%ld,\"peak_rss_kib\":%ld,"
	       "\"end_rss_kib\":%ld,\"exit_status\":%d}", g->name, g->state, g->idle_rss_kib,
	       g->hwm_kib, g->end_rss_kib,
	       g->exit_status >= 0 && WIFEXITED(g->exit_status) ? WEXITSTATUS(g->exit_status) : -1);
}

static void print_json(const struct bgw_env *e, const struct bgw_args *a,
		       const struct gw_result *res)
{
	char cpu[128], sign[48], rsa[48];
	const struct bench_fixed *f = &res->fixed;

	bench_cpu_model(cpu, sizeof(cpu));
	bench_key_names(e->ec, e->rsa, sign, sizeof(sign), rsa, sizeof(rsa));
	printf("{\"benchmark\":\"gateway\",\"cpu\":");
	cli_json_string(stdout, cpu);
	printf(",\"cores\":%ld,\"cores_scale\":%.3f,\"openssl\":", res->cores, res->scale);
	cli_json_string(stdout, OpenSSL_version(OPENSSL_VERSION));
	printf(",\"keys\":{\"signature\":\"%s/SHA-256\",\"key_transport\":\"%s OAEP\"},"
	       "\"document_bytes\":%d,\"warmup\":%d,\"workers\":%ld,\"max_in_flight\":%ld,",
	       sign, rsa, BGW_DOC_BYTES, WARMUP, a->workers > 0 ? a->workers : res->cores + 1,
	       a->in_flight > 0 ? a->in_flight : DEFAULT_IN_FLIGHT);
	printf("\"openssl_ops_per_s\":{\"ecdsa_sign\":%.1f,\"ecdsa_verify\":%.1f,"
	       "\"rsa_oaep_encrypt\":%.1f,\"rsa_oaep_decrypt\":%.1f},\"exchange_us\":%.1f,"
	       "\"bound_per_s\":%.1f,\"bound_one_core_per_s\":%.1f,",
	       1.0 / f->sign, 1.0 / f->verify, 1.0 / f->rsa_enc, 1.0 / f->rsa_dec,
	       1e6 * res->t_exchange, res->scale / res->t_exchange, 1.0 / res->t_exchange);
	printf("\"pairs\":%ld,", res->pairs);
	json_run("full", res->full, res);
	printf(",");
	json_run("full_no_keyholder", res->full_nokh, res);
	printf(",");
	json_run("paced", &res->half, res);
	printf(",\"gateways\":{");
	json_gateway(&e->gw[0]);
	printf(",");
	json_gateway(&e->gw[1]);
	printf("}}\n");
}

static int clean_stop(const struct bgw_env *e)
{
	for (int i = 0; i < 2; i++) {
		int s = e->gw[i].exit_status;
		if (s < 0 || !WIFEXITED(s) || WEXITSTATUS(s) != 0)
			return 0;
	}
	return 1;
}

int bench_gateway(int argc, char **argv)
{
	struct bgw_args a = {2000, 32, 3072, 0, 0, 0, 0, NULL, 0, 3};
	struct bgw_env e;
	struct gw_result res;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc;

	if ((rc = cli_parse_options(argc, argv, &bench_spec, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (mla_crypto_init(&d) != MLA_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cli_fail("bench gateway", MLA_ERR_INTERNAL, &d);
	memset(&e, 0, sizeof(e));
	memset(&res, 0, sizeof(res));
	if ((r = bgw_env_setup(&e, &a, &d)) == MLA_OK && (r = run_all(&e, &a, &res, &d)) == MLA_OK) {
		if (a.json)
			print_json(&e, &a, &res);
		else
			print_text(&e, &a, &res);
		if (!clean_stop(&e))
			r = mla_fail(&d, MLA_ERR_INTERNAL, "a gateway did not stop cleanly; see %s",
				     a.keep ? e.dir : "its log (run with --keep)");
	} else if (e.have_dir && !a.keep) {
		fprintf(stderr, "mlagw bench: logs in %s were removed; run with --keep to see them\n",
			e.dir);
	}
	bgw_run_free(&res.warm);
	bgw_run_free(&res.half);
	for (long p = 0; p < MAX_PAIRS; p++)
		for (int k = 0; k < 2; k++)
			bgw_run_free(&res.pair[p][k]);
	bgw_env_free(&e, a.keep);
	curl_global_cleanup();
	return r == MLA_OK ? CLI_OK : cli_fail("bench gateway", r, &d);
}
