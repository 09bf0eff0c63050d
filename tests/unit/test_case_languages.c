/* The languages of a case request (SPEC 16.4 Common/Language and Common/Translations), read
 * for the competent authority's check before sealing (SPEC 18.6): a request's own language
 * and its translations; nothing from an answer or an opaque document. */
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

static void langs_of(const char *doc, size_t len, mla_case_langs *out)
{
	mla_limits lim;
	mla_diag d = {MLA_OK, ""};

	mla_limits_default(&lim);
	assert_int_equal(mla_case_languages((const uint8_t *)doc, len, &lim, out, &d), MLA_OK);
}

static void test_request_and_translation(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-extradition", &len);
	mla_case_langs l;

	(void)state;
	langs_of(doc, len, &l);
	assert_string_equal(l.lang, "es");
	assert_int_equal(l.n_translations, 1);
	assert_string_equal(l.translations[0], "en");
	free(doc);
}

static void test_several_translations(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-mla", &len), *two;
	mla_case_langs l;

	(void)state;
	two = case_fx_replace(doc, "<Translations><Language>en</Language></Translations>",
			      "<Translations><Language>en</Language>\n <Language> fr </Language>"
			      "</Translations>");
	langs_of(two, strlen(two), &l);
	assert_string_equal(l.lang, "es");
	assert_int_equal(l.n_translations, 2);
	assert_string_equal(l.translations[1], "fr"); /* trimmed as xs:token collapses it */
	free(two);
	free(doc);
}

static void test_no_language_outside_requests(void **state)
{
	size_t len;
	char *doc = case_fx_example("answer-accepted", &len);
	mla_case_langs l;

	(void)state;
	langs_of(doc, len, &l);
	assert_string_equal(l.lang, "");
	assert_int_equal(l.n_translations, 0);
	langs_of("<Request>opaque</Request>", 25, &l);
	assert_string_equal(l.lang, "");
	langs_of("not xml at all", 14, &l);
	assert_string_equal(l.lang, "");
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_and_translation),
		cmocka_unit_test(test_several_translations),
		cmocka_unit_test(test_no_language_outside_requests),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
