/* The transfer status of SPEC 17.13 (gateway/attach/attach_status.c): what the receiver
 * writes reads back the same, and the sender refuses any answer that does not fit the list
 * it sealed (members, indices, counts, ranges out of order, overlapping or beyond N). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attach/attach_status.h"
#include "mlagw/codec.h"

#define ID "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"

static void entries(mla_attach_entry *e)
{
	memset(e, 0, 2 * sizeof(*e));
	e[0].index = 1;
	e[0].segments = 10;
	e[1].index = 2;
	e[1].segments = 1;
}

static void expect_refused(const char *json, const char *msg)
{
	struct attach_status *s = calloc(1, sizeof(*s));
	mla_attach_entry e[2];
	mla_diag d = {MLA_OK, ""};

	assert_non_null(s);
	entries(e);
	assert_int_equal(attach_status_parse((const uint8_t *)json, strlen(json), ID, e, 2, s, &d),
			 MLA_ERR_HEADER);
	if (strstr(d.msg, msg) == NULL)
		fail_msg("message '%s' lacks '%s'", d.msg, msg);
	free(s);
}

static void test_round_trip(void **state)
{
	struct attach_status *s = calloc(1, sizeof(*s)), *back = calloc(1, sizeof(*back));
	mla_attach_entry e[2];
	mla_diag d = {MLA_OK, ""};
	char *json = NULL;

	(void)state;
	assert_non_null(s);
	assert_non_null(back);
	entries(e);
	memcpy(s->message_id, ID, sizeof(ID));
	s->n = 2;
	s->item[0] = (struct attach_status_item){.index = 1, .segments = 10, .held = 6,
						 .n_missing = 2, .more = 0};
	s->item[0].missing[0][0] = 1;
	s->item[0].missing[0][1] = 2;
	s->item[0].missing[1][0] = 7;
	s->item[0].missing[1][1] = 8;
	s->item[1] = (struct attach_status_item){.index = 2, .segments = 1, .held = 1};
	assert_int_equal(attach_status_json(s, &json, &d), MLA_OK);
	assert_string_equal(json, "{\"message_id\":\"" ID "\",\"state\":\"transferring\","
			    "\"attachments\":[{\"index\":1,\"segments\":10,\"held\":6,\"missing\":"
			    "[[1,2],[7,8]],\"more_missing\":false},{\"index\":2,\"segments\":1,"
			    "\"held\":1,\"missing\":[],\"more_missing\":false}]}");
	assert_int_equal(attach_status_parse((const uint8_t *)json, strlen(json), ID, e, 2, back,
					     &d), MLA_OK);
	assert_int_equal(back->n, 2);
	assert_int_equal(back->item[0].n_missing, 2);
	assert_int_equal(back->item[0].missing[1][0], 7);
	assert_int_equal(back->item[0].more, 0);
	assert_int_equal(back->item[0].held, 6);
	assert_int_equal(back->item[1].n_missing, 0);
	free(json);
	free(back);
	free(s);
}

#define HEAD "{\"message_id\":\"" ID "\",\"state\":\"transferring\",\"attachments\":["
#define SECOND ",{\"index\":2,\"segments\":1,\"held\":0,\"missing\":[[0,0]],\"more_missing\":false}]}"

static void test_refusals(void **state)
{
	(void)state;
	expect_refused("not json", "not JSON");
	expect_refused("{\"message_id\":\"" ID "\",\"state\":\"transferring\",\"attachments\":[],"
		       "\"x\":1}", "not the status of message");
	expect_refused(HEAD "]}", "with its 2 attachments");
	expect_refused("{\"message_id\":\"00000000-8b1d-4c3a-9e5f-7a6b8c9d0e1f\",\"state\":"
		       "\"transferring\",\"attachments\":[]}", "not the status of message");
	expect_refused(HEAD "{\"index\":2,\"segments\":10,\"held\":0,\"missing\":[],"
		       "\"more_missing\":false}" SECOND, "does not match the list");
	expect_refused(HEAD "{\"index\":1,\"segments\":9,\"held\":0,\"missing\":[],"
		       "\"more_missing\":false}" SECOND, "does not match the list");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":11,\"missing\":[],"
		       "\"more_missing\":false}" SECOND, "does not match the list");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[[0,10]],"
		       "\"more_missing\":false}" SECOND, "range 1 is not ascending");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[[3,4],[4,5]],"
		       "\"more_missing\":false}" SECOND, "range 2 is not ascending");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[[5,4]],"
		       "\"more_missing\":false}" SECOND, "range 1 is not ascending");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[[-1,4]],"
		       "\"more_missing\":false}" SECOND, "range 1 is not ascending");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"held\":1,\"missing\":[],"
		       "\"more_missing\":false}" SECOND, "not JSON");
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[],"
		       "\"more_missing\":0}" SECOND, "is not an object of index");
	/* "more" beside a list that is not full: the sender would ask again at once for it */
	expect_refused(HEAD "{\"index\":1,\"segments\":10,\"held\":0,\"missing\":[[1,2]],"
		       "\"more_missing\":true}" SECOND, "says more segments are missing");
}

/* Parses a status whose first attachment (10000 segments) lists count ranges of one
 * segment each, with more_missing as given; the result's code, the status in *s. */
static mla_err parse_ranges(int count, const char *more, struct attach_status *s, mla_diag *d)
{
	size_t cap = 64 + (size_t)count * 16 + 256;
	char *json = malloc(cap), *p;
	mla_attach_entry e[2];
	mla_err r;

	assert_non_null(json);
	entries(e);
	e[0].segments = 10000;
	p = json + snprintf(json, cap, HEAD "{\"index\":1,\"segments\":10000,\"held\":0,\"missing\":[");
	for (int i = 0; i < count; i++)
		p += snprintf(p, cap - (size_t)(p - json), "%s[%d,%d]", i ? "," : "", 3 * i, 3 * i);
	assert_int_equal(mla_snprintf(p, cap - (size_t)(p - json), "],\"more_missing\":%s}" SECOND, more),
			 MLA_OK);
	r = attach_status_parse((const uint8_t *)json, strlen(json), ID, e, 2, s, d);
	free(json);
	return r;
}

/* "more" after the 256 ranges a status lists first: read, and the flag kept. */
static void test_more_after_full_list(void **state)
{
	struct attach_status *s = calloc(1, sizeof(*s));
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(s);
	assert_int_equal(parse_ranges(256, "true", s, &d), MLA_OK);
	assert_int_equal(s->item[0].n_missing, 256);
	assert_int_equal(s->item[0].more, 1);
	free(s);
}

/* More ranges than the bound: refused rather than read without end. */
static void test_bounded(void **state)
{
	struct attach_status *s = calloc(1, sizeof(*s));
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(s);
	assert_int_equal(parse_ranges(257, "false", s, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "at most 256 ranges"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_more_after_full_list),
		cmocka_unit_test(test_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
