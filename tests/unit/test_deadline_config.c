/* Unit tests of the [deadlines] section (gateway/conf/deadline_config.c): the instruments'
 * defaults without the section, each rule and the hook set, and bad values refused with the
 * file, line and key named and the value never quoted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_test_util.h"
#include "conf/config.h"

static void test_defaults(void **state)
{
	struct gw_config *c = new_config();
	mla_deadline_rules def;

	(void)state;
	expect_base_ok("", c);
	mla_deadline_rules_default(&def);
	assert_memory_equal(&c->deadlines.rules, &def, sizeof(def));
	assert_int_equal(c->deadlines.rules.rule[MLA_DEADLINE_PRODUCTION].count, 10);
	assert_int_equal(c->deadlines.rules.rule[MLA_DEADLINE_PRODUCTION_EMERGENCY].unit,
			 MLA_DEADLINE_HOURS);
	assert_string_equal(c->deadlines.escalate, "");
	assert_int_equal(c->deadlines.escalate_timeout_ms, 30000);
	free(c);
}

static void test_rules_and_hook(void **state)
{
	struct gw_config *c = new_config();
	const mla_deadline_rule *r = c->deadlines.rules.rule;

	(void)state;
	expect_base_ok("[deadlines]\n"
		       "eio_recognition = 30d extend 30d pause\n"
		       "production_emergency = 6h\n"
		       "other = 90d\n"
		       "eaw = none\n"
		       "escalate = /usr/local/bin/page --queue mla\n"
		       "escalate_timeout = 2m\n",
		       c);
	assert_true(r[MLA_DEADLINE_EIO_RECOGNITION].pauses);
	assert_int_equal(r[MLA_DEADLINE_EIO_RECOGNITION].extension, 30);
	assert_int_equal(r[MLA_DEADLINE_PRODUCTION_EMERGENCY].count, 6);
	assert_int_equal(r[MLA_DEADLINE_OTHER].unit, MLA_DEADLINE_DAYS);
	assert_int_equal(r[MLA_DEADLINE_OTHER].count, 90);
	assert_int_equal(r[MLA_DEADLINE_EAW].unit, MLA_DEADLINE_OFF);
	assert_int_equal(r[MLA_DEADLINE_PRESERVATION].count, 60); /* untouched: default */
	assert_string_equal(c->deadlines.escalate, "/usr/local/bin/page");
	assert_int_equal(c->deadlines.n_escalate_args, 2);
	assert_string_equal(c->deadlines.escalate_args[0], "--queue");
	assert_string_equal(c->deadlines.escalate_args[1], "mla");
	assert_int_equal(c->deadlines.escalate_timeout_ms, 120000);
	free(c);
}

/* A relative command is taken from the configuration file's directory. */
static void test_relative_command(void **state)
{
	struct gw_config *c = new_config();
	const char *s;

	(void)state;
	expect_base_ok("[deadlines]\nescalate = hooks/page\n", c);
	s = c->deadlines.escalate;
	assert_int_equal(s[0], '/');
	assert_string_equal(s + strlen(s) - strlen("/hooks/page"), "/hooks/page");
	assert_int_equal(c->deadlines.n_escalate_args, 0);
	free(c);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_base_error("[deadlines]\nproduction = 10\n", 2,
			  "[deadlines] production: a duration is a whole number of days (d) or "
			  "hours (h)");
	expect_base_error("[deadlines]\n\npreservation = 60d extend 30h\n", 3,
			  "[deadlines] preservation: the extension must be in the deadline's unit");
	expect_base_error("[deadlines]\neaw = 0d\n", 2, "[deadlines] eaw: a duration is 1 to 3660");
	expect_base_error("[deadlines]\neio_execution = 90d pauses\n", 2,
			  "[deadlines] eio_execution: expected none, or DURATION");
	expect_base_error("[deadlines]\nproduction = 10d\nproduction = 11d\n", 3,
			  "[deadlines] production: repeated (first set on line 17)");
	expect_base_error("[deadlines]\nextradition = 60d\n", 2,
			  "unknown key 'extradition' in [deadlines]");
	expect_base_error("[deadlines]\nescalate_timeout = 0s\n", 2,
			  "[deadlines] escalate_timeout: 0ms is out of range (1s..10m)");
	expect_base_error("[deadlines]\nescalate_timeout = 30\n", 2,
			  "[deadlines] escalate_timeout: ");
	expect_base_error("[deadlines]\nescalate =\n", 2, "[deadlines] escalate: empty value");
	expect_base_error("[deadlines]\nescalate = /bin/x 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
			  2, "[deadlines] escalate: more than 16 arguments");
	expect_base_error("[deadlines]\n[deadlines]\n", 2, "duplicate section [deadlines]");
}

/* The message never quotes the value. */
static void test_value_not_quoted(void **state)
{
	struct gw_config *c = new_config();
	char path[4096];
	mla_diag d = {0, ""};

	(void)state;
	assert_int_equal(load_text(BASE "[deadlines]\nother = SECRETVALUE\n", c, &d, path,
				   sizeof(path)),
			 MLA_ERR_CONFIG);
	assert_null(strstr(d.msg, "SECRETVALUE"));
	assert_non_null(strstr(d.msg, "[deadlines] other:"));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rules_and_hook),
		cmocka_unit_test(test_relative_command),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_value_not_quoted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
