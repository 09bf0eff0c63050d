/* Runs an operator's command without a shell, bounded by a timeout (see hook.h). The child
 * does only async-signal-safe calls between fork and exec (the daemon has threads); an exec
 * failure comes back as its errno over a close-on-exec pipe, so a missing command is told
 * apart from one that exits 127. */
#define _GNU_SOURCE /* pipe2, close_range */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "clock.h"
#include "hook.h"
#include "hook_remote.h"

#define HOOK_FD_SCAN 4096 /* descriptors marked close-on-exec when close_range is missing */

/* In the child: its own process group (so a timeout kills what it started too), standard
 * streams on /dev/null, every other descriptor closed at exec, then exec. */
static _Noreturn void child(char *const argv[], char *const envp[], int devnull, int errfd)
{
	static char *const empty[] = {NULL};
	int e;

	(void)setpgid(0, 0);
	if (dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0)
		goto fail;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		for (int fd = 3; fd < HOOK_FD_SCAN; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	execve(argv[0], argv, envp != NULL ? envp : empty);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pid_t reap(pid_t pid, int *st, int flags)
{
	pid_t r;

	while ((r = waitpid(pid, st, flags)) < 0 && errno == EINTR)
		;
	return r;
}

/* Waits for pid until deadline (monotonic ms); kills its group at the deadline. */
static void await(pid_t pid, int64_t deadline, struct gw_hook_result *res)
{
	int64_t nap = 5;
	int st = 0;

	for (;;) {
		pid_t r = reap(pid, &st, WNOHANG);
		if (r < 0) { /* not ours to reap (SIGCHLD ignored): say so, never "exited 0" */
			res->outcome = GW_HOOK_LOST;
			res->status = errno;
			return;
		}
		if (r == pid)
			break;
		if (gw_mono_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)kill(pid, SIGKILL);
			(void)reap(pid, &st, 0);
			res->outcome = GW_HOOK_TIMEOUT;
			res->status = SIGKILL;
			return;
		}
		pause_ms(nap);
		nap = nap < 50 ? nap * 2 : 50;
	}
	res->outcome = WIFSIGNALED(st) ? GW_HOOK_SIGNALED : GW_HOOK_EXITED;
	res->status = WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);
}

/* The child's exec errno, or 0 once the pipe closed at a successful exec. */
static int exec_error(int fd)
{
	int e = 0;
	ssize_t n;

	while ((n = read(fd, &e, sizeof(e))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(e) ? e : 0;
}

mla_err gw_hook_run(char *const argv[], char *const envp[], uint64_t timeout_ms,
		    struct gw_hook_result *res, mla_diag *diag)
{
	int64_t t0 = gw_mono_ms();
	int p[2] = {-1, -1}, devnull = -1, e;
	mla_err r = MLA_ERR_IO;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (argv == NULL || argv[0] == NULL || argv[0][0] != '/')
		return mla_fail(diag, MLA_ERR_ARG, "hook: the command must be an absolute path");
	if (gw_hook_delegate_fd() >= 0) /* this process may not fork and exec: hook_remote.h */
		return gw_hook_remote_run(argv, envp, timeout_ms, res, diag);
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 || pipe2(p, O_CLOEXEC) != 0) {
		r = mla_fail(diag, MLA_ERR_IO, "hook: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		r = mla_fail(diag, MLA_ERR_IO, "hook: cannot fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(argv, envp, devnull, p[1]);
	(void)close(p[1]);
	p[1] = -1;
	if ((e = exec_error(p[0])) != 0) {
		(void)reap(pid, NULL, 0);
		res->outcome = GW_HOOK_NOT_RUN;
		res->status = e;
	} else {
		await(pid, t0 + (int64_t)(timeout_ms > INT32_MAX ? INT32_MAX : timeout_ms), res);
	}
	res->ms = gw_mono_ms() - t0;
	r = MLA_OK;
out:
	if (p[0] >= 0)
		(void)close(p[0]);
	if (p[1] >= 0)
		(void)close(p[1]);
	if (devnull >= 0)
		(void)close(devnull);
	return r;
}

void gw_hook_describe(const struct gw_hook_result *res, char *out, size_t n)
{
	switch (res->outcome) {
	case GW_HOOK_EXITED:
		(void)mla_snprintf_cut(out, n, "exited %d", res->status);
		break;
	case GW_HOOK_SIGNALED:
		(void)mla_snprintf_cut(out, n, "signal %d", res->status);
		break;
	case GW_HOOK_TIMEOUT:
		(void)mla_snprintf_cut(out, n, "timeout");
		break;
	case GW_HOOK_NOT_RUN:
		(void)mla_snprintf_cut(out, n, "not run: %s", strerror(res->status));
		break;
	case GW_HOOK_LOST:
		(void)mla_snprintf_cut(out, n, "status lost: %s", strerror(res->status));
		break;
	}
}
