/* Unit tests of the one codec layer (include/mlagw/codec.h): canonical round trips and every
 * class of refusal for base64, hex, decimal numbers, UTC times and bounded strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"

static mla_err b64d(const char *s, uint8_t *out, size_t max, size_t *len)
{
	return mla_b64_decode(s, strlen(s), out, max, len);
}

static void test_b64_roundtrip(void **state)
{
	static const char *const want[] = {"", "AA==", "AAE=", "AAEC", "AAECAw==", "AAECAwQ="};
	uint8_t in[64], out[64];
	char s[MLA_B64_LEN(64) + 1];
	size_t len = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 1);
	for (size_t n = 0; n <= sizeof(in); n++) {
		assert_int_equal(mla_b64_encode(in, n, s, sizeof(s)), MLA_OK);
		assert_int_equal(strlen(s), MLA_B64_LEN(n));
		assert_int_equal(b64d(s, out, sizeof(out), &len), MLA_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, in, n);
	}
	for (size_t n = 0; n < 6; n++) {
		uint8_t seq[] = {0, 1, 2, 3, 4};
		assert_int_equal(mla_b64_encode(seq, n, s, sizeof(s)), MLA_OK);
		assert_string_equal(s, want[n]);
	}
	/* the RFC 4648 section 10 vectors */
	assert_int_equal(mla_b64_encode((const uint8_t *)"foobar", 6, s, sizeof(s)), MLA_OK);
	assert_string_equal(s, "Zm9vYmFy");
	assert_int_equal(b64d("Zm9vYg==", out, sizeof(out), &len), MLA_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "foob", 4);
}

static void test_b64_refusals(void **state)
{
	static const char *const bad[] = {
		"Zm9v YmFy", "Zm9v\nYmFy", " Zm9v", "Zm9v\n", /* whitespace */
		"Zm9-YmFy", "Zm9_YmFy", "Zm9v*mFy", "Zm9vYmF\x80", /* other alphabets, bad chars */
		"Zm9vYh==", "Zm9vYmF=", "Zm9vYmG=", "AB==",          /* non-zero pad bits */
		"Zm9", "Zm9vY", "Z", "Zm9vYmFy=",                     /* length */
		"Zm9vYg", "Zm9vYmE", "Zm9vYg=", "Zm9vY===", "====", "Zg==Zm9v", "Zm=v", /* padding */
	};
	uint8_t out[16];
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64d(bad[i], out, sizeof(out), &len), MLA_ERR_BASE64);
	assert_int_equal(mla_b64_decode("Zm9v\0YmFy", 9, out, sizeof(out), &len), MLA_ERR_BASE64);
	/* bounds: more than max, and a fixed size of another length */
	assert_int_equal(b64d("Zm9vYmFy", out, 5, &len), MLA_ERR_TOO_LARGE);
	assert_int_equal(b64d("Zm9vYmFy", out, 6, NULL), MLA_OK);
	assert_int_equal(b64d("Zm9vYg==", out, 6, NULL), MLA_ERR_BASE64);
	assert_int_equal(mla_b64_encode((const uint8_t *)"foobar", 6, (char *)out, 8),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(out[0], '\0');
}

static void test_b64_buf(void **state)
{
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 6);
	assert_int_equal(mla_b64_decode_buf("Zm9vYmFy", 8, &b), MLA_OK);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "foobar", 6);
	assert_int_equal(mla_b64_decode_buf("Zg==", 4, &b), MLA_ERR_TOO_LARGE);
	assert_int_equal(b.len, 6);
	mla_buf_reset(&b);
	assert_int_equal(mla_b64_decode_buf("Zg=", 3, &b), MLA_ERR_BASE64);
	mla_buf_free(&b);
	mla_buf_init(&b, 8);
	assert_int_equal(mla_b64_encode_buf((const uint8_t *)"foob", 4, &b), MLA_OK);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "Zm9vYg==", 8);
	assert_int_equal(mla_b64_encode_buf((const uint8_t *)"f", 1, &b), MLA_ERR_TOO_LARGE);
	mla_buf_free(&b);
}

static void test_hex(void **state)
{
	static const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	uint8_t out[8];
	char s[16];
	size_t len = 0;

	(void)state;
	assert_int_equal(mla_hex_encode(in, 4, s, 9), MLA_OK);
	assert_string_equal(s, "0001abff");
	assert_int_equal(mla_hex_encode(in, 4, s, 8), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "");
	assert_int_equal(mla_hex_decode("0001abff", 8, out, sizeof(out), &len), MLA_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(out, in, 4);
	assert_int_equal(mla_hex_decode("0001abff", 8, out, 4, NULL), MLA_OK);
	assert_int_equal(mla_hex_decode("", 0, out, sizeof(out), &len), MLA_OK);
	assert_int_equal(len, 0);
	assert_int_equal(mla_hex_decode("0001abf", 7, out, sizeof(out), &len), MLA_ERR_ARG);
	assert_int_equal(mla_hex_decode("0001abfg", 8, out, sizeof(out), &len), MLA_ERR_ARG);
	assert_int_equal(mla_hex_decode("0001 bff", 8, out, sizeof(out), &len), MLA_ERR_ARG);
	assert_int_equal(mla_hex_decode("0001ABFF", 8, out, sizeof(out), &len), MLA_ERR_ARG);
	assert_int_equal(mla_hex_decode("0001aBff", 8, out, sizeof(out), &len), MLA_ERR_ARG);
	assert_int_equal(mla_hex_decode("0001abff", 8, out, 3, &len), MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_hex_decode("0001abff", 8, out, 5, NULL), MLA_ERR_ARG);
	/* either case only where a foreign format allows it */
	assert_int_equal(mla_hex_decode_anycase("0001ABff", 8, out, 4, NULL), MLA_OK);
	assert_memory_equal(out, in, 4);
	assert_int_equal(mla_hex_decode_anycase("0001ABfG", 8, out, 4, NULL), MLA_ERR_ARG);
}

static void test_u64(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(mla_parse_u64("0", 0, UINT64_MAX, &v), MLA_OK);
	assert_true(v == 0);
	assert_int_equal(mla_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), MLA_OK);
	assert_true(v == UINT64_MAX);
	assert_int_equal(mla_parse_u64("42", 42, 42, &v), MLA_OK);
	assert_true(v == 42);
	v = 7;
	assert_int_equal(mla_parse_u64("", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64(NULL, 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("+1", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("-1", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64(" 1", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("1 ", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("01", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("00", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("0x10", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("1e3", 0, UINT64_MAX, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_parse_u64("99999999999999999999999", 0, UINT64_MAX, &v),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_parse_u64("41", 42, 50, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_u64("51", 42, 50, &v), MLA_ERR_TOO_LARGE);
	assert_true(v == 7); /* untouched on failure */
	assert_int_equal(mla_parse_u64n("123x", 3, 0, 1000, &v), MLA_OK);
	assert_true(v == 123);
}

static void test_i64(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_int_equal(mla_parse_i64("-42", -100, 0, &v), MLA_OK);
	assert_true(v == -42);
	assert_int_equal(mla_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), MLA_OK);
	assert_true(v == INT64_MIN);
	assert_int_equal(mla_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), MLA_OK);
	assert_true(v == INT64_MAX);
	assert_int_equal(mla_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_parse_i64("-0", -5, 5, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_i64("--1", -5, 5, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_i64("+1", -5, 5, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_i64("-", -5, 5, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_i64("-01", -5, 5, &v), MLA_ERR_ARG);
	assert_int_equal(mla_parse_i64("-6", -5, 5, &v), MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_parse_i64("6", -5, 5, &v), MLA_ERR_TOO_LARGE);
	assert_true(v == INT64_MAX);
}

static void test_time_seconds(void **state)
{
	static const char *const bad[] = {
		"2026-02-31T00:00:00Z", "2026-13-45T00:00:00Z", "2025-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
		"2026-01-01T24:00:00Z", "2026-12-31T23:59:60Z", "2026-01-01T00:60:00Z",
		"2026-01-01T00:00:00",  "2026-01-01T00:00:00+", "2026-01-01T00:00:00z",
		"2026-01-01 00:00:00Z", "2026-1-01T00:00:00Z",  " 2026-01-01T00:00:00Z",
		"+026-01-01T00:00:00Z", "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:0 Z",
		"1969-12-31T23:59:59Z", "",
	};
	char s[MLA_TIME_LEN];

	(void)state;
	assert_int_equal(mla_time_parse("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(mla_time_parse("2024-02-29T12:00:00Z"), 1709208000);
	assert_int_equal(mla_time_parse("2000-02-29T00:00:00Z"), 951782400);
	assert_int_equal(mla_time_parse("2026-11-27T20:47:47Z"), 1795812467);
	assert_int_equal(mla_time_parse("9999-12-31T23:59:59Z"), 253402300799);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mla_time_parse(bad[i]), -1);
	assert_int_equal(mla_time_parse("1900-02-29T00:00:00Z"), -1);
	mla_time_format(1795812467, s);
	assert_string_equal(s, "2026-11-27T20:47:47Z");
	mla_time_format(-1, s);
	assert_string_equal(s, "");
	mla_time_format((time_t)253402300800, s);
	assert_string_equal(s, "");
}

static mla_err ms_parse(const char *s, int64_t *ms)
{
	return mla_time_ms_parse(s, strlen(s), ms);
}

static void test_time_ms(void **state)
{
	char s[MLA_TIME_MS_LEN];
	int64_t ms = 5;

	(void)state;
	assert_int_equal(ms_parse("2026-11-27T20:47:47.123Z", &ms), MLA_OK);
	assert_true(ms == INT64_C(1795812467123));
	mla_time_ms_format(ms, s);
	assert_string_equal(s, "2026-11-27T20:47:47.123Z");
	assert_int_equal(ms_parse("1970-01-01T00:00:00.000Z", &ms), MLA_OK);
	assert_true(ms == 0);
	assert_int_equal(ms_parse("9999-12-31T23:59:59.999Z", &ms), MLA_OK);
	assert_true(ms == MLA_TIME_MS_MAX);
	assert_int_equal(ms_parse("2024-02-29T00:00:00.000Z", &ms), MLA_OK);
	assert_int_equal(ms_parse("2025-02-29T00:00:00.000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-02-31T00:00:00.000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-13-45T00:00:00.000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T24:00:00.000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-12-31T23:59:60.000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00.000", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00.00Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00.0000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00,000Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00.-01Z", &ms), MLA_ERR_ARG);
	assert_int_equal(ms_parse("2026-01-01T00:00:00Z", &ms), MLA_ERR_ARG);
	assert_int_equal(mla_time_ms_parse("2026-11-27T20:47:47.123Zjunk", 24, &ms), MLA_OK);
	mla_time_ms_format(-1, s);
	assert_string_equal(s, "");
	mla_time_ms_format(MLA_TIME_MS_MAX + 1, s);
	assert_string_equal(s, "");
}

static mla_err cut(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = mla_vsnprintf_cut(dst, n, fmt, ap);
	va_end(ap);
	return r ? MLA_ERR_TOO_LARGE : MLA_OK;
}

static void test_strings(void **state)
{
	char s[8];

	(void)state;
	assert_int_equal(mla_strcpy(s, sizeof(s), "1234567"), MLA_OK);
	assert_string_equal(s, "1234567");
	assert_int_equal(mla_strcpy(s, sizeof(s), "12345678"), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "");
	assert_int_equal(mla_strcpy(s, 0, "x"), MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_snprintf(s, sizeof(s), "%s-%d", "ab", 1234), MLA_OK);
	assert_string_equal(s, "ab-1234");
	assert_int_equal(mla_snprintf(s, sizeof(s), "%s-%d", "ab", 12345), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "");
	/* cut text: marked, and never in the middle of a character */
	assert_int_equal(cut(s, sizeof(s), "%s", "abc"), MLA_OK);
	assert_string_equal(s, "abc");
	assert_int_equal(cut(s, sizeof(s), "%s", "abcdefgh"), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "ab" MLA_CUT_MARK);
	assert_int_equal(cut(s, sizeof(s), "%s", "a\xc3\xb3" "defgh"), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "a" MLA_CUT_MARK);
	assert_int_equal(cut(s, 4, "%s", "abcdefgh"), MLA_ERR_TOO_LARGE);
	assert_string_equal(s, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_roundtrip), cmocka_unit_test(test_b64_refusals),
		cmocka_unit_test(test_b64_buf),       cmocka_unit_test(test_hex),
		cmocka_unit_test(test_u64),           cmocka_unit_test(test_i64),
		cmocka_unit_test(test_time_seconds),  cmocka_unit_test(test_time_ms),
		cmocka_unit_test(test_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
