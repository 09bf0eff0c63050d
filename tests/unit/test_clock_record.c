/* Unit tests of the bookkeeping from wall clock steps to clock-stepped audit entries
 * (gateway/core/clock_record.c, SPEC 14 "Time never goes back"): the reason forms, one entry
 * a minute at most with the next summing the steps since, a rolled-back entry owed again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock_record.h"
#include "mlagw/audit_entry.h"

static void test_reason_of_one_step(void **state)
{
	struct gw_clock_record c = {0};
	char r[MLA_AUDIT_REASON_MAX + 1];

	(void)state;
	assert_false(gw_clock_record_due(&c, 0, 1)); /* nothing owed, even at a stop */
	gw_clock_record_add(&c, -2000);
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step -2000 ms");
	c = (struct gw_clock_record){0};
	gw_clock_record_add(&c, 3600000);
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step 3600000 ms");
	assert_int_equal(gw_clock_record_behind_reason(5000, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "behind latest entry 5000 ms");
	/* too small a buffer is an error, never a cut reason */
	assert_int_equal(gw_clock_record_reason(&c, r, 8), MLA_ERR_TOO_LARGE);
}

/* An oscillating clock: the first step is written at once, the next ones a minute later in
 * one entry with their sum and count. */
static void test_cap_sums_steps(void **state)
{
	struct gw_clock_record c = {0};
	char r[MLA_AUDIT_REASON_MAX + 1];
	int64_t t = 1000;

	(void)state;
	gw_clock_record_add(&c, -2000);
	assert_true(gw_clock_record_due(&c, t, 0)); /* the first of this run: at once */
	gw_clock_record_take(&c, t);
	gw_clock_record_settle(&c, 1);
	assert_false(gw_clock_record_due(&c, t, 0));
	for (int i = 1; i <= 3; i++) {
		gw_clock_record_add(&c, i % 2 ? 2000 : -2000);
		gw_clock_record_add(&c, -2000);
		assert_false(gw_clock_record_due(&c, t + i * 1000, 0)); /* within the minute */
	}
	assert_true(gw_clock_record_due(&c, t + 5000, 1)); /* a stop writes it anyway */
	assert_true(gw_clock_record_due(&c, t + GW_CLOCK_RECORD_GAP_MS, 0));
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step -4000 ms (6 steps)");
	gw_clock_record_take(&c, t + GW_CLOCK_RECORD_GAP_MS);
	gw_clock_record_settle(&c, 1);
	assert_false(gw_clock_record_due(&c, t + 10 * GW_CLOCK_RECORD_GAP_MS, 1));
}

/* The entry's group was rolled back: its steps are owed again at once, with any since. */
static void test_rollback_owes_again(void **state)
{
	struct gw_clock_record c = {0};
	char r[MLA_AUDIT_REASON_MAX + 1];

	(void)state;
	gw_clock_record_add(&c, -2000);
	gw_clock_record_take(&c, 1000);
	assert_false(gw_clock_record_due(&c, 1000, 1)); /* in flight: not owed twice */
	gw_clock_record_add(&c, 5000);
	gw_clock_record_settle(&c, 0);
	assert_true(gw_clock_record_due(&c, 1001, 0));
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step 3000 ms (2 steps)");
}

/* Sums and counts saturate: the longest reason still fits within the entry's 200 bytes. */
static void test_extremes_fit(void **state)
{
	struct gw_clock_record c = {0};
	char r[MLA_AUDIT_REASON_MAX + 1];

	(void)state;
	gw_clock_record_add(&c, INT64_MIN + 1);
	gw_clock_record_add(&c, -5);
	c.count = UINT32_MAX;
	gw_clock_record_add(&c, -1);
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step -9223372036854775808 ms (4294967295 steps)");
	assert_true(strlen(r) <= MLA_AUDIT_REASON_MAX);
	c = (struct gw_clock_record){0};
	gw_clock_record_add(&c, INT64_MAX);
	gw_clock_record_add(&c, 1);
	assert_int_equal(gw_clock_record_reason(&c, r, sizeof(r)), MLA_OK);
	assert_string_equal(r, "step 9223372036854775807 ms (2 steps)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_of_one_step),
		cmocka_unit_test(test_cap_sums_steps),
		cmocka_unit_test(test_rollback_owes_again),
		cmocka_unit_test(test_extremes_fit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
