/* Unit tests of the hook runner's filter (gateway/daemon/sandbox_hooks.c, issue 17 §3): a
 * child confined as the runner still forks, starts a thread and execs /bin/true, clone3 answers
 * ENOSYS; a namespace (unshare, clone with CLONE_NEWUSER), keys, setting a personality and
 * ptrace are refused with EPERM, and a program it execs (this test again, as a probe) inherits
 * the refusals. With seccomp off or log the probe's personality call goes through: the refusal
 * is the filter's. */
#define _GNU_SOURCE /* CLONE_NEWUSER, unshare */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sandbox.h"

#define KEYCTL_GET_KEYRING_ID 0 /* <linux/keyctl.h> */
#define KEY_SPEC_SESSION_KEYRING (-3)

/* Whether a call's result is the filter's refusal. */
static int refused(long rc)
{
	return rc == -1 && errno == EPERM;
}

/* The probe, run by execve from a confined child: one bit per call refused with EPERM
 * (1 setting a personality, 2 a user namespace, 4 the session keyring), as its exit status. */
static int probe(void)
{
	int bits = 0;

	bits |= refused(personality(PER_LINUX)) ? 1 : 0;
	bits |= refused(unshare(CLONE_NEWUSER)) ? 2 : 0;
	bits |= refused(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0))
		? 4 : 0;
	return bits;
}

/* The exit status of this test run as the probe, or of /bin/true (probe 0), from here. */
static int run(int as_probe)
{
	char *const probe_argv[] = {"test_sandbox_hooks", "probe", NULL};
	char *const true_argv[] = {"true", NULL};
	char *const envp[] = {NULL};
	int st = 0;
	pid_t p;

	if ((p = fork()) == 0) {
		if (as_probe)
			execve("/proc/self/exe", probe_argv, envp);
		else
			execve("/bin/true", true_argv, envp);
		_exit(120);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return 121;
	return WEXITSTATUS(st);
}

static void *thread_body(void *arg)
{
	return arg;
}

/* In a child confined in mode on: 0 when what the runner needs works and what it may not do
 * is refused, else a step number. */
static int confined_steps(void)
{
	pthread_t t;
	void *ret = NULL;
	int x = 0;

	if (run(0) != 0)
		return 1; /* fork and execve */
	if (pthread_create(&t, NULL, thread_body, &x) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != &x)
		return 2;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 3;
	if (!refused(unshare(CLONE_NEWUSER)) || !refused(unshare(CLONE_NEWNET)))
		return 4;
	if (!refused(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)))
		return 5;
	if (!refused(personality(PER_LINUX)) || personality(0xffffffff) == -1)
		return 6; /* setting refused, asking allowed */
	if (!refused(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)))
		return 7;
#if !defined(__SANITIZE_ADDRESS__) /* LeakSanitizer's ptrace is allowed there */
	if (!refused(ptrace(PTRACE_TRACEME, 0, NULL, NULL)))
		return 8;
#endif
	if (!refused(syscall(SYS_bpf, 0, NULL, 0)) || !refused(syscall(SYS_io_uring_setup, 1, NULL)))
		return 9;
	if (run(1) != 7)
		return 10; /* the exec'd program inherits the filter */
	return 0;
}

/* The exit status of a child confined in mode that runs the steps (on) or the probe (off,
 * log: its status). */
static int confined_child(enum gw_seccomp_mode mode)
{
	int st = 0;
	pid_t p;

	assert_true((p = fork()) >= 0);
	if (p == 0) {
		if (sandbox_common(NULL) != MLA_OK || sandbox_hook_runner(mode, NULL) != MLA_OK)
			_exit(100);
		_exit(mode == GW_SECCOMP_ON ? confined_steps() : run(1));
	}
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_on(void **state)
{
	(void)state;
	assert_int_equal(confined_child(GW_SECCOMP_ON), 0);
}

static void test_off_and_log(void **state)
{
	(void)state;
	/* the probe's personality goes through, so bit 1 is the filter's in test_on; the other
	 * calls depend on the host (a container may refuse namespaces and keys already) */
	assert_int_equal(confined_child(GW_SECCOMP_OFF) & 1, 0);
	assert_int_equal(confined_child(GW_SECCOMP_LOG) & 1, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on),
		cmocka_unit_test(test_off_and_log),
	};

	if (argc == 2 && strcmp(argv[1], "probe") == 0)
		return probe();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
