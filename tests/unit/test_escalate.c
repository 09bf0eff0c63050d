/* Unit tests of the escalation hook (gateway/core/escalate.c on hook.c): a script records the
 * arguments of each call, and the test asserts them (50, 90 and 100 in order after an
 * outage, each once); the daemon's environment does not reach the hook; a hanging command
 * and what it started are killed at the timeout; a missing or non-executable command is
 * reported; exit statuses and signals; fields of the wrong shape never run anything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/escalate.h"
#include "core/hook.h"
#include "mlagw/codec.h"

static char dir[64];

static void path_in(char *out, size_t n, const char *name)
{
	assert_true((size_t)snprintf(out, n, "%s/%s", dir, name) < n);
}

/* Writes an executable script (mode) named name in dir. */
static void script(const char *name, const char *body, mode_t mode, char *path, size_t n)
{
	FILE *f;

	path_in(path, n, name);
	assert_non_null(f = fopen(path, "w"));
	assert_true(fputs(body, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	(void)fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	memcpy(dir, "/tmp/mlagw-escalate-XXXXXX", sizeof("/tmp/mlagw-escalate-XXXXXX"));
	if (mkdtemp(dir) == NULL)
		return -1;
	return setenv("MLAGW_TEST_LEAK", "yes", 1);
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	if ((size_t)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static const char recorder[] = "#!/bin/sh\n"
			       "out=$1; shift\n"
			       "printf '%s|' \"$@\" \"${MLAGW_TEST_LEAK-unset}\" >> \"$out\"\n"
			       "printf '\\n' >> \"$out\"\n";

static void hook_config(struct deadline_config *c, const char *cmd, const char *arg0)
{
	deadline_config_defaults(c);
	memcpy(c->escalate, cmd, strlen(cmd) + 1);
	if (arg0 != NULL) {
		memcpy(c->escalate_args[0], arg0, strlen(arg0) + 1);
		memcpy(c->escalate_args[1], "--queue", sizeof("--queue"));
		c->n_escalate_args = 2;
	}
	c->escalate_timeout_ms = 5000;
}

static mla_deadline_clock legal_clock(const char *now)
{
	static const mla_deadline_rule eaw = {MLA_DEADLINE_DAYS, 60, 30, 0};
	mla_deadline_input in = {&eaw, 0, (int64_t)mla_time_parse("2026-01-10T09:00:00Z") * 1000,
				 NULL, 0, MLA_DEADLINE_NO_TIME,
				 (int64_t)mla_time_parse(now) * 1000};
	mla_deadline_result r;

	assert_int_equal(mla_deadline_compute(&in, &r, NULL), MLA_OK);
	return r.legal;
}

/* A gateway down through 50% and 90%: both fire when it is back, in order, once each; then
 * 100% alone; the arguments are the configured ones and the deadline's, nothing else. */
static void test_recorded_calls(void **state)
{
	const struct gw_escalation e = {"CO-2026/0042", "extradition", "legal", "eaw", 0};
	struct deadline_config c;
	char cmd[128], rec[128];
	unsigned fired = 0;
	mla_deadline_clock k;

	(void)state;
	script("rec.sh", recorder, 0700, cmd, sizeof(cmd));
	path_in(rec, sizeof(rec), "calls");
	hook_config(&c, cmd, rec);

	k = legal_clock("2026-01-30T00:00:00Z"); /* 40% */
	assert_int_equal(gw_escalate_due(&c, &e, &k, &fired), 0);
	assert_null(slurp(rec));
	k = legal_clock("2026-03-07T00:00:00Z"); /* 94% */
	assert_int_equal(gw_escalate_due(&c, &e, &k, &fired), 2);
	assert_int_equal(fired, 90);
	assert_int_equal(gw_escalate_due(&c, &e, &k, &fired), 0);
	k = legal_clock("2026-03-12T00:00:00Z"); /* due: 2026-03-12T00:00 */
	assert_int_equal(gw_escalate_due(&c, &e, &k, &fired), 1);
	assert_int_equal(fired, 100);
	k = legal_clock("2026-06-01T00:00:00Z");
	assert_int_equal(gw_escalate_due(&c, &e, &k, &fired), 0);
	assert_string_equal(slurp(rec),
			    "--queue|CO-2026/0042|50|2026-03-12T00:00:00.000Z|extradition|legal|eaw|unset|\n"
			    "--queue|CO-2026/0042|90|2026-03-12T00:00:00.000Z|extradition|legal|eaw|unset|\n"
			    "--queue|CO-2026/0042|100|2026-03-12T00:00:00.000Z|extradition|legal|eaw|unset|\n");
}

static int gone_or_zombie(pid_t pid)
{
	char path[64], *s;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	assert_true((size_t)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid) <
		    sizeof(path));
	s = slurp(path);
	return s == NULL || ((s = strrchr(s, ')')) != NULL && s[1] == ' ' && s[2] == 'Z');
}

/* A command that hangs is killed at the timeout, with what it started. */
static void test_timeout(void **state)
{
	char cmd[128], pidfile[128], *pid_text;
	char *argv[] = {cmd, pidfile, NULL};
	struct gw_hook_result res;
	struct timespec ts = {0, 20000000};
	uint64_t v = 0;
	pid_t child;
	int i;

	(void)state;
	script("hang.sh", "#!/bin/sh\nsleep 30 &\necho $! > \"$1\"\nwait\n", 0700, cmd,
	       sizeof(cmd));
	path_in(pidfile, sizeof(pidfile), "hang.pid");
	assert_int_equal(gw_hook_run(argv, NULL, 300, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_TIMEOUT);
	assert_true(res.ms >= 300 && res.ms < 10000);
	assert_non_null(pid_text = slurp(pidfile));
	assert_int_equal(mla_parse_u64n(pid_text, strcspn(pid_text, "\n"), 2, INT32_MAX, &v),
			 MLA_OK);
	child = (pid_t)v;
	for (i = 0; i < 100 && !gone_or_zombie(child); i++)
		nanosleep(&ts, NULL);
	assert_true(gone_or_zombie(child));
}

static void test_missing_and_not_executable(void **state)
{
	char missing[128], plain[128], what[96];
	char *argv[] = {missing, NULL}, *argv2[] = {plain, NULL}, *rel[] = {"rec.sh", NULL};
	struct gw_hook_result res;
	struct deadline_config c;
	const struct gw_escalation e = {"CASE-1", "evidence", "wished", "wished", 0};
	mla_diag d = {0, ""};

	(void)state;
	path_in(missing, sizeof(missing), "no-such-hook");
	assert_int_equal(gw_hook_run(argv, NULL, 1000, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_NOT_RUN);
	assert_int_equal(res.status, ENOENT);
	gw_hook_describe(&res, what, sizeof(what));
	assert_non_null(strstr(what, "not run: "));
	script("plain.sh", "#!/bin/sh\nexit 0\n", 0600, plain, sizeof(plain));
	assert_int_equal(gw_hook_run(argv2, NULL, 1000, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_NOT_RUN);
	assert_int_equal(res.status, EACCES);
	assert_int_equal(gw_hook_run(rel, NULL, 1000, &res, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "absolute path"));
	/* through the escalation: reported (and logged), not an error of the caller's */
	hook_config(&c, missing, NULL);
	assert_int_equal(gw_escalate_run(&c, &e, 50, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_NOT_RUN);
	/* no command configured */
	deadline_config_defaults(&c);
	assert_int_equal(gw_escalate_run(&c, &e, 50, &res, NULL), MLA_ERR_NOT_FOUND);
}

static void test_exit_and_signal(void **state)
{
	char cmd[128];
	char *argv[] = {cmd, NULL};
	struct gw_hook_result res;
	char what[96];

	(void)state;
	script("three.sh", "#!/bin/sh\nexit 3\n", 0700, cmd, sizeof(cmd));
	assert_int_equal(gw_hook_run(argv, NULL, 5000, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_EXITED);
	assert_int_equal(res.status, 3);
	gw_hook_describe(&res, what, sizeof(what));
	assert_string_equal(what, "exited 3");
	script("term.sh", "#!/bin/sh\nkill -TERM $$\nsleep 5\n", 0700, cmd, sizeof(cmd));
	assert_int_equal(gw_hook_run(argv, NULL, 5000, &res, NULL), MLA_OK);
	assert_int_equal(res.outcome, GW_HOOK_SIGNALED);
	assert_int_equal(res.status, SIGTERM);
}

/* A daemon that ignored SIGCHLD would lose the status: reported as lost, never as exit 0. */
static void test_status_lost(void **state)
{
	char cmd[128];
	char *argv[] = {cmd, NULL};
	struct gw_hook_result res;

	(void)state;
	script("zero.sh", "#!/bin/sh\nexit 0\n", 0700, cmd, sizeof(cmd));
	assert_true(signal(SIGCHLD, SIG_IGN) != SIG_ERR);
	assert_int_equal(gw_hook_run(argv, NULL, 5000, &res, NULL), MLA_OK);
	assert_true(signal(SIGCHLD, SIG_DFL) != SIG_ERR);
	assert_int_equal(res.outcome, GW_HOOK_LOST);
	assert_int_equal(res.status, ECHILD);
}

/* A field that could carry anything but an identifier: nothing runs. */
static void test_wrong_shape(void **state)
{
	static const struct gw_escalation bad[] = {
		{"CASE 1", "evidence", "legal", "production", 0},
		{"", "evidence", "legal", "production", 0},
		{"CASE-1", "Evidence", "legal", "production", 0},
		{"CASE-1", "evidence", "legal;", "production", 0},
		{"CASE-1", "evidence", "legal", "production", -1},
		{"CASE-1", NULL, "legal", "production", 0},
		{"0123456789012345678901234567890123456789012345678901234567890123X", "evidence",
		 "legal", "production", 0},
	};
	struct deadline_config c;
	struct gw_hook_result res;
	char cmd[128], rec[128];

	(void)state;
	script("rec2.sh", recorder, 0700, cmd, sizeof(cmd));
	path_in(rec, sizeof(rec), "calls2");
	hook_config(&c, cmd, rec);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_escalate_run(&c, &bad[i], 90, &res, NULL), MLA_ERR_ARG);
	assert_null(slurp(rec));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_calls),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_missing_and_not_executable),
		cmocka_unit_test(test_exit_and_signal),
		cmocka_unit_test(test_status_lost),
		cmocka_unit_test(test_wrong_shape),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
