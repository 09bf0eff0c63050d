/* mla_case_refusal_grounds (protocol/case/grounds.c, SPEC 14 version 6): the coded grounds of
 * a valid Refused answer, in document order; none from
 * an opaque, invalid or other document; the callback's error stops it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"
#include "mlagw/audit_entry.h"
#include "mlagw/case.h"

struct seen {
	char list[256];
	int calls;
};

static mla_err collect(const char *code, void *arg)
{
	struct seen *s = arg;
	size_t n = strlen(s->list);

	assert_true(n + strlen(code) + 2 < sizeof(s->list));
	if (n > 0)
		s->list[n++] = '|';
	memcpy(s->list + n, code, strlen(code) + 1);
	s->calls++;
	return MLA_OK;
}

static mla_err stop(const char *code, void *arg)
{
	(void)code;
	(*(int *)arg)++;
	return MLA_ERR_ARG;
}

static mla_err grounds(const char *doc, size_t len, struct seen *s)
{
	mla_limits lim;
	mla_diag d = {0};

	mla_limits_default(&lim);
	memset(s, 0, sizeof(*s));
	return mla_case_refusal_grounds((const uint8_t *)doc, len, &lim, collect, s, &d);
}

static void test_example(void **state)
{
	struct seen s;
	size_t len;
	char *doc = case_fx_example("answer-refused", &len);
	char *spaced, *reordered;
	char g[MLA_AUDIT_GROUNDS_MAX + 1] = "";

	(void)state;
	assert_int_equal(grounds(doc, len, &s), MLA_OK);
	assert_string_equal(s.list, "untoc-18-21-b|bank-secrecy");
	/* the document's order kept (the entry orders them) */
	spaced = case_fx_replace(doc, "<Ground>untoc-18-21-b</Ground><Ground>bank-secrecy</Ground>",
				 "<Ground>bank-secrecy</Ground><Ground>untoc-18-21-b</Ground>");
	assert_int_equal(grounds(spaced, strlen(spaced), &s), MLA_OK);
	assert_string_equal(s.list, "bank-secrecy|untoc-18-21-b");
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "bank-secrecy"), MLA_OK);
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "untoc-18-21-b"), MLA_OK);
	assert_string_equal(g, "untoc-18-21-b,bank-secrecy");
	reordered = case_fx_replace(doc, "<Ground>bank-secrecy</Ground>", "");
	assert_int_equal(grounds(reordered, strlen(reordered), &s), MLA_OK);
	assert_string_equal(s.list, "untoc-18-21-b");
	free(spaced);
	free(reordered);
	free(doc);
}

static void test_not_refused(void **state)
{
	static const char opaque[] = "<Doc>step</Doc>";
	struct seen s;
	size_t len;
	char *acc = case_fx_example("answer-accepted", &len);
	char *doc = case_fx_example("answer-refused", &len);
	char *bad = case_fx_replace(doc, "<Ground>untoc-18-21-b</Ground>",
				    "<Ground>untoc-18-21-z</Ground>");
	mla_limits lim;
	mla_diag d = {0};
	int calls = 0;

	(void)state;
	assert_int_equal(grounds(opaque, strlen(opaque), &s), MLA_ERR_SCHEMA);
	assert_int_equal(grounds(acc, strlen(acc), &s), MLA_ERR_SCHEMA);
	assert_int_not_equal(grounds(bad, strlen(bad), &s), MLA_OK);
	assert_int_equal(s.calls, 0);
	mla_limits_default(&lim);
	assert_int_equal(mla_case_refusal_grounds((const uint8_t *)doc, len, &lim, stop, &calls,
						  &d),
			 MLA_ERR_ARG);
	assert_int_equal(calls, 1);
	free(acc);
	free(doc);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_not_refused),
	};
	case_fx_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
