/* Unit tests of the [daemon] section (gateway/conf/config_parse.c): its defaults (no user,
 * root refused, seccomp on), each key set, and bad values refused at the section's line. */
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

	(void)state;
	expect_base_ok("", c);
	assert_string_equal(c->daemon_user, "");
	assert_string_equal(c->keyholder_user, "");
	assert_int_equal(c->root_allowed, 0);
	assert_int_equal(c->seccomp_mode, GW_SECCOMP_ON);
	free(c);
}

static void test_all_set(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[daemon]\nuser = mlagw\nkeyholder_user = mlagw-keys\n"
		       "allow_root = true\nseccomp = log\n", c);
	assert_string_equal(c->daemon_user, "mlagw");
	assert_string_equal(c->keyholder_user, "mlagw-keys");
	assert_int_equal(c->root_allowed, 1);
	assert_int_equal(c->seccomp_mode, GW_SECCOMP_LOG);
	expect_base_ok("[daemon]\nseccomp = off\nallow_root = false\n", c);
	assert_int_equal(c->seccomp_mode, GW_SECCOMP_OFF);
	assert_int_equal(c->root_allowed, 0);
	free(c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_base_error("[daemon]\nseccomp = strict\n", 1, "[daemon] seccomp must be on, off or log");
	expect_base_error("[daemon]\nallow_root = yes\n", 1, "[daemon] allow_root must be false or true");
	expect_base_error("[daemon]\nuser = ../etc\n", 1, "[daemon] user is not a user name");
	expect_base_error("[daemon]\nuser = a\nkeyholder_user = -x\n", 1,
			  "[daemon] keyholder_user is not a user name");
	expect_base_error("[daemon]\nkeyholder_user = k\n", 1,
			  "[daemon] keyholder_user needs [daemon] user");
	expect_base_error("[daemon]\nuser = a\nuser = b\n", 3, "repeated (first set on line");
	expect_base_error("[daemon]\ngroup = a\n", 2, "unknown key 'group' in [daemon]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_set),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
