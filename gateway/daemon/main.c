/* mlagwd: one gateway per State. Parses the command line, loads and checks the
 * configuration (refusing to start on any error, naming file, line and problem), writes the
 * pid file, and runs until SIGTERM or SIGINT (SIGHUP reloads peers and certificates). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/log.h"
#include "daemon.h"

static const char usage[] =
	"usage: mlagwd -c FILE [--foreground] [--check] [--pid-file PATH] [--debug]\n"
	"  -c, --config FILE  gateway configuration (format: conf/README.md)\n"
	"  -f, --foreground   stay in the foreground (default: detach after start-up)\n"
	"      --check        load and check the configuration and keys, then exit\n"
	"      --pid-file P   write the pid here (overrides pid_file in the configuration)\n"
	"      --debug        log debug lines too\n"
	"signals: TERM/INT stop after in-flight work, HUP reloads peers and certificates\n"
	"exit: 0 stopped cleanly, 1 configuration or start-up error, 2 usage\n";

struct args {
	const char *config, *pid_file;
	int foreground, check, debug;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
		{"check", no_argument, NULL, 'k'},	  {"pid-file", required_argument, NULL, 'p'},
		{"debug", no_argument, NULL, 'd'},	  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'f': a->foreground = 1; break;
		case 'k': a->check = 1; break;
		case 'p': a->pid_file = optarg; break;
		case 'd': a->debug = 1; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); return -1;
		}
	}
	if (a->config == NULL || optind != argc) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
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

/* Detaches after start-up checks, so a bad configuration still fails in the foreground. */
static int detach(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	return setsid() < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct args a = {NULL, NULL, 0, 0, 0};
	static struct gw_config cfg;
	static struct gw g;
	mla_diag d = {MLA_OK, ""};
	const char *pid_file;

	if (parse_args(argc, argv, &a) != 0)
		return 2;
	if (mla_crypto_init(&d) != MLA_OK || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		return 1;
	}
	if (gw_config_load(a.config, &cfg, &d) != MLA_OK) {
		fprintf(stderr, "mlagwd: %s\n", mla_diag_message(&d));
		return 1;
	}
	gw_log_init(cfg.state, a.debug ? GW_LOG_DEBUG : GW_LOG_INFO);
	(void)snprintf(g.config_path, sizeof(g.config_path), "%s", a.config);
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
	if (!a.foreground && detach() != 0) {
		fprintf(stderr, "mlagwd: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	if (gw_start(&g, &cfg, &d) != MLA_OK) {
		fprintf(stderr, "mlagwd: cannot start: %s\n", mla_diag_message(&d));
		gw_free(&g);
		return 1;
	}
	pid_file = a.pid_file != NULL ? a.pid_file : cfg.pid_file;
	if (write_pid(pid_file) != 0)
		gw_log(GW_LOG_WARN, "pid-file", NULL, "path=%s reason=\"%s\"", pid_file,
		       strerror(errno));
	gw_run(&g);
	gw_free(&g);
	if (pid_file != NULL && pid_file[0] != '\0')
		(void)unlink(pid_file);
	gw_log(GW_LOG_INFO, "stopped", NULL, "clean=1");
	curl_global_cleanup();
	mla_crypto_shutdown();
	return 0;
}
