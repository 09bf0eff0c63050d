/* Unit tests of the wall clock's step detector (gateway/core/clock.c; issue 11 finding 1): a
 * jump of the wall clock against the monotonic clock is a step, with its size and sign; a
 * time server's slewing (up to 500 ppm) never is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"

static void test_first_reading_is_no_step(void **state)
{
	struct gw_clock_watch w = {0, 0, 0};

	(void)state;
	assert_int_equal(gw_clock_step(&w, 1800000000000, 5000), 0);
}

static void test_steps_back_and_forward(void **state)
{
	struct gw_clock_watch w = {0, 0, 0};

	(void)state;
	(void)gw_clock_step(&w, 1800000000000, 5000);
	assert_int_equal(gw_clock_step(&w, 1800000000100, 5100), 0);      /* both moved on */
	assert_int_equal(gw_clock_step(&w, 1800000000200 - 2000, 5200), -2000); /* back 2 s */
	assert_int_equal(gw_clock_step(&w, 1800000000300 - 2000, 5300), 0); /* counted once */
	assert_int_equal(gw_clock_step(&w, 1800000001400, 5400), 3000);   /* forward 3 s */
	assert_int_equal(gw_clock_step(&w, 1800000001400, 5400 + 1500), -1500); /* stood still */
}

static void test_slew_is_no_step(void **state)
{
	struct gw_clock_watch w = {0, 0, 0};
	int64_t wall = 1800000000000, mono = 1000;

	(void)state;
	(void)gw_clock_step(&w, wall, mono);
	/* 500 ppm slower for an hour: 1.8 s in all, read once an hour */
	assert_int_equal(gw_clock_step(&w, wall + 3600000 - 1800, mono + 3600000), 0);
	/* the same read every second: each reading moved 0.5 ms */
	for (int i = 1; i <= 3600; i++)
		assert_int_equal(gw_clock_step(&w, wall + 3600000 - 1800 + i * 1000 - i / 2,
					       mono + 3600000 + i * 1000), 0);
	/* 1 s beyond the slew allowance is a step */
	assert_int_not_equal(gw_clock_step(&w, wall + 7200000 + 1100, mono + 7200000 + 1000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_reading_is_no_step),
		cmocka_unit_test(test_steps_back_and_forward),
		cmocka_unit_test(test_slew_is_no_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
