/* Unit tests of mla_require (include/mlagw/error.h): a failed invariant aborts with
 * "mlagw: invariant failed: EXPR at FILE:LINE" on stderr; a holding one evaluates its
 * condition exactly once and carries on. The abort runs in a forked child. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "mlagw/error.h"

static int evaluated;

static int count_true(int v)
{
	evaluated++;
	return v;
}

/* Runs mla_require(count_true(0) == 1) in a child with stderr on a pipe; returns what the
 * child wrote and its wait status in *status. */
static void failing_child(char *out, size_t cap, int *status, int *line)
{
	int p[2];
	pid_t pid;
	size_t n = 0;
	ssize_t k;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	*line = __LINE__ + 5;
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(p[0]);
		(void)dup2(p[1], STDERR_FILENO);
		mla_require(count_true(0) == 1);
		_exit(0); /* reached only if mla_require returned */
	}
	close(p[1]);
	while (n + 1 < cap && (k = read(p[0], out + n, cap - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, status, 0), pid);
}

static void test_failed_invariant_aborts(void **state)
{
	char out[512], want[256];
	int status = 0, line = 0;

	(void)state;
	failing_child(out, sizeof(out), &status, &line);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_int_equal(mla_snprintf(want, sizeof(want),
				      "mlagw: invariant failed: count_true(0) == 1 at %s:%d\n",
				      __FILE__, line), MLA_OK);
	/* a sanitizer build may add its own report after the line */
	if (strncmp(out, want, strlen(want)) != 0)
		fail_msg("stderr: %s, want %s", out, want);
}

static void test_holding_invariant_continues(void **state)
{
	(void)state;
	evaluated = 0;
	mla_require(count_true(1) == 1);
	assert_int_equal(evaluated, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_invariant_aborts),
		cmocka_unit_test(test_holding_invariant_continues),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
