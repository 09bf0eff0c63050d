/* mlagw bench gateway, the set-up: a temporary directory with a test PKI for ES and CO, one
 * configuration per gateway on free loopback ports, the two mlagwd processes (stderr to a log
 * file each), their health, memory and CPU figures from /proc, and the orderly stop. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_bound.h"
#include "bench_gateway.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "store/store.h"

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS 60000

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int path_join(char out[PATH_MAX], const char *dir, const char *rel)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, rel);

	return n > 0 && n < PATH_MAX ? 0 : -1;
}

/* mlagwd beside this mlagw: build/cli/mlagw -> build/gateway/mlagwd, or installed side by side. */
static mla_err find_mlagwd(struct bgw_env *e, const char *given, mla_diag *d)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (given != NULL) {
		if (snprintf(e->mlagwd, sizeof(e->mlagwd), "%s", given) >= (int)sizeof(e->mlagwd))
			return mla_fail(d, MLA_ERR_ARG, "--mlagwd path is too long");
		return access(e->mlagwd, X_OK) == 0
			       ? MLA_OK
			       : mla_fail(d, MLA_ERR_IO, "cannot execute %s", e->mlagwd);
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
		return mla_fail(d, MLA_ERR_IO, "cannot find this program's path in /proc/self/exe");
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (path_join(e->mlagwd, self, "../gateway/mlagwd") == 0 && access(e->mlagwd, X_OK) == 0)
		return MLA_OK;
	if (path_join(e->mlagwd, self, "mlagwd") == 0 && access(e->mlagwd, X_OK) == 0)
		return MLA_OK;
	return mla_fail(d, MLA_ERR_IO, "no mlagwd in %s/../gateway or %s; give --mlagwd PATH",
			self, self);
}

/* A loopback port nobody listens on right now (the kernel's choice). */
static int free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		(void)close(fd);
	return port;
}

static mla_err make_pki(const struct bgw_env *e, const char *state, long bits, mla_diag *d)
{
	char dir[PATH_MAX];
	mla_pki_opts o;

	if (path_join(dir, e->dir, "pki") != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	memset(&o, 0, sizeof(o));
	o.state = state;
	o.out_dir = dir;
	o.rsa_bits = (int)bits;
	return mla_pki_init(&o, d);
}

static void write_keys(FILE *fp, const char *dir, const char *st)
{
	static const char *const names[] = {"tls", "sign", "encrypt", "audit"};

	fprintf(fp, "\n[keys]\n");
	for (size_t i = 0; i < 4; i++)
		fprintf(fp, "%s_cert = %s/pki/%s/%s.crt\n%s_key = %s/pki/%s/%s.key\n", names[i], dir,
			st, names[i], names[i], dir, st, names[i]);
}

/* bench evidence: the local API with one token (A's an authority's, B's an agency's, as their
 * uploads and downloads need), attachments as large as the ceiling without a free-space
 * floor (the run's own disk check is the operator's), and A sending CO envelope version 3. */
static mla_err write_attach_config(FILE *fp, const struct bgw_gateway *g, mla_diag *d)
{
	uint8_t md[32];
	char hex[65];
	unsigned int n = 0;

	if (EVP_Digest(g->token, strlen(g->token), md, &n, EVP_sha256(), NULL) != 1 ||
	    mla_hex_encode(md, sizeof md, hex, sizeof hex) != MLA_OK)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot hash the bench token");
	if (strcmp(g->state, "ES") == 0)
		fprintf(fp, "envelope_versions = 1, 2, 3\n");
	fprintf(fp, "\n[api]\nlisten = 127.0.0.1:%d\ntoken = %s bench-%s sha256:%s\n", g->api_port,
		strcmp(g->state, "ES") == 0 ? "authority" : "agency", g->name, hex);
	fprintf(fp, "\n[limits]\nmax_attachment_bytes = 1024 GiB\nupload_min_free_bytes = 0\n");
	return MLA_OK;
}

static mla_err write_config(const struct bgw_env *e, int i, const struct bgw_args *a,
			    mla_diag *d)
{
	const struct bgw_gateway *g = &e->gw[i], *peer = &e->gw[1 - i];
	FILE *fp = fopen(g->conf, "w");
	int bad;

	if (fp == NULL)
		return mla_fail(d, MLA_ERR_IO, "cannot write %s: %s", g->conf, strerror(errno));
	fprintf(fp, "# mlagw bench gateway: gateway %s\n[gateway]\nstate = %s\n", g->name,
		g->state);
	fprintf(fp, "listen = 127.0.0.1:%d\nsubmit_socket = %s\nstore = %s\n", g->port, g->sock,
		g->store);
	if (a->workers > 0)
		fprintf(fp, "workers = %ld\n", a->workers);
	/* a benchmark runs as whoever runs it, root included */
	fprintf(fp, "\n[daemon]\nallow_root = true\n");
	write_keys(fp, e->dir, g->state);
	fprintf(fp, "\n[trust]\nroot = %s/pki/ES/root.crt\nroot = %s/pki/CO/root.crt\n", e->dir,
		e->dir);
	fprintf(fp, "\n[peer %s]\nurl = https://127.0.0.1:%d/mla/v1/envelopes\n", peer->state,
		peer->port);
	fprintf(fp, "encrypt_cert = %s/pki/%s/encrypt.crt\n", e->dir, peer->state);
	if (a->in_flight > 0)
		fprintf(fp, "max_in_flight = %ld\n", a->in_flight);
	if (a->attach && write_attach_config(fp, g, d) != MLA_OK) {
		fclose(fp);
		return MLA_ERR_INTERNAL;
	}
	bad = ferror(fp);
	if (fclose(fp) != 0 || bad)
		return mla_fail(d, MLA_ERR_IO, "cannot write %s", g->conf);
	return MLA_OK;
}

/* With attach: the API's port and a random token (hex of 32 bytes). */
static mla_err name_api(struct bgw_gateway *g, mla_diag *d)
{
	uint8_t raw[32];
	mla_err r = MLA_OK;

	if ((g->api_port = free_port()) <= 0 || g->api_port == g->port)
		return mla_fail(d, MLA_ERR_IO, "cannot find a free loopback port");
	if (RAND_bytes(raw, sizeof raw) != 1 ||
	    mla_hex_encode(raw, sizeof raw, g->token, sizeof g->token) != MLA_OK)
		r = mla_fail(d, MLA_ERR_INTERNAL, "cannot draw a bench token");
	OPENSSL_cleanse(raw, sizeof raw);
	return r;
}

static mla_err name_files(struct bgw_env *e, int i, const struct bgw_args *a, mla_diag *d)
{
	struct bgw_gateway *g = &e->gw[i];
	char rel[16];
	mla_err r;

	memcpy(g->state, i == 0 ? "ES" : "CO", 3);
	memcpy(g->name, i == 0 ? "A" : "B", 2);
	if ((g->port = free_port()) <= 0)
		return mla_fail(d, MLA_ERR_IO, "cannot find a free loopback port");
	if (a->attach && (r = name_api(g, d)) != MLA_OK)
		return r;
	if (mla_snprintf(rel, sizeof(rel), "%s.conf", g->name) != MLA_OK ||
	    path_join(g->conf, e->dir, rel) != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	if (mla_snprintf(rel, sizeof(rel), "%s.sock", g->name) != MLA_OK ||
	    path_join(g->sock, e->dir, rel) != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	if (mla_snprintf(rel, sizeof(rel), "%s.db", g->name) != MLA_OK ||
	    path_join(g->store, e->dir, rel) != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	if (mla_snprintf(rel, sizeof(rel), "%s.log", g->name) != MLA_OK ||
	    path_join(g->log, e->dir, rel) != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	return MLA_OK;
}

static mla_err load_bound_keys(struct bgw_env *e, mla_diag *d)
{
	char p[PATH_MAX];
	mla_err r;

	if (path_join(p, e->dir, "pki/ES/sign.key") != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	if ((r = bench_load_key(p, &e->ec, d)) != MLA_OK)
		return r;
	if (path_join(p, e->dir, "pki/CO/encrypt.key") != 0)
		return mla_fail(d, MLA_ERR_IO, "temporary path too long");
	return bench_load_key(p, &e->rsa, d);
}

mla_err bgw_env_setup(struct bgw_env *e, const struct bgw_args *a, mla_diag *d)
{
	const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	int n = snprintf(e->dir, sizeof(e->dir), "%s/mlagw-bench-gw-XXXXXX", tmp);
	mla_err r;

	if ((r = find_mlagwd(e, a->mlagwd, d)) != MLA_OK)
		return r;
	if (n < 0 || (size_t)n >= sizeof(e->dir) - 32)
		return mla_fail(d, MLA_ERR_IO, "TMPDIR is too long");
	if (mkdtemp(e->dir) == NULL)
		return mla_fail(d, MLA_ERR_IO, "cannot create a directory in %s", tmp);
	e->have_dir = 1;
	if ((r = make_pki(e, "ES", a->rsa_bits, d)) != MLA_OK ||
	    (r = make_pki(e, "CO", a->rsa_bits, d)) != MLA_OK || (r = load_bound_keys(e, d)) != MLA_OK)
		return r;
	for (int i = 0; i < 2; i++)
		if ((r = name_files(e, i, a, d)) != MLA_OK)
			return r;
	for (int i = 0; i < 2; i++)
		if ((r = write_config(e, i, a, d)) != MLA_OK ||
		    (r = store_init(e->gw[i].store, d)) != MLA_OK) /* as mlagwd --init does */
			return r;
	return MLA_OK;
}

/* The child: stdout and stderr to the log file, then mlagwd in the foreground. It gets SIGTERM
 * if the bench dies, so no gateway outlives an interrupted run. */
static void exec_gateway(const struct bgw_env *e, const struct bgw_gateway *g)
{
	int fd = open(g->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (fd < 0 || null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(127);
	if (e->no_keyholder)
		execl(e->mlagwd, "mlagwd", "-c", g->conf, "--foreground", "--no-keyholder",
		      (char *)NULL);
	else
		execl(e->mlagwd, "mlagwd", "-c", g->conf, "--foreground", (char *)NULL);
	_exit(127);
}

static mla_err wait_healthy(struct bgw_gateway *g, mla_diag *d)
{
	char body[512];
	long code = 0;
	int status;

	for (long waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->pid = 0;
			return mla_fail(d, MLA_ERR_IO, "mlagwd %s (%s) exited at start-up with status "
					"%d; see %s", g->name, g->state,
					WIFEXITED(status) ? WEXITSTATUS(status) : -1, g->log);
		}
		if (bgw_http_get(g->sock, "/local/v1/health", &code, body, sizeof(body)) == 0 &&
		    code == 200)
			return MLA_OK;
		sleep_ms(20);
	}
	return mla_fail(d, MLA_ERR_IO, "mlagwd %s (%s) not healthy after %d ms; see %s", g->name,
			g->state, START_TIMEOUT_MS, g->log);
}

mla_err bgw_start(struct bgw_env *e, mla_diag *d)
{
	mla_err r;

	fflush(NULL);
	for (int i = 1; i >= 0; i--) { /* the receiver first */
		pid_t pid = fork();
		if (pid < 0)
			return mla_fail(d, MLA_ERR_IO, "fork: %s", strerror(errno));
		if (pid == 0)
			exec_gateway(e, &e->gw[i]);
		e->gw[i].pid = pid;
	}
	for (int i = 1; i >= 0; i--)
		if ((r = wait_healthy(&e->gw[i], d)) != MLA_OK)
			return r;
	sleep_ms(300); /* let start-up settle before the idle figure */
	for (int i = 0; i < 2; i++)
		e->gw[i].idle_rss_kib = bgw_proc_kib(e->gw[i].pid, "VmRSS:");
	return MLA_OK;
}

static void stop_one(struct bgw_gateway *g)
{
	int status = 0;
	long waited;

	if (g->pid <= 0)
		return;
	g->exit_status = -1;
	if (kill(g->pid, SIGTERM) != 0)
		return;
	for (waited = 0; waited < STOP_TIMEOUT_MS; waited += 10) {
		if (waitpid(g->pid, &status, WNOHANG) == g->pid) {
			g->exit_status = status;
			g->pid = 0;
			return;
		}
		sleep_ms(10);
	}
	(void)kill(g->pid, SIGKILL);
	(void)waitpid(g->pid, &status, 0);
	g->pid = 0;
}

void bgw_stop(struct bgw_env *e)
{
	for (int i = 0; i < 2; i++)
		stop_one(&e->gw[i]);
}

void bgw_env_free(struct bgw_env *e, int keep)
{
	bgw_stop(e);
	for (int i = 0; i < 2; i++)
		OPENSSL_cleanse(e->gw[i].token, sizeof e->gw[i].token);
	EVP_PKEY_free(e->ec);
	EVP_PKEY_free(e->rsa);
	e->ec = e->rsa = NULL;
	if (e->have_dir && !keep && bench_remove_tree(e->dir) != 0)
		fprintf(stderr, "mlagw bench: warning: could not remove %s\n", e->dir);
}

long bgw_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kib = -1;
	FILE *fp;

	if (mla_snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid) != MLA_OK ||
	    (fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, field, flen) == 0) {
			/* "VmRSS:\t   1234 kB": blanks, then the number */
			const char *p = line + flen + strspn(line + flen, " \t");
			uint64_t v;
			if (mla_parse_u64n(p, strspn(p, "0123456789"), 0, LONG_MAX, &v) == MLA_OK)
				kib = (long)v;
			break;
		}
	}
	fclose(fp);
	return kib;
}

/* The k-th (from 1) blank-separated field of s as a decimal; 0 when there is none. */
static int stat_field(const char *s, int k, uint64_t *v)
{
	for (int i = 1;; i++) {
		size_t n;
		s += strspn(s, " ");
		if ((n = strcspn(s, " \n")) == 0)
			return 0;
		if (i == k)
			return mla_parse_u64n(s, n, 0, UINT64_MAX, v) == MLA_OK;
		s += n;
	}
}

/* The CPU seconds one process used (utime + stime), 0 when it cannot be read. */
static double one_proc_cpu(long pid)
{
	char path[64], buf[1024], *p;
	uint64_t utime = 0, stime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *fp;

	if (mla_snprintf(path, sizeof(path), "/proc/%ld/stat", pid) != MLA_OK ||
	    (fp = fopen(path, "r")) == NULL)
		return 0.0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* after "pid (comm)": state is field 3, utime field 14, stime field 15 */
	if ((p = strrchr(buf, ')')) == NULL || !stat_field(p + 1, 12, &utime) ||
	    !stat_field(p + 1, 13, &stime) || hz <= 0)
		return 0.0;
	return (double)(utime + stime) / (double)hz;
}

double bgw_proc_cpu(pid_t pid)
{
	char path[96], list[512];
	double cpu = one_proc_cpu((long)pid);
	size_t n;
	FILE *fp;

	/* its keyholder and hook runner too: the keyholder's private-key operations are the
	 * gateway's work, which --no-keyholder does in the daemon itself */
	if (mla_snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid,
			 (long)pid) != MLA_OK || (fp = fopen(path, "r")) == NULL)
		return cpu;
	n = fread(list, 1, sizeof(list) - 1, fp);
	fclose(fp);
	list[n] = '\0';
	for (char *s = list; *s != '\0';) {
		size_t digits = strspn(s, "0123456789");
		uint64_t child;
		if (digits > 0 && mla_parse_u64n(s, digits, 1, INT32_MAX, &child) == MLA_OK)
			cpu += one_proc_cpu((long)child);
		s += digits;
		s += strspn(s, " \n");
		if (digits == 0 && *s != '\0')
			s++;
	}
	return cpu;
}
