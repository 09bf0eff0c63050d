/* Attacks on the case lifecycle in the gateway (gateway/cases/cases.c, SPEC 16.8) through the
 * store (store_fx.c): which case a peer's step lands in.
 *
 * A request follows no step and its InReplyTo (a related message) is not checked: the
 * lifecycle puts an outgoing request in this State's case whatever it names (cases.c
 * resolve). But the outbox row of that request takes its peer_case from store_case_key,
 * which for an outgoing request does look at InReplyTo: a request of ES in case X that names
 * a message of CO's own case X (the same id: CO's numbering, or a collision a peer can make
 * on purpose) is stored as a message of CO's case. Every answer of CO to that request
 * (InReplyTo: the request) is then resolved into CO's case, where ES is the requested side,
 * and refused: ES's case never leaves `received`, and CO is refused forever. */
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

#define CASE_X "X-2026-1"

static void header(mla_header *h, unsigned n, const char *from, const char *to,
		   const char *action, const char *in_reply_to)
{
	memset(h, 0, sizeof(*h));
	make_id(h->message_id, sizeof(h->message_id), n);
	assert_int_equal(mla_strcpy(h->case_id, sizeof(h->case_id), CASE_X), MLA_OK);
	assert_int_equal(mla_strcpy(h->from_state, sizeof(h->from_state), from), MLA_OK);
	assert_int_equal(mla_strcpy(h->to_state, sizeof(h->to_state), to), MLA_OK);
	assert_int_equal(mla_strcpy(h->action, sizeof(h->action), action), MLA_OK);
	if (in_reply_to != NULL)
		assert_int_equal(mla_strcpy(h->in_reply_to, sizeof(h->in_reply_to), in_reply_to),
				 MLA_OK);
}

/* CO's step h received by ES and stored (checked, then put with its inbox row). */
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
	memcpy(m.kind, "mla", 4);
	memcpy(m.action, h->action, sizeof(m.action));
	m.received_ms = at;
	m.life = &life;
	if (store_inbox_put(s, &m, 1, env_bytes, sizeof(env_bytes), (const uint8_t *)"r", 1, &d) !=
	    MLA_OK)
		fail_msg("inbox put of CO's %s: %s", h->action, d.msg);
}

/* ES's step h sealed (checked, then put pending with its outbox row) and positively
 * receipted by CO. */
static void send_ok(gw_store *s, mla_header *h, unsigned n)
{
	struct store_life_step life;
	struct out_msg o = make_out(n, "CO", 0, 1000, 1000);
	mla_diag d = {MLA_OK, ""};

	if (cases_check_send(s, "ES", h, &life, &d) != MLA_OK)
		fail_msg("ES's %s refused before sealing: %s", h->action, d.msg);
	assert_string_equal(life.key.state, "ES"); /* a request is in its sender's case */
	memcpy(o.message_id, h->message_id, sizeof(o.message_id));
	memcpy(o.case_id, h->case_id, sizeof(o.case_id));
	memcpy(o.in_reply_to, h->in_reply_to, sizeof(o.in_reply_to));
	memcpy(o.action, h->action, sizeof(o.action));
	memcpy(o.case_state, "ES", 3);
	assert_int_equal(mla_strcpy(o.submitted_by, sizeof(o.submitted_by), "authority:a"),
			 MLA_OK);
	o.life = &life;
	if (store_outbox_put(s, &o, env_bytes, sizeof(env_bytes), &d) != MLA_OK)
		fail_msg("outbox put of ES's %s: %s", h->action, d.msg);
	assert_int_equal(store_life_settle(s, h->message_id, 1, 3000, &d), MLA_OK);
}

/* CO opened its case X at ES; ES then opens its own case X, its request naming CO's request
 * as the related message; CO acknowledges ES's request. The acknowledgement is a step of
 * ES's case (it follows ES's request, the case's last step) and must be accepted there. */
static void test_answer_to_request_naming_peer_case(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_header co_req, es_req, co_ack;
	struct store_life_step life;
	struct store_life_key k;
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int found = 0;

	header(&co_req, 1, "CO", "ES", "request", NULL);
	receive_ok(s, &co_req, 2000);
	header(&es_req, 2, "ES", "CO", "request", co_req.message_id);
	send_ok(s, &es_req, 2);
	memset(&k, 0, sizeof(k));
	memcpy(k.state, "ES", 2);
	memcpy(k.peer, "CO", 2);
	assert_int_equal(mla_strcpy(k.case_id, sizeof(k.case_id), CASE_X), MLA_OK);
	assert_int_equal(store_life_get(s, &k, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	assert_int_equal(c.track.state, MLA_LIFE_RECEIVED); /* ES's case, its request applied */
	assert_string_equal(c.track.last, es_req.message_id);

	header(&co_ack, 3, "CO", "ES", "received", es_req.message_id);
	r = cases_check_receive(s, "ES", &co_ack, 4000, &life, &d);
	store_close(s);
	if (r != MLA_OK)
		fail_msg("CO's acknowledgement of ES's request refused at ES (%s): %s",
			 mla_errname(r), d.msg);
	assert_string_equal(life.key.state, "ES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_to_request_naming_peer_case, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
