/* A European arrest warrant's steps and per-rule extensions in the gateway (gateway/cases,
 * SPEC 16.8, 16.9): the arrest and the consent recorded once each, the consent only after
 * the arrest, before sealing and on receipt; eaw running from the recorded arrest (not
 * before it is recorded), eaw_consent from the recorded consent, none after the final
 * decision; an extension once per rule (EIO recognition, then execution), a second of the
 * same rule refused, and one naming no rule only alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cases/cases.h"
#include "mlagw/codec.h"
#include "store_fx.h"

#define H INT64_C(3600000)
#define T0 INT64_C(1769336400000) /* 2026-01-25T10:20:00Z */

static void header(mla_header *h, unsigned n, const char *case_id, const char *from,
		   const char *to, const char *action, const char *in_reply_to)
{
	memset(h, 0, sizeof(*h));
	make_id(h->message_id, sizeof(h->message_id), n);
	assert_int_equal(mla_strcpy(h->case_id, sizeof(h->case_id), case_id), MLA_OK);
	assert_int_equal(mla_strcpy(h->from_state, sizeof(h->from_state), from), MLA_OK);
	assert_int_equal(mla_strcpy(h->to_state, sizeof(h->to_state), to), MLA_OK);
	assert_int_equal(mla_strcpy(h->action, sizeof(h->action), action), MLA_OK);
	if (in_reply_to != NULL)
		assert_int_equal(mla_strcpy(h->in_reply_to, sizeof(h->in_reply_to), in_reply_to),
				 MLA_OK);
}

static struct store_deadline_facts request_facts(mla_case_doctype t, int eio, int eaw)
{
	struct store_deadline_facts f;

	memset(&f, 0, sizeof(f));
	f.type = (int)t;
	f.eio = eio;
	f.eaw = eaw;
	f.wished_ms = MLA_DEADLINE_NO_TIME;
	f.rule = MLA_DEADLINE_RULE_N;
	f.recorded_ms = MLA_DEADLINE_NO_TIME;
	memcpy(f.kind, "extradition", sizeof("extradition"));
	return f;
}

static struct store_deadline_facts step_facts(mla_case_doctype t, int rule, int64_t recorded)
{
	struct store_deadline_facts f = request_facts(t, 0, 0);

	f.rule = rule;
	f.recorded_ms = recorded;
	return f;
}

/* CO's step h received by ES (the requesting side) with its document's facts f (NULL:
 * opaque); the checks' result, and on success the step stored with its inbox row. */
static mla_err receive(gw_store *s, const mla_header *h, int64_t at,
		       const struct store_deadline_facts *f, mla_diag *d)
{
	struct store_life_step life;
	struct in_msg m;
	mla_err r;

	if ((r = cases_check_receive(s, "ES", h, at, &life, d)) != MLA_OK ||
	    (r = cases_check_facts(s, &life, f, d)) != MLA_OK)
		return r;
	life.facts = f;
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, h->message_id, sizeof(m.message_id));
	memcpy(m.case_id, h->case_id, sizeof(m.case_id));
	memcpy(m.in_reply_to, h->in_reply_to, sizeof(m.in_reply_to));
	memcpy(m.from_state, h->from_state, sizeof(m.from_state));
	memcpy(m.kind, "extradition", sizeof("extradition"));
	memcpy(m.action, h->action, sizeof(m.action));
	m.received_ms = at;
	m.life = &life;
	if (store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes), (const uint8_t *)"r", 1, d) !=
	    MLA_OK)
		fail_msg("inbox put of CO's %s: %s", h->action, d->msg);
	return MLA_OK;
}

/* ES's step h (ES the requested side of CO's case, or the requester of its own) checked
 * before sealing and again with its document's facts f, put pending with its outbox row and
 * positively receipted at `at`. */
static mla_err send(gw_store *s, mla_header *h, unsigned n, const char *case_state, int64_t at,
		    const struct store_deadline_facts *f, mla_diag *d)
{
	struct store_life_step life;
	struct out_msg o = make_out(n, "CO", 0, 1000, 1000);
	mla_err r;

	if ((r = cases_check_send(s, "ES", h, &life, d)) != MLA_OK ||
	    (r = cases_check_facts(s, &life, f, d)) != MLA_OK)
		return r;
	life.facts = f;
	memcpy(o.message_id, h->message_id, sizeof(o.message_id));
	memcpy(o.case_id, h->case_id, sizeof(o.case_id));
	memcpy(o.in_reply_to, h->in_reply_to, sizeof(o.in_reply_to));
	memcpy(o.action, h->action, sizeof(o.action));
	memcpy(o.case_state, case_state, 3);
	assert_int_equal(mla_strcpy(o.submitted_by, sizeof(o.submitted_by), "authority:a"),
			 MLA_OK);
	o.life = &life;
	if (store_outbox_put(s, &o, env_bytes, sizeof(env_bytes), d) != MLA_OK)
		fail_msg("outbox put of ES's %s: %s", h->action, d->msg);
	assert_int_equal(store_life_settle(s, h->message_id, 1, at, d), MLA_OK);
	return MLA_OK;
}

static struct cases_deadlines deadlines(gw_store *s, const mla_deadline_rules *rules,
					const char *requesting, const char *case_id, int64_t now)
{
	struct store_life_key k;
	struct store_life_case c;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	memset(&k, 0, sizeof(k));
	memcpy(k.state, requesting, 2);
	memcpy(k.peer, "CO", 2);
	assert_int_equal(mla_strcpy(k.case_id, sizeof(k.case_id), case_id), MLA_OK);
	assert_int_equal(store_life_get(s, &k, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	if (cases_deadlines_at(s, rules, &c, now, &dl, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	return dl;
}

/* ES executes CO's arrest warrant: no clock before the arrest is recorded; 60 days from the
 * recorded arrest (here before the receipt: art. 17(3) counts from the arrest); 10 days from
 * the recorded consent; nothing once Accepted. The order is checked before sealing. */
static void test_eaw_requested(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_deadline_facts req = request_facts(MLA_CASE_EXTRADITION, 0, 1);
	/* arrested 2026-01-24T08:00Z, consented 2026-01-27T09:00Z */
	struct store_deadline_facts arr =
		step_facts(MLA_CASE_PERSON_ARRESTED, MLA_DEADLINE_RULE_N, T0 - 26 * H - 20 * 60000);
	struct store_deadline_facts con =
		step_facts(MLA_CASE_SURRENDER_CONSENTED, MLA_DEADLINE_RULE_N,
			   T0 + 46 * H + 40 * 60000);
	mla_header h, a, a2, c, c2, acc;
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};

	mla_deadline_rules_default(&rules);
	header(&h, 1, "CO-EAW-1", "CO", "ES", "request", NULL);
	assert_int_equal(receive(s, &h, T0, &req, &d), MLA_OK);
	dl = deadlines(s, &rules, "CO", "CO-EAW-1", T0 + H);
	assert_true(dl.set && dl.open);
	assert_int_equal(dl.n, 0); /* not arrested yet: eaw does not run */
	/* the consent cannot come first */
	header(&c, 2, "CO-EAW-1", "ES", "CO", "surrender-consented", h.message_id);
	assert_int_equal(send(s, &c, 2, "CO", T0 + H, &con, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "person-arrested comes first"));
	header(&a, 3, "CO-EAW-1", "ES", "CO", "person-arrested", h.message_id);
	assert_int_equal(send(s, &a, 3, "CO", T0 + 2 * H, &arr, &d), MLA_OK);
	dl = deadlines(s, &rules, "CO", "CO-EAW-1", T0 + 3 * H);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EAW);
	/* 60 days from 2026-01-24, that day not counted: 2026-03-26T00:00Z */
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1774483200000));
	header(&a2, 4, "CO-EAW-1", "ES", "CO", "person-arrested", a.message_id);
	assert_int_equal(send(s, &a2, 4, "CO", T0 + 3 * H, &arr, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "the arrest was already recorded"));
	assert_non_null(strstr(d.msg, a.message_id));
	header(&c, 5, "CO-EAW-1", "ES", "CO", "surrender-consented", a.message_id);
	assert_int_equal(send(s, &c, 5, "CO", T0 + 47 * H, &con, &d), MLA_OK);
	dl = deadlines(s, &rules, "CO", "CO-EAW-1", T0 + 48 * H);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EAW_CONSENT);
	/* 10 days from 2026-01-27: 2026-02-07T00:00Z */
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1770422400000));
	header(&c2, 6, "CO-EAW-1", "ES", "CO", "surrender-consented", c.message_id);
	assert_int_equal(send(s, &c2, 6, "CO", T0 + 48 * H, &con, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "the consent was already recorded"));
	header(&acc, 7, "CO-EAW-1", "ES", "CO", "accepted", c.message_id);
	assert_int_equal(send(s, &acc, 7, "CO", T0 + 50 * H, NULL, &d), MLA_OK);
	dl = deadlines(s, &rules, "CO", "CO-EAW-1", T0 + 51 * H);
	assert_int_equal(dl.n, 0); /* the final decision: no EAW rule runs */
	/* after the decision the steps are no longer in the table */
	header(&a2, 8, "CO-EAW-1", "ES", "CO", "person-arrested", acc.message_id);
	assert_int_equal(send(s, &a2, 8, "CO", T0 + 52 * H, &arr, &d), MLA_ERR_CASE_STEP);
	store_close(s);
}

/* ES's own arrest warrant: CO's steps are checked on receipt the same way; an opaque
 * person-arrested (no time recorded) starts the clock at its own time. */
static void test_eaw_requesting(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_deadline_facts req = request_facts(MLA_CASE_PROVISIONAL_ARREST, 0, 1);
	mla_header h, a, a2, c;
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};

	mla_deadline_rules_default(&rules);
	header(&h, 1, "ES-EAW-1", "ES", "CO", "request", NULL);
	assert_int_equal(send(s, &h, 1, "ES", T0, &req, &d), MLA_OK);
	header(&c, 2, "ES-EAW-1", "CO", "ES", "surrender-consented", h.message_id);
	assert_int_equal(receive(s, &c, T0 + H, NULL, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "person-arrested comes first"));
	header(&a, 3, "ES-EAW-1", "CO", "ES", "person-arrested", h.message_id);
	assert_int_equal(receive(s, &a, T0 + 2 * H, NULL, &d), MLA_OK);
	dl = deadlines(s, &rules, "ES", "ES-EAW-1", T0 + 3 * H);
	assert_int_equal(dl.n, 1);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EAW);
	/* from the step's own time, 2026-01-25T12:20Z: 2026-03-27T00:00Z */
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1774569600000));
	header(&a2, 4, "ES-EAW-1", "CO", "ES", "person-arrested", a.message_id);
	assert_int_equal(receive(s, &a2, T0 + 3 * H, NULL, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "once per case"));
	store_close(s);
}

/* EIO: recognition extended by a step naming it, then execution (configured with an
 * extension here) by another naming it; a second of either refused, one naming no rule
 * refused after them, on receipt and before sealing alike. */
static void test_per_rule(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_deadline_facts req = request_facts(MLA_CASE_MUTUAL_ASSISTANCE, 1, 0);
	struct store_deadline_facts rec =
		step_facts(MLA_CASE_DEADLINE_EXTENDED, MLA_DEADLINE_EIO_RECOGNITION,
			   MLA_DEADLINE_NO_TIME);
	struct store_deadline_facts exe =
		step_facts(MLA_CASE_DEADLINE_EXTENDED, MLA_DEADLINE_EIO_EXECUTION,
			   MLA_DEADLINE_NO_TIME);
	mla_header h, e1, e2, acc, e3, e4, e5;
	mla_deadline_rules rules;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};

	mla_deadline_rules_default(&rules);
	rules.rule[MLA_DEADLINE_EIO_EXECUTION].extension = 30;
	header(&h, 1, "ES-EIO-1", "ES", "CO", "request", NULL);
	assert_int_equal(send(s, &h, 1, "ES", T0, &req, &d), MLA_OK);
	header(&e1, 2, "ES-EIO-1", "CO", "ES", "deadline-extended", h.message_id);
	assert_int_equal(receive(s, &e1, T0 + H, &rec, &d), MLA_OK);
	dl = deadlines(s, &rules, "ES", "ES-EIO-1", T0 + 2 * H);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_RECOGNITION);
	assert_true(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1774569600000)); /* 30 + 30 days */
	header(&e2, 3, "ES-EIO-1", "CO", "ES", "deadline-extended", e1.message_id);
	assert_int_equal(receive(s, &e2, T0 + 2 * H, &rec, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "rule eio_recognition was already extended"));
	assert_non_null(strstr(d.msg, e1.message_id));
	header(&acc, 4, "ES-EIO-1", "CO", "ES", "accepted", e1.message_id);
	assert_int_equal(receive(s, &acc, T0 + 24 * H, NULL, &d), MLA_OK);
	dl = deadlines(s, &rules, "ES", "ES-EIO-1", T0 + 25 * H);
	assert_int_equal(dl.d[0].which, MLA_DEADLINE_EIO_EXECUTION);
	assert_false(dl.d[0].extended); /* recognition's extension is not execution's */
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777248000000)); /* 90 days */
	header(&e3, 5, "ES-EIO-1", "CO", "ES", "deadline-extended", acc.message_id);
	assert_int_equal(receive(s, &e3, T0 + 26 * H, &exe, &d), MLA_OK);
	dl = deadlines(s, &rules, "ES", "ES-EIO-1", T0 + 27 * H);
	assert_true(dl.d[0].extended);
	assert_int_equal(dl.d[0].clock.due_ms, INT64_C(1777248000000) + 30 * 24 * H);
	header(&e4, 6, "ES-EIO-1", "CO", "ES", "deadline-extended", e3.message_id);
	assert_int_equal(receive(s, &e4, T0 + 28 * H, &exe, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "once per rule"));
	header(&e5, 7, "ES-EIO-1", "CO", "ES", "deadline-extended", e3.message_id);
	assert_int_equal(receive(s, &e5, T0 + 28 * H, NULL, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "naming no rule extends every rule"));
	store_close(s);
}

/* ES the requested side: one extension naming no rule, then nothing more, before sealing
 * (before its document is read when the history already rules it out). */
static void test_no_rule_alone(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_deadline_facts req = request_facts(MLA_CASE_PRESERVATION_ORDER, 0, 0);
	struct store_deadline_facts pres =
		step_facts(MLA_CASE_DEADLINE_EXTENDED, MLA_DEADLINE_PRESERVATION,
			   MLA_DEADLINE_NO_TIME);
	struct store_life_step life;
	mla_header h, e1, e2;
	mla_diag d = {MLA_OK, ""};

	header(&h, 1, "CO-PRE-1", "CO", "ES", "request", NULL);
	assert_int_equal(receive(s, &h, T0, &req, &d), MLA_OK);
	header(&e1, 2, "CO-PRE-1", "ES", "CO", "deadline-extended", h.message_id);
	assert_int_equal(send(s, &e1, 2, "CO", T0 + H, NULL, &d), MLA_OK);
	header(&e2, 3, "CO-PRE-1", "ES", "CO", "deadline-extended", e1.message_id);
	assert_int_equal(cases_check_send(s, "ES", &e2, &life, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "naming no rule was already taken"));
	assert_int_equal(send(s, &e2, 3, "CO", T0 + 2 * H, &pres, &d), MLA_ERR_CASE_STEP);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eaw_requested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eaw_requesting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_rule_alone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
