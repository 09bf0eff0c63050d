/* A case's deadlines in the gateway (gateway/cases/cases_deadline.c, cases_view.c) at fixed
 * moments: the facts read from a request document (an example production order, urgent or
 * not, with a wished date; nothing from an answer or an opaque document), the rules they
 * select, both clocks of an urgent production order with its wished date, a pause under a
 * rule configured with `pause`, EIO recognition then execution from the Accepted step, no
 * clock before the request's receipt or once the case is over, the extension counted once a
 * deadline-extended step took effect, and the JSON members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"
#include "cases/cases.h"
#include "mlagw/codec.h"
#include "store_fx.h"

#define H INT64_C(3600000)
#define T0 INT64_C(1769336400000) /* 2026-01-25T10:20:00Z */

static void step(gw_store *s, const struct store_life_key *k, unsigned n, const char *action,
		 mla_life_side by, int64_t at, const struct store_deadline_facts *facts)
{
	struct store_life_step p;
	mla_diag d = {MLA_OK, ""};

	memset(&p, 0, sizeof(p));
	p.key = *k;
	p.side = MLA_SIDE_REQUESTED;
	p.by = by;
	make_id(p.message_id, sizeof(p.message_id), n);
	assert_int_equal(mla_snprintf(p.action, sizeof(p.action), "%s", action), MLA_OK);
	p.at_ms = at;
	p.facts = facts;
	if (store_life_apply(s, &p, &d) != MLA_OK)
		fail_msg("%s: %s", action, d.msg);
}

static struct store_deadline_facts facts_of(mla_case_doctype t, int urgent, int eio,
					    int64_t wished)
{
	struct store_deadline_facts f;

	memset(&f, 0, sizeof(f));
	f.type = (int)t;
	f.urgent = urgent;
	f.eio = eio;
	f.wished_ms = wished;
	memcpy(f.kind, "mla", 4);
	return f;
}

static struct cases_deadlines at(gw_store *s, const mla_deadline_rules *rules,
				 const struct store_life_key *k, int64_t now)
{
	struct store_life_case c;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	assert_int_equal(store_life_get(s, k, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	if (cases_deadlines_at(s, rules, &c, now, &dl, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	return dl;
}

static void test_facts_read(void **state)
{
	size_t len = 0;
	char *doc, *urgent;
	mla_header h;
	mla_limits lim;
	struct store_deadline_facts f;
	mla_diag d = {MLA_OK, ""};
	int set = -1;

	(void)state;
	case_fx_init();
	mla_limits_default(&lim);
	memset(&h, 0, sizeof(h));
	memcpy(h.kind, "mla", 4);
	memcpy(h.action, "request", 8);
	h.priority = MLA_PRIORITY_NORMAL;
	doc = case_fx_example("request-production-order", &len);
	assert_int_equal(cases_facts_read((const uint8_t *)doc, len, &lim, &h, &f, &set, &d),
			 MLA_OK);
	assert_int_equal(set, 1);
	assert_int_equal(f.type, MLA_CASE_PRODUCTION_ORDER);
	assert_int_equal(f.urgent, 0);
	assert_string_equal(f.kind, "mla");
	urgent = case_fx_replace(doc, "<Urgency><Urgent>false</Urgent></Urgency>",
				 "<Urgency><Urgent>true</Urgent><Reason>data lost soon</Reason>"
				 "<DateWished>2026-01-26</DateWished>"
				 "</Urgency>");
	assert_int_equal(cases_facts_read((const uint8_t *)urgent, strlen(urgent), &lim, &h, &f,
					  &set, &d), MLA_OK);
	assert_int_equal(set, 1);
	assert_int_equal(f.urgent, 1);
	assert_int_equal(f.wished_ms, INT64_C(1769472000000)); /* 2026-01-27T00:00Z */
	assert_int_equal(cases_priority(&f), MLA_DEADLINE_URGENT);
	/* an answer step, an opaque document: no facts, no error */
	memcpy(h.action, "accepted", 9);
	assert_int_equal(cases_facts_read((const uint8_t *)doc, len, &lim, &h, &f, &set, &d),
			 MLA_OK);
	assert_int_equal(set, 0);
	memcpy(h.action, "request", 8);
	assert_int_equal(cases_facts_read((const uint8_t *)"<x/>", 4, &lim, &h, &f, &set, &d),
			 MLA_OK);
	assert_int_equal(set, 0);
	assert_int_equal(d.code, MLA_OK);
	free(urgent);
	free(doc);
}

/* Urgent production order received at T0: 8 h and 96 h legal clocks, and the wished date. */
static void test_urgent_production(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-1", "CO"};
	struct store_deadline_facts facts =
		facts_of(MLA_CASE_PRODUCTION_ORDER, 1, 0, INT64_C(1769472000000));
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	struct cases_view v = {&rules, T0 + 8 * H}; /* 923 of 1000 of 8 h 40 min */

	mla_deadline_rules_default(&rules);
	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, T0, &facts);
	dl = at(s, &rules, &k, T0 + H);
	assert_true(dl.set && dl.open);
	assert_int_equal(dl.priority, MLA_DEADLINE_URGENT);
	assert_int_equal(dl.n, 3);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_PRODUCTION_EMERGENCY);
	assert_int_equal(dl.d[0].clock.due_ms, T0 + 40 * 60000 + 8 * H); /* 19:00Z */
	assert_int_equal(dl.d[1].which, MLA_DEADLINE_PRODUCTION_OBJECTION);
	assert_int_equal(dl.d[1].clock.due_ms, T0 + 40 * 60000 + 96 * H);
	assert_int_equal(dl.d[2].which, STORE_DEADLINE_WISHED);
	assert_int_equal(dl.d[2].clock.due_ms, INT64_C(1769472000000));
	assert_int_equal(dl.due_ms, T0 + 40 * 60000 + 8 * H);
	assert_int_equal(dl.state, MLA_DEADLINE_NOT_DUE);
	dl = at(s, &rules, &k, T0 + 40 * 60000 + 8 * H);
	assert_int_equal(dl.d[0].clock.state, MLA_DEADLINE_OVERDUE);
	assert_int_equal(dl.state, MLA_DEADLINE_OVERDUE);
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(cases_json(s, NULL, &v, &b, &d), MLA_OK);
	assert_int_equal(mla_buf_append(&b, (const uint8_t *)"", 1), MLA_OK);
	assert_non_null(strstr((const char *)b.data, "\"rule\":\"production_emergency\""));
	assert_non_null(strstr((const char *)b.data, "\"due\":\"2026-01-25T19:00:00.000Z\""));
	assert_non_null(strstr((const char *)b.data, "\"priority\":\"urgent\""));
	assert_non_null(strstr((const char *)b.data, "\"deadline_state\":\"due-soon\""));
	mla_buf_free(&b);
	/* closed: no clock runs */
	step(s, &k, 2, "withdrawn", MLA_SIDE_REQUESTING, T0 + 2 * H, NULL);
	dl = at(s, &rules, &k, T0 + 3 * H);
	assert_true(dl.set && !dl.open);
	assert_int_equal(dl.n, 0);
	store_close(s);
}

/* A preservation order under a rule that pauses: the due time moves by the pause. */
static void test_pause(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-2", "CO"};
	struct store_deadline_facts facts =
		facts_of(MLA_CASE_PRESERVATION_ORDER, 0, 0, MLA_DEADLINE_NO_TIME);
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	const char *why = NULL;
	int64_t due0;

	mla_deadline_rules_default(&rules);
	assert_int_equal(mla_deadline_rule_parse("10d pause",
						 &rules.rule[MLA_DEADLINE_PRESERVATION], &why),
			 MLA_OK);
	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, T0, &facts);
	dl = at(s, &rules, &k, T0 + H);
	assert_int_equal(dl.n, 1);
	due0 = dl.d[0].clock.due_ms;
	assert_int_equal(due0, INT64_C(1770249600000)); /* 2026-02-05T00:00Z */
	step(s, &k, 2, "additional-information-requested", MLA_SIDE_REQUESTED, T0 + 2 * H, NULL);
	dl = at(s, &rules, &k, T0 + 5 * H);
	assert_true(dl.paused && dl.d[0].paused);
	assert_int_equal(dl.d[0].clock.due_ms, due0 + 3 * H);
	step(s, &k, 3, "additional-information-provided", MLA_SIDE_REQUESTING, T0 + 6 * H, NULL);
	dl = at(s, &rules, &k, T0 + 30 * H);
	assert_false(dl.paused);
	assert_int_equal(dl.d[0].clock.due_ms, due0 + 4 * H);
	store_close(s);
}

/* EIO: recognition from the request's receipt, then execution from the Accepted step. */
static void test_eio(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-3", "CO"}, o = {"CO", "CO-4", "CO"};
	struct store_deadline_facts facts =
		facts_of(MLA_CASE_MUTUAL_ASSISTANCE, 0, 1, MLA_DEADLINE_NO_TIME);
	struct store_deadline_facts untoc =
		facts_of(MLA_CASE_MUTUAL_ASSISTANCE, 0, 0, MLA_DEADLINE_NO_TIME);
	mla_deadline_rules rules;
	struct cases_deadlines dl;

	mla_deadline_rules_default(&rules);
	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, T0, &facts);
	dl = at(s, &rules, &k, T0 + H);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_RECOGNITION);
	step(s, &k, 2, "accepted", MLA_SIDE_REQUESTED, T0 + 24 * H, NULL);
	dl = at(s, &rules, &k, T0 + 25 * H);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_EXECUTION);
	/* 90 days from 2026-01-26T10:20Z, that day not counted: 2026-04-27T00:00Z */
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777248000000));
	/* an MLA request under UNTOC: no legal deadline by default, so nothing runs */
	step(s, &o, 3, "request", MLA_SIDE_REQUESTING, T0, &untoc);
	dl = at(s, &rules, &o, T0 + H);
	assert_true(dl.set);
	assert_int_equal(dl.n, 0);
	assert_true(dl.due_ms == MLA_DEADLINE_NO_TIME);
	store_close(s);
}

/* The extension: a preservation order's 60 days become 90 once the requested side's
 * deadline-extended step took effect (the case's state stays); a second step counts it once;
 * EIO recognition takes it before the Accepted step, execution (no extension) never. */
static void test_extension(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-5", "CO"}, e = {"CO", "CO-6", "CO"};
	struct store_deadline_facts pres =
		facts_of(MLA_CASE_PRESERVATION_ORDER, 0, 0, MLA_DEADLINE_NO_TIME);
	struct store_deadline_facts eio =
		facts_of(MLA_CASE_MUTUAL_ASSISTANCE, 0, 1, MLA_DEADLINE_NO_TIME);
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	mla_deadline_rules_default(&rules);
	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, T0, &pres);
	dl = at(s, &rules, &k, T0 + H);
	assert_int_equal(dl.n, 1);
	assert_false(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1774569600000)); /* 2026-03-27T00:00Z */
	step(s, &k, 2, "deadline-extended", MLA_SIDE_REQUESTED, T0 + 24 * H, NULL);
	assert_int_equal(store_life_get(s, &k, &c, &found, &d), MLA_OK);
	assert_int_equal(c.track.state, MLA_LIFE_RECEIVED);
	dl = at(s, &rules, &k, T0 + 25 * H);
	assert_true(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777161600000)); /* 2026-04-26T00:00Z */
	assert_int_equal(dl.due_ms, INT64_C(1777161600000));
	step(s, &k, 3, "deadline-extended", MLA_SIDE_REQUESTED, T0 + 48 * H, NULL);
	dl = at(s, &rules, &k, T0 + 49 * H);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777161600000));

	step(s, &e, 4, "request", MLA_SIDE_REQUESTING, T0, &eio);
	step(s, &e, 5, "deadline-extended", MLA_SIDE_REQUESTED, T0 + H, NULL);
	dl = at(s, &rules, &e, T0 + 2 * H);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_RECOGNITION);
	assert_true(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1774569600000)); /* 30 + 30 days */
	step(s, &e, 6, "accepted", MLA_SIDE_REQUESTED, T0 + 24 * H, NULL);
	dl = at(s, &rules, &e, T0 + 25 * H);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_EXECUTION);
	assert_false(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777248000000));
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_read),
		cmocka_unit_test_setup_teardown(test_urgent_production, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extension, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
