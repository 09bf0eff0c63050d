/* The case deadline records in the store (gateway/store/store_deadline.c, schema 9): facts
 * kept with the request's step on both sides (pending with the outbox row, with the inbox row
 * on the requested side), dropped with a request that never reached the peer, fired marks
 * that only rise, refusals of bad thresholds, and the upgrade of a schema 8 store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/case.h"
#include "mlagw/codec.h"
#include "mlagw/deadline.h"
#include "store/store_check.h"
#include "store/store_fault.h"
#include "store_fx.h"

#define EMERGENCY MLA_DEADLINE_PRODUCTION_EMERGENCY

static struct store_deadline_facts facts_of(int urgent, int64_t wished_ms)
{
	struct store_deadline_facts f;

	memset(&f, 0, sizeof(f));
	f.type = MLA_CASE_PRODUCTION_ORDER;
	f.urgent = urgent;
	f.wished_ms = wished_ms;
	(void)mla_snprintf_cut(f.kind, sizeof(f.kind), "mla");
	f.priority = urgent ? MLA_PRIORITY_URGENT : MLA_PRIORITY_NORMAL;
	return f;
}

static struct out_msg request_msg(unsigned n, const char *case_id)
{
	struct out_msg m = make_out(n, "CO", 0, 1000, 1000);

	assert_int_equal(mla_snprintf(m.case_id, sizeof(m.case_id), "%s", case_id), MLA_OK);
	assert_int_equal(mla_snprintf(m.action, sizeof(m.action), "request"), MLA_OK);
	return m;
}

static struct store_life_step step_of(const struct out_msg *m, const char *requesting,
				      mla_life_side side)
{
	struct store_life_step p;

	memset(&p, 0, sizeof(p));
	memcpy(p.key.state, requesting, 2);
	memcpy(p.key.case_id, m->case_id, sizeof(p.key.case_id));
	memcpy(p.key.peer, m->to_state, 2);
	p.side = side;
	p.by = MLA_SIDE_REQUESTING;
	memcpy(p.message_id, m->message_id, sizeof(p.message_id));
	memcpy(p.action, m->action, sizeof(p.action));
	return p;
}

static struct store_deadline get_dl(gw_store *s, const struct store_life_key *k, int want)
{
	struct store_deadline dl;
	mla_diag d = {MLA_OK, ""};
	int found = -1;

	assert_int_equal(store_deadline_get(s, k, &dl, &found, &d), MLA_OK);
	assert_int_equal(found, want);
	return dl;
}

/* The requesting side: facts from the sealing on, kept through the receipt; marks rise only. */
static void test_requesting_side(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-1");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_deadline_facts facts = facts_of(1, 86400000);
	struct store_deadline dl;
	mla_diag d = {MLA_OK, ""};

	p.facts = &facts;
	req.life = &p;
	put_ok(s, &req);
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.facts.type, MLA_CASE_PRODUCTION_ORDER);
	assert_int_equal(dl.facts.urgent, 1);
	assert_int_equal(dl.facts.eio, 0);
	assert_int_equal(dl.facts.wished_ms, 86400000);
	assert_string_equal(dl.facts.kind, "mla");
	assert_int_equal(dl.facts.priority, MLA_PRIORITY_URGENT);
	assert_int_equal(dl.fired_pct[MLA_DEADLINE_PRODUCTION_EMERGENCY], 0);
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_DELIVERED,
						 (const uint8_t *)"r", 1, NULL, 5000, &d), MLA_OK);
	(void)get_dl(s, &p.key, 1); /* the settled step (no facts of its own) keeps them */
	assert_int_equal(store_deadline_fired(s, &p.key, EMERGENCY, 90, &d), MLA_OK);
	assert_int_equal(store_deadline_fired(s, &p.key, EMERGENCY, 50, &d), MLA_OK);
	assert_int_equal(store_deadline_fired(s, &p.key, STORE_DEADLINE_WISHED, 50, &d), MLA_OK);
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.fired_pct[MLA_DEADLINE_PRODUCTION_EMERGENCY], 90);
	assert_int_equal(dl.fired_pct[STORE_DEADLINE_WISHED], 50);
	assert_int_equal(dl.fired_pct[MLA_DEADLINE_PRODUCTION_OBJECTION], 0);
	assert_int_equal(store_deadline_fired(s, &p.key, STORE_DEADLINE_N, 50, &d), MLA_ERR_ARG);
	assert_int_equal(store_deadline_fired(s, &p.key, MLA_DEADLINE_PRODUCTION_EMERGENCY, 75, &d),
			 MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "75"));
	store_close(s);
	s = open_ok(f); /* durable */
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.fired_pct[MLA_DEADLINE_PRODUCTION_EMERGENCY], 90);
	store_close(s);
}

/* No facts (an opaque request): no record, and no mark can be set on it. */
static void test_opaque_has_none(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-2");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	mla_diag d = {MLA_OK, ""};

	req.life = &p;
	put_ok(s, &req);
	(void)get_dl(s, &p.key, 0);
	assert_int_equal(store_deadline_fired(s, &p.key, MLA_DEADLINE_PRODUCTION_EMERGENCY, 50, &d),
			 MLA_ERR_NOT_FOUND);
	store_close(s);
}

/* A request refused by the peer: its case and its deadline record are gone. */
static void test_dropped_with_request(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-3");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME);
	struct store_deadline dl;
	mla_diag d = {MLA_OK, ""};

	p.facts = &facts;
	req.life = &p;
	put_ok(s, &req);
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.facts.wished_ms, MLA_DEADLINE_NO_TIME);
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_REJECTED,
						 (const uint8_t *)"n", 1, NULL, 1, &d), MLA_OK);
	(void)get_dl(s, &p.key, 0);
	store_close(s);
}

/* The requested side: the facts with the inbox row of the request. */
static void test_requested_side(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg o = request_msg(1, "CO-1");
	struct store_life_step p = step_of(&o, "CO", MLA_SIDE_REQUESTED);
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME);
	struct store_deadline dl;
	struct in_msg m;
	mla_diag d = {MLA_OK, ""};

	facts.type = MLA_CASE_MUTUAL_ASSISTANCE;
	facts.eio = 1;
	facts.priority = MLA_PRIORITY_CRISIS;
	p.at_ms = 4000;
	p.facts = &facts;
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, o.message_id, sizeof(m.message_id));
	memcpy(m.case_id, o.case_id, sizeof(m.case_id));
	memcpy(m.from_state, "CO", 3);
	memcpy(m.kind, "mla", 4);
	memcpy(m.action, "request", 8);
	m.life = &p;
	assert_int_equal(store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes),
					 (const uint8_t *)"r", 1, &d), MLA_OK);
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.facts.type, MLA_CASE_MUTUAL_ASSISTANCE);
	assert_int_equal(dl.facts.eio, 1);
	assert_int_equal(dl.facts.priority, MLA_PRIORITY_CRISIS);
	store_close(s);
}

/* Bad facts are refused before anything is written. */
static void test_bad_facts(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-4");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME);
	mla_diag d = {MLA_OK, ""};

	facts.type = MLA_CASE_NONE;
	p.facts = &facts;
	req.life = &p;
	assert_int_equal(store_outbox_put(s, &req, env_bytes, sizeof(env_bytes), &d),
			 MLA_ERR_ARG);
	assert_int_not_equal(store_outbox_get(s, req.message_id, &req, &d), MLA_OK);
	store_close(s);
}

/* mlagw store check: a deadline record whose case is gone is named. */
static void test_check_orphan(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-6");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME);
	struct store_check_result res;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	p.facts = &facts;
	req.life = &p;
	put_ok(s, &req);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_reader_open(f->path, &r, &d), MLA_OK);
	assert_int_equal(store_check_run(r, STORE_CHECK_CASES, NULL, NULL, &res, &d), MLA_OK);
	store_reader_close(r);
	assert_int_equal(res.failed, 0);
	assert_int_equal(store_fault_case_drop(f->path, "ES-6", &d), MLA_OK);
	assert_int_equal(store_reader_open(f->path, &r, &d), MLA_OK);
	assert_int_equal(store_check_run(r, STORE_CHECK_CASES, NULL, NULL, &res, &d), MLA_OK);
	store_reader_close(r);
	assert_int_equal(res.failed, STORE_CHECK_CASES);
	assert_int_equal(res.bad_cases, 1);
	assert_non_null(strstr(res.case_bad, "ES-6"));
	assert_non_null(strstr(res.case_bad, "deadline record without its case"));
}

/* A schema 8 store gets the empty table; its cases keep their lifecycle, without deadlines. */
static void test_upgrade_from_8(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-5");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	req.life = &p;
	put_ok(s, &req);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v8(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 8);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 14);
	assert_int_equal(store_life_get(s, &p.key, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	(void)get_dl(s, &p.key, 0);
	store_close(s);
}

static mla_err read_rule(const struct store_life_row *w, void *arg)
{
	if (strcmp(w->action, "deadline-extended") == 0)
		*(int *)arg = w->rule;
	return MLA_OK;
}

/* A schema 10 store is brought to 11: its facts kept (no arrest warrant), step facts empty. */
static void test_upgrade_from_10(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "ES-9");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING);
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME);
	struct store_deadline dl;
	mla_diag d = {MLA_OK, ""};

	facts.eaw = 1;
	p.facts = &facts;
	req.life = &p;
	put_ok(s, &req);
	assert_int_equal(get_dl(s, &p.key, 1).facts.eaw, 1);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v10(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 10);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	dl = get_dl(s, &p.key, 1);
	assert_int_equal(dl.facts.eaw, 0); /* schema 10 did not know it */
	assert_int_equal(dl.facts.type, MLA_CASE_PRODUCTION_ORDER);
	store_close(s);
}

/* A step's facts wait with it while pending, are kept once it is applied and read back with
 * the history; those of a refused step are forgotten (store check finds no facts of no
 * step). */
static void test_step_facts(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = request_msg(1, "CO-7"), ext = make_out(2, "CO", 0, 1000, 1000),
		       ext2 = make_out(3, "CO", 0, 1000, 1000);
	struct store_life_step p = step_of(&req, "CO", MLA_SIDE_REQUESTED), e, e2;
	struct store_deadline_facts facts = facts_of(0, MLA_DEADLINE_NO_TIME), sf;
	struct store_check_result res;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	int rule = -1;

	p.facts = &facts;
	p.at_ms = 1000;
	assert_int_equal(store_life_apply(s, &p, &d), MLA_OK); /* CO's request, received */
	memset(&sf, 0, sizeof(sf));
	sf.type = MLA_CASE_DEADLINE_EXTENDED;
	sf.rule = MLA_DEADLINE_PRESERVATION;
	sf.recorded_ms = MLA_DEADLINE_NO_TIME;
	memcpy(ext.case_id, "CO-7", 5);
	memcpy(ext.action, "deadline-extended", sizeof("deadline-extended"));
	memcpy(ext.in_reply_to, req.message_id, sizeof(ext.in_reply_to));
	e = step_of(&ext, "CO", MLA_SIDE_REQUESTED);
	e.by = MLA_SIDE_REQUESTED;
	e.facts = &sf;
	ext.life = &e;
	put_ok(s, &ext);
	assert_int_equal(store_outbox_receipt_at(s, ext.message_id, MSG_DELIVERED,
						 (const uint8_t *)"r", 1, NULL, 5000, &d), MLA_OK);
	assert_int_equal(store_life_history(s, &p.key, read_rule, &rule, &d), MLA_OK);
	assert_int_equal(rule, MLA_DEADLINE_PRESERVATION);
	/* a second one refused by its receipt: its facts are forgotten */
	ext2 = ext;
	make_id(ext2.message_id, sizeof(ext2.message_id), 3);
	memcpy(ext2.in_reply_to, ext.message_id, sizeof(ext2.in_reply_to));
	e2 = step_of(&ext2, "CO", MLA_SIDE_REQUESTED);
	e2.by = MLA_SIDE_REQUESTED;
	e2.facts = &sf;
	ext2.life = &e2;
	put_ok(s, &ext2);
	assert_int_equal(store_outbox_receipt_at(s, ext2.message_id, MSG_REJECTED,
						 (const uint8_t *)"r", 1, NULL, 6000, &d), MLA_OK);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_reader_open(f->path, &r, &d), MLA_OK);
	assert_int_equal(store_check_run(r, STORE_CHECK_CASES, NULL, NULL, &res, &d), MLA_OK);
	store_reader_close(r);
	assert_int_equal(res.failed, 0); /* the refused step's facts are gone, or they would
					  * be facts of no step */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_requesting_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opaque_has_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_with_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requested_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_orphan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_10, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_facts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
