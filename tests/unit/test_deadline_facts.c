/* Unit tests of mla_deadline_request_facts (protocol/case/deadline_facts.c): from the
 * examples of protocol/case/examples/, the kind part, the urgency, an EIO legal basis and the
 * wished date that select a request's deadlines; answers, opaque and invalid documents
 * refused without any of their text in the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"
#include "mlagw/codec.h"
#include "mlagw/deadline.h"

static mla_err facts(const char *text, mla_deadline_case *c, int64_t *wished, mla_diag *d)
{
	mla_limits lim;

	mla_limits_default(&lim);
	return mla_deadline_request_facts((const uint8_t *)text, strlen(text), &lim, c, wished, d);
}

static void test_examples(void **state)
{
	static const struct {
		const char *name;
		mla_case_doctype type;
		int emergency;
	} want[] = {
		{"request-extradition", MLA_CASE_EXTRADITION, 0},
		{"request-provisional-arrest", MLA_CASE_PROVISIONAL_ARREST, -1},
		{"request-mla", MLA_CASE_MUTUAL_ASSISTANCE, 0},
		{"request-asset-measures", MLA_CASE_ASSET_MEASURES, 0},
		{"request-spontaneous-information", MLA_CASE_SPONTANEOUS_INFORMATION, -1},
		{"request-production-order", MLA_CASE_PRODUCTION_ORDER, -1},
		{"request-preservation-order", MLA_CASE_PRESERVATION_ORDER, -1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		size_t len;
		char *doc = case_fx_example(want[i].name, &len);
		mla_deadline_case c;
		int64_t w = 0;
		mla_diag d = {0, ""};

		assert_int_equal(facts(doc, &c, &w, &d), MLA_OK);
		assert_int_equal(c.type, want[i].type);
		if (want[i].emergency >= 0)
			assert_int_equal(c.emergency, want[i].emergency);
		assert_false(c.eio);
		assert_false(c.eaw || c.consent || c.decided);
		free(doc);
	}
}

/* An urgent EIO with a wished date. */
static void test_urgent_eio_wished(void **state)
{
	size_t len;
	char *doc = case_fx_example("request-mla", &len), *a, *b;
	mla_deadline_case c;
	mla_deadline_rule_id ids[MLA_DEADLINE_RULES_PER_CASE];
	int64_t w = 0;
	char out[MLA_TIME_MS_LEN];
	mla_diag d = {0, ""};

	(void)state;
	a = case_fx_replace(doc, "<Urgency><Urgent>false</Urgent></Urgency>",
			    "<Urgency><Urgent> 1 </Urgent><Reason>Example</Reason>"
			    "<DateWished>2024-02-29</DateWished></Urgency>");
	b = case_fx_replace(a, "<Instrument>untoc</Instrument>",
			    "<Instrument>eio-directive</Instrument>");
	assert_int_equal(facts(b, &c, &w, &d), MLA_OK);
	assert_int_equal(c.type, MLA_CASE_MUTUAL_ASSISTANCE);
	assert_true(c.emergency);
	assert_true(c.eio);
	mla_time_ms_format(w, out);
	assert_string_equal(out, "2024-03-01T00:00:00.000Z");
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EIO_RECOGNITION);
	/* no wished date: none */
	assert_int_equal(facts(doc, &c, &w, &d), MLA_OK);
	assert_int_equal(w, MLA_DEADLINE_NO_TIME);
	free(b);
	free(a);
	free(doc);
}

static void test_refused(void **state)
{
	size_t len;
	char *answer = case_fx_example("answer-accepted", &len);
	char *req = case_fx_example("request-extradition", &len), *bad;
	mla_deadline_case c;
	int64_t w = 0;
	mla_diag d = {0, ""};

	(void)state;
	assert_int_equal(facts(answer, &c, &w, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, "not a valid request"));
	assert_int_equal(facts("<note>SECRET-TEXT</note>", &c, &w, &d), MLA_ERR_SCHEMA);
	assert_null(strstr(d.msg, "SECRET-TEXT"));
	bad = case_fx_replace(req, "<Language>es</Language>", "<Language>SECRET-TEXT</Language>");
	assert_int_equal(facts(bad, &c, &w, &d), MLA_ERR_SCHEMA);
	assert_null(strstr(d.msg, "SECRET-TEXT"));
	assert_int_equal(c.type, MLA_CASE_NONE);
	assert_int_equal(w, MLA_DEADLINE_NO_TIME);
	free(bad);
	free(req);
	free(answer);
}

/* An arrest warrant: the Framework Decision as an Instrument of an extradition or provisional
 * arrest selects eaw, the consent eaw_consent, the final decision none; in an MLA request it
 * selects nothing of the kind. */
static void test_eaw(void **state)
{
	size_t len;
	char *ext = case_fx_example("request-extradition", &len), *a;
	char *mla = case_fx_example("request-mla", &len), *b;
	mla_deadline_rule_id ids[MLA_DEADLINE_RULES_PER_CASE];
	mla_deadline_case c;
	int64_t w = 0;
	mla_diag d = {0, ""};

	(void)state;
	a = case_fx_replace(ext, "<Instrument>untoc</Instrument>",
			    "<Instrument>eaw-framework-decision</Instrument>");
	assert_int_equal(facts(a, &c, &w, &d), MLA_OK);
	assert_int_equal(c.type, MLA_CASE_EXTRADITION);
	assert_true(c.eaw);
	assert_false(c.eio || c.consent || c.decided);
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EAW);
	c.consent = 1;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_EAW_CONSENT);
	c.decided = 1;
	assert_int_equal(mla_deadline_rules_for(&c, ids), 0);
	assert_int_equal(facts(ext, &c, &w, &d), MLA_OK); /* under UNTOC: other */
	assert_false(c.eaw);
	assert_int_equal(mla_deadline_rules_for(&c, ids), 1);
	assert_int_equal(ids[0], MLA_DEADLINE_OTHER);
	b = case_fx_replace(mla, "<Instrument>untoc</Instrument>",
			    "<Instrument>eaw-framework-decision</Instrument>");
	assert_int_equal(facts(b, &c, &w, &d), MLA_OK);
	assert_false(c.eaw);
	free(b);
	free(a);
	free(mla);
	free(ext);
}

static mla_err step_facts(const char *text, mla_deadline_step_facts *f, mla_diag *d)
{
	mla_limits lim;

	mla_limits_default(&lim);
	return mla_deadline_answer_facts((const uint8_t *)text, strlen(text), &lim, f, d);
}

/* What the answers say: an extension's rule (or none), an arrest's and a consent's time. */
static void test_answer_facts(void **state)
{
	size_t len;
	char *ext = case_fx_example("answer-deadline-extended", &len), *none, *bad;
	char *arr = case_fx_example("answer-person-arrested", &len);
	char *con = case_fx_example("answer-surrender-consented", &len), *tz, *req, *late, *late_ok;
	mla_case_report *rep;
	char out[MLA_TIME_MS_LEN];
	mla_deadline_step_facts f;
	mla_diag d = {0, ""};

	(void)state;
	assert_int_equal(step_facts(ext, &f, &d), MLA_OK);
	assert_int_equal(f.type, MLA_CASE_DEADLINE_EXTENDED);
	assert_int_equal(f.rule, MLA_DEADLINE_PRESERVATION);
	assert_true(f.recorded_ms == MLA_DEADLINE_NO_TIME);
	none = case_fx_replace(ext, "<Rule>preservation</Rule>", "");
	assert_int_equal(step_facts(none, &f, &d), MLA_OK);
	assert_int_equal(f.rule, MLA_DEADLINE_RULE_N);
	assert_int_equal(step_facts(arr, &f, &d), MLA_OK);
	assert_int_equal(f.type, MLA_CASE_PERSON_ARRESTED);
	mla_time_ms_format(f.recorded_ms, out);
	assert_string_equal(out, "2026-12-02T21:15:00.000Z");
	assert_int_equal(step_facts(con, &f, &d), MLA_OK);
	assert_int_equal(f.type, MLA_CASE_SURRENDER_CONSENTED);
	mla_time_ms_format(f.recorded_ms, out);
	assert_string_equal(out, "2026-12-04T10:30:00.000Z");
	/* a time with an offset or before 1970 is invalid: no facts, no text of it */
	tz = case_fx_replace(con, "2026-12-04T10:30:00.000Z", "2026-12-04T10:30:00+01:00");
	assert_int_equal(step_facts(tz, &f, &d), MLA_ERR_SCHEMA);
	assert_null(strstr(d.msg, "10:30"));
	bad = case_fx_replace(arr, "2026-12-02T21:15:00Z", "1969-12-31T23:59:59Z");
	assert_int_equal(step_facts(bad, &f, &d), MLA_ERR_SCHEMA);
	/* not after the day following the document's date (2026-12-03): 12-04 is the margin */
	late_ok = case_fx_replace(arr, "2026-12-02T21:15:00Z", "2026-12-04T23:59:59Z");
	assert_int_equal(step_facts(late_ok, &f, &d), MLA_OK);
	late = case_fx_replace(con, "2026-12-04T10:30:00.000Z", "2026-12-06T00:00:00.000Z");
	rep = case_fx_validate(late, strlen(late), NULL);
	assert_int_equal(rep->cls, MLA_CASE_INVALID);
	assert_int_equal(rep->n, 1);
	assert_non_null(case_fx_find(rep, "/SurrenderConsented/ConsentedAt", MLA_CASE_DATE_ORDER));
	free(rep);
	free(late);
	free(late_ok);
	/* a request is not an answer */
	req = case_fx_example("request-extradition", &len);
	assert_int_equal(step_facts(req, &f, &d), MLA_ERR_SCHEMA);
	free(req);
	free(bad);
	free(tz);
	free(none);
	free(con);
	free(arr);
	free(ext);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eaw),
		cmocka_unit_test(test_answer_facts),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_urgent_eio_wished),
		cmocka_unit_test(test_refused),
	};

	case_fx_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
