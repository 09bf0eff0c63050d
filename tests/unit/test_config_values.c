/* Unit tests of the configuration reader's value parsers (sizes, durations, integers,
 * paths, addresses, pins) and the [api] section hook: each takes and refuses what
 * conf/README.md says. The file-level tests are in test_config.c. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/config.h"
#include "config_test_util.h"
#include "conf/config_internal.h"
#include "mlagw/buf.h"

#ifndef MLAGW_CONF_DIR
#error "MLAGW_CONF_DIR must name the source tree's conf/ directory"
#endif

/* ---- value parsers ---- */

static void test_durations(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
		{"0ms", 0},
		{"1ms", 1},
		{"1500ms", 1500},
		{"300s", 300000},
		{"5m", 300000},
		{"24h", 86400000},
		{"7d", 604800000},
		{"7 d", 604800000},
		{"10\ts", 10000},
		{"007s", 7000},
		{"18446744073709551615ms", UINT64_MAX},
	};
	static const char *const bad[] = {
		"", "10x", "-1", "-1s", "+1s", " 1s", "1s ", "10", "1.5s", "1sec", "1S", "1 s s",
		"1e3ms", "0x10s", "s", "18446744073709551616ms", "18446744073709551615s",
		"213503982335d", "99999999999999999999999999d",
	};
	const char *why = NULL;
	uint64_t v = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cfg_parse_duration(good[i].s, &v, &why) != MLA_OK)
			fail_msg("duration '%s' refused: %s", good[i].s, why);
		assert_int_equal(v, good[i].ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (cfg_parse_duration(bad[i], &v, &why) != MLA_ERR_CONFIG)
			fail_msg("duration '%s' accepted", bad[i]);
		assert_int_equal(v, 12345);
		assert_non_null(why);
	}
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		uint64_t bytes;
	} good[] = {
		{"0", 0},
		{"1024", 1024},
		{"1024B", 1024},
		{"1024 B", 1024},
		{"1KiB", 1024},
		{"64 MiB", 64ull << 20},
		{"1GiB", 1ull << 30},
		{"17179869183GiB", 17179869183ull << 30},
	};
	static const char *const bad[] = {
		"", "10x", "-1", "-1KiB", "1kib", "1KB", "1K", "1 MB", "1.5MiB", "1MiB ", " 1",
		"1 Mi B", "17179869184GiB", "18446744073709551616", "99999999999999999999999",
	};
	const char *why = NULL;
	uint64_t v = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (cfg_parse_size(good[i].s, &v, &why) != MLA_OK)
			fail_msg("size '%s' refused: %s", good[i].s, why);
		assert_int_equal(v, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		if (cfg_parse_size(bad[i], &v, &why) != MLA_ERR_CONFIG)
			fail_msg("size '%s' accepted", bad[i]);
		assert_int_equal(v, 12345);
	}
}

static void test_uint(void **state)
{
	const char *why = NULL;
	uint64_t v = 0;

	(void)state;
	assert_int_equal(cfg_parse_uint("0", &v, &why), MLA_OK);
	assert_int_equal(v, 0);
	assert_int_equal(cfg_parse_uint("18446744073709551615", &v, &why), MLA_OK);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(cfg_parse_uint("18446744073709551616", &v, &why), MLA_ERR_CONFIG);
	assert_string_equal(why, "number too large");
	assert_int_equal(cfg_parse_uint("", &v, &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_parse_uint("-0", &v, &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_parse_uint("1 ", &v, &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_parse_uint("1B", &v, &why), MLA_ERR_CONFIG);
}

static void test_format(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(cfg_format_size(64ull << 20, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "64 MiB");
	assert_int_equal(cfg_format_size(1536, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "1536 B");
	assert_int_equal(cfg_format_size(0, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "0 B");
	assert_int_equal(cfg_format_duration(7 * CFG_DAY, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "7d");
	assert_int_equal(cfg_format_duration(90 * CFG_SEC, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "90s");
	assert_int_equal(cfg_format_duration(1500, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "1500ms");
	assert_int_equal(cfg_format_duration(0, buf, sizeof(buf)), MLA_OK);
	assert_string_equal(buf, "0ms");
	assert_int_equal(cfg_format_duration(UINT64_MAX, buf, 4), MLA_ERR_INTERNAL);
}

static void test_resolve_path(void **state)
{
	static const struct {
		const char *base, *value, *want;
	} cases[] = {
		{"/a/b", "c", "/a/b/c"},
		{"/a/b", "c/d.crt", "/a/b/c/d.crt"},
		{"/a/b", "./c", "/a/b/c"},
		{"/a/b", ".//./c", "/a/b/c"},
		{"/a/b", "../c", "/a/c"},
		{"/a/b", "../../c", "/c"},
		{"/a/b", "../../../../c", "/c"},
		{"/a/b", "..", "/a"},
		{"/a/b", ".", "/a/b"},
		{"/a/b", "/abs/x", "/abs/x"},
		{"/a/b", "c/../d", "/a/b/c/../d"}, /* only leading ../ are folded: c may be a link */
		{"/a/b", "..c", "/a/b/..c"},
		{"/", "x", "/x"},
		{"/", "../x", "/x"},
		{"/a", "../x", "/x"},
	};
	char out[PATH_MAX], *value = malloc(PATH_MAX + 1);
	const char *why = NULL;

	(void)state;
	assert_non_null(value);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cfg_resolve_path(cases[i].base, cases[i].value, out, &why), MLA_OK);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s + %s = %s, want %s", cases[i].base, cases[i].value, out,
				 cases[i].want);
	}
	/* PATH_MAX - 1 bytes fit; one more does not, absolute or after joining */
	memset(value, 'x', PATH_MAX);
	value[0] = '/';
	value[PATH_MAX - 1] = '\0';
	assert_int_equal(cfg_resolve_path("/a", value, out, &why), MLA_OK);
	value[PATH_MAX - 1] = 'x';
	value[PATH_MAX] = '\0';
	assert_int_equal(cfg_resolve_path("/a", value, out, &why), MLA_ERR_CONFIG);
	value[PATH_MAX - 3] = '\0'; /* "/a" "/" and PATH_MAX - 4 bytes: PATH_MAX - 1 in all */
	assert_int_equal(cfg_resolve_path("/a", value + 1, out, &why), MLA_OK);
	value[PATH_MAX - 3] = 'x';
	value[PATH_MAX - 2] = '\0';
	assert_int_equal(cfg_resolve_path("/a", value + 1, out, &why), MLA_ERR_CONFIG);
	assert_string_equal(why, "path longer than PATH_MAX");
	free(value);
}

/* The [api] section reaches api_config.c through the parser (the hook in config_parse.c). */
static void test_api_section(void **state)
{
	struct gw_config *c = new_config();

	(void)state;
	expect_ok(BASE, c);
	assert_string_equal(c->api.listen, ""); /* no [api]: no local API */
	expect_ok(BASE "[api]\n"
		       "listen = 127.0.0.1:9441\n"
		       "token = admin ops sha256:"
		       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n",
		  c);
	assert_string_equal(c->api.listen, "127.0.0.1:9441");
	assert_int_equal(c->api.n_tokens, 1);
	assert_string_equal(c->api.tokens[0].name, "ops");
	expect_error(BASE "[api]\nlisten = 127.0.0.1:9441\n", BASE_LINES + 1,
		     "no token and no client");
	expect_error(BASE "[api]\nlistn = 1\n", BASE_LINES + 2, "unknown key 'listn' in [api]");
	free(c);
}

static void test_pin_and_url(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(cfg_check_pin(VALID_PIN, &why), MLA_OK);
	assert_int_equal(cfg_check_pin(VALID_PIN "=", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_pin("sha256//", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_pin("", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_pin("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUA", &why),
			 MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_url("https://gw.es.example:8441/mla/v1/envelopes", &why), MLA_OK);
	assert_int_equal(cfg_check_url("https://[2001:db8::1]:8441/x", &why), MLA_OK);
	assert_int_equal(cfg_check_url("https://10.0.0.1", &why), MLA_OK);
	assert_int_equal(cfg_check_url("https://gw.example?x=1", &why), MLA_OK);
	assert_int_equal(cfg_check_url("https:/gw.example", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_url("https://gw.example:/x", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_url("https://[2001:db8::1/x", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_url("https://gw.example/a b", &why), MLA_ERR_CONFIG);
	assert_int_equal(cfg_check_url("https://gw.example/<x>", &why), MLA_ERR_CONFIG);
	assert_true(cfg_is_state("ES"));
	assert_false(cfg_is_state("Es"));
	assert_false(cfg_is_state("E"));
	assert_false(cfg_is_state("ÉS"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_resolve_path),
		cmocka_unit_test(test_pin_and_url),
		cmocka_unit_test(test_api_section),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
