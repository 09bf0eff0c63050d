/* mlagw bench gateway: two mlagwd processes on this machine (A = ES sends, B = CO receives),
 * N submissions over A's unix socket, and the figures read back from A's store. Internal API
 * between bench_gateway.c (options, the bound, output), bench_gateway_proc.c (temporary PKI,
 * configurations, the processes and their /proc figures) and bench_gateway_load.c (the load). */
#ifndef MLAGW_CLI_BENCH_GATEWAY_H
#define MLAGW_CLI_BENCH_GATEWAY_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "mlagw/envelope.h"
#include "mlagw/error.h"

#define BGW_DOC_BYTES 2048

struct bgw_args {
	long n, concurrency, rsa_bits, workers, in_flight;
	int json, keep;
	const char *mlagwd; /* NULL: found next to this mlagw */
	int attach; /* bench evidence: each gateway's local API with a token, envelope version 3 */
	long pairs; /* bench gateway: full-load runs with and without the keyholder */
};

/* One gateway process and what the bench learnt about it. */
struct bgw_gateway {
	char state[3], name[2]; /* "ES"/"A", "CO"/"B" */
	char conf[PATH_MAX], sock[PATH_MAX], store[PATH_MAX], log[PATH_MAX];
	int port;
	int api_port;     /* with attach: the local API's loopback port */
	char token[65];   /* with attach: its bearer token (A: authority, B: agency) */
	pid_t pid; /* 0: not running */
	long idle_rss_kib, end_rss_kib, hwm_kib;
	int exit_status; /* as from waitpid; -1 if it had to be killed */
};

struct bgw_env {
	char dir[PATH_MAX];
	int have_dir;
	char mlagwd[PATH_MAX];
	struct bgw_gateway gw[2]; /* [0] = A (sender), [1] = B (receiver) */
	EVP_PKEY *ec, *rsa;       /* A's signing key, B's encryption key (for the bound) */
	int no_keyholder;         /* start the gateways with --no-keyholder (the comparison) */
};

/* One submission, keyed by the message id A answered with. */
struct bgw_sub {
	char id[MLA_UUID_LEN + 1];
	int64_t submit_us; /* wall clock when the request was started, microseconds */
	int64_t done_ms;   /* history 'delivered' at_ms in A's store; 0 if not delivered */
};

/* One measured run. rate 0 means as fast as the concurrency allows. */
struct bgw_run {
	long n, concurrency;
	double rate;
	struct bgw_sub *subs;
	size_t ok, refused, delivered, not_delivered;
	double seconds;    /* first submission to last delivery */
	double throughput; /* delivered / seconds */
	double p50, p95, p99, max; /* milliseconds, submission to verified receipt */
	double cpu_s[2];   /* CPU time (user + system) of A and B during the run */
};

/* bench_gateway.c: `mlagw bench gateway ...` (argv[0] is "gateway"); the exit status. */
int bench_gateway(int argc, char **argv);

/* bench_gateway_proc.c */
mla_err bgw_env_setup(struct bgw_env *e, const struct bgw_args *a, mla_diag *diag);
mla_err bgw_start(struct bgw_env *e, mla_diag *diag);
/* SIGTERM to both, waits for their exit (status in exit_status). */
void bgw_stop(struct bgw_env *e);
void bgw_env_free(struct bgw_env *e, int keep);
/* VmRSS / VmHWM of a process in KiB (-1 if unreadable); user + system CPU seconds of the
 * daemon and its children (keyholder, hook runner) while they live. */
long bgw_proc_kib(pid_t pid, const char *field);
double bgw_proc_cpu(pid_t pid);

/* bench_gateway_load.c */
/* Submits r->n documents to A at r->rate (0: unpaced) with r->concurrency requests at once,
 * waits for A to record an outcome of all of them, and fills the figures. */
mla_err bgw_run_load(struct bgw_env *e, struct bgw_run *r, mla_diag *diag);
void bgw_run_free(struct bgw_run *r);
/* GET path on a gateway's socket: 0 and the HTTP status in *code, or -1 if unreachable. */
int bgw_http_get(const char *sock, const char *path, long *code, char *body, size_t max);

#endif
