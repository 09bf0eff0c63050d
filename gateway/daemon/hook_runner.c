/* The hook runner (see hook_runner.h). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/hook_remote.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "hook_runner.h"
#include "mlagw/keyholder.h"
#include "sandbox.h"

int hook_runner_allows(const char *command, void *config_path)
{
	static struct gw_config c; /* one request at a time: the runner's loop is one thread */
	int ok = 0;

	if (command[0] != '\0' && gw_config_load(config_path, &c, NULL) == MLA_OK)
		ok = strcmp(command, c.deadlines.escalate) == 0 ||
		     strcmp(command, c.expiry.command) == 0;
	return ok;
}

/* The runner's word to the daemon once it is confined ("R"), or why it could not be ("E" and
 * the reason): a detached runner's standard error goes nowhere, and a runner that died at
 * its start would otherwise be noticed only at the first hook, perhaps days later. */
#define READY_WAIT_MS 10000
#define WORD_MAX 512

static _Noreturn void runner_fails(int fd, const mla_diag *d)
{
	char word[WORD_MAX];

	(void)mla_snprintf_cut(word, sizeof(word), "E%s", mla_diag_message(d));
	(void)send(fd, word, strlen(word), MSG_NOSIGNAL);
	fprintf(stderr, "mlagw hook runner: %s\n", mla_diag_message(d));
	_exit(3);
}

static _Noreturn void runner_main(int fd, const char *config_path,
				  const struct privdrop_user *become, enum gw_seccomp_mode seccomp)
{
	mla_diag d = {MLA_OK, ""};

	mla_keyholder_detach(); /* its channels are the daemon's: the keyholder ends with it */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_NAME, "mlagw-hooks", 0, 0, 0);
	if (become != NULL && privdrop_become(become, &d) != MLA_OK)
		runner_fails(fd, &d);
	/* after root is given up (the filter does not care who it runs as), before any command */
	if (sandbox_hook_runner(seccomp, &d) != MLA_OK)
		runner_fails(fd, &d);
	if (send(fd, "R", 1, MSG_NOSIGNAL) != 1)
		_exit(3);
	gw_hook_serve(fd, hook_runner_allows, (void *)(uintptr_t)config_path);
	_exit(0);
}

/* Waits for the runner's word: 0 when it is confined and serving; otherwise logs why, ends it
 * and -1. */
static int await_ready(int fd, pid_t p)
{
	char word[WORD_MAX + 1];
	struct pollfd pfd = {fd, POLLIN, 0};
	ssize_t n = -1;
	int r;

	while ((r = poll(&pfd, 1, READY_WAIT_MS)) < 0 && errno == EINTR)
		;
	if (r == 1)
		while ((n = recv(fd, word, WORD_MAX, 0)) < 0 && errno == EINTR)
			;
	if (n == 1 && word[0] == 'R')
		return 0;
	word[n > 1 && word[0] == 'E' ? n : 0] = '\0';
	for (char *c = word; *c != '\0'; c++) /* one log line, its quotes its own */
		if (*c == '"' || (unsigned char)*c < 0x20)
			*c = '?';
	gw_log(GW_LOG_ERROR, "hook-runner-failed", NULL, "reason=\"%s\"",
	       n > 1 && word[0] == 'E' ? word + 1
	       : r == 0		       ? "no word from it in 10 s"
	       : r < 0		       ? "cannot wait for its word"
				       : "it ended before it was confined");
	(void)kill(p, SIGKILL);
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
	return -1;
}

int hook_runner_start(const char *config_path, int close_fd, const struct privdrop_user *become,
		      enum gw_seccomp_mode seccomp, pid_t *pid)
{
	int sv[2];
	pid_t p;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((p = fork()) < 0) {
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (p == 0) {
		(void)close(sv[0]);
		if (sandbox_child_leave_terminal(close_fd) != 0)
			_exit(3);
		runner_main(sv[1], config_path, become, seccomp);
	}
	(void)close(sv[1]);
	if (await_ready(sv[0], p) != 0) {
		(void)close(sv[0]);
		errno = ECHILD;
		return -1;
	}
	gw_hook_delegate(sv[0]);
	*pid = p;
	return 0;
}

void hook_runner_end(pid_t pid)
{
	int fd = gw_hook_delegate_fd();

	if (pid <= 0)
		return;
	gw_hook_delegate(-1);
	if (fd >= 0)
		(void)close(fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
