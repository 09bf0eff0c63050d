/* The audit bundle's message filter (SPEC 15 Export and step 8), as export and the verifier
 * share it: the grammar of --from/--to (UTC, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ), both ends
 * inclusive (--to to its last millisecond: of the day for a date, of the second for a time),
 * and the case and the time matched by one and the same entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/audit.h"
#include "mlagw/codec.h"

/* 2026-03-01T12:00:00Z in ms since the epoch. */
#define NOON ((int64_t)1772366400 * 1000)
#define DAY ((int64_t)86400000)

static mla_audit_entry at(int64_t ms, const char *case_id)
{
	mla_audit_entry e;

	mla_audit_entry_init(&e);
	e.time_ms = ms;
	assert_int_equal(mla_strcpy(e.message_id, sizeof(e.message_id),
				    "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"), MLA_OK);
	assert_int_equal(mla_strcpy(e.case_id, sizeof(e.case_id), case_id), MLA_OK);
	return e;
}

static int selects(const char *c, const char *from, const char *to, int64_t ms, const char *ec)
{
	struct mla_audit_filter f;
	mla_audit_entry e = at(ms, ec);

	assert_true(mla_audit_filter_init(&f, c, from, to));
	return mla_audit_filter_selects(&f, &e);
}

static void test_grammar(void **state)
{
	static const char *const bad[] = {
		"2026-03-01T12:00:00.000Z", "2026-03-01T12:00:00", "2026-03-01T12:00Z",
		"2026-03-01 12:00:00Z", "2026-3-01", "2026-03-01Z", "2026-03-01T12:00:00+01:00",
		"2026-02-30", "1969-12-31", " 2026-03-01", "2026-03-01T24:00:00Z", "",
	};
	struct mla_audit_filter f;
	int64_t ms;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mla_audit_filter_init(&f, NULL, bad[i], NULL) ||
		    mla_audit_filter_init(&f, NULL, NULL, bad[i]))
			fail_msg("accepted %s", bad[i]);
	assert_true(mla_audit_filter_time("2026-03-01T12:00:00Z", 0, &ms));
	assert_true(ms == NOON);
	assert_true(mla_audit_filter_time("2026-03-01", 0, &ms));
	assert_true(ms == NOON - DAY / 2);
}

/* --from is inclusive from its first millisecond. */
static void test_from_edges(void **state)
{
	(void)state;
	assert_true(selects(NULL, "2026-03-01T12:00:00Z", NULL, NOON, "c"));
	assert_false(selects(NULL, "2026-03-01T12:00:00Z", NULL, NOON - 1, "c"));
	assert_true(selects(NULL, "2026-03-01", NULL, NOON - DAY / 2, "c"));
	assert_false(selects(NULL, "2026-03-01", NULL, NOON - DAY / 2 - 1, "c"));
}

/* --to is inclusive to its last millisecond: of that second, or of that day. */
static void test_to_edges(void **state)
{
	(void)state;
	assert_true(selects(NULL, NULL, "2026-03-01T12:00:00Z", NOON + 999, "c"));
	assert_false(selects(NULL, NULL, "2026-03-01T12:00:00Z", NOON + 1000, "c"));
	assert_true(selects(NULL, NULL, "2026-03-01", NOON + DAY / 2 - 1, "c"));
	assert_false(selects(NULL, NULL, "2026-03-01", NOON + DAY / 2, "c"));
	/* from = to: that one second */
	assert_true(selects(NULL, "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", NOON + 500,
			    "c"));
}

/* One entry must match both the case and the time: a message whose entry of the case lies
 * outside the range is not selected by it (nor by another entry in range of another case). */
static void test_same_entry(void **state)
{
	(void)state;
	assert_true(selects("A/1", "2026-03-01", "2026-03-01", NOON, "A/1"));
	assert_false(selects("A/1", "2026-03-01", "2026-03-01", NOON + DAY, "A/1"));
	assert_false(selects("A/1", "2026-03-01", "2026-03-01", NOON, "B/2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_from_edges),
		cmocka_unit_test(test_to_edges),
		cmocka_unit_test(test_same_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
