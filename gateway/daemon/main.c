/* mlagwd: one gateway per State. Parses the command line, loads and checks the
 * configuration (refusing to start on any error, naming file, line and problem), writes the
 * pid file, and runs until SIGTERM or SIGINT (SIGHUP reloads peers and certificates).
 * Detached, the parent waits until the daemon is ready and exits with its start status. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mlagw/case.h"
#include "mlagw/codec.h"
#include "core/log.h"
#include "daemon.h"
#include "hook_runner.h"
#include "keyholder_proc.h"
#include "landlock_daemon.h"
#include "notify.h"
#include "privdrop.h"
#include "sandbox.h"
#include "store/store.h"

static const char usage[] =
	"usage: mlagwd -c FILE [--foreground] [--check] [--init] [--pid-file PATH] [--debug]\n"
	"       mlagwd --version\n"
	"  -c, --config FILE  gateway configuration (format: conf/README.md)\n"
	"  -f, --foreground   stay in the foreground (default: detach once started)\n"
	"      --check        load and check the configuration and keys, then exit\n"
	"      --init         create the store named in the configuration, then exit (a\n"
	"                     gateway never starts on a store it did not create)\n"
	"      --pid-file P   write the pid here (overrides pid_file in the configuration)\n"
	"      --debug        log debug lines too\n"
	"      --version      print the version and exit\n"
	"      --no-keyholder keep the private keys in this process (benchmarks, debugging;\n"
	"                     by default a keyholder process holds them: docs/internals/keys.md)\n"
	"signals: TERM/INT stop after in-flight work, HUP reloads peers and certificates\n"
	"exit: 0 stopped cleanly (detached: started), 1 configuration or start-up error, or a\n"
	"      stop forced by a failure (the keyholder died), 2 usage\n";

struct args {
	const char *config, *pid_file;
	int foreground, check, init, debug, no_keyholder;
};

/* --pid-file taken from the working folder now: a detached daemon works from "/", and its
 * Landlock rules name only absolute folders. */
static int absolute_pid_file(struct args *a)
{
	static char path[PATH_MAX];
	char cwd[PATH_MAX];

	if (a->pid_file == NULL || a->pid_file[0] == '/' || a->pid_file[0] == '\0')
		return 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    mla_snprintf(path, sizeof(path), "%s/%s", cwd, a->pid_file) != MLA_OK) {
		fprintf(stderr, "mlagwd: --pid-file %s: cannot make it absolute\n", a->pid_file);
		return -1;
	}
	a->pid_file = path;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"check", no_argument, NULL, 'k'},	  {"pid-file", required_argument, NULL, 'p'},
		{"debug", no_argument, NULL, 'd'},	  {"help", no_argument, NULL, 'h'},
		{"init", no_argument, NULL, 'i'},
		{"no-keyholder", no_argument, NULL, 'K'}, {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'f': a->foreground = 1; break;
		case 'k': a->check = 1; break;
		case 'i': a->init = 1; break;
		case 'p': a->pid_file = optarg; break; /* made absolute below */
		case 'd': a->debug = 1; break;
		case 'K': a->no_keyholder = 1; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': printf("mlagwd %s\n", MLAGW_VERSION); exit(0);
		default: fputs(usage, stderr); return -1;
		}
	}
	if (a->config == NULL || optind != argc) {
		fputs(usage, stderr);
		return -1;
	}
	return absolute_pid_file(a);
}

static int write_pid(const char *path)
{
	char buf[32];
	int fd, n;

	if (path == NULL || path[0] == '\0')
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (n <= 0 || write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Start-up status a detached child sends its waiting parent: one byte, the exit code the
 * foreground start would use, then on failure the message the foreground would print. */
#define START_MSG_MAX (MLA_DIAG_MAX + 64)

/* The parent's side: the child's status, or 1 when it dies before reporting. A failed child
 * is reaped before the parent exits, so no process is left behind. */
static int wait_child(int fd, pid_t pid)
{
	char buf[1 + START_MSG_MAX];
	size_t n = 0;
	ssize_t k;
	int st = 0, code = 1;

	while (n < sizeof(buf) &&
	       ((k = read(fd, buf + n, sizeof(buf) - n)) > 0 || (k < 0 && errno == EINTR)))
		n += k > 0 ? (size_t)k : 0;
	close(fd);
	if (n > 0)
		code = (unsigned char)buf[0];
	if (n > 1)
		fprintf(stderr, "%.*s", (int)(n - 1), buf + 1);
	if (code != 0 && waitpid(pid, &st, 0) == pid && n == 0)
		fprintf(stderr, "mlagwd: cannot start: the daemon ended before it was ready (%s %d)\n",
			WIFSIGNALED(st) ? "signal" : "exit",
			WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return code;
}

/* Forks before anything starts a thread (threads do not survive a fork). The parent never
 * returns: it exits with the child's start status. The child returns 0 in a new session with
 * the pipe's write end in *ready_fd, or -1 (errno set) when it cannot fork. */
static int detach(int *ready_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		_exit(wait_child(p[0], pid)); /* the child owns everything started; no atexit */
	}
	close(p[0]);
	(void)fcntl(p[1], F_SETFD, FD_CLOEXEC);
	*ready_fd = p[1];
	return setsid() < 0 ? -1 : 0;
}

/* Ends start-up with code and msg (a whole line, or ""): to the waiting parent when
 * detached, else on stderr. */
static void report_start(int *ready_fd, int code, const char *msg)
{
	char buf[1 + START_MSG_MAX];
	size_t n = strnlen(msg, START_MSG_MAX);
	ssize_t w;

	if (*ready_fd < 0) {
		fputs(msg, stderr);
		return;
	}
	buf[0] = (char)code;
	memcpy(buf + 1, msg, n);
	w = write(*ready_fd, buf, n + 1); /* one write under PIPE_BUF: all or nothing */
	(void)w;			   /* a parent gone has nobody to tell */
	close(*ready_fd);
	*ready_fd = -1;
}

/* A detached daemon keeps no terminal: stdio goes to /dev/null once start-up succeeded. */
static int quiet_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);
	int r = -1;

	if (fd < 0)
		return -1;
	if (dup2(fd, STDIN_FILENO) >= 0 && dup2(fd, STDOUT_FILENO) >= 0 &&
	    dup2(fd, STDERR_FILENO) >= 0)
		r = 0;
	if (fd > STDERR_FILENO)
		close(fd);
	return r;
}

/* [daemon] landlock: this process confined to the folders its configuration names
 * (landlock_daemon.h), before it starts its first thread: Landlock holds for the calling
 * thread and those it starts later only. Its line and the keyholder's say what holds (the
 * keyholder asked the same kernel at its start). Before the seccomp filter, which has no
 * Landlock calls. */
static mla_err confine_daemon(const struct gw_config *cfg, const char *config_path,
			      const char *pid_file, int keys_here, mla_diag *d)
{
	static const char *const process[2] = {"keyholder", "daemon"};
	int abi = 0;

	if (!cfg->landlock_on)
		return MLA_OK;
	if (landlock_daemon(cfg, config_path, pid_file, keys_here, &abi, d) != MLA_OK)
		return MLA_ERR_INTERNAL;
	for (int i = keys_here ? 1 : 0; i < 2; i++)
		if (abi > 0)
			gw_log(GW_LOG_INFO, "landlock", NULL, "process=%s abi=%d", process[i], abi);
		else
			gw_log(GW_LOG_WARN, "landlock", NULL, "process=%s reason=\"this kernel (or "
			       "the service manager's filter) offers no Landlock: the %s's files are "
			       "not confined\"", process[i], process[i]);
	return MLA_OK;
}

/* Confines its files (confine_daemon), starts the gateway, gives up root for good (become:
 * NULL when there is nothing to give up), writes the pid file and confines its system calls
 * ([daemon] seccomp); then a detached daemon leaves its terminal and tells its parent it is
 * ready. keys_here: --no-keyholder. Returns the exit code of a failed start, or 0. */
static int start(struct gw *g, const struct gw_config *cfg, const char *pid_file, int keys_here,
		 const struct privdrop_user *become, int *ready_fd)
{
	char msg[START_MSG_MAX];
	mla_diag d = {MLA_OK, ""};
	/* [log] target auto, detached: start-up's lines reach the terminal as in the foreground,
	 * the later ones syslog, as standard error becomes /dev/null */
	int then_syslog = *ready_fd >= 0 && strcmp(cfg->log_target, "auto") == 0 &&
			  !gw_log_stderr_is_journal();

	if (confine_daemon(cfg, g->config_path, pid_file, keys_here, &d) != MLA_OK ||
	    gw_start(g, cfg, &d) != MLA_OK ||
	    (become != NULL && privdrop_become(become, &d) != MLA_OK)) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: cannot start: %s\n", mla_diag_message(&d));
		report_start(ready_fd, 1, msg);
		return 1;
	}
	if (write_pid(pid_file) != 0)
		gw_log(GW_LOG_WARN, "pid-file", NULL, "path=%s reason=\"%s\"", pid_file,
		       strerror(errno));
	if (become != NULL)
		gw_log(GW_LOG_INFO, "privileges-dropped", NULL, "user=%s uid=%ld gid=%ld",
		       become->name, (long)become->uid, (long)become->gid);
	if (sandbox_daemon(cfg->seccomp_mode, &d) != MLA_OK) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: cannot start: %s\n", mla_diag_message(&d));
		if (pid_file != NULL && pid_file[0] != '\0')
			(void)unlink(pid_file);
		report_start(ready_fd, 1, msg);
		return 1;
	}
	gw_log(GW_LOG_INFO, "seccomp", NULL, "mode=%s", cfg->seccomp);
	if (*ready_fd >= 0 && quiet_stdio() != 0) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: cannot detach: /dev/null: %s\n",
			       strerror(errno));
		if (pid_file != NULL && pid_file[0] != '\0')
			(void)unlink(pid_file); /* no daemon left to name */
		report_start(ready_fd, 1, msg);
		return 1;
	}
	if (then_syslog)
		gw_log_set_target(GW_LOG_TO_SYSLOG);
	report_start(ready_fd, 0, "");
	/* under systemd (Type=notify, in the foreground): started; a detached child is not the
	 * process the manager started, which NotifyAccess=main ignores anyway */
	if (gw_notify("READY=1") < 0)
		gw_log(GW_LOG_WARN, "notify", NULL, "reason=\"NOTIFY_SOCKET: %s\"", strerror(errno));
	return 0;
}

/* [log] target (mlagwd(8), LOGGING). auto: the journal when systemd connected standard error
 * to it, else standard error (detached: until start-up ends, then syslog: see start). */
static enum gw_log_target log_target(const char *target)
{
	if (strcmp(target, "stderr") == 0)
		return GW_LOG_TO_STDERR;
	if (strcmp(target, "journal") == 0)
		return GW_LOG_TO_JOURNAL;
	if (strcmp(target, "syslog") == 0)
		return GW_LOG_TO_SYSLOG;
	return gw_log_stderr_is_journal() ? GW_LOG_TO_JOURNAL : GW_LOG_TO_STDERR;
}

/* Connections hold descriptors: the soft limit goes up to the hard one where allowed, and the
 * listeners keep their connection caps below what it gives (net/tls_limits.c). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			gw_log(GW_LOG_WARN, "fd-limit", NULL, "reason=\"cannot raise the soft limit\"");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		gw_log(GW_LOG_DEBUG, "fd-limit", NULL, "soft=%llu hard=%llu",
		       (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

/* The daemon's own processes: the keyholder (none with --no-keyholder) and the hook runner. */
struct children {
	pid_t keyholder, hooks;
};

/* Forks them, each giving up root for its user (NULL: stays who this is). The keyholder first,
 * before any key file is read; the runner after it, so that it can close the keyholder's
 * channels. 0, or -1 with errno (what was started is ended). */
static int start_children(const struct gw_config *cfg, const char *config_path, int ready_fd,
			  int with_keyholder, const struct privdrop_user *kh,
			  const struct privdrop_user *hooks, struct children *ch)
{
	if (with_keyholder && keyholder_start(cfg, config_path, ready_fd, kh, &ch->keyholder) != 0)
		return -1;
	if (hook_runner_start(config_path, ready_fd, hooks, cfg->seccomp_mode,
			      &ch->hooks) != 0) {
		int e = errno;
		keyholder_end(ch->keyholder);
		ch->keyholder = -1;
		errno = e;
		return -1;
	}
	return 0;
}

/* Closes their channels and waits for them: no process of this daemon outlives it. */
static void end_children(struct children *ch)
{
	keyholder_end(ch->keyholder);
	hook_runner_end(ch->hooks);
	ch->keyholder = ch->hooks = -1;
}

/* Large blocks (upload chunks of up to 8 MiB, segments of up to 16 MiB, the sealer's and
 * the download's buffers) are used by the worker threads, each with its own malloc arena.
 * glibc's mmap threshold rises to the size of each large block freed (up to 32 MiB), after
 * which such blocks come from the arenas and stay there, so memory grew with the number of
 * workers (bench evidence --size 1G: A's peak RSS 56 MiB, 39.5 MiB with this). A fixed
 * threshold keeps every block of 4 MiB and more mapped on its own and returned when freed. */
static void fix_mmap_threshold(void)
{
#ifdef M_MMAP_THRESHOLD
	(void)mallopt(M_MMAP_THRESHOLD, 4 << 20);
#endif
}

int main(int argc, char **argv)
{
	struct args a = {NULL, NULL, 0, 0, 0, 0, 0};
	struct privdrop_user du, ku; /* who the daemon and the keyholder become, when drop */
	int drop = 0;
	static struct gw_config cfg;
	static struct gw g;
	mla_diag d = {MLA_OK, ""};
	const char *pid_file;
	char msg[START_MSG_MAX];
	int ready_fd = -1, code;
	struct children ch = {-1, -1};

	if (parse_args(argc, argv, &a) != 0)
		return 2;
	fix_mmap_threshold();
	if (mla_crypto_init(&d) != MLA_OK || mla_case_init(&d) != MLA_OK ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		return 1;
	}
	/* kept for reloads: a path that does not fit is refused, not cut */
	if (mla_strcpy(g.config_path, sizeof(g.config_path), a.config) != MLA_OK) {
		fprintf(stderr, "mlagwd: configuration path longer than %zu bytes\n",
			sizeof(g.config_path) - 1);
		return 1;
	}
	if (gw_config_load(a.config, &cfg, &d) != MLA_OK) {
		fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		return 1;
	}
	gw_log_init(cfg.state, a.debug ? GW_LOG_DEBUG : GW_LOG_INFO);
	if (!a.check && !a.init) /* those two print their result and exit */
		gw_log_set_target(log_target(cfg.log_target));
	raise_fd_limit();
	if (a.check) {
		struct gw_crypto *k = NULL;
		mla_err r = gw_crypto_load(&cfg, &k, &d);
		gw_crypto_free(k);
		if (r != MLA_OK)
			fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		else
			printf("mlagwd: %s: configuration and keys OK\n", a.config);
		return r == MLA_OK ? 0 : 1;
	}
	/* root without a user to become is refused before anything is created or forked */
	if (privdrop_plan(&cfg, &du, &ku, &drop, &d) != MLA_OK) {
		fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		return 1;
	}
	if (a.init) { /* the store belongs to the user who will write it */
		if ((drop && privdrop_become(&du, &d) != MLA_OK) ||
		    store_init(cfg.store, &d) != MLA_OK) {
			fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
			return 1;
		}
		printf("mlagwd: store %s created\n", cfg.store);
		return 0;
	}
	if (!a.foreground && detach(&ready_fd) != 0) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: cannot detach: %s\n", strerror(errno));
		report_start(&ready_fd, 1, msg);
		return 1;
	}
	/* no new privileges and no core dumps, for the daemon and what it forks (issue 17 §3) */
	if (sandbox_common(&d) != MLA_OK) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: %s\n", mla_diag_message(&d));
		report_start(&ready_fd, 1, msg);
		return 1;
	}
	/* before any key file is read: from here on the keys live in the keyholder */
	if (start_children(&cfg, g.config_path, ready_fd, !a.no_keyholder, drop ? &ku : NULL,
			   drop ? &du : NULL, &ch) != 0) {
		/* ECHILD: the runner said why it could not start, in its hook-runner-failed line */
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: cannot start the keyholder or the "
				       "hook runner: %s\n", errno == ECHILD ? "the hook runner could "
				       "not confine itself (its reason: the hook-runner-failed line)"
				       : strerror(errno));
		report_start(&ready_fd, 1, msg);
		return 1;
	}
	if (a.no_keyholder)
		gw_log(GW_LOG_WARN, "no-keyholder", NULL, "reason=\"--no-keyholder: the private keys "
		       "are in the network-facing process\"");
	/* what the daemon creates from here (store, files, sockets) belongs to its user */
	if (drop && privdrop_assume(&du, &d) != MLA_OK) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "mlagwd: %s\n", mla_diag_message(&d));
		report_start(&ready_fd, 1, msg);
		end_children(&ch);
		return 1;
	}
	pid_file = a.pid_file != NULL ? a.pid_file : cfg.pid_file;
	if (start(&g, &cfg, pid_file, a.no_keyholder, drop ? &du : NULL, &ready_fd) != 0) {
		gw_free(&g);
		end_children(&ch);
		return 1;
	}
	gw_run(&g);
	code = g.exit_code;
	gw_free(&g);
	end_children(&ch); /* no process of this daemon outlives it */
	if (pid_file != NULL && pid_file[0] != '\0')
		(void)unlink(pid_file);
	gw_log(code == 0 ? GW_LOG_INFO : GW_LOG_ERROR, "stopped", NULL, "clean=%d", code == 0);
	curl_global_cleanup();
	mla_case_shutdown();
	mla_crypto_shutdown();
	return code;
}
