/* The JSON of POST /mla/v1/recover (gateway/recover/recover_wire.c): the request parser and
 * the answer parser are strict (unknown members, duplicates, wrong types, bad cursors, bad
 * base64, over-long values and too many items refused) and bounded, and what the writers
 * write, the parsers read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "recover/recover_wire.h"

#define ID "0b6f1c52-4d1e-4a8e-9a53-2f6c1a7e9d10"

static mla_err req(const char *json, struct recover_req *q)
{
	mla_diag d = {MLA_OK, ""};

	return recover_req_parse(json, strlen(json), q, &d);
}

static void test_request_good(void **state)
{
	struct recover_req q, back;
	mla_buf b;

	(void)state;
	assert_int_equal(req("{\"since_ms\": 0}", &q), MLA_OK);
	assert_int_equal(q.limit, RECOVER_PAGE_ITEMS);
	assert_int_equal(q.has_after, 0);
	assert_int_equal(req("{\"since_ms\": 5, \"after\": null, \"limit\": 3}", &q), MLA_OK);
	assert_int_equal(q.since_ms, 5);
	assert_int_equal(q.limit, 3);
	assert_int_equal(req("{\"since_ms\": 1700000000000, \"after\": \"1700000000123.1." ID
			     "\"}", &q), MLA_OK);
	assert_int_equal(q.has_after, 1);
	assert_int_equal(q.after.time_ms, 1700000000123);
	assert_int_equal(q.after.dir, 1);
	assert_string_equal(q.after.message_id, ID);
	mla_buf_init(&b, RECOVER_REQUEST_MAX);
	assert_int_equal(recover_req_write(&q, &b), MLA_OK);
	assert_int_equal(recover_req_parse(b.data, b.len, &back, NULL), MLA_OK);
	assert_int_equal(back.since_ms, q.since_ms);
	assert_string_equal(back.after.message_id, ID);
	mla_buf_free(&b);
}

static void test_request_refused(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{}", "{\"since_ms\": -1}", "{\"since_ms\": \"1\"}", "{\"since_ms\": 1.5}",
		"{\"since_ms\": 253402300800000}", "{\"since_ms\": 0, \"limit\": 0}",
		"{\"since_ms\": 0, \"limit\": 65}", "{\"since_ms\": 0, \"limit\": true}",
		"{\"since_ms\": 0, \"other\": 1}", "{\"since_ms\": 0, \"since_ms\": 1}",
		"{\"since_ms\": 0, \"after\": 5}", "{\"since_ms\": 0, \"after\": \"\"}",
		"{\"since_ms\": 0, \"after\": \"12\"}", "{\"since_ms\": 0, \"after\": \"12.2." ID "\"}",
		"{\"since_ms\": 0, \"after\": \"x.1." ID "\"}", "{\"since_ms\": 0, \"after\": \"1.1.\"}",
		"{\"since_ms\": 0, \"after\": \"1.1.a b\"}",
		"{\"since_ms\": 0, \"after\": \"1.1." ID "0\"}",
	};
	struct recover_req q;
	char big[RECOVER_REQUEST_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (req(bad[i], &q) == MLA_OK)
			fail_msg("accepted: %s", bad[i]);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"since_ms\": 0}", 15);
	assert_int_equal(req(big, &q), MLA_ERR_TOO_LARGE);
}

/* An answer with one item of the given members' text. */
static mla_err answer(const char *json, size_t envelope_max, struct recover_page *p)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r = recover_answer_parse(json, strlen(json), envelope_max, p, &d);

	if (r != MLA_OK)
		assert_true(d.msg[0] != '\0'); /* a refusal says why */
	return r;
}

#define ITEM(dir, id, env, rc) \
	"{\"direction\": \"" dir "\", \"message_id\": \"" id "\", \"envelope\": \"" env \
	"\", \"receipt\": \"" rc "\"}"

static void test_answer_good(void **state)
{
	struct recover_page p;

	(void)state;
	assert_int_equal(answer("{\"items\": [], \"next\": null}", 16, &p), MLA_OK);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.has_next, 0);
	recover_page_free(&p);
	assert_int_equal(answer("{\"items\": [" ITEM("sent-by-you", ID, "PGE+", "PGI+") ", "
				ITEM("sent-to-you", ID, "YWJj", "eA==") "], \"next\": \"7.0." ID
				"\"}", 16, &p), MLA_OK);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.items[0].dir, RECOVER_SENT_BY_YOU);
	assert_int_equal(p.items[1].dir, RECOVER_SENT_TO_YOU);
	assert_int_equal(p.items[0].envelope.len, 3);
	assert_memory_equal(p.items[0].envelope.data, "<a>", 3);
	assert_memory_equal(p.items[1].receipt.data, "x", 1);
	assert_int_equal(p.has_next, 1);
	assert_string_equal(p.next, "7.0." ID);
	recover_page_free(&p);
}

static void test_answer_refused(void **state)
{
	static const char *const bad[] = {
		"", "null", "{}", "{\"items\": []}", "{\"next\": null}",
		"{\"items\": {}, \"next\": null}", "{\"items\": [], \"next\": 3}",
		"{\"items\": [], \"next\": \"nope\"}", "{\"items\": [], \"next\": null, \"x\": 1}",
		"{\"items\": [], \"items\": [], \"next\": null}", "{\"items\": [1], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-me", ID, "PGE+", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", "", "PGE+", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", ID "0", "PGE+", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", "a/b", "PGE+", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", ID, "", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", ID, "PGE", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", ID, "PG E+", "PGI+") "], \"next\": null}",
		"{\"items\": [" ITEM("sent-by-you", ID, "PGE+", "eB==") "], \"next\": null}",
		/* an envelope over the limit of 16 bytes (18 bytes) */
		"{\"items\": [" ITEM("sent-by-you", ID, "MDEyMzQ1Njc4OTAxMjM0NTY3", "PGI+")
		"], \"next\": null}",
		"{\"items\": [{\"direction\": \"sent-by-you\", \"message_id\": \"" ID "\", "
		"\"envelope\": \"PGE+\"}], \"next\": null}",
		"{\"items\": [{\"direction\": \"sent-by-you\", \"message_id\": \"" ID "\", "
		"\"envelope\": \"PGE+\", \"receipt\": \"PGI+\", \"more\": 1}], \"next\": null}",
	};
	struct recover_page p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (answer(bad[i], 16, &p) == MLA_OK)
			fail_msg("accepted: %s", bad[i]);
		recover_page_free(&p);
	}
}

static void test_answer_too_many_items(void **state)
{
	mla_buf b;
	struct recover_page p;

	(void)state;
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_buf_append_str(&b, "{\"items\": ["), MLA_OK);
	for (int i = 0; i <= RECOVER_PAGE_ITEMS; i++)
		assert_int_equal(mla_buf_append_str(&b, i ? ", " ITEM("sent-by-you", ID, "PGE+",
								       "PGI+")
							  : ITEM("sent-by-you", ID, "PGE+", "PGI+")),
				 MLA_OK);
	assert_int_equal(mla_buf_append_str(&b, "], \"next\": null}"), MLA_OK);
	assert_int_not_equal(recover_answer_parse(b.data, b.len, 16, &p, NULL), MLA_OK);
	recover_page_free(&p);
	mla_buf_free(&b);
}

static void test_writer_roundtrip(void **state)
{
	json_t *items = json_array();
	struct recover_page p;
	mla_buf b;

	(void)state;
	assert_non_null(items);
	assert_int_equal(json_array_append_new(items, recover_item_json(RECOVER_SENT_TO_YOU, ID,
		(const uint8_t *)"<env/>", 6, (const uint8_t *)"<rc/>", 5)), 0);
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(recover_answer_write(items, "9.1." ID, &b), MLA_OK);
	assert_int_equal(recover_answer_parse(b.data, b.len, 64, &p, NULL), MLA_OK);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.items[0].dir, RECOVER_SENT_TO_YOU);
	assert_memory_equal(p.items[0].envelope.data, "<env/>", 6);
	assert_memory_equal(p.items[0].receipt.data, "<rc/>", 5);
	assert_string_equal(p.next, "9.1." ID);
	recover_page_free(&p);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_good),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_answer_good),
		cmocka_unit_test(test_answer_refused),
		cmocka_unit_test(test_answer_too_many_items),
		cmocka_unit_test(test_writer_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
