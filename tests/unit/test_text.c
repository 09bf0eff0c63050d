/* Unit tests of the safe-text copy (protocol/util/text.c): what every diagnostic passes
 * through before a log line or a negative receipt (issue 10 finding 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/error.h"
#include "mlagw/text.h"

static void expect_safe(const char *in, size_t cap, const char *want)
{
	char out[64];

	assert_true(cap <= sizeof(out));
	assert_int_equal(mla_text_copy_safe(out, cap, in), strlen(want));
	assert_string_equal(out, want);
	assert_true(mla_text_is_clean(out));
}

static void test_copy_safe(void **state)
{
	(void)state;
	expect_safe("plain", 64, "plain");
	expect_safe("Fiscal\xc3\xad" "a", 64, "Fiscal\xc3\xad" "a");      /* UTF-8 kept */
	expect_safe("a\nb\tc\x7f" "d", 64, "a?b?c?d");                   /* C0 and DEL */
	expect_safe("x\xc2\x85y\xc2\x9bz", 64, "x?y?z");                  /* C1: one '?' each */
	expect_safe("\xff\xfe", 64, "??");                                /* invalid bytes */
	expect_safe("ab\xc3", 64, "ab?");                                 /* cut character */
	expect_safe("\xed\xa0\x80", 64, "???");                           /* surrogate */
	expect_safe("abc\xc3\xad", 5, "abc");       /* no room for the whole character: cut before */
	expect_safe("abcd", 3, "ab");
	expect_safe("", 1, "");
}

/* In place, as mla_fail uses it; and mla_fail's own messages come out clean. */
static void test_fail_message_safe(void **state)
{
	char buf[16] = "a\x01\xc2\x85z\xff";
	mla_diag d = {MLA_OK, ""};
	char big[400];

	(void)state;
	mla_text_copy_safe(buf, sizeof(buf), buf);
	assert_string_equal(buf, "a??z?");
	memset(big, 'h', 244);
	memcpy(big + 244, "\xc3\xa9\xc3\xa9", 5); /* the 256-byte message cuts the first é */
	assert_int_equal(mla_fail(&d, MLA_ERR_ALG_UNKNOWN, "%s\n%s", "algorithm", big),
			 MLA_ERR_ALG_UNKNOWN);
	assert_true(mla_text_is_clean(d.msg));
	assert_non_null(strstr(d.msg, "algorithm?hhh"));
	assert_int_equal(strlen(d.msg), MLA_DIAG_MAX - 1);
	assert_int_equal(d.msg[MLA_DIAG_MAX - 2], '?');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_safe),
		cmocka_unit_test(test_fail_message_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
