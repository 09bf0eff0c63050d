/* Unit tests of [cases] protected_roles (gateway/conf/protect_config.c, SPEC 16.11): the
 * default, the forms accepted, and every other value refused naming the key, never the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_test_util.h"
#include "conf/config.h"

static void test_default_authority(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("", c);
	assert_string_equal(c->cases_protected_roles, "authority");
	assert_int_equal(c->cases_protected_mask, API_ROLE_BIT(API_ROLE_AUTHORITY));
	free(c);
}

static void test_forms(void **state)
{
	static const struct {
		const char *value;
		unsigned mask;
	} ok[] = {
		{"none", 0},
		{"agency", API_ROLE_BIT(API_ROLE_AGENCY)},
		{"authority agency", API_ROLE_BIT(API_ROLE_AUTHORITY) | API_ROLE_BIT(API_ROLE_AGENCY)},
		{"agency   authority", API_ROLE_BIT(API_ROLE_AUTHORITY) | API_ROLE_BIT(API_ROLE_AGENCY)},
	};
	unsigned m;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		m = 99;
		assert_int_equal(protect_roles_parse(ok[i].value, &m), MLA_OK);
		assert_int_equal(m, ok[i].mask);
	}
}

static void test_refused(void **state)
{
	static const char *const bad[] = {"",         "auditor",        "admin",
					  "agency agency", "none agency", "Authority",
					  "authority,agency", "everyone", "agencyauthorityagency",
					  NULL};
	unsigned m = 7;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (protect_roles_parse(bad[i], &m) != MLA_ERR_CONFIG)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(m, 7);
	}
}

/* In a file: set, and refused at the [cases] line without quoting the value. */
static void test_in_file(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[cases]\nprotected_roles = authority agency\n", c);
	assert_int_equal(c->cases_protected_mask,
			 API_ROLE_BIT(API_ROLE_AUTHORITY) | API_ROLE_BIT(API_ROLE_AGENCY));
	free(c);
	expect_base_error("[cases]\nprotected_roles = auditor\n", 1, "[cases] protected_roles");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_authority),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
