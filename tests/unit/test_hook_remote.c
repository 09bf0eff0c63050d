/* Unit tests of hooks run by a hook runner (gateway/core/hook_remote.c, issue 17 §3): the
 * request's encoding both ways and every malformed request refused; then, through a runner
 * forked here, a command's exit status, a missing command, a timeout and two commands side by
 * side, a command the runner does not allow, and a runner gone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hook_remote.h"

static void test_encoding(void **state)
{
	char *argv[] = {"/bin/echo", "a b", "", NULL}, *envp[] = {"X=1", NULL};
	char buf[HOOK_REQ_MAX], copy[HOOK_REQ_MAX];
	struct hook_request req;
	size_t n;

	(void)state;
	n = gw_hook_request_encode(argv, envp, 1234, buf, sizeof(buf));
	assert_int_equal(n, 16 + 10 + 4 + 1 + 4);
	memcpy(copy, buf, n);
	assert_int_equal(gw_hook_request_parse(copy, n, &req), MLA_OK);
	assert_int_equal(req.timeout_ms, 1234);
	assert_string_equal(req.argv[0], "/bin/echo");
	assert_string_equal(req.argv[1], "a b");
	assert_string_equal(req.argv[2], "");
	assert_null(req.argv[3]);
	assert_string_equal(req.envp[0], "X=1");
	assert_null(req.envp[1]);
	/* every shorter prefix, a byte more, no terminator, counts out of range */
	for (size_t k = 0; k < n; k++) {
		memcpy(copy, buf, n);
		assert_int_equal(gw_hook_request_parse(copy, k, &req), MLA_ERR_ARG);
	}
	memcpy(copy, buf, n);
	copy[n] = 'x';
	assert_int_equal(gw_hook_request_parse(copy, n + 1, &req), MLA_ERR_ARG);
	memcpy(copy, buf, n);
	copy[n - 1] = 'x';
	assert_int_equal(gw_hook_request_parse(copy, n, &req), MLA_ERR_ARG);
	memcpy(copy, buf, n);
	copy[11] = 0; /* no command */
	assert_int_equal(gw_hook_request_parse(copy, n, &req), MLA_ERR_ARG);
	memcpy(copy, buf, n);
	copy[15] = HOOK_REQ_STRINGS + 1;
	assert_int_equal(gw_hook_request_parse(copy, n, &req), MLA_ERR_ARG);
	assert_int_equal(gw_hook_request_parse(copy, HOOK_REQ_MAX + 1, &req), MLA_ERR_ARG);
}

static void test_too_large(void **state)
{
	static char big[HOOK_REQ_MAX];
	char *argv[] = {"/bin/true", big, NULL};
	char buf[HOOK_REQ_MAX];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(gw_hook_request_encode(argv, NULL, 1, buf, sizeof(buf)), 0);
}

static int allow_bin(const char *command, void *arg)
{
	(void)arg;
	return strncmp(command, "/bin/", 5) == 0 || strncmp(command, "/no/", 4) == 0;
}

static pid_t runner = -1;

static int start_runner(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if ((runner = fork()) == 0) {
		(void)close(sv[0]);
		gw_hook_serve(sv[1], allow_bin, NULL);
		_exit(0);
	}
	(void)close(sv[1]);
	gw_hook_delegate(sv[0]);
	return 0;
}

static int end_runner(void **state)
{
	int st = -1;

	(void)state;
	(void)close(gw_hook_delegate_fd());
	gw_hook_delegate(-1);
	assert_int_equal(waitpid(runner, &st, 0), runner);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0); /* ends when the channel closes */
	return 0;
}

static void run(char **argv, uint64_t timeout_ms, enum gw_hook_outcome want, int status)
{
	struct gw_hook_result res;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(gw_hook_run(argv, NULL, timeout_ms, &res, &d), MLA_OK);
	assert_int_equal(res.outcome, want);
	assert_int_equal(res.status, status);
}

static void *sleeper(void *arg)
{
	char *argv[] = {"/bin/sleep", "1", NULL};

	(void)arg;
	run(argv, 5000, GW_HOOK_EXITED, 0);
	return NULL;
}

static void test_through_runner(void **state)
{
	char *ok[] = {"/bin/sh", "-c", "exit 7", NULL}, *missing[] = {"/no/such", NULL};
	char *slow[] = {"/bin/sleep", "5", NULL}, *other[] = {"/usr/bin/env", NULL};
	struct gw_hook_result res;
	mla_diag d = {MLA_OK, ""};
	pthread_t t[2];
	int64_t t0;

	(void)state;
	run(ok, 5000, GW_HOOK_EXITED, 7);
	run(missing, 5000, GW_HOOK_NOT_RUN, ENOENT);
	run(slow, 200, GW_HOOK_TIMEOUT, SIGKILL);
	t0 = gw_mono_ms(); /* two commands of a second each, side by side */
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, sleeper, NULL), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_true(gw_mono_ms() - t0 < 1900);
	assert_int_equal(gw_hook_run(other, NULL, 5000, &res, &d), MLA_ERR_FORBIDDEN);
	assert_non_null(strstr(d.msg, "does not name"));
}

static void test_runner_gone(void **state)
{
	char *ok[] = {"/bin/true", NULL};
	struct gw_hook_result res;
	mla_diag d = {MLA_OK, ""};
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	(void)close(sv[1]);
	gw_hook_delegate(sv[0]);
	assert_int_equal(gw_hook_run(ok, NULL, 1000, &res, &d), MLA_ERR_IO);
	assert_non_null(strstr(d.msg, "hook runner"));
	gw_hook_delegate(-1);
	(void)close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test_setup_teardown(test_through_runner, start_runner, end_runner),
		cmocka_unit_test(test_runner_gone),
	};

	(void)signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
