/* The directory a gateway advertises to its peers (SPEC 18.6, Mlagw-Directory): formatted and
 * parsed back; every other spelling refused (leading zeros, a zero serial or port, a port past
 * 65535, a serial past 2^64-1, lower-case State, extra or missing spaces, too long). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/directory.h"

static int parses(const char *v)
{
	char pub[3];
	uint64_t serial = 0;
	unsigned port = 0;

	return mla_dir_advert_parse(v, strlen(v), pub, &serial, &port);
}

static void test_round_trip(void **state)
{
	char v[MLA_DIR_ADVERT_MAX + 1], pub[3];
	uint64_t serial = 0;
	unsigned port = 0;

	(void)state;
	assert_int_equal(mla_dir_advert_format("ES", UINT64_MAX, 65535, v, sizeof(v)), MLA_OK);
	assert_string_equal(v, "ES 18446744073709551615 65535");
	assert_true(mla_dir_advert_parse(v, strlen(v), pub, &serial, &port));
	assert_string_equal(pub, "ES");
	assert_true(serial == UINT64_MAX);
	assert_int_equal(port, 65535);
	assert_true(parses("CO 1 1"));
	assert_int_equal(mla_dir_advert_format("ES", 0, 443, v, sizeof(v)), MLA_ERR_ARG);
	assert_int_equal(mla_dir_advert_format("ES", 1, 0, v, sizeof(v)), MLA_ERR_ARG);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "ES", "ES 1", "ES 1 ", "ES  1 443", "ES 1  443", " ES 1 443", "ES 1 443 ",
		"es 1 443", "E1 1 443", "ESP 1 443", "ES 01 443", "ES 0 443", "ES 1 0443",
		"ES 1 0", "ES 1 65536", "ES 18446744073709551616 443", "ES -1 443", "ES +1 443",
		"ES 1 443 x", "ES 1\t443", "ES 1 443\n",
		"ES 1000000000000000000000000000000000000000000000 443",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parses(bad[i]))
			fail_msg("accepted '%s'", bad[i]);
	/* the length given, not the NUL, bounds the read */
	{
		char pub[3];
		uint64_t serial;
		unsigned port;

		assert_false(mla_dir_advert_parse("ES 1 4431", 8, pub, &serial, &port) == 0);
		assert_int_equal(port, 443);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
