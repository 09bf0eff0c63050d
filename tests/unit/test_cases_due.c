/* Unit tests of the `mlagw cases --due` / `--overdue` table (cli/cases_due.c) over rows
 * whose deadlines are computed with a fixed clock: crisis and urgent first, then by due time;
 * the wished date named when it falls due first; paused clocks; the overdue filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cases_due.h"
#include "mlagw/codec.h"

static int64_t T(const char *s)
{
	return (int64_t)mla_time_parse(s) * 1000;
}

static void row(struct cases_due_row *r, const char *id, mla_deadline_priority p,
		const char *kind, mla_deadline_rule_id rule, const char *start, const char *wished,
		const mla_deadline_pause *pause, const char *now)
{
	mla_deadline_rules rules;
	mla_deadline_input in = {NULL, 0, T(start), pause, pause != NULL, MLA_DEADLINE_NO_TIME,
				 T(now)};

	memset(r, 0, sizeof(*r));
	memcpy(r->case_id, id, strlen(id) + 1);
	memcpy(r->peer, "CO", 3);
	memcpy(r->kind, kind, strlen(kind) + 1);
	r->priority = p;
	mla_deadline_rules_default(&rules);
	rules.rule[MLA_DEADLINE_EIO_RECOGNITION].pauses = 1;
	if (rule != MLA_DEADLINE_RULE_N) {
		in.rule = &rules.rule[rule];
		memcpy(r->rule, mla_deadline_rule_name(rule), strlen(mla_deadline_rule_name(rule)) + 1);
	}
	if (wished != NULL)
		assert_int_equal(mla_deadline_wished_end(wished, &in.wished_ms), MLA_OK);
	assert_int_equal(mla_deadline_compute(&in, &r->dl, NULL), MLA_OK);
}

#define NOW "2026-03-10T12:00:00Z"

static void fill(struct cases_due_row r[6])
{
	static const mla_deadline_pause open = {INT64_C(1772323200000) /* 2026-03-01 */,
						MLA_DEADLINE_OPEN};

	row(&r[0], "ES-2026/7", MLA_DEADLINE_NORMAL, "evidence", MLA_DEADLINE_PRODUCTION,
	    "2026-03-01T08:00:00Z", NULL, NULL, NOW);                   /* due 03-12 */
	row(&r[1], "ES-2026/3", MLA_DEADLINE_NORMAL, "extradition", MLA_DEADLINE_EAW,
	    "2026-01-05T08:00:00Z", NULL, NULL, NOW);                   /* overdue: 03-07 */
	row(&r[2], "ES-2026/9", MLA_DEADLINE_CRISIS, "crisis", MLA_DEADLINE_RULE_N,
	    "2026-03-05T12:00:00Z", "2026-03-10", NULL, NOW);           /* wished only: 90.9% */
	row(&r[3], "ES-2026/1", MLA_DEADLINE_URGENT, "mla", MLA_DEADLINE_EIO_RECOGNITION,
	    "2026-02-20T10:00:00Z", "2026-03-20", &open, NOW);          /* paused, wished first */
	row(&r[4], "ES-2026/5", MLA_DEADLINE_NORMAL, "mla", MLA_DEADLINE_RULE_N,
	    "2026-02-20T10:00:00Z", NULL, NULL, NOW);                   /* no due time */
	row(&r[5], "ES-2026/2", MLA_DEADLINE_NORMAL, "evidence", MLA_DEADLINE_PRODUCTION,
	    "2026-02-25T08:00:00Z", "2026-03-01", NULL, NOW);           /* wished first, past */
}

static void test_due_table(void **state)
{
	struct cases_due_row r[6];
	mla_buf b;

	(void)state;
	fill(r);
	/* the paused legal clock: 30 days end 03-23, moved by 9.5 days awaited so far */
	assert_int_equal(r[3].dl.legal.due_ms, T("2026-04-01T12:00:00Z"));
	mla_buf_init(&b, 1 << 16);
	assert_int_equal(cases_due_format(r, 6, CASES_DUE_ALL, T(NOW), &b), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_string_equal((const char *)b.data,
"PRIORITY CASE                     PEER KIND                 BY                   DUE                      LEFT      STATE\n"
"crisis   ES-2026/9                CO   crisis               wished               2026-03-11T00:00:00.000Z 12h00m    due-soon\n"
"urgent   ES-2026/1                CO   mla                  wished               2026-03-21T00:00:00.000Z 10d12h    not-due,paused\n"
"normal   ES-2026/2                CO   evidence             wished               2026-03-02T00:00:00.000Z -8d12h    overdue\n"
"normal   ES-2026/3                CO   extradition          eaw                  2026-03-07T00:00:00.000Z -3d12h    overdue\n"
"normal   ES-2026/7                CO   evidence             production           2026-03-12T00:00:00.000Z 1d12h     not-due\n");
	mla_buf_free(&b);
}

static void test_overdue_table(void **state)
{
	struct cases_due_row r[6];
	mla_buf b;

	(void)state;
	fill(r);
	mla_buf_init(&b, 1 << 16);
	assert_int_equal(cases_due_format(r, 6, CASES_DUE_OVERDUE, T(NOW), &b), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_non_null(strstr((const char *)b.data, "ES-2026/2"));
	assert_non_null(strstr((const char *)b.data, "ES-2026/3"));
	assert_null(strstr((const char *)b.data, "ES-2026/7"));
	assert_null(strstr((const char *)b.data, "ES-2026/9"));
	mla_buf_reset(&b);
	assert_int_equal(cases_due_format(r, 1, CASES_DUE_OVERDUE, T(NOW), &b), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_string_equal((const char *)b.data, "no case overdue\n");
	mla_buf_reset(&b);
	assert_int_equal(cases_due_format(NULL, 0, CASES_DUE_ALL, T(NOW), &b), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_string_equal((const char *)b.data, "no case due\n");
	/* a buffer too small: the error, not a cut table */
	mla_buf_free(&b);
	mla_buf_init(&b, 100);
	assert_int_equal(cases_due_format(r, 6, CASES_DUE_ALL, T(NOW), &b), MLA_ERR_TOO_LARGE);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_table),
		cmocka_unit_test(test_overdue_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
