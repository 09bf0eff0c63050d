/* The rows of mlagw cases --due from the gateway's case list (cli/cases_due_json.c): cases
 * without a due time left out, the legal deadline falling due first kept with its rule, the
 * wished date, priority, state and pause read back, and the table they make. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases_due.h"

static const char list[] =
	"{\"now_ms\": 1769340000000, \"items\": ["
	" {\"case_id\": \"ES-1\", \"peer\": \"CO\"},"
	" {\"case_id\": \"ES-2\", \"peer\": \"CO\", \"kind\": \"mla\", \"priority\": \"normal\","
	"  \"deadlines\": [], \"paused\": false},"
	" {\"case_id\": \"ES-3\", \"peer\": \"CO\", \"kind\": \"mla\", \"priority\": \"urgent\","
	"  \"paused\": true, \"due_ms\": 1769367600000, \"deadline_state\": \"overdue\","
	"  \"deadlines\": ["
	"   {\"deadline\": \"legal\", \"rule\": \"production_objection\", \"due_ms\": 1769670000000,"
	"    \"fraction\": 10, \"state\": \"not-due\"},"
	"   {\"deadline\": \"legal\", \"rule\": \"production_emergency\", \"due_ms\": 1769367600000,"
	"    \"fraction\": 1001, \"state\": \"overdue\"},"
	"   {\"deadline\": \"wished\", \"rule\": \"wished\", \"due_ms\": 1769472000000,"
	"    \"fraction\": 20, \"state\": \"not-due\"}]}]}";

static void test_rows(void **state)
{
	json_t *j = json_loads(list, 0, NULL);
	struct cases_due_row *rows = NULL;
	size_t n = 9;
	mla_buf out;

	(void)state;
	assert_non_null(j);
	assert_int_equal(cases_due_rows(json_object_get(j, "items"), &rows, &n), MLA_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].case_id, "ES-3");
	assert_string_equal(rows[0].kind, "mla");
	assert_string_equal(rows[0].rule, "production_emergency");
	assert_int_equal(rows[0].priority, MLA_DEADLINE_URGENT);
	assert_int_equal(rows[0].dl.state, MLA_DEADLINE_OVERDUE);
	assert_true(rows[0].dl.paused);
	assert_true(rows[0].dl.legal.set && rows[0].dl.wished.set);
	assert_int_equal(rows[0].dl.legal.due_ms, 1769367600000);
	assert_int_equal(rows[0].dl.legal.permille, 1001);
	assert_int_equal(rows[0].dl.wished.due_ms, 1769472000000);
	mla_buf_init(&out, 1 << 16);
	assert_int_equal(cases_due_format(rows, n, CASES_DUE_OVERDUE, 1769340000000, &out),
			 MLA_OK);
	assert_int_equal(mla_buf_append(&out, (const uint8_t *)"", 1), MLA_OK);
	assert_non_null(strstr((const char *)out.data, "urgent   ES-3"));
	assert_non_null(strstr((const char *)out.data, "production_emergency"));
	assert_non_null(strstr((const char *)out.data, "overdue,paused"));
	mla_buf_free(&out);
	free(rows);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
