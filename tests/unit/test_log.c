/* The log's repeat limit (gateway/core/log.c, gw_log_limited): one line per (event, cause)
 * per interval from any number of threads, the count of those left out on the next line or
 * in the flush, and a full table that makes room without losing counts. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "mlagw/codec.h"

#define THREADS 4
#define PER_THREAD 500

static char log_path[] = "/tmp/mlagw-test-log-XXXXXX";

/* stderr into a fresh file; returns what it held (caller frees). */
static char *captured(void)
{
	FILE *f;
	long n;
	char *text;

	fflush(stderr);
	assert_non_null(f = fopen(log_path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_non_null(freopen(log_path, "w", stderr));
	return text;
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		gw_log_limited(GW_LOG_ERROR, "store-error", "commit", NULL, "op=commit i=%d", i);
	return NULL;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void test_one_line_per_interval(void **state)
{
	pthread_t t[THREADS];
	char *text;

	(void)state;
	gw_log_set_repeat_interval(60000);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	gw_log_limited(GW_LOG_ERROR, "store-error", "begin", NULL, "op=begin");
	text = captured();
	assert_int_equal(count(text, "store-error"), 2); /* one per cause */
	assert_int_equal(count(text, "suppressed="), 0);
	free(text);
	/* after the interval, the next line carries the count of those left out */
	gw_log_set_repeat_interval(100);
	pause_ms(150);
	gw_log_limited(GW_LOG_ERROR, "store-error", "commit", NULL, "op=commit again");
	text = captured();
	assert_int_equal(count(text, "store-error"), 1);
	assert_non_null(strstr(text, "op=commit again suppressed=1999\n"));
	free(text);
}

static void test_flush_and_full_table(void **state)
{
	char cause[16], *text;

	(void)state;
	gw_log_set_repeat_interval(100);
	for (int i = 0; i < 100; i++) { /* more pairs than the table holds */
		assert_int_equal(mla_snprintf(cause, sizeof(cause), "c%d", i), MLA_OK);
		gw_log_limited(GW_LOG_WARN, "audit-error", cause, NULL, "event=%s", cause);
		gw_log_limited(GW_LOG_WARN, "audit-error", cause, NULL, "event=%s", cause);
	}
	pause_ms(150);
	gw_log_flush_repeats();
	text = captured();
	/* each pair: its first line, and its one repeat counted in a summary line */
	assert_int_equal(count(text, "audit-error"), 200);
	assert_int_equal(count(text, " suppressed=1\n"), 100);
	free(text);
	gw_log_flush_repeats(); /* nothing left */
	text = captured();
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line_per_interval),
		cmocka_unit_test(test_flush_and_full_table),
	};
	int fd = mkstemp(log_path), rc;

	if (fd < 0 || freopen(log_path, "w", stderr) == NULL)
		return 1;
	close(fd);
	gw_log_init("ES", GW_LOG_DEBUG);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(log_path);
	return rc;
}
