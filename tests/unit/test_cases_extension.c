/* A deadline's extension is taken once per case (gateway/cases/cases.c, SPEC 16.8): the
 * requested side's second deadline-extended is refused before sealing (case-step, naming the
 * first), and a peer's second one is refused on receipt the same way, from the history both
 * sides hold; the first leaves the case in its state. */
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

/* CO's step h received by ES and stored with its inbox row. */
static void receive_ok(gw_store *s, const mla_header *h, int64_t at)
{
	struct store_life_step life;
	struct in_msg m;
	mla_diag d = {MLA_OK, ""};

	if (cases_check_receive(s, "ES", h, at, &life, &d) != MLA_OK)
		fail_msg("CO's %s refused at ES: %s", h->action, d.msg);
	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, h->message_id, sizeof(m.message_id));
	memcpy(m.case_id, h->case_id, sizeof(m.case_id));
	memcpy(m.in_reply_to, h->in_reply_to, sizeof(m.in_reply_to));
	memcpy(m.from_state, h->from_state, sizeof(m.from_state));
	memcpy(m.kind, "preservation-order", sizeof("preservation-order"));
	memcpy(m.action, h->action, sizeof(m.action));
	m.received_ms = at;
	m.life = &life;
	if (store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes), (const uint8_t *)"r", 1, &d) !=
	    MLA_OK)
		fail_msg("inbox put of CO's %s: %s", h->action, d.msg);
}

/* ES's step h sealed (checked, put pending with its outbox row) and positively receipted. */
static void send_ok(gw_store *s, mla_header *h, unsigned n, const char *case_state)
{
	struct store_life_step life;
	struct out_msg o = make_out(n, "CO", 0, 1000, 1000);
	mla_diag d = {MLA_OK, ""};

	if (cases_check_send(s, "ES", h, &life, &d) != MLA_OK)
		fail_msg("ES's %s refused before sealing: %s", h->action, d.msg);
	memcpy(o.message_id, h->message_id, sizeof(o.message_id));
	memcpy(o.case_id, h->case_id, sizeof(o.case_id));
	memcpy(o.in_reply_to, h->in_reply_to, sizeof(o.in_reply_to));
	memcpy(o.action, h->action, sizeof(o.action));
	memcpy(o.case_state, case_state, 3);
	assert_int_equal(mla_strcpy(o.submitted_by, sizeof(o.submitted_by), "authority:a"),
			 MLA_OK);
	o.life = &life;
	if (store_outbox_put(s, &o, env_bytes, sizeof(env_bytes), &d) != MLA_OK)
		fail_msg("outbox put of ES's %s: %s", h->action, d.msg);
	assert_int_equal(store_life_settle(s, h->message_id, 1, 3000, &d), MLA_OK);
}

static mla_life_state state_of(gw_store *s, const char *requesting, const char *case_id)
{
	struct store_life_key k;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	memset(&k, 0, sizeof(k));
	memcpy(k.state, requesting, 2);
	memcpy(k.peer, "CO", 2);
	assert_int_equal(mla_strcpy(k.case_id, sizeof(k.case_id), case_id), MLA_OK);
	assert_int_equal(store_life_get(s, &k, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	return c.track.state;
}

/* ES is the requested side of CO's case: its second extension is refused before sealing. */
static void test_send_once(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_header req, ext, again;
	struct store_life_step life;
	mla_diag d = {MLA_OK, ""};

	header(&req, 1, "CO-EXT-1", "CO", "ES", "request", NULL);
	receive_ok(s, &req, 2000);
	header(&ext, 2, "CO-EXT-1", "ES", "CO", "deadline-extended", req.message_id);
	send_ok(s, &ext, 2, "CO");
	assert_int_equal(state_of(s, "CO", "CO-EXT-1"), MLA_LIFE_RECEIVED);
	header(&again, 3, "CO-EXT-1", "ES", "CO", "deadline-extended", ext.message_id);
	assert_int_equal(cases_check_send(s, "ES", &again, &life, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "already taken"));
	assert_non_null(strstr(d.msg, ext.message_id));
	assert_non_null(strstr(d.msg, "not allowed in case state received;"));
	store_close(s);
}

/* ES is the requesting side: CO's second extension is refused on receipt. */
static void test_receive_once(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_header req, ext, again;
	struct store_life_step life;
	mla_diag d = {MLA_OK, ""};

	header(&req, 1, "ES-EXT-1", "ES", "CO", "request", NULL);
	send_ok(s, &req, 1, "ES");
	header(&ext, 2, "ES-EXT-1", "CO", "ES", "deadline-extended", req.message_id);
	receive_ok(s, &ext, 4000);
	assert_int_equal(state_of(s, "ES", "ES-EXT-1"), MLA_LIFE_RECEIVED);
	header(&again, 3, "ES-EXT-1", "CO", "ES", "deadline-extended", ext.message_id);
	assert_int_equal(cases_check_receive(s, "ES", &again, 5000, &life, &d),
			 MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "already taken"));
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_once, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
