/* Unit tests of protected persons (protocol/case/redact.c, SPEC 16.12): a protected person's
 * every identifying field withheld, other persons untouched, the marked document still valid
 * request version 1, and hostile spellings (prefixes, foreign namespaces, comments, CDATA,
 * processing instructions, odd boolean forms) that must not escape redaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"
#include "mlagw/buf.h"

/* Identifying values of the protected witness: none may survive redaction. */
static const char *const secrets[] = {"Zorrilla", "Quintanilla", "1977-03-14", "Villaverde",
				      "P7781234", "QZ", "Calle Oculta 9", "scar on left hand",
				      NULL};

static int setup(void **state)
{
	(void)state;
	case_fx_init();
	return 0;
}

/* request-mla with its witness replaced by a protected witness carrying every field. */
static char *protected_doc(const char *attr)
{
	size_t len;
	char *doc = case_fx_example("request-mla", &len), *out;
	char person[1024];

	assert_true(snprintf(person, sizeof(person),
			     "<Person %s>\n        <Role>witness</Role>\n"
			     "        <Identity><FamilyName>Zorrilla</FamilyName>"
			     "<GivenNames>Quintanilla</GivenNames><DateOfBirth>1977-03-14</DateOfBirth>"
			     "<PlaceOfBirth>Villaverde</PlaceOfBirth><IdentityDocument>"
			     "<Type>passport</Type><Number>P7781234</Number>"
			     "<IssuingState>QZ</IssuingState></IdentityDocument>"
			     "<Description>scar on left hand</Description></Identity>\n"
			     "        <Nationality>QZ</Nationality>\n"
			     "        <Whereabouts>Calle Oculta 9</Whereabouts>\n      </Person>",
			     attr) < (int)sizeof(person));
	out = case_fx_replace(doc, "<Person>\n        <Role>witness</Role>\n        <Identity>"
			      "<FamilyName>Example</FamilyName><GivenNames>Witness</GivenNames>"
			      "</Identity>\n      </Person>", person);
	free(doc);
	return out;
}

/* Redacts text; returns the redacted bytes NUL-terminated (caller frees), count in *n. */
static char *redact(const char *text, size_t *n, mla_err *err)
{
	mla_limits lim;
	mla_buf b;
	mla_diag d = {MLA_OK, ""};
	char *out;

	mla_limits_default(&lim);
	mla_buf_init(&b, (size_t)1 << 20);
	*err = mla_case_protected((const uint8_t *)text, strlen(text), &lim, &b, n, &d);
	out = calloc(1, b.len + 1);
	assert_non_null(out);
	if (b.len > 0)
		memcpy(out, b.data, b.len);
	mla_buf_free(&b);
	return out;
}

static void assert_no_secret(const char *out)
{
	for (size_t i = 0; secrets[i] != NULL; i++)
		if (strstr(out, secrets[i]) != NULL)
			fail_msg("%s survived redaction:\n%s", secrets[i], out);
}

static void test_marked_document_is_valid(void **state)
{
	char *doc = protected_doc("protected=\"true\"");
	mla_err e;
	mla_case_report *r = case_fx_validate(doc, strlen(doc), &e);

	(void)state;
	assert_int_equal(e, MLA_OK);
	assert_int_equal(r->cls, MLA_CASE_VALID);
	free(r);
	free(doc);
	doc = protected_doc("protected=\"maybe\"");
	r = case_fx_validate(doc, strlen(doc), &e);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	assert_non_null(case_fx_find(r, "/Request/Common/Persons/Person[2]",
				     MLA_CASE_BAD_VALUE));
	free(r);
	free(doc);
}

static void test_every_field_redacted(void **state)
{
	char *doc = protected_doc("protected=\"true\"");
	size_t n;
	mla_err e;
	char *out = redact(doc, &n, &e);

	(void)state;
	assert_int_equal(e, MLA_OK);
	assert_int_equal(n, 1);
	assert_no_secret(out);
	/* each field kept with the marker; the role and the unprotected suspect untouched */
	static const char *const kept[] = {
		"<FamilyName>" MLA_CASE_REDACTED "</FamilyName>",
		"<GivenNames>" MLA_CASE_REDACTED "</GivenNames>",
		"<DateOfBirth>" MLA_CASE_REDACTED "</DateOfBirth>",
		"<PlaceOfBirth>" MLA_CASE_REDACTED "</PlaceOfBirth>",
		"<Type>" MLA_CASE_REDACTED "</Type>", "<Number>" MLA_CASE_REDACTED "</Number>",
		"<IssuingState>" MLA_CASE_REDACTED "</IssuingState>",
		"<Description>" MLA_CASE_REDACTED "</Description>",
		"<Whereabouts>" MLA_CASE_REDACTED "</Whereabouts>",
		"<Person protected=\"true\">", "<Role>witness</Role>", "<Role>suspect</Role>",
		"<FamilyName>Example</FamilyName><GivenNames>Person</GivenNames>"
		"<DateOfBirth>1980-01-01</DateOfBirth>",
		"<Nationality>XX</Nationality>", NULL};
	for (size_t i = 0; kept[i] != NULL; i++)
		if (strstr(out, kept[i]) == NULL)
			fail_msg("%s missing from:\n%s", kept[i], out);
	free(out);
	free(doc);
}

static void test_unprotected_untouched(void **state)
{
	static const char *const attrs[] = {"", "protected=\"false\"", "protected=\" 0 \"", NULL};

	(void)state;
	for (size_t i = 0; attrs[i] != NULL; i++) {
		char *doc = protected_doc(attrs[i]);
		size_t n = 99;
		mla_err e;
		char *out = redact(doc, &n, &e);

		assert_int_equal(e, MLA_OK);
		assert_int_equal(n, 0);
		assert_string_equal(out, ""); /* nothing to serve but the original */
		free(out);
		free(doc);
	}
}

static void test_boolean_forms_protect(void **state)
{
	static const char *const attrs[] = {"protected=\"1\"", "protected=\"  true\n\"",
					    "protected=\"yes\"", "protected=\"\"",
					    "protected='true'", NULL};

	(void)state;
	for (size_t i = 0; attrs[i] != NULL; i++) {
		char *doc = protected_doc(attrs[i]);
		size_t n = 0;
		mla_err e;
		char *out = redact(doc, &n, &e);

		assert_int_equal(e, MLA_OK);
		assert_int_equal(n, 1);
		assert_no_secret(out);
		free(out);
		free(doc);
	}
}

/* A request under a prefix, with the name hidden in comments, CDATA and a PI, and an extra
 * attribute carrying it: every trace goes. */
static void test_hostile_spellings(void **state)
{
	static const char hostile[] =
		"<?xml version=\"1.0\"?>\n<!-- Zorrilla -->"
		"<r:Request xmlns:r=\"urn:mlagw:case:request:1\" version=\"1\"><r:Common>"
		"<r:Persons><r:Person x:protected=\"true\" xmlns:x=\"urn:other\" "
		"note=\"Quintanilla\"><!-- Zorrilla --><?pi Villaverde?>"
		"<r:Role>witness<!-- Zorrilla --></r:Role>"
		"<r:Identity><r:FamilyName><![CDATA[Zorrilla]]></r:FamilyName>"
		"<r:GivenNames>Quin<!-- x -->tanilla</r:GivenNames>"
		"<o:Alias xmlns:o=\"urn:other\">P7781234</o:Alias></r:Identity>"
		"Calle Oculta 9<![CDATA[1977-03-14]]>"
		"<r:Whereabouts lang=\"QZ\"><r:Inner>scar on left hand</r:Inner></r:Whereabouts>"
		"</r:Person></r:Persons></r:Common></r:Request>";
	size_t n;
	mla_err e;
	char *out = redact(hostile, &n, &e);

	(void)state;
	assert_int_equal(e, MLA_OK);
	assert_int_equal(n, 1);
	assert_no_secret(out);
	assert_non_null(strstr(out, "<r:Role>witness</r:Role>"));
	assert_non_null(strstr(out, "<r:FamilyName>" MLA_CASE_REDACTED "</r:FamilyName>"));
	assert_non_null(strstr(out, "<o:Alias xmlns:o=\"urn:other\">" MLA_CASE_REDACTED));
	free(out);
}

/* A Person in a foreign namespace, or nested, or a Role with elements inside: fail closed. */
static void test_any_person_element(void **state)
{
	static const char nested[] =
		"<Doc xmlns=\"urn:not-a-case\"><Wrap><Person protected=\"true\">"
		"<Role>witness<Name>Zorrilla</Name></Role><Person><Name>Quintanilla</Name></Person>"
		"</Person></Wrap><Person><Name>Visible</Name></Person></Doc>";
	size_t n;
	mla_err e;
	char *out = redact(nested, &n, &e);

	(void)state;
	assert_int_equal(e, MLA_OK);
	assert_int_equal(n, 1);
	assert_no_secret(out);
	assert_non_null(strstr(out, "<Name>Visible</Name>"));
	free(out);
}

/* The mark itself carries no field out: any value but false protects, and the person keeps
 * its protected attribute, so its value (and that of a second one in another namespace) is
 * served as "true", never as written. */
static void test_mark_value_redacted(void **state)
{
	static const char *const attrs[] = {
		"protected=\"Zorrilla Quintanilla\"",
		"protected=\"true\" x:protected=\"P7781234\" xmlns:x=\"urn:other\"",
		NULL};

	(void)state;
	for (size_t i = 0; attrs[i] != NULL; i++) {
		char *doc = protected_doc(attrs[i]);
		size_t n = 0;
		mla_err e;
		char *out = redact(doc, &n, &e);

		assert_int_equal(e, MLA_OK);
		assert_int_equal(n, 1);
		assert_no_secret(out);
		assert_non_null(strstr(out, "protected=\"true\""));
		free(out);
		free(doc);
	}
}

static void test_unparsable_named_refused(void **state)
{
	static const char broken[] = "<Person protected=\"true\"><Name>Zorrilla</Name>";
	static const char dtd[] = "<!DOCTYPE p [<!ENTITY n \"Zorrilla\">]>"
				  "<Person protected=\"true\">&n;</Person>";
	size_t n;
	mla_err e;
	char *out = redact(broken, &n, &e);

	(void)state;
	assert_int_not_equal(e, MLA_OK);
	assert_string_equal(out, "");
	free(out);
	out = redact(dtd, &n, &e);
	assert_int_not_equal(e, MLA_OK);
	free(out);
	/* no markup, or no name: nobody is marked */
	out = redact("plain text naming protected things", &n, &e);
	assert_int_equal(e, MLA_OK);
	assert_int_equal(n, 0);
	free(out);
	out = redact("%PDF-1.7 <binary>", &n, &e);
	assert_int_equal(e, MLA_OK);
	assert_int_equal(n, 0);
	free(out);
}

/* The name in UTF-16 or UTF-32 (either byte order): the parser reads only UTF-8, a reader's
 * tools may not, so such bytes cannot be redacted and fail closed. */
static void test_wide_encodings_refused(void **state)
{
	static const char text[] = "<P protected=\"true\">Zorrilla</P>";
	uint8_t wide[4 * sizeof(text)];
	mla_limits lim;
	mla_buf b;

	(void)state;
	mla_limits_default(&lim);
	for (size_t width = 2; width <= 4; width += 2) {
		for (int big = 0; big <= 1; big++) {
			mla_diag d = {MLA_OK, ""};
			size_t n = 0, len = (sizeof(text) - 1) * width;

			memset(wide, 0, sizeof(wide));
			for (size_t i = 0; i < sizeof(text) - 1; i++)
				wide[i * width + (big ? width - 1 : 0)] = (uint8_t)text[i];
			mla_buf_init(&b, 1 << 20);
			assert_int_not_equal(mla_case_protected(wide, len, &lim, &b, &n, &d), MLA_OK);
			assert_int_equal(b.len, 0);
			assert_null(strstr(d.msg, "Zorrilla"));
			mla_buf_free(&b);
		}
	}
}

/* Counting only (an allowed reader): no bytes written. */
static void test_count_only(void **state)
{
	char *doc = protected_doc("protected=\"true\"");
	mla_limits lim;
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	(void)state;
	mla_limits_default(&lim);
	assert_int_equal(mla_case_protected((const uint8_t *)doc, strlen(doc), &lim, NULL, &n, &d),
			 MLA_OK);
	assert_int_equal(n, 1);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marked_document_is_valid),
		cmocka_unit_test(test_every_field_redacted),
		cmocka_unit_test(test_unprotected_untouched),
		cmocka_unit_test(test_boolean_forms_protect),
		cmocka_unit_test(test_hostile_spellings),
		cmocka_unit_test(test_any_person_element),
		cmocka_unit_test(test_unparsable_named_refused),
		cmocka_unit_test(test_wide_encodings_refused),
		cmocka_unit_test(test_count_only),
		cmocka_unit_test(test_mark_value_redacted),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
