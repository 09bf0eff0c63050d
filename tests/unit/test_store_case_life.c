/* The case lifecycle in the store (gateway/store/store_life.c, schema 8): a step held pending
 * with its outbox row and applied with its positive receipt (forgotten with a negative one or
 * a failure), a peer's step applied with its inbox row and only once, refusals writing
 * nothing, the history the deadline clock reads, and the upgrade of a schema 7 store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store_check.h"
#include "store/store_fault.h"
#include "store_fx.h"

static struct store_life_step step_of(const struct out_msg *m, const char *requesting,
				      mla_life_side side, mla_life_side by)
{
	struct store_life_step p;

	memset(&p, 0, sizeof(p));
	memcpy(p.key.state, requesting, 2);
	memcpy(p.key.case_id, m->case_id, sizeof(p.key.case_id));
	memcpy(p.key.peer, m->to_state, 2);
	p.side = side;
	p.by = by;
	memcpy(p.message_id, m->message_id, sizeof(p.message_id));
	memcpy(p.action, m->action, sizeof(p.action));
	return p;
}

static struct store_life_case get(gw_store *s, const struct store_life_key *k, int want_found)
{
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	int found = -1;

	assert_int_equal(store_life_get(s, k, &c, &found, &d), MLA_OK);
	assert_int_equal(found, want_found);
	return c;
}

static struct out_msg step_msg(unsigned n, const char *action)
{
	struct out_msg m = make_out(n, "CO", 0, 1000, 1000);

	assert_int_equal(mla_snprintf(m.case_id, sizeof(m.case_id), "ES-1"), MLA_OK);
	assert_int_equal(mla_snprintf(m.action, sizeof(m.action), "%s", action), MLA_OK);
	return m;
}

static mla_err rows_of(const struct store_life_row *w, void *arg)
{
	char *out = arg;
	size_t used = strlen(out);

	return mla_snprintf_cut(out + used, 512 - used, "%u:%s:%s>%s@%lld;", w->seq, w->action,
				mla_life_state_name(w->from), mla_life_state_name(w->to),
				(long long)w->at_ms) == MLA_OK ? MLA_OK : MLA_ERR_TOO_LARGE;
}

/* The requesting side: request pending (transmitted), receipted (received), a peer's step,
 * its own next step refused while one is pending, then settled negative (state kept). */
static void test_sender_side(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = step_msg(1, "request"), wd = step_msg(3, "withdrawn"),
		       wd2 = step_msg(4, "withdrawn");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step pw = step_of(&wd, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step pw2 = step_of(&wd2, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step ack = p;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	char hist[512] = "";

	req.life = &p;
	put_ok(s, &req);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_TRANSMITTED);
	assert_string_equal(c.track.pending, req.message_id);
	assert_string_equal(c.track.last, "");
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_DELIVERED,
						 (const uint8_t *)"r", 1, NULL, 5000, &d), MLA_OK);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_RECEIVED);
	assert_string_equal(c.track.last, req.message_id);
	assert_string_equal(c.track.pending, "");
	assert_int_equal(c.received_ms, 5000);
	/* the peer's acknowledgement, applied directly */
	make_id(ack.message_id, sizeof(ack.message_id), 2);
	(void)mla_snprintf_cut(ack.action, sizeof(ack.action), "received");
	ack.by = MLA_SIDE_REQUESTED;
	ack.at_ms = 6000;
	assert_int_equal(store_life_apply(s, &ack, &d), MLA_OK);
	/* an illegal step is refused and writes nothing */
	ack.by = MLA_SIDE_REQUESTING;
	make_id(ack.message_id, sizeof(ack.message_id), 9);
	assert_int_equal(store_life_apply(s, &ack, &d), MLA_ERR_CASE_STEP);
	/* one pending step at a time: the second put is refused whole */
	wd.life = &pw;
	put_ok(s, &wd);
	wd2.life = &pw2;
	assert_int_equal(store_outbox_put(s, &wd2, env_bytes, sizeof(env_bytes), &d),
			 MLA_ERR_CASE_CONFLICT);
	assert_int_not_equal(store_outbox_get(s, wd2.message_id, &wd2, &d), MLA_OK);
	assert_int_equal(store_outbox_receipt_at(s, wd.message_id, MSG_REJECTED,
						 (const uint8_t *)"n", 1, "case-conflict", 7000,
						 &d), MLA_OK);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_ACKNOWLEDGED);
	assert_string_equal(c.track.pending, "");
	assert_int_equal(store_life_history(s, &p.key, rows_of, hist, &d), MLA_OK);
	assert_string_equal(hist, "1:request:transmitted>received@5000;"
				  "2:received:received>acknowledged@6000;");
	store_close(s);
}

/* A request refused or failed: the case is gone, and may be requested again. */
static void test_request_refused_or_failed(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = step_msg(1, "request"), again = step_msg(2, "request");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step p2 = step_of(&again, "ES", MLA_SIDE_REQUESTING,
					    MLA_SIDE_REQUESTING);
	mla_diag d = {MLA_OK, ""};

	req.life = &p;
	put_ok(s, &req);
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_REJECTED,
						 (const uint8_t *)"n", 1, NULL, 1, &d), MLA_OK);
	(void)get(s, &p.key, 0);
	again.life = &p2;
	put_ok(s, &again);
	assert_int_equal(store_outbox_set_state(s, again.message_id, MSG_FAILED, 0, "deadline",
						&d), MLA_OK);
	(void)get(s, &p.key, 0);
	store_close(s);
}

/* The requested side: the request and each step applied with their inbox rows, once. */
static void test_receiver_side(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg o = step_msg(1, "request");
	struct store_life_step p = step_of(&o, "CO", MLA_SIDE_REQUESTED, MLA_SIDE_REQUESTING);
	struct in_msg m;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	char hist[512] = "";

	memcpy(p.key.peer, "CO", 2); /* the case of CO, this gateway the requested side */
	p.at_ms = 4000;
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, o.message_id, sizeof(m.message_id));
	memcpy(m.case_id, o.case_id, sizeof(m.case_id));
	memcpy(m.from_state, "CO", 3);
	memcpy(m.kind, "mla", 4);
	memcpy(m.action, "request", 8);
	m.priority = 0;
	m.life = &p;
	assert_int_equal(store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes),
					 (const uint8_t *)"r", 1, &d), MLA_OK);
	/* the same envelope again cannot be stored, nor its step applied twice */
	assert_int_not_equal(store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes),
					     (const uint8_t *)"r", 1, &d), MLA_OK);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_RECEIVED);
	assert_int_equal(c.side, MLA_SIDE_REQUESTED);
	assert_int_equal(c.received_ms, 4000);
	assert_int_equal(store_life_history(s, &p.key, rows_of, hist, &d), MLA_OK);
	assert_string_equal(hist, "1:request:none>received@4000;");
	/* an illegal step rolls the inbox put back */
	make_id(m.message_id, sizeof(m.message_id), 2);
	memcpy(p.message_id, m.message_id, sizeof(p.message_id));
	memcpy(p.action, "executed", 9);
	assert_int_equal(store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes),
					 (const uint8_t *)"r", 1, &d), MLA_ERR_CASE_STEP);
	{
		int found = 1;
		uint8_t dg[32];
		mla_buf rb;

		assert_int_equal(store_inbox_lookup(s, m.message_id, &found, dg, &rb, &d), MLA_OK);
		assert_int_equal(found, 0);
		mla_buf_free(&rb);
	}
	store_close(s);
}

/* A peer's step that follows this side's pending request: the request is applied first, in
 * the same write, and its receipt, arriving later, changes nothing more. */
static void test_settle_first(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = step_msg(1, "request");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step ack = p;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	char hist[512] = "";

	req.life = &p;
	put_ok(s, &req);
	make_id(ack.message_id, sizeof(ack.message_id), 2);
	(void)mla_snprintf_cut(ack.action, sizeof(ack.action), "received");
	ack.by = MLA_SIDE_REQUESTED;
	ack.at_ms = 6000;
	memcpy(ack.settle_first, req.message_id, sizeof(ack.settle_first));
	assert_int_equal(store_life_apply(s, &ack, &d), MLA_OK);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_ACKNOWLEDGED);
	assert_string_equal(c.track.pending, "");
	assert_int_equal(c.received_ms, 6000);
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_DELIVERED,
						 (const uint8_t *)"r", 1, NULL, 5000, &d), MLA_OK);
	c = get(s, &p.key, 1);
	assert_int_equal(c.track.state, MLA_LIFE_ACKNOWLEDGED);
	assert_int_equal(store_life_history(s, &p.key, rows_of, hist, &d), MLA_OK);
	assert_string_equal(hist, "1:request:transmitted>received@6000;"
				  "2:received:received>acknowledged@6000;");
	store_close(s);
}

static struct store_check_result check_cases(const char *path)
{
	struct store_check_result res;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_reader_open(path, &r, &d), MLA_OK);
	assert_int_equal(store_check_run(r, STORE_CHECK_CASES, NULL, NULL, &res, &d), MLA_OK);
	store_reader_close(r);
	return res;
}

/* mlagw store check's case part: ok on what the store wrote, a state moved behind its steps'
 * back named with the case. */
static void test_check_cases(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg req = step_msg(1, "request"), pend = step_msg(2, "request");
	struct store_life_step p = step_of(&req, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_life_step p2 = step_of(&pend, "ES", MLA_SIDE_REQUESTING, MLA_SIDE_REQUESTING);
	struct store_check_result res;
	mla_diag d = {MLA_OK, ""};

	req.life = &p;
	put_ok(s, &req);
	assert_int_equal(store_outbox_receipt_at(s, req.message_id, MSG_DELIVERED,
						 (const uint8_t *)"r", 1, NULL, 5000, &d), MLA_OK);
	memcpy(pend.case_id, "ES-2", 5);
	memcpy(p2.key.case_id, "ES-2", 5);
	pend.life = &p2; /* a request awaiting its receipt: no step yet, and fine */
	put_ok(s, &pend);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	res = check_cases(f->path);
	assert_int_equal(res.failed, 0);
	assert_int_equal(res.cases, 2);
	assert_int_equal(store_fault_case_life(f->path, "ES-1", "executed", &d), MLA_OK);
	res = check_cases(f->path);
	assert_int_equal(res.failed, STORE_CHECK_CASES);
	assert_int_equal(res.bad_cases, 1);
	assert_non_null(strstr(res.case_bad, "ES-1"));
	assert_non_null(strstr(res.case_bad, "not where its steps lead"));
}

static mla_err count_case(const struct store_life_case *c, void *arg)
{
	(void)c;
	++*(int *)arg;
	return MLA_OK;
}

/* A schema 7 store gets the (empty) lifecycle tables; its messages are kept. */
static void test_upgrade_from_7(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(1, "CO", 0, 1000, 1000);
	mla_diag d = {MLA_OK, ""};
	int n = 0;

	put_ok(s, &m);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v7(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 7);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_outbox_get(s, m.message_id, &m, &d), MLA_OK);
	assert_int_equal(store_life_list(s, count_case, &n, &d), MLA_OK);
	assert_int_equal(n, 0);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sender_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_refused_or_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receiver_side, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settle_first, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
