/* The local API's attachment request parsers (gateway/api/api_parse_attach.c, SPEC 17.14):
 * an upload chunk's Content-Range, a download's Range and a submission's attachments, each
 * refusal naming the header or field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_parse.h"

static void test_content_range(void **state)
{
	static const char *const bad[] = {"bytes 0-9", "bytes 0-9/", "bytes 00-9/*", "bytes -9/*",
					  "bytes 9-0/*", "bytes 0-9/10x", "Bytes 0-9/*",
					  "bytes 0-9/* ", "bytes */", "bytes 1-11/*", "bytes */01",
					  "bytes 0-1234567890123456/*"};
	struct api_range r;
	struct api_perr e;

	(void)state;
	assert_int_equal(api_parse_content_range("bytes 0-9/*", 10, &r, &e), MLA_OK);
	assert_true(r.first == 0 && !r.last);
	assert_int_equal(api_parse_content_range("bytes 100-109/110", 10, &r, &e), MLA_OK);
	assert_true(r.first == 100 && r.last && r.total == 110);
	assert_int_equal(api_parse_content_range("bytes */0", 0, &r, &e), MLA_OK);
	assert_true(r.first == 0 && r.last && r.total == 0);
	assert_int_equal(api_parse_content_range("bytes */500", 0, &r, &e), MLA_OK);
	assert_true(r.first == 500 && r.last && r.total == 500);
	assert_int_equal(api_parse_content_range("bytes */5", 1, &r, &e), MLA_ERR_ARG);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (api_parse_content_range(bad[i], 10, &r, &e) != MLA_ERR_ARG)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(e.field, "Content-Range");
	}
	assert_int_equal(api_parse_content_range(NULL, 0, &r, &e), MLA_ERR_ARG);
	assert_string_equal(e.code, "missing-field");
}

static void test_range(void **state)
{
	static const char *const bad[] = {"bytes=", "bytes=5", "bytes=5-9", "bytes=-5",
					  "bytes=05-", "bytes=1-,3-", "items=5-"};
	struct api_perr e;
	uint64_t first = 1;

	(void)state;
	assert_int_equal(api_parse_range(NULL, &first, &e), MLA_OK);
	assert_int_equal(first, 0);
	assert_int_equal(api_parse_range("bytes=65613-", &first, &e), MLA_OK);
	assert_int_equal(first, 65613);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (api_parse_range(bad[i], &first, &e) != MLA_ERR_ARG)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(e.field, "Range");
	}
}

static mla_err atts(const char *json, struct submit_attach *out, struct api_perr *e)
{
	json_t *body = json_loads(json, 0, NULL);
	mla_err r;

	assert_non_null(body);
	r = api_parse_attachments(body, out, e);
	json_decref(body);
	return r;
}

#define ID "0123456789abcdef0123456789abcdef"

static void test_attachments(void **state)
{
	static const char *const bad[] = {
		"{\"attachments\": []}",
		"{\"attachments\": {}}",
		"{\"attachments\": [1]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"a\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"a\", \"type\": \"a/b\","
		" \"size\": \"1\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"a\", \"type\": \"a/b\","
		" \"compress\": \"yes\"}]}",
		"{\"attachments\": [{\"upload\": \"0123\", \"name\": \"a\", \"type\": \"a/b\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"..\", \"type\": \"a/b\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"x/y\", \"type\": \"a/b\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"a\", \"type\": \"ab\"}]}",
		"{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"a\", \"type\": \"a/b\"},"
		" {\"upload\": \"" ID "\", \"name\": \"b\", \"type\": \"a/b\"}]}",
	};
	struct submit_attach *a = calloc(1, sizeof(*a));
	struct api_perr e;

	(void)state;
	assert_non_null(a);
	assert_int_equal(atts("{}", a, &e), MLA_OK);
	assert_int_equal(a->n, 0);
	assert_int_equal(atts("{\"attachments\": [{\"upload\": \"" ID "\", \"name\": \"extracto "
			      "2026-03.pdf\", \"type\": \"application/pdf\", \"compress\": true}]}",
			      a, &e), MLA_OK);
	assert_int_equal(a->n, 1);
	assert_string_equal(a->item[0].upload, ID);
	assert_string_equal(a->item[0].name, "extracto 2026-03.pdf");
	assert_string_equal(a->item[0].type, "application/pdf");
	assert_int_equal(a->item[0].compress, 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (atts(bad[i], a, &e) != MLA_ERR_ARG)
			fail_msg("accepted %s", bad[i]);
		assert_string_equal(e.field, "attachments");
	}
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_range),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_attachments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
