/* The log line per target (gateway/core/log_line.c): the same event text everywhere, the time
 * only on standard error, the journal's "<N>" priority prefix, syslog's priorities, and
 * $JOURNAL_STREAM matched against standard error's device and inode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

#define T0 INT64_C(1764873600123) /* 2025-12-04T18:40:00.123Z */

static void test_stderr_line(void **state)
{
	char line[256];

	(void)state;
	gw_log_format(line, sizeof(line), GW_LOG_TO_STDERR, GW_LOG_INFO, T0, "ES", "started",
		      NULL, "peers=2", 0);
	assert_string_equal(line, "2025-12-04T18:40:00.123Z info ES started msg=- peers=2");
	gw_log_format(line, sizeof(line), GW_LOG_TO_STDERR, GW_LOG_ERROR, T0, "CO",
		      "store-error", "m-1", "op=commit", 3);
	assert_string_equal(line,
			    "2025-12-04T18:40:00.123Z error CO store-error msg=m-1 op=commit suppressed=3");
}

static void test_journal_line(void **state)
{
	static const struct {
		enum gw_log_level level;
		const char *want;
	} cases[] = {
		{GW_LOG_DEBUG, "<7>debug ES ev msg=- a=1"},
		{GW_LOG_INFO, "<6>info ES ev msg=- a=1"},
		{GW_LOG_WARN, "<4>warn ES ev msg=- a=1"},
		{GW_LOG_ERROR, "<3>error ES ev msg=- a=1"},
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gw_log_format(line, sizeof(line), GW_LOG_TO_JOURNAL, cases[i].level, T0, "ES",
			      "ev", "", "a=1", 0);
		assert_string_equal(line, cases[i].want);
	}
}

static void test_syslog_line(void **state)
{
	char line[256];

	(void)state;
	gw_log_format(line, sizeof(line), GW_LOG_TO_SYSLOG, GW_LOG_WARN, T0, "MX", "pid-file",
		      NULL, "path=/run/x", 0);
	assert_string_equal(line, "warn MX pid-file msg=- path=/run/x");
	assert_int_equal(gw_log_priority(GW_LOG_DEBUG), LOG_DEBUG);
	assert_int_equal(gw_log_priority(GW_LOG_INFO), LOG_INFO);
	assert_int_equal(gw_log_priority(GW_LOG_WARN), LOG_WARNING);
	assert_int_equal(gw_log_priority(GW_LOG_ERROR), LOG_ERR);
}

/* A line longer than the buffer is cut, never overrun. */
static void test_cut(void **state)
{
	char line[32];

	(void)state;
	memset(line, 'x', sizeof(line));
	gw_log_format(line, sizeof(line), GW_LOG_TO_JOURNAL, GW_LOG_INFO, T0, "ES", "event",
		      NULL, "details=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
	assert_true(strlen(line) < sizeof(line));
	assert_memory_equal(line, "<6>info ES event", 16);
}

static void test_journal_stream(void **state)
{
	char path[] = "/tmp/mlagw-test-journal-XXXXXX", js[64];
	struct stat st;
	int fd;

	(void)state;
	assert_true((fd = mkstemp(path)) >= 0);
	assert_true(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	assert_int_equal(fstat(fd, &st), 0);
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(gw_log_stderr_is_journal(), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	assert_int_equal(gw_log_stderr_is_journal(), 1);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", js, 1); /* another file: stderr was redirected since */
	assert_int_equal(gw_log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "12:", 1);
	assert_int_equal(gw_log_stderr_is_journal(), 0);
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_int_equal(gw_log_stderr_is_journal(), 0);
	unsetenv("JOURNAL_STREAM");
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stderr_line), cmocka_unit_test(test_journal_line),
		cmocka_unit_test(test_syslog_line), cmocka_unit_test(test_cut),
		cmocka_unit_test(test_journal_stream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
