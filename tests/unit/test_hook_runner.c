/* Unit tests of the hook runner's start (gateway/daemon/hook_runner.c, issue 17 §3): the daemon
 * waits for the runner's word that it is confined. A runner that is confined starts; one that
 * cannot give up root (a user it cannot become) is reported at once, ended and reaped, not
 * found gone at the first hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/hook_runner.h"

static void test_confined_runner_starts(void **state)
{
	pid_t pid = -1;

	(void)state;
	assert_int_equal(hook_runner_start("/nonexistent.conf", -1, NULL, GW_SECCOMP_ON, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0); /* alive, serving */
	hook_runner_end(pid);
	assert_int_equal(kill(pid, 0), -1); /* ended and reaped */
}

static void test_runner_that_cannot_drop_is_reported(void **state)
{
	/* ids left unchanged (-1): as root, root could be regained, which privdrop_become
	 * refuses; not root, initgroups fails: either way the runner cannot start */
	struct privdrop_user nobody = {"mlagw-test-none", (uid_t)-1, (gid_t)-1};
	pid_t pid = -1;

	(void)state;
	errno = 0;
	assert_int_equal(hook_runner_start("/nonexistent.conf", -1, &nobody, GW_SECCOMP_ON, &pid),
			 -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(pid, -1);                      /* nothing to end */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* the runner already reaped */
	assert_int_equal(errno, ECHILD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined_runner_starts),
		cmocka_unit_test(test_runner_that_cannot_drop_is_reported),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
