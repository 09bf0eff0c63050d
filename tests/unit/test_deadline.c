/* Unit tests of the case deadlines (protocol/case/deadline*.c, SPEC 16.9) with fixed clocks:
 * days and hours counted as Regulation 1182/71 art. 3 counts them across month ends, Feb 29
 * and the year end; pauses closed and open; the extension; the wished date before and after
 * the legal one; the escalation thresholds; the order of cases; the rules' text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "mlagw/deadline.h"

#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)

/* "2024-02-28T15:00:00Z" in milliseconds. */
static int64_t T(const char *s)
{
	time_t t = mla_time_parse(s);

	assert_true(t >= 0);
	return (int64_t)t * 1000;
}

static const char *fmt(int64_t ms)
{
	static char out[4][MLA_TIME_MS_LEN];
	static unsigned i;

	i = (i + 1) % 4;
	mla_time_ms_format(ms, out[i]);
	return out[i];
}

static const mla_deadline_rule days10 = {MLA_DEADLINE_DAYS, 10, 0, 0};
static const mla_deadline_rule days1 = {MLA_DEADLINE_DAYS, 1, 0, 0};
static const mla_deadline_rule hours8 = {MLA_DEADLINE_HOURS, 8, 0, 0};
static const mla_deadline_rule days30x = {MLA_DEADLINE_DAYS, 30, 30, 1};

static mla_deadline_result compute(const mla_deadline_rule *rule, const char *start,
				   const mla_deadline_pause *p, size_t np, int64_t wished,
				   const char *now)
{
	mla_deadline_input in = {rule, 0, T(start), p, np, wished, T(now)};
	mla_deadline_result res;
	mla_diag d = {0, ""};

	assert_int_equal(mla_deadline_compute(&in, &res, &d), MLA_OK);
	return res;
}

static const char *legal_due(const mla_deadline_rule *rule, const char *start)
{
	mla_deadline_result r = compute(rule, start, NULL, 0, MLA_DEADLINE_NO_TIME, start);

	assert_true(r.legal.set);
	return fmt(r.legal.due_ms);
}

/* The day of the start is not counted; the period ends with its last day (at 24:00 UTC). */
static void test_days_across_month_ends(void **state)
{
	(void)state;
	assert_string_equal(legal_due(&days10, "2026-01-25T10:30:00Z"), "2026-02-05T00:00:00.000Z");
	assert_string_equal(legal_due(&days10, "2026-04-25T00:00:00Z"), "2026-05-06T00:00:00.000Z");
	assert_string_equal(legal_due(&days10, "2026-04-25T23:59:59Z"), "2026-05-06T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2026-01-31T12:00:00Z"), "2026-02-02T00:00:00.000Z");
	/* 30-day and 31-day months */
	assert_string_equal(legal_due(&days1, "2026-04-29T08:00:00Z"), "2026-05-01T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2026-03-30T08:00:00Z"), "2026-04-01T00:00:00.000Z");
}

static void test_leap_day_and_year_end(void **state)
{
	const mla_deadline_rule d60 = {MLA_DEADLINE_DAYS, 60, 0, 0};

	(void)state;
	/* Feb 29 of a leap year is a day of the period; not in 2026 */
	assert_string_equal(legal_due(&days1, "2024-02-28T15:00:00Z"), "2024-03-01T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2026-02-28T15:00:00Z"), "2026-03-02T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2024-02-29T15:00:00Z"), "2024-03-02T00:00:00.000Z");
	assert_string_equal(legal_due(&days10, "2024-02-25T09:00:00Z"), "2024-03-07T00:00:00.000Z");
	assert_string_equal(legal_due(&days10, "2026-02-25T09:00:00Z"), "2026-03-08T00:00:00.000Z");
	/* 2100 is not a leap year, 2000 was */
	assert_string_equal(legal_due(&days1, "2100-02-28T01:00:00Z"), "2100-03-02T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2000-02-28T01:00:00Z"), "2000-03-01T00:00:00.000Z");
	/* the year end */
	assert_string_equal(legal_due(&days10, "2026-12-25T18:00:00Z"), "2027-01-05T00:00:00.000Z");
	assert_string_equal(legal_due(&days1, "2026-12-31T23:59:59Z"), "2027-01-02T00:00:00.000Z");
	/* 60 days over February of a leap year */
	assert_string_equal(legal_due(&d60, "2024-01-15T12:00:00Z"), "2024-03-16T00:00:00.000Z");
}

/* The hour of the start is not counted: 8 hours from 10:20 end at 19:00. */
static void test_emergency_hours(void **state)
{
	const mla_deadline_rule h96 = {MLA_DEADLINE_HOURS, 96, 0, 0};

	(void)state;
	assert_string_equal(legal_due(&hours8, "2026-03-10T10:20:00Z"), "2026-03-10T19:00:00.000Z");
	assert_string_equal(legal_due(&hours8, "2026-03-10T10:00:00Z"), "2026-03-10T19:00:00.000Z");
	assert_string_equal(legal_due(&hours8, "2024-02-29T20:59:59Z"), "2024-03-01T05:00:00.000Z");
	assert_string_equal(legal_due(&hours8, "2026-12-31T22:10:00Z"), "2027-01-01T07:00:00.000Z");
	assert_string_equal(legal_due(&h96, "2026-02-26T10:20:00Z"), "2026-03-02T11:00:00.000Z");
}

/* Elapsed fraction and state along one deadline. */
static void test_fraction_and_state(void **state)
{
	/* 10 days from 2026-01-25T10:30: 11 days minus 10.5 hours of the first day (253.5 h) */
	const char *start = "2026-01-25T10:30:00Z";
	mla_deadline_result r;

	(void)state;
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, start);
	assert_int_equal(r.legal.length_ms, 253 * HOUR + HOUR / 2);
	assert_int_equal(r.legal.permille, 0);
	assert_int_equal(r.state, MLA_DEADLINE_NOT_DUE);
	assert_false(r.paused);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-01-30T17:15:00Z");
	assert_int_equal(r.legal.permille, 500); /* 126.75 h of 253.5 */
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-04T00:00:00Z");
	assert_int_equal(r.legal.state, MLA_DEADLINE_DUE_SOON);
	assert_int_equal(r.legal.permille, 905);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-04T23:59:59Z");
	assert_int_equal(r.state, MLA_DEADLINE_DUE_SOON);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-05T00:00:00Z");
	assert_int_equal(r.state, MLA_DEADLINE_OVERDUE);
	assert_int_equal(r.legal.permille, 1000);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-15T13:30:00Z");
	assert_int_equal(r.legal.permille, 2000);
	assert_string_equal(fmt(r.due_ms), "2026-02-05T00:00:00.000Z");
	/* a clock read before the start (another gateway's clock behind) shows nothing elapsed */
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-01-25T10:00:00Z");
	assert_int_equal(r.legal.permille, 0);
}

/* A closed pause moves the deadline by its length; one before the start counts from it. */
static void test_pause_closed(void **state)
{
	mla_deadline_pause p[2] = {{T("2026-01-28T12:00:00Z"), T("2026-02-02T18:30:00Z")},
				   {T("2026-02-10T00:00:00Z"), T("2026-02-11T00:00:00Z")}};
	mla_deadline_result r;

	(void)state;
	/* 30 days from Jan 20 end Feb 20 at 00:00; + 5 d 6.5 h + 1 d */
	r = compute(&days30x, "2026-01-20T09:00:00Z", p, 2, MLA_DEADLINE_NO_TIME,
		    "2026-02-12T00:00:00Z");
	assert_string_equal(fmt(r.legal.due_ms), "2026-02-26T06:30:00.000Z");
	assert_int_equal(r.paused_ms, 6 * DAY + 6 * HOUR + HOUR / 2);
	assert_false(r.paused);
	/* the same pauses on a rule that does not pause: ignored */
	r = compute(&days10, "2026-01-20T09:00:00Z", p, 2, MLA_DEADLINE_NO_TIME,
		    "2026-02-12T00:00:00Z");
	assert_string_equal(fmt(r.legal.due_ms), "2026-01-31T00:00:00.000Z");
	assert_int_equal(r.paused_ms, 0);
	assert_int_equal(r.state, MLA_DEADLINE_OVERDUE);
	/* a pause that starts after the deadline passed does not revive it */
	{
		mla_deadline_pause late = {T("2026-02-25T00:00:00Z"), T("2026-03-05T00:00:00Z")};
		r = compute(&days30x, "2026-01-20T09:00:00Z", &late, 1, MLA_DEADLINE_NO_TIME,
			    "2026-03-10T00:00:00Z");
		assert_string_equal(fmt(r.legal.due_ms), "2026-02-20T00:00:00.000Z");
		assert_int_equal(r.state, MLA_DEADLINE_OVERDUE);
	}
}

/* An open pause: the clock stands still, the due time moves with now, nothing goes overdue. */
static void test_pause_open(void **state)
{
	mla_deadline_pause p = {T("2026-02-15T00:00:00Z"), MLA_DEADLINE_OPEN};
	mla_deadline_result a, b;

	(void)state;
	a = compute(&days30x, "2026-01-20T09:00:00Z", &p, 1, MLA_DEADLINE_NO_TIME,
		    "2026-02-25T00:00:00Z");
	assert_true(a.paused);
	assert_int_equal(a.paused_ms, 10 * DAY);
	assert_string_equal(fmt(a.legal.due_ms), "2026-03-02T00:00:00.000Z");
	assert_int_equal(a.state, MLA_DEADLINE_NOT_DUE);
	b = compute(&days30x, "2026-01-20T09:00:00Z", &p, 1, MLA_DEADLINE_NO_TIME,
		    "2026-04-25T00:00:00Z");
	assert_true(b.paused);
	assert_int_equal(b.legal.permille, a.legal.permille); /* frozen */
	assert_int_equal(b.legal.due_ms - a.legal.due_ms, 59 * DAY);
	assert_int_equal(b.state, MLA_DEADLINE_NOT_DUE);
	/* a pause not yet begun (its start after now) does nothing */
	p.from_ms = T("2026-03-01T00:00:00Z");
	a = compute(&days30x, "2026-01-20T09:00:00Z", &p, 1, MLA_DEADLINE_NO_TIME,
		    "2026-02-25T00:00:00Z");
	assert_false(a.paused);
	assert_string_equal(fmt(a.legal.due_ms), "2026-02-20T00:00:00.000Z");
}

static void test_extension(void **state)
{
	mla_deadline_input in = {&days30x, 1, T("2026-01-20T09:00:00Z"), NULL, 0,
				 MLA_DEADLINE_NO_TIME, T("2026-02-21T00:00:00Z")};
	mla_deadline_result r;
	mla_diag d = {0, ""};

	(void)state;
	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_OK);
	assert_string_equal(fmt(r.legal.due_ms), "2026-03-22T00:00:00.000Z");
	assert_int_equal(r.legal.length_ms, 60 * DAY + 15 * HOUR);
	assert_int_equal(r.state, MLA_DEADLINE_NOT_DUE);
	/* a rule without an extension refuses one */
	in.rule = &days10;
	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "no extension"));
}

static void test_wished_date(void **state)
{
	int64_t w = 0;
	mla_deadline_result r;

	(void)state;
	assert_int_equal(mla_deadline_wished_end("2024-02-29", &w), MLA_OK);
	assert_string_equal(fmt(w), "2024-03-01T00:00:00.000Z");
	assert_int_equal(mla_deadline_wished_end("2026-12-31", &w), MLA_OK);
	assert_string_equal(fmt(w), "2027-01-01T00:00:00.000Z");
	assert_int_equal(mla_deadline_wished_end("2026-02-29", &w), MLA_ERR_ARG);
	assert_int_equal(mla_deadline_wished_end("2026-04-31", &w), MLA_ERR_ARG);
	assert_int_equal(mla_deadline_wished_end("2026-4-30", &w), MLA_ERR_ARG);
	assert_int_equal(mla_deadline_wished_end("2026-04-30Z", &w), MLA_ERR_ARG);
	assert_int_equal(mla_deadline_wished_end("1969-12-31", &w), MLA_ERR_ARG);
	assert_int_equal(mla_deadline_wished_end("+026-04-30", &w), MLA_ERR_ARG);

	/* wished earlier than the legal deadline: it is the due time, and goes overdue first */
	assert_int_equal(mla_deadline_wished_end("2026-01-29", &w), MLA_OK);
	r = compute(&days10, "2026-01-25T10:30:00Z", NULL, 0, w, "2026-01-30T01:00:00Z");
	assert_string_equal(fmt(r.due_ms), "2026-01-30T00:00:00.000Z");
	assert_int_equal(r.wished.state, MLA_DEADLINE_OVERDUE);
	assert_int_equal(r.legal.state, MLA_DEADLINE_NOT_DUE);
	assert_int_equal(r.state, MLA_DEADLINE_OVERDUE);
	/* wished later: the legal deadline is the due time */
	assert_int_equal(mla_deadline_wished_end("2026-03-31", &w), MLA_OK);
	r = compute(&days10, "2026-01-25T10:30:00Z", NULL, 0, w, "2026-02-05T01:00:00Z");
	assert_string_equal(fmt(r.due_ms), "2026-02-05T00:00:00.000Z");
	assert_int_equal(r.wished.state, MLA_DEADLINE_NOT_DUE);
	assert_int_equal(r.state, MLA_DEADLINE_OVERDUE);
	/* only a wished date (no legal rule), and a pause does not move it */
	{
		mla_deadline_pause p = {T("2026-01-26T00:00:00Z"), MLA_DEADLINE_OPEN};
		r = compute(NULL, "2026-01-25T10:30:00Z", &p, 1, w, "2026-03-30T00:00:00Z");
		assert_false(r.legal.set);
		assert_false(r.paused);
		assert_string_equal(fmt(r.due_ms), "2026-04-01T00:00:00.000Z");
		assert_int_equal(r.state, MLA_DEADLINE_DUE_SOON);
	}
	/* neither: no due time */
	r = compute(NULL, "2026-01-25T10:30:00Z", NULL, 0, MLA_DEADLINE_NO_TIME,
		    "2026-03-30T00:00:00Z");
	assert_int_equal(r.due_ms, MLA_DEADLINE_NO_TIME);
	assert_int_equal(r.state, MLA_DEADLINE_NOT_DUE);
}

static void expect_refused(const mla_deadline_pause *p, size_t n, const char *part)
{
	mla_deadline_input in = {&days30x, 0, T("2026-01-20T09:00:00Z"), p, n,
				 MLA_DEADLINE_NO_TIME, T("2026-02-21T00:00:00Z")};
	mla_deadline_result r;
	mla_diag d = {0, ""};

	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, part));
	assert_int_equal(r.due_ms, MLA_DEADLINE_NO_TIME);
}

static void test_bad_input(void **state)
{
	int64_t a = T("2026-01-22T00:00:00Z"), b = T("2026-01-23T00:00:00Z");
	mla_deadline_pause reversed = {b, a}, overlap[2] = {{a, b}, {a + 1, b + 1}};
	mla_deadline_pause open_first[2] = {{a, MLA_DEADLINE_OPEN}, {b, b + 1}};
	mla_deadline_pause negative = {-1, a};
	mla_deadline_pause many[MLA_DEADLINE_PAUSES_MAX + 1];
	mla_deadline_input in = {&days10, 0, -5, NULL, 0, MLA_DEADLINE_NO_TIME, a};
	mla_deadline_result r;
	mla_diag d = {0, ""};

	(void)state;
	expect_refused(&reversed, 1, "ends before it starts");
	expect_refused(overlap, 2, "starts before the end");
	expect_refused(open_first, 2, "open but not the last");
	expect_refused(&negative, 1, "out of range");
	for (size_t i = 0; i < MLA_DEADLINE_PAUSES_MAX + 1; i++)
		many[i] = (mla_deadline_pause){a + (int64_t)i * 10, a + (int64_t)i * 10 + 5};
	expect_refused(many, MLA_DEADLINE_PAUSES_MAX + 1, "more than 64 pauses");
	in.start_ms = a - DAY;
	in.rule = &days30x;
	in.pauses = many;
	in.n_pauses = MLA_DEADLINE_PAUSES_MAX; /* the maximum is taken */
	in.now_ms = a + DAY;
	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_OK);
	assert_int_equal(r.paused_ms, MLA_DEADLINE_PAUSES_MAX * 5);
	in = (mla_deadline_input){&days10, 0, -5, NULL, 0, MLA_DEADLINE_NO_TIME, a};
	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_ERR_ARG);
	in.start_ms = a;
	in.wished_ms = MLA_DEADLINE_TIME_MAX + 1;
	assert_int_equal(mla_deadline_compute(&in, &r, &d), MLA_ERR_ARG);
}

/* Table: the permille reached, the highest threshold fired -> the thresholds to fire now. */
static void test_escalations(void **state)
{
	static const struct {
		int64_t permille;
		unsigned fired;
		size_t n;
		unsigned want[3];
	} rows[] = {
		{0, 0, 0, {0}},         {499, 0, 0, {0}},       {500, 0, 1, {50}},
		{899, 50, 0, {0}},      {900, 50, 1, {90}},     {900, 0, 2, {50, 90}},
		{1000, 0, 3, {50, 90, 100}}, /* down through all three: each once, in order */
		{1000, 50, 2, {90, 100}}, {1000, 90, 1, {100}}, {2500, 100, 0, {0}},
		{950, 90, 0, {0}},      {999, 0, 2, {50, 90}},  {-1, 0, 0, {0}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		unsigned out[MLA_DEADLINE_THRESHOLDS] = {0};
		size_t n = mla_deadline_escalations(rows[i].permille, rows[i].fired, out);
		assert_int_equal(n, rows[i].n);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(out[j], rows[i].want[j]);
	}
}

/* A gateway down from 40% to 95%: the thresholds computed from the deadline's own clock. */
static void test_escalation_after_outage(void **state)
{
	const char *start = "2026-01-25T10:30:00Z";
	unsigned out[MLA_DEADLINE_THRESHOLDS], fired = 0;
	mla_deadline_result r;
	size_t n;

	(void)state;
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-01-29T10:00:00Z");
	assert_int_equal(mla_deadline_escalations(r.legal.permille, fired, out), 0);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-04T12:00:00Z");
	n = mla_deadline_escalations(r.legal.permille, fired, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 50);
	assert_int_equal(out[1], 90);
	fired = out[n - 1];
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-04T13:00:00Z");
	assert_int_equal(mla_deadline_escalations(r.legal.permille, fired, out), 0);
	r = compute(&days10, start, NULL, 0, MLA_DEADLINE_NO_TIME, "2026-02-05T00:00:00Z");
	assert_int_equal(mla_deadline_escalations(r.legal.permille, fired, out), 1);
	assert_int_equal(out[0], 100);
}

static void test_rank(void **state)
{
	mla_deadline_rank c[] = {
		{MLA_DEADLINE_NORMAL, 3000, "n-late"},
		{MLA_DEADLINE_NORMAL, MLA_DEADLINE_NO_TIME, "n-none"},
		{MLA_DEADLINE_URGENT, 9000, "u-late"},
		{MLA_DEADLINE_NORMAL, 1000, "n-early"},
		{MLA_DEADLINE_CRISIS, MLA_DEADLINE_NO_TIME, "c-none"},
		{MLA_DEADLINE_URGENT, 5000, "u-b"},
		{MLA_DEADLINE_URGENT, 5000, "u-a"},
		{MLA_DEADLINE_CRISIS, 8000, "c-due"},
	};
	static const char *const want[] = {"c-due", "c-none", "u-a", "u-b", "u-late",
					   "n-early", "n-late", "n-none"};

	(void)state;
	qsort(c, sizeof(c) / sizeof(c[0]), sizeof(c[0]), mla_deadline_rank_cmp);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		assert_string_equal(c[i].case_id, want[i]);
}

static void expect_rule(const char *text, mla_deadline_unit unit, unsigned count,
			unsigned ext, int pauses, const char *back)
{
	mla_deadline_rule r;
	const char *why = "x";
	char out[64];

	assert_int_equal(mla_deadline_rule_parse(text, &r, &why), MLA_OK);
	assert_null(why);
	assert_int_equal(r.unit, unit);
	assert_int_equal(r.count, count);
	assert_int_equal(r.extension, ext);
	assert_int_equal(r.pauses, pauses);
	assert_int_equal(mla_deadline_rule_format(&r, out, sizeof(out)), MLA_OK);
	assert_string_equal(out, back);
}

static void expect_bad_rule(const char *text, const char *part)
{
	mla_deadline_rule r;
	const char *why = NULL;

	assert_int_equal(mla_deadline_rule_parse(text, &r, &why), MLA_ERR_CONFIG);
	assert_non_null(why);
	assert_non_null(strstr(why, part));
}

static void test_rule_text(void **state)
{
	(void)state;
	expect_rule("10d", MLA_DEADLINE_DAYS, 10, 0, 0, "10d");
	expect_rule(" 8h ", MLA_DEADLINE_HOURS, 8, 0, 0, "8h");
	expect_rule("60d extend 30d", MLA_DEADLINE_DAYS, 60, 30, 0, "60d extend 30d");
	expect_rule("30d  extend\t30d pause", MLA_DEADLINE_DAYS, 30, 30, 1, "30d extend 30d pause");
	expect_rule("96h pause", MLA_DEADLINE_HOURS, 96, 0, 1, "96h pause");
	expect_rule("none", MLA_DEADLINE_OFF, 0, 0, 0, "none");
	expect_rule("3660d", MLA_DEADLINE_DAYS, 3660, 0, 0, "3660d");
	expect_bad_rule("", "expected none");
	expect_bad_rule("10", "days (d) or hours (h)");
	expect_bad_rule("10 d", "days (d) or hours (h)");
	expect_bad_rule("10m", "days (d) or hours (h)");
	expect_bad_rule("-1d", "days (d) or hours (h)");
	expect_bad_rule("0d", "1 to 3660");
	expect_bad_rule("3661d", "1 to 3660");
	expect_bad_rule("999999999999d", "at most 3660");
	expect_bad_rule("60d extend", "extend needs a duration");
	expect_bad_rule("60d extend 30h", "deadline's unit");
	expect_bad_rule("60d pause extend 30d", "expected none");
	expect_bad_rule("60d pause pause", "expected none");
	expect_bad_rule("none pause", "days (d) or hours (h)");
	expect_bad_rule("60d extend 30d pause now", "expected none");
	expect_bad_rule("1234567890123456789012345678901234567890123456789012345678901234",
			"longer than 63");
}

static void test_defaults_and_names(void **state)
{
	mla_deadline_rules r;
	char out[64];
	static const char *const want[MLA_DEADLINE_RULE_N] = {
		"10d", "8h", "96h", "60d extend 30d", "30d extend 30d", "90d", "60d extend 30d",
		"10d extend 30d", "none",
	};

	(void)state;
	mla_deadline_rules_default(&r);
	for (unsigned i = 0; i < MLA_DEADLINE_RULE_N; i++) {
		const char *name = mla_deadline_rule_name((mla_deadline_rule_id)i);
		assert_int_equal(mla_deadline_rule_by_name(name), i);
		assert_int_equal(mla_deadline_rule_format(&r.rule[i], out, sizeof(out)), MLA_OK);
		assert_string_equal(out, want[i]);
	}
	assert_int_equal(mla_deadline_rule_by_name("escalate"), MLA_DEADLINE_RULE_N);
	assert_string_equal(mla_deadline_rule_name(MLA_DEADLINE_RULE_N), "unknown");
}

static void test_rules_for(void **state)
{
	mla_deadline_rule_id ids[MLA_DEADLINE_RULES_PER_CASE];
	mla_deadline_case c = {MLA_CASE_PRODUCTION_ORDER, 0, 0, 0, 0, 0};

	(void)state;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_PRODUCTION);
	c.emergency = 1;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 2);
	assert_int_equal(ids[0], MLA_DEADLINE_PRODUCTION_EMERGENCY);
	assert_int_equal(ids[1], MLA_DEADLINE_PRODUCTION_OBJECTION);
	c = (mla_deadline_case){MLA_CASE_PRESERVATION_ORDER, 0, 0, 1, 0, 0};
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_PRESERVATION);
	c = (mla_deadline_case){MLA_CASE_MUTUAL_ASSISTANCE, 1, 0, 0, 0, 0};
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EIO_RECOGNITION);
	c.decided = 1;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EIO_EXECUTION);
	c.eio = 0;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_OTHER);
	c = (mla_deadline_case){MLA_CASE_EXTRADITION, 0, 1, 0, 0, 0};
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EAW);
	c.consent = 1;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EAW_CONSENT);
	c = (mla_deadline_case){MLA_CASE_SPONTANEOUS_INFORMATION, 0, 0, 1, 0, 0};
	assert_int_equal(mla_deadline_rules_for(&c, ids), 0);
	c = (mla_deadline_case){MLA_CASE_REFUSED, 0, 0, 0, 0, 0};
	assert_int_equal(mla_deadline_rules_for(&c, ids), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_across_month_ends),
		cmocka_unit_test(test_leap_day_and_year_end),
		cmocka_unit_test(test_emergency_hours),
		cmocka_unit_test(test_fraction_and_state),
		cmocka_unit_test(test_pause_closed),
		cmocka_unit_test(test_pause_open),
		cmocka_unit_test(test_extension),
		cmocka_unit_test(test_wished_date),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_escalations),
		cmocka_unit_test(test_escalation_after_outage),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_rule_text),
		cmocka_unit_test(test_defaults_and_names),
		cmocka_unit_test(test_rules_for),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
