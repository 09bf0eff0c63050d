/* Unit tests of the keyholder's and the daemon's confinement (gateway/daemon/sandbox.c,
 * sandbox_daemon.c, issue 17 §3): in a child confined as the keyholder, what it needs still
 * works (reading a file, memory, starting and joining a thread, randomness), clone3 answers
 * ENOSYS, no_new_privs is set and core dumps are off; opening a socket kills it with SIGSYS,
 * as would any call off the list. Confined as the daemon, the same steps and an IPv4 socket
 * work; fork and a packet socket kill it, and in log mode they are let through. The keyholder
 * may keep its own thread on a CPU (sched_setaffinity of pid 0), never another process's. */
#define _GNU_SOURCE /* sched_setaffinity */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/sandbox.h"

static void *thread_body(void *arg)
{
	return arg;
}

/* In the confined child: 0 when everything allowed worked, else a step number. */
static int allowed_steps(void)
{
	char buf[16];
	pthread_t t;
	void *ret = NULL;
	int fd = open("/proc/self/cmdline", O_RDONLY);
	char *p = malloc(1 << 20);

	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 || close(fd) != 0)
		return 1;
	if (p == NULL)
		return 2;
	memset(p, 1, 1 << 20);
	free(p);
	if (pthread_create(&t, NULL, thread_body, buf) != 0 || pthread_join(t, &ret) != 0 ||
	    ret != buf)
		return 3;
	if (getrandom(buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		return 4;
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		return 5;
	return 0;
}

/* The keyholder's own CPU set set again (a channel thread pins itself this way): 0 if done. */
static int keep_own_cpu_set(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 &&
			       sched_setaffinity(0, sizeof(set), &set) == 0
		       ? 0
		       : -1;
}

/* The test process, known before the child is confined (getppid is off the keyholder's list,
 * and a call off the list would kill the child for the wrong reason). */
static pid_t test_process;

/* Another process's CPU set, which the keyholder may not touch. */
static int set_parent_cpu_set(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0
		       ? sched_setaffinity(test_process, sizeof(set), &set)
		       : -1;
}

/* Whether /proc/PID/FILE has a line starting with prefix and then holding want. */
static int proc_line(pid_t pid, const char *file, const char *prefix, const char *want)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strncmp(line, prefix, strlen(prefix)) == 0 && strstr(line, want) != NULL;
	(void)fclose(f);
	return found;
}

enum confinement { AS_KEYHOLDER, AS_DAEMON, AS_DAEMON_LOG };

static mla_err confine(enum confinement as)
{
	mla_err r = sandbox_common(NULL);

	if (as == AS_KEYHOLDER)
		return sandbox_keyholder(NULL);
	return r != MLA_OK ? r : sandbox_daemon(as == AS_DAEMON ? GW_SECCOMP_ON : GW_SECCOMP_LOG,
					       NULL);
}

/* What the daemon may not do once started: a process of its own, a raw socket. */
static void forbidden_to_daemon(int which)
{
	pid_t p;

	if (which == 1 && (p = fork()) == 0)
		_exit(0);
	if (which == 1 && p > 0)
		(void)waitpid(p, NULL, 0);
	if (which == 2)
		(void)socket(AF_PACKET, SOCK_RAW, 0);
}

/* The status of a child confined as told that runs the allowed steps, waits for the parent
 * to look at it (no_new_privs, seccomp mode 2, no core dumps), then, when forbidden is set,
 * tries what is forbidden (the keyholder: a socket; the daemon: 1 fork, 2 a raw socket). */
static int confined_child(enum confinement as, int forbidden)
{
	int st = 0, go[2], ready[2];
	char c = 'x';
	pid_t p;

	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	test_process = getpid();
	assert_true((p = fork()) >= 0);
	if (p == 0) {
		int step;

		int s;

		if (confine(as) != MLA_OK)
			_exit(100);
		if ((step = allowed_steps()) != 0)
			_exit(100 + step);
		if (as != AS_KEYHOLDER && ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 || close(s) != 0))
			_exit(110);
		if (as == AS_KEYHOLDER && keep_own_cpu_set() != 0)
			_exit(111);
		/* not dumpable even without a change of user (systemd's User=): a process of the
		 * same user, a hook command, may not open its /proc/PID/mem (the keyholder's
		 * filter has no prctl to ask with) */
		if (as != AS_KEYHOLDER && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
			_exit(112);
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(99);
		if (forbidden == 1 && as == AS_KEYHOLDER)
			(void)socket(AF_INET, SOCK_STREAM, 0);
		else if (forbidden == 2 && as == AS_KEYHOLDER)
			(void)set_parent_cpu_set();
		else if (forbidden)
			forbidden_to_daemon(forbidden);
		_exit(0);
	}
	/* the child's ends closed here, so a child that died before its word is an end of file,
	 * not a wait for ever */
	close(go[0]);
	close(ready[1]);
	if (read(ready[0], &c, 1) == 1) {
		assert_true(proc_line(p, "status", "NoNewPrivs:", "1"));
		assert_true(proc_line(p, "status", "Seccomp:", "2"));
		assert_true(proc_line(p, "limits", "Max core file size", " 0 "));
		assert_int_equal(write(go[1], &c, 1), 1);
	}
	assert_int_equal(waitpid(p, &st, 0), p);
	close(go[1]);
	close(ready[0]);
	return st;
}

/* The child ran to its end (exit 0), or the filter killed it (SIGSYS). */
static void expect_ran(int st)
{
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void expect_killed(int st)
{
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_allowed(void **state)
{
	(void)state;
	expect_ran(confined_child(AS_KEYHOLDER, 0));
}

static void test_daemon(void **state)
{
#if defined(__SANITIZE_ADDRESS__)
	int first = 2; /* the sanitizers' build lets clone make a process (LeakSanitizer's tracer) */
#else
	int first = 1;
#endif

	(void)state;
	expect_ran(confined_child(AS_DAEMON, 0));
	for (int which = first; which <= 2; which++) {
		expect_killed(confined_child(AS_DAEMON, which));
		expect_ran(confined_child(AS_DAEMON_LOG, which)); /* logged, let through */
	}
}

static void test_socket_kills(void **state)
{
	(void)state;
	expect_killed(confined_child(AS_KEYHOLDER, 1));
}

static void test_other_cpu_set_kills(void **state)
{
	(void)state;
	expect_killed(confined_child(AS_KEYHOLDER, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_socket_kills),
		cmocka_unit_test(test_other_cpu_set_kills),
		cmocka_unit_test(test_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
