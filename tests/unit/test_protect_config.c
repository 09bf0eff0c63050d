/* Unit tests of [cases] protected_roles (gateway/conf/protect_config.c, SPEC 16.12): the
 * default none, roles and single principals accepted, every other value refused naming the
 * key and never quoting the value, and who is allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_test_util.h"
#include "conf/config.h"

static void test_default_none(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("", c);
	assert_string_equal(c->cases_protected_roles, "none");
	assert_int_equal(c->protect.role_mask, 0);
	assert_int_equal(c->protect.n_actors, 0);
	for (int r = 0; r < API_ROLE_N; r++)
		assert_false(protect_allows(&c->protect, (enum api_role)r, "agency:x"));
	free(c);
}

static void test_forms(void **state)
{
	struct protect_config p;

	(void)state;
	assert_int_equal(protect_roles_parse("agency", &p), MLA_OK);
	assert_int_equal(p.role_mask, API_ROLE_BIT(API_ROLE_AGENCY));
	assert_true(protect_allows(&p, API_ROLE_AGENCY, "agency:anyone"));
	assert_false(protect_allows(&p, API_ROLE_AUTHORITY, "authority:anyone"));
	assert_int_equal(protect_roles_parse("  authority   agency ", &p), MLA_OK);
	assert_int_equal(p.role_mask,
			 API_ROLE_BIT(API_ROLE_AUTHORITY) | API_ROLE_BIT(API_ROLE_AGENCY));
	assert_int_equal(protect_roles_parse("agency:witness-unit authority:fiscal.1", &p),
			 MLA_OK);
	assert_int_equal(p.role_mask, 0);
	assert_int_equal(p.n_actors, 2);
	assert_true(protect_allows(&p, API_ROLE_AGENCY, "agency:witness-unit"));
	assert_true(protect_allows(&p, API_ROLE_AUTHORITY, "authority:fiscal.1"));
	assert_false(protect_allows(&p, API_ROLE_AGENCY, "agency:police"));
	assert_false(protect_allows(&p, API_ROLE_AGENCY, "agency:witness-unit2"));
	assert_false(protect_allows(&p, API_ROLE_AUTHORITY, "authority:witness-unit"));
	assert_int_equal(protect_roles_parse("none", &p), MLA_OK);
	assert_int_equal(p.role_mask, 0);
	assert_int_equal(p.n_actors, 0);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "   ", "auditor", "admin", "agency agency", "none agency", "Authority",
		"authority,agency", "everyone", "auditor:x", "agency:", ":x", "agency:a agency:a",
		"agency:" "0123456789012345678901234567890123456789012345678901234567890123456789",
		NULL};
	struct protect_config p;
	char many[1024] = "";

	(void)state;
	memset(&p, 0x5a, sizeof(p));
	for (size_t i = 0; bad[i] != NULL; i++) {
		if (protect_roles_parse(bad[i], &p) != MLA_ERR_CONFIG)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(p.role_mask, 0x5a5a5a5au);
	}
	for (int i = 0; i < 17; i++) {
		char w[24];
		assert_true(snprintf(w, sizeof(w), "agency:n%d ", i) < (int)sizeof(w));
		assert_true(strlen(many) + strlen(w) < sizeof(many));
		memcpy(many + strlen(many), w, strlen(w) + 1);
	}
	assert_int_equal(protect_roles_parse(many, &p), MLA_ERR_CONFIG);
}

/* In a file: set, and refused at the [cases] line without quoting the value. */
static void test_in_file(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_base_ok("[cases]\nprotected_roles = authority agency:unit-7\n", c);
	assert_int_equal(c->protect.role_mask, API_ROLE_BIT(API_ROLE_AUTHORITY));
	assert_string_equal(c->protect.actors[0], "agency:unit-7");
	free(c);
	expect_base_error("[cases]\nprotected_roles = auditor:zqx\n", 1, "[cases] protected_roles");
	{
		char path[4096];
		mla_diag d = {MLA_OK, ""};

		c = new_config();
		assert_int_equal(load_text(BASE "[cases]\nprotected_roles = agency:zqx agency:zqx\n",
					   c, &d, path, sizeof(path)), MLA_ERR_CONFIG);
		assert_null(strstr(d.msg, "zqx"));
		free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_none),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
