/* Unit tests of case document validation (protocol/case/, SPEC section 16): the examples,
 * opaque documents, versions, every problem at once by path, malformed values, the rules
 * beyond the XSD, the problem cap, and that no problem ever carries text of the document. */
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

#define MARKER "ZQXJ-MARKER"

static int setup(void **state)
{
	(void)state;
	case_fx_init();
	return 0;
}

/* Example name with from replaced by to, validated; the report (caller frees). */
static mla_case_report *edited(const char *name, const char *from, const char *to, mla_err *e)
{
	size_t len;
	char *doc = case_fx_example(name, &len);
	char *ed = case_fx_replace(doc, from, to);
	mla_case_report *r = case_fx_validate(ed, strlen(ed), e);

	free(doc);
	free(ed);
	return r;
}

static void expect(const mla_case_report *r, const char *path, mla_case_code code)
{
	if (case_fx_find(r, path, code) == NULL) {
		for (size_t i = 0; i < r->n; i++)
			fprintf(stderr, "  have %s %s\n", r->problems[i].path,
				mla_case_code_name(r->problems[i].code));
		fail_msg("no %s problem at %s", mla_case_code_name(code), path);
	}
}

static void test_examples_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < case_n_examples; i++) {
		size_t len;
		char *doc = case_fx_example(case_examples[i].name, &len);
		mla_err e;
		mla_case_report *r = case_fx_validate(doc, len, &e);

		if (r->n > 0)
			fail_msg("%s: %s %s", case_examples[i].name, r->problems[0].path,
				 mla_case_code_name(r->problems[0].code));
		assert_int_equal(e, MLA_OK);
		assert_int_equal(r->cls, MLA_CASE_VALID);
		assert_int_equal(r->type, case_examples[i].type);
		assert_int_equal(r->version, 1);
		free(r);
		free(doc);
	}
}

static void expect_opaque(const char *doc)
{
	mla_err e;
	mla_case_report *r = case_fx_validate(doc, strlen(doc), &e);

	assert_int_equal(e, MLA_OK);
	assert_int_equal(r->cls, MLA_CASE_OPAQUE);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->type, MLA_CASE_NONE);
	free(r);
}

static void test_opaque(void **state)
{
	(void)state;
	expect_opaque("<Request><Common/></Request>");          /* no namespace */
	expect_opaque("<x:Doc xmlns:x=\"urn:example:other:1\"/>"); /* another schema */
	expect_opaque("%PDF-1.7 not XML at all");
	expect_opaque("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>"); /* refused, names no case ns */
	expect_opaque("<a>&#65;</a>"); /* a character reference, parsed: still no namespace */
}

/* A namespace spelt with a character reference is still the case namespace: validated. */
static void test_namespace_by_char_ref(void **state)
{
	static const char doc[] = "<Request xmlns=\"&#117;rn:mlagw:case:request:1\" version=\"1\"/>";
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_limits l;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(r);
	mla_limits_default(&l);
	assert_int_equal(mla_case_validate((const uint8_t *)doc, sizeof(doc) - 1, &l, r, &d),
			 MLA_ERR_SCHEMA);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	free(r);
}

static void test_versions_and_namespaces(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	r = edited("answer-refused", "version=\"1\"", "version=\"2\"", &e);
	assert_int_equal(e, MLA_ERR_UNSUPPORTED_VERSION);
	expect(r, "/Refused/@version", MLA_CASE_UNSUPPORTED);
	assert_int_equal(r->n, 1);
	free(r);
	r = edited("answer-refused", " version=\"1\"", "", &e);
	assert_int_equal(e, MLA_ERR_UNSUPPORTED_VERSION);
	expect(r, "/Refused/@version", MLA_CASE_UNSUPPORTED);
	free(r);
	r = edited("request-mla", "urn:mlagw:case:request:1", "urn:mlagw:case:request:2", &e);
	assert_int_equal(e, MLA_ERR_UNSUPPORTED_VERSION);
	expect(r, "/Request", MLA_CASE_UNSUPPORTED);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	free(r);
	r = edited("request-mla", "urn:mlagw:case:request:1", "urn:mlagw:case:invoice:1", &e);
	assert_int_equal(e, MLA_ERR_UNSUPPORTED_VERSION);
	expect(r, "/Request", MLA_CASE_UNSUPPORTED);
	free(r);
	/* a root the answer schema does not have */
	r = edited("request-mla", "urn:mlagw:case:request:1", "urn:mlagw:case:answer:1", &e);
	assert_int_equal(e, MLA_ERR_UNSUPPORTED_VERSION);
	expect(r, "/Request", MLA_CASE_UNSUPPORTED);
	free(r);
}

/* The same refusal through the gateway's check (before sealing and on receipt): the code
 * stays unsupported-version (SPEC 16.1 item 3), the report lists the one problem. */
static void test_check_keeps_unsupported_version(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-mla", &len);
	char *ed = case_fx_replace(doc, "urn:mlagw:case:request:1", "urn:mlagw:case:request:2");
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_limits lim;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(r);
	mla_limits_default(&lim);
	assert_int_equal(mla_case_check((const uint8_t *)ed, strlen(ed), &lim, 0, 1, "mla",
					"request", r, &d), MLA_ERR_UNSUPPORTED_VERSION);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	assert_int_equal(r->n, 1);
	if (strstr(d.msg, "/Request") == NULL || strstr(d.msg, "unsupported") == NULL)
		fail_msg("message: %s", d.msg);
	free(r);
	free(ed);
	free(doc);
}

/* Three mandatory elements removed and one unknown added: all four reported at once, and
 * the values after the unknown element are still checked. */
static void test_several_problems_at_once(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-extradition", &len), *a, *b, *c, *d;
	mla_err e;
	mla_case_report *r;

	(void)state;
	a = case_fx_replace(doc, "<Date>2026-11-20</Date>", "<Unknown/>");
	b = case_fx_replace(a, "<Purpose>Example purpose: to establish fictitious facts</Purpose>", "");
	c = case_fx_replace(b, "<Language>es</Language>", "");
	d = case_fx_replace(c, "<Nationality>XX</Nationality>\n      <Whereabouts>",
			    "<Nationality>xx</Nationality>\n      <Whereabouts>");
	r = case_fx_validate(d, strlen(d), &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Request/Common/Unknown", MLA_CASE_UNEXPECTED);
	expect(r, "/Request/Common/Date", MLA_CASE_MISSING);
	expect(r, "/Request/Common/Purpose", MLA_CASE_MISSING);
	expect(r, "/Request/Common/Language", MLA_CASE_MISSING);
	expect(r, "/Request/Extradition/PersonSought/Nationality", MLA_CASE_BAD_FORMAT);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->type, MLA_CASE_EXTRADITION);
	free(r);
	free(a);
	free(b);
	free(c);
	free(d);
	free(doc);
}

static void test_malformed_values(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-extradition", &len), *cur, *next;
	static const char *const edits[][2] = {
		{"<DateOfBirth>1980-01-01</DateOfBirth>", "<DateOfBirth>1980-02-30</DateOfBirth>"},
		{"<Date>2026-10-01</Date>", "<Date>01/10/2026</Date>"},
		{"<State>ES</State>", "<State>es</State>"},
		{"<Role>witness</Role>", "<Role>bystander</Role>"},
		{"<MaximumMonths>120</MaximumMonths>", "<MaximumMonths>5000</MaximumMonths>"},
		{"<Name>Example Prosecution Office</Name>", "<Name>  </Name>"},
		{"<Urgent>false</Urgent>", "<Urgent>maybe</Urgent>"},
		{"<Proceedings>", "<Proceedings>stray text"},
	};
	mla_err e;
	mla_case_report *r;

	(void)state;
	cur = doc;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		next = case_fx_replace(cur, edits[i][0], edits[i][1]);
		if (cur != doc)
			free(cur);
		cur = next;
	}
	r = case_fx_validate(cur, strlen(cur), &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Request/Common/Persons/Person[1]/Identity/DateOfBirth", MLA_CASE_BAD_VALUE);
	expect(r, "/Request/Extradition/Decision/Date", MLA_CASE_BAD_VALUE);
	expect(r, "/Request/Common/RequestingAuthority/State", MLA_CASE_BAD_FORMAT);
	expect(r, "/Request/Common/Persons/Person[2]/Role", MLA_CASE_UNKNOWN_VALUE);
	expect(r, "/Request/Extradition/Penalty/MaximumMonths", MLA_CASE_OUT_OF_RANGE);
	expect(r, "/Request/Common/RequestingAuthority/Name", MLA_CASE_BAD_LENGTH);
	expect(r, "/Request/Common/Urgency/Urgent", MLA_CASE_BAD_VALUE);
	expect(r, "/Request/Common/Proceedings", MLA_CASE_TEXT_NOT_ALLOWED);
	assert_string_equal(case_fx_find(r, "/Request/Common/Persons/Person[2]/Role",
					 MLA_CASE_UNKNOWN_VALUE)->detail, "PersonRole");
	assert_int_equal(r->n, 8);
	free(r);
	free(cur);
	free(doc);
}

static void test_repeated_element(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	/* elements inside a value, attributes where none are allowed, another namespace */
	r = edited("answer-acknowledgement", "<ReceivedOn>2026-11-21</ReceivedOn>",
		   "<ReceivedOn x=\"1\">2026<b>11</b>-21</ReceivedOn><o:Note xmlns:o=\"urn:o\"/>", &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Acknowledgement/ReceivedOn/b", MLA_CASE_UNEXPECTED);
	expect(r, "/Acknowledgement/ReceivedOn", MLA_CASE_BAD_ATTRIBUTE);
	expect(r, "/Acknowledgement/Note", MLA_CASE_UNEXPECTED);
	assert_string_equal(case_fx_find(r, "/Acknowledgement/Note", MLA_CASE_UNEXPECTED)->detail,
			    "another namespace");
	free(r);
	r = edited("request-mla", "<Date>2026-11-20</Date>",
		   "<Date>2026-11-20</Date><Date>2026-11-21</Date>", &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Request/Common/Date", MLA_CASE_REPEATED);
	assert_int_equal(r->n, 1);
	free(r);
}

/* Replaces every non-blank text node of doc with MARKER. */
static char *mark_all_text(const char *doc)
{
	mla_buf b;
	const char *p = doc;
	char *out;
	size_t n;

	mla_buf_init(&b, 1 << 20);
	while (*p != '\0') {
		const char *lt = strchr(p, '<'), *gt;
		int blank = 1;

		if (lt == NULL)
			lt = p + strlen(p);
		for (const char *q = p; q < lt; q++)
			if (*q != ' ' && *q != '\n' && *q != '\t')
				blank = 0;
		assert_int_equal(blank || p == doc ? mla_buf_append(&b, p, (size_t)(lt - p))
						   : mla_buf_append_str(&b, MARKER),
				 MLA_OK);
		if (*lt == '\0')
			break;
		assert_non_null(gt = strchr(lt, '>'));
		assert_int_equal(mla_buf_append(&b, lt, (size_t)(gt - lt + 1)), MLA_OK);
		p = gt + 1;
	}
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	out = (char *)mla_buf_detach(&b, &n);
	return out;
}

static void assert_no_marker(const mla_case_report *r, const char *diag)
{
	char line[512];

	assert_null(strstr(diag, "ZQXJ"));
	for (size_t i = 0; i < r->n; i++) {
		mla_case_problem_format(&r->problems[i], line, sizeof(line));
		assert_null(strstr(line, "ZQXJ"));
		assert_null(strstr(r->problems[i].detail, "ZQXJ"));
	}
}

static void test_no_document_text_in_problems(void **state)
{
	(void)state;
	for (size_t i = 0; i < case_n_examples; i++) {
		size_t len;
		char *doc = case_fx_example(case_examples[i].name, &len);
		char *marked = mark_all_text(doc);
		mla_case_report *r = calloc(1, sizeof(*r));
		mla_diag d = {MLA_OK, ""};
		mla_limits lim;

		assert_non_null(strstr(marked, MARKER));
		mla_limits_default(&lim);
		assert_int_equal(mla_case_validate((const uint8_t *)marked, strlen(marked), &lim, r,
						   &d),
				 MLA_ERR_SCHEMA);
		assert_true(r->n > 0); /* dates, codes and enumerations all fail */
		assert_no_marker(r, mla_diag_message(&d));
		free(r);
		free(marked);
		free(doc);
	}
}

/* Malformed XML in a case namespace: refused, the parser's message (which may quote the
 * document) not passed on. */
static void test_not_xml(void **state)
{
	static const char doc[] = "<Request xmlns=\"urn:mlagw:case:request:1\" version=\"1\">"
				  "<Common>" MARKER "</Commo" MARKER ">";
	static const char dtd[] = "<!DOCTYPE Request [<!ENTITY e \"" MARKER "\">]>"
				  "<Request xmlns=\"urn:mlagw:case:request:1\" version=\"1\"/>";
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;

	(void)state;
	mla_limits_default(&lim);
	assert_int_equal(mla_case_validate((const uint8_t *)doc, strlen(doc), &lim, r, &d),
			 MLA_ERR_XML_MALFORMED);
	assert_int_equal(r->cls, MLA_CASE_INVALID);
	expect(r, "/", MLA_CASE_NOT_XML);
	assert_no_marker(r, mla_diag_message(&d));
	assert_int_equal(mla_case_validate((const uint8_t *)dtd, strlen(dtd), &lim, r, &d),
			 MLA_ERR_XML_ENTITY_EXPANSION);
	expect(r, "/", MLA_CASE_NOT_XML);
	free(r);
}

/* The document's element count is bounded by max_document_nodes, its size by
 * max_document_bytes, whatever the envelope's own limits. */
static void test_document_limits(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-extradition", &len);
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;

	(void)state;
	mla_limits_default(&lim);
	lim.max_nodes = 16;        /* the envelope's: not used for documents */
	lim.max_envelope_bytes = 16;
	assert_int_equal(mla_case_validate((const uint8_t *)doc, len, &lim, r, &d), MLA_OK);
	lim.max_document_nodes = 16;
	assert_int_equal(mla_case_validate((const uint8_t *)doc, len, &lim, r, &d), MLA_ERR_XML_NODES);
	expect(r, "/", MLA_CASE_NOT_XML);
	mla_limits_default(&lim);
	lim.max_document_bytes = len - 1;
	assert_int_equal(mla_case_validate((const uint8_t *)doc, len, &lim, r, &d), MLA_ERR_TOO_LARGE);
	free(r);
	free(doc);
}

static void test_problem_cap(void **state)
{
	mla_buf b;
	mla_err e;
	mla_case_report *r;
	size_t n;
	char *many;

	(void)state;
	mla_buf_init(&b, 1 << 16);
	assert_int_equal(mla_buf_append_str(&b, "<Common>"), MLA_OK);
	for (int i = 0; i < 150; i++)
		assert_int_equal(mla_buf_append_str(&b, "<X/>"), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	many = (char *)mla_buf_detach(&b, &n);
	r = edited("answer-accepted", "<Common>", many, &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	assert_int_equal(r->n, MLA_CASE_PROBLEMS_MAX);
	assert_int_equal(r->more, 50);
	free(r);
	free(many);
}

static void test_refused_grounds(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	/* bank secrecy beside a real ground: the example, valid */
	r = edited("answer-refused", "<Ground>untoc-18-21-b</Ground>",
		   "<Ground>fiscal-matter</Ground>", &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Refused/Grounds", MLA_CASE_GROUND_NOT_ACCEPTED);
	assert_int_equal(r->n, 1);
	free(r);
	r = edited("answer-refused", "<Ground>untoc-18-21-b</Ground><Ground>bank-secrecy</Ground>",
		   "<Ground>bank-secrecy</Ground>", &e);
	expect(r, "/Refused/Grounds", MLA_CASE_GROUND_NOT_ACCEPTED);
	free(r);
	r = edited("answer-refused", "<Ground>untoc-18-21-b</Ground>",
		   "<Ground>eio-11-1-z</Ground>", &e);
	expect(r, "/Refused/Grounds/Ground[1]", MLA_CASE_UNKNOWN_VALUE);
	free(r);
}

static void test_postponed_until(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	r = edited("answer-postponed", "<Until>2027-01-31</Until>", "<Until>2026-11-25</Until>", &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Postponed/Until", MLA_CASE_DATE_ORDER);
	assert_int_equal(r->n, 1);
	free(r);
	r = edited("answer-postponed", "<Until>2027-01-31</Until>", "<Until>2025-01-31</Until>", &e);
	expect(r, "/Postponed/Until", MLA_CASE_DATE_ORDER);
	free(r);
}

static void test_kind_part(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	{
		size_t len;
		char *doc = case_fx_example("request-mla", &len);
		char *start = strstr(doc, "  <MutualAssistance>");
		char *end = strstr(doc, "</MutualAssistance>\n");
		char *cut;

		assert_non_null(start);
		assert_non_null(end);
		end += strlen("</MutualAssistance>\n");
		memmove(start, end, strlen(end) + 1);
		r = case_fx_validate(doc, strlen(doc), &e);
		assert_int_equal(e, MLA_ERR_SCHEMA);
		expect(r, "/Request", MLA_CASE_KIND_PART);
		assert_int_equal(r->n, 1);
		free(r);
		cut = case_fx_replace(doc, "</Request>",
				      "<SpontaneousInformation><Information>x</Information>"
				      "<Relevance>y</Relevance></SpontaneousInformation>"
				      "<ProductionOrder/></Request>");
		r = case_fx_validate(cut, strlen(cut), &e);
		expect(r, "/Request/ProductionOrder", MLA_CASE_KIND_PART);
		expect(r, "/Request/ProductionOrder/Deadline", MLA_CASE_MISSING);
		assert_int_equal(r->type, MLA_CASE_SPONTANEOUS_INFORMATION);
		free(r);
		free(cut);
		free(doc);
	}
}

/* Elements a value of another makes mandatory (SPEC 16.6). */
static void test_rule_mandatory(void **state)
{
	mla_err e;
	mla_case_report *r;

	(void)state;
	r = edited("request-provisional-arrest", "<Reason>Example: risk of flight</Reason>", "", &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Request/Common/Urgency/Reason", MLA_CASE_MISSING);
	assert_int_equal(r->n, 1);
	free(r);
	r = edited("request-provisional-arrest", "<Urgent>true</Urgent><Reason>Example: risk of flight</Reason>",
		   "<Urgent>\n true </Urgent>", &e);
	expect(r, "/Request/Common/Urgency/Reason", MLA_CASE_MISSING);
	assert_int_equal(r->n, 1);
	free(r);
	r = edited("request-extradition", "<MaximumMonths>120</MaximumMonths>", "", &e);
	expect(r, "/Request/Extradition/Penalty/MaximumMonths", MLA_CASE_MISSING);
	free(r);
	r = edited("request-asset-measures", "<Measure>freeze</Measure>",
		   "<Measure>enforce-confiscation-order</Measure>", &e);
	expect(r, "/Request/AssetMeasures/ConfiscationOrder", MLA_CASE_MISSING);
	free(r);
	r = edited("request-production-order", "<To>2026-06-30</To>", "<To>2025-06-30</To>", &e);
	expect(r, "/Request/ProductionOrder/Period/To", MLA_CASE_DATE_ORDER);
	free(r);
}

/* AssistanceSought for every request but spontaneous information; NotExecuted when partial. */
static void test_rule_assistance_sought(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-mla", &len);
	char *start = strstr(doc, "    <AssistanceSought>");
	char *end = strstr(doc, "</AssistanceSought>\n");
	mla_err e;
	mla_case_report *r;

	(void)state;
	assert_non_null(start);
	assert_non_null(end);
	end += strlen("</AssistanceSought>\n");
	memmove(start, end, strlen(end) + 1);
	r = case_fx_validate(doc, strlen(doc), &e);
	assert_int_equal(e, MLA_ERR_SCHEMA);
	expect(r, "/Request/Common/AssistanceSought", MLA_CASE_MISSING);
	assert_int_equal(r->n, 1);
	free(r);
	free(doc);
	doc = case_fx_example("answer-execution-report", &len);
	start = strstr(doc, "  <NotExecuted>");
	end = strstr(doc, "</NotExecuted>\n");
	assert_non_null(start);
	assert_non_null(end);
	end += strlen("</NotExecuted>\n");
	memmove(start, end, strlen(end) + 1);
	r = case_fx_validate(doc, strlen(doc), &e);
	expect(r, "/ExecutionReport/NotExecuted", MLA_CASE_MISSING);
	assert_int_equal(r->n, 1);
	free(r);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_valid),
		cmocka_unit_test(test_opaque),
		cmocka_unit_test(test_namespace_by_char_ref),
		cmocka_unit_test(test_versions_and_namespaces),
		cmocka_unit_test(test_check_keeps_unsupported_version),
		cmocka_unit_test(test_several_problems_at_once),
		cmocka_unit_test(test_malformed_values),
		cmocka_unit_test(test_repeated_element),
		cmocka_unit_test(test_no_document_text_in_problems),
		cmocka_unit_test(test_not_xml),
		cmocka_unit_test(test_document_limits),
		cmocka_unit_test(test_problem_cap),
		cmocka_unit_test(test_refused_grounds),
		cmocka_unit_test(test_postponed_until),
		cmocka_unit_test(test_kind_part),
		cmocka_unit_test(test_rule_mandatory),
		cmocka_unit_test(test_rule_assistance_sought),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
