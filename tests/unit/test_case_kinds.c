/* The envelope header a case document travels with (SPEC 16.7): Kind and Action under
 * envelope versions 1 and 2, the documents that need version 2, and mismatches named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"

static int setup(void **state)
{
	(void)state;
	case_fx_init();
	return 0;
}

static mla_case_report *example(const char *name)
{
	size_t len;
	char *doc = case_fx_example(name, &len);
	mla_case_report *r = case_fx_validate(doc, len, NULL);

	assert_int_equal(r->cls, MLA_CASE_VALID);
	free(doc);
	return r;
}

static void test_header_for_each_example(void **state)
{
	static const struct {
		const char *name, *kind, *action;
	} want[] = {
		{"request-extradition", "extradition", "request"},
		{"request-provisional-arrest", "provisional-arrest", "request"},
		{"request-mla", "mla", "request"},
		{"request-asset-measures", "asset-tracing", "request"},
		{"request-spontaneous-information", "information-exchange", "request"},
		{"request-production-order", "evidence", "request"},
		{"request-preservation-order", "evidence", "request"},
		{"answer-acknowledgement", NULL, "received"},
		{"answer-additional-information-requested", NULL, "additional-information-requested"},
		{"answer-additional-information-provided", NULL, "additional-information-provided"},
		{"answer-accepted", NULL, "accepted"},
		{"answer-refused", NULL, "refused"},
		{"answer-execution-report", NULL, "partially-executed"},
		{"answer-withdrawn", NULL, "withdrawn"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		mla_case_report *r = example(want[i].name);
		mla_diag d = {MLA_OK, ""};
		const char *kind, *action;

		assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_OK);
		if (want[i].kind == NULL)
			assert_null(kind);
		else
			assert_string_equal(kind, want[i].kind);
		assert_string_equal(action, want[i].action);
		assert_int_equal(mla_case_check_header(r, 1, want[i].kind != NULL ? want[i].kind : "mla",
						       action, &d),
				 MLA_OK);
		free(r);
	}
}

static void test_postponed_needs_v2(void **state)
{
	mla_case_report *r = example("answer-postponed");
	mla_diag d = {MLA_OK, ""};
	const char *kind, *action;

	(void)state;
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_ERR_HEADER);
	assert_string_equal(d.msg, "a postponed document needs envelope version 2");
	assert_int_equal(mla_case_check_header(r, 1, "mla", "accepted", &d), MLA_ERR_HEADER);
	free(r);
	r = example("answer-deadline-extended");
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_ERR_HEADER);
	assert_string_equal(d.msg, "a deadline-extended document needs envelope version 2");
	assert_int_equal(mla_case_check_header(r, 2, "preservation-order", "postponed", &d),
			 MLA_ERR_HEADER);
	free(r);
	r = example("answer-person-arrested");
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_ERR_HEADER);
	assert_string_equal(d.msg, "a person-arrested document needs envelope version 2");
	assert_int_equal(mla_case_check_header(r, 2, "extradition", "surrender-consented", &d),
			 MLA_ERR_HEADER);
	free(r);
	r = example("answer-surrender-consented");
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_ERR_HEADER);
	assert_string_equal(d.msg, "a surrender-consented document needs envelope version 2");
	free(r);
}

/* Envelope version 2: the three request kinds travel with Kinds of their own (the interim
 * ones no longer fit), Postponed with its Action; every other document as in version 1. */
static void test_header_for_v2(void **state)
{
	static const struct {
		const char *name, *kind, *interim, *action;
	} want[] = {
		{"request-spontaneous-information", "spontaneous-information", "information-exchange",
		 "request"},
		{"request-production-order", "production-order", "evidence", "request"},
		{"request-preservation-order", "preservation-order", "evidence", "request"},
		{"request-extradition", "extradition", NULL, "request"},
		{"request-mla", "mla", NULL, "request"},
		{"answer-postponed", NULL, NULL, "postponed"},
		{"answer-deadline-extended", NULL, NULL, "deadline-extended"},
		{"answer-accepted", NULL, NULL, "accepted"},
		{"answer-person-arrested", NULL, NULL, "person-arrested"},
		{"answer-surrender-consented", NULL, NULL, "surrender-consented"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		mla_case_report *r = example(want[i].name);
		mla_diag d = {MLA_OK, ""};
		const char *kind, *action;

		assert_int_equal(mla_case_header_for(r, 2, &kind, &action, &d), MLA_OK);
		if (want[i].kind == NULL)
			assert_null(kind);
		else
			assert_string_equal(kind, want[i].kind);
		assert_string_equal(action, want[i].action);
		assert_int_equal(mla_case_check_header(r, 2, kind != NULL ? kind : "production-order",
						       action, &d),
				 MLA_OK);
		if (want[i].interim != NULL) {
			/* the interim Kind fits version 1 only, and the new one version 2 only */
			assert_int_equal(mla_case_check_header(r, 2, want[i].interim, action, &d),
					 MLA_ERR_HEADER);
			assert_non_null(strstr(d.msg, want[i].kind));
			assert_int_equal(mla_case_check_header(r, 1, want[i].interim, action, &d),
					 MLA_OK);
			assert_int_equal(mla_case_check_header(r, 1, want[i].kind, action, &d),
					 MLA_ERR_HEADER);
		}
		assert_int_equal(mla_case_min_version(r),
				 strchr("pds", want[i].action[0]) != NULL ? 2 : 1);
		free(r);
	}
}

static void test_mismatch_named(void **state)
{
	mla_case_report *r = example("request-extradition");
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(mla_case_check_header(r, 1, "mla", "request", &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "Kind mla"));
	assert_non_null(strstr(d.msg, "extradition"));
	assert_int_equal(mla_case_check_header(r, 1, "extradition", "refused", &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "refused"));
	free(r);
	r = example("answer-refused");
	assert_int_equal(mla_case_check_header(r, 1, "evidence", "accepted", &d), MLA_ERR_HEADER);
	assert_non_null(strstr(d.msg, "refused document"));
	assert_int_equal(mla_case_check_header(r, 1, "evidence", "refused", &d), MLA_OK);
	free(r);
	/* a request for assistance may travel with the narrower kinds */
	r = example("request-mla");
	assert_int_equal(mla_case_check_header(r, 1, "bank-records", "request", &d), MLA_OK);
	assert_int_equal(mla_case_check_header(r, 1, "confiscation", "request", &d), MLA_ERR_HEADER);
	free(r);
}

static void test_execution_report_extent(void **state)
{
	size_t len;
	char *doc = case_fx_example("answer-execution-report", &len);
	char *full = case_fx_replace(doc, "<Extent>partial</Extent>", "<Extent>full</Extent>");
	mla_case_report *r = case_fx_validate(full, strlen(full), NULL);
	mla_diag d = {MLA_OK, ""};
	const char *kind, *action;

	(void)state;
	assert_int_equal(r->cls, MLA_CASE_VALID);
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_OK);
	assert_string_equal(action, "executed");
	assert_int_equal(mla_case_check_header(r, 1, "mla", "partially-executed", &d), MLA_ERR_HEADER);
	free(r);
	free(full);
	free(doc);
}

static void test_opaque_and_names(void **state)
{
	static const char opaque[] = "<Doc/>";
	mla_case_report *r = case_fx_validate(opaque, strlen(opaque), NULL);
	mla_diag d = {MLA_OK, ""};
	const char *kind, *action;

	(void)state;
	assert_int_equal(mla_case_check_header(r, 1, "mla", "request", &d), MLA_OK);
	assert_int_equal(mla_case_header_for(r, 1, &kind, &action, &d), MLA_ERR_ARG);
	free(r);
	for (int t = 0; t < MLA_CASE_DOCTYPE_N; t++)
		assert_true(strlen(mla_case_doctype_name((mla_case_doctype)t)) > 0);
	for (int c = 0; c < MLA_CASE_CODE_N; c++) {
		assert_true(strlen(mla_case_code_name((mla_case_code)c)) > 0);
		assert_true(strlen(mla_case_code_message((mla_case_code)c)) > 0);
	}
	assert_string_equal(mla_case_doctype_name((mla_case_doctype)99), "none");
}

/* mla_case_check, the one check before sealing and on receipt: valid with its header, each
 * refusal with its code, every problem of an invalid document in the report. */
static void test_check_both_sides(void **state)
{
	static const char opaque[] = "<Note>opaque</Note>";
	size_t len;
	char *doc = case_fx_example("request-extradition", &len);
	char *bad1 = case_fx_replace(doc, "<Nationality>XX</Nationality>", "<Nat>XX</Nat>");
	char *bad = case_fx_replace(bad1, "<Nationality>XX</Nationality>", "<Nat>XX</Nat>");
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_limits lim;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(r);
	mla_limits_default(&lim);
	assert_int_equal(mla_case_check((const uint8_t *)doc, len, &lim, 1, 1, "extradition",
					"request", r, &d), MLA_OK);
	assert_int_equal(r->cls, MLA_CASE_VALID);
	assert_int_equal(mla_case_check((const uint8_t *)doc, len, &lim, 0, 1, "mla", "request", r,
					&d), MLA_ERR_HEADER);
	assert_int_equal(mla_case_check((const uint8_t *)opaque, strlen(opaque), &lim, 0, 1, "mla",
					"request", r, &d), MLA_OK);
	assert_int_equal(mla_case_check((const uint8_t *)opaque, strlen(opaque), &lim, 1, 1, "mla",
					"request", r, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, "opaque = refuse"));
	assert_int_equal(mla_case_check((const uint8_t *)bad, strlen(bad), &lim, 0, 1, "extradition",
					"request", r, &d), MLA_ERR_SCHEMA);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	/* both unexpected elements and the mandatory one they leave missing, all at once */
	assert_true(r->n >= 3);
	assert_non_null(strstr(d.msg, "problem(s), the first /Request/"));
	free(r);
	free(bad);
	free(bad1);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_for_each_example),
		cmocka_unit_test(test_postponed_needs_v2),
		cmocka_unit_test(test_header_for_v2),
		cmocka_unit_test(test_mismatch_named),
		cmocka_unit_test(test_execution_report_extent),
		cmocka_unit_test(test_opaque_and_names),
		cmocka_unit_test(test_check_both_sides),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
