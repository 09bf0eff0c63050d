/* The store's part of rebuilding case records after a recovery (gateway/store/store_life.c,
 * store_recover.c; SPEC 14 Recovery): a step this gateway had sent replayed as it was made
 * live (held pending, settled at its receipt's time) in one write, refused whole when the
 * case does not allow it; and the case a recovered row is in set once its step resolved it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store_fx.h"

static struct store_life_step step(unsigned n, const char *action, mla_life_side by,
				   int64_t at_ms)
{
	struct store_life_step p;

	memset(&p, 0, sizeof(p));
	memcpy(p.key.state, "ES", 2);
	(void)mla_snprintf_cut(p.key.case_id, sizeof(p.key.case_id), "ES-R-1");
	memcpy(p.key.peer, "CO", 2);
	p.side = MLA_SIDE_REQUESTING;
	p.by = by;
	make_id(p.message_id, sizeof(p.message_id), n);
	(void)mla_snprintf_cut(p.action, sizeof(p.action), "%s", action);
	p.at_ms = at_ms;
	return p;
}

static mla_err rows_of(const struct store_life_row *w, void *arg)
{
	char *out = arg;
	size_t used = strlen(out);

	return mla_snprintf_cut(out + used, 512 - used, "%u:%s:%s>%s@%lld;", w->seq, w->action,
				mla_life_state_name(w->from), mla_life_state_name(w->to),
				(long long)w->at_ms) == MLA_OK ? MLA_OK : MLA_ERR_TOO_LARGE;
}

static void history_is(gw_store *s, const struct store_life_key *k, const char *want)
{
	char hist[512] = "";
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_life_history(s, k, rows_of, hist, &d), MLA_OK);
	assert_string_equal(hist, want);
}

/* The requesting side's own request and withdrawal around the peer's step: the history and
 * receipt time are those of the live path (from transmitted, at each receipt's time). */
static void test_replay_sent(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_step req = step(1, "request", MLA_SIDE_REQUESTING, 5000);
	struct store_life_step ack = step(2, "received", MLA_SIDE_REQUESTED, 6000);
	struct store_life_step wd = step(3, "withdrawn", MLA_SIDE_REQUESTING, 7000);
	struct store_life_step bad = step(4, "closed", MLA_SIDE_REQUESTING, 8000);
	struct store_life_case c;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	assert_int_equal(store_life_replay_sent(s, &req, &d), MLA_OK);
	assert_int_equal(store_life_get(s, &req.key, &c, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	assert_int_equal(c.track.state, MLA_LIFE_RECEIVED);
	assert_int_equal(c.received_ms, 5000);
	assert_string_equal(c.track.pending, "");
	assert_string_equal(c.track.last, req.message_id);
	assert_int_equal(store_life_apply(s, &ack, &d), MLA_OK);
	if (store_life_replay_sent(s, &wd, &d) != MLA_OK)
		fail_msg("withdrawn: %s", d.msg);
	/* a step the case does not allow is refused whole: no pending step stays behind */
	assert_int_equal(store_life_replay_sent(s, &bad, &d), MLA_ERR_CASE_STEP);
	assert_int_equal(store_life_get(s, &req.key, &c, &found, &d), MLA_OK);
	assert_int_equal(c.track.state, MLA_LIFE_WITHDRAWN);
	assert_string_equal(c.track.pending, "");
	assert_string_equal(c.track.last, wd.message_id);
	history_is(s, &req.key, "1:request:transmitted>received@5000;"
				"2:received:received>acknowledged@6000;"
				"3:withdrawn:acknowledged>withdrawn@7000;");
	store_close(s);
}

/* A recovered row put before the message it answers was given this State's case; once its
 * step resolved the peer's, the row says so and the next step finds that case. */
static void test_recovered_peer_case(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(1, "CO", 0, 1000, 1000);
	char next_of[MLA_UUID_LEN + 1];
	mla_diag d = {MLA_OK, ""};
	int peer_case = -1;

	(void)mla_snprintf_cut(m.case_id, sizeof(m.case_id), "CO-R-1");
	(void)mla_snprintf_cut(m.action, sizeof(m.action), "received");
	make_id(m.in_reply_to, sizeof(m.in_reply_to), 7); /* not in the store (yet) */
	m.state = MSG_DELIVERED;
	assert_int_equal(store_outbox_put_recovered(s, &m, env_bytes, sizeof(env_bytes),
						    (const uint8_t *)"r", 1, &d), MLA_OK);
	memcpy(next_of, m.message_id, sizeof(next_of));
	assert_int_equal(store_case_key(s, 0, "CO-R-1", next_of, "CO", "accepted", &peer_case,
					&d), MLA_OK);
	assert_int_equal(peer_case, 0);
	assert_int_equal(store_recovered_peer_case(s, 1, m.message_id, 1, &d), MLA_OK);
	assert_int_equal(store_case_key(s, 0, "CO-R-1", next_of, "CO", "accepted", &peer_case,
					&d), MLA_OK);
	assert_int_equal(peer_case, 1);
	store_close(s);
}

/* A step the case's history holds is known (a held message's step is not replayed again);
 * one it does not hold is not. */
static void test_step_known(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_step req = step(1, "request", MLA_SIDE_REQUESTING, 5000);
	char other[MLA_UUID_LEN + 1];
	mla_diag d = {MLA_OK, ""};
	int known = -1;

	assert_int_equal(store_recovered_step_known(s, req.message_id, &known, &d), MLA_OK);
	assert_int_equal(known, 0);
	assert_int_equal(store_life_replay_sent(s, &req, &d), MLA_OK);
	assert_int_equal(store_recovered_step_known(s, req.message_id, &known, &d), MLA_OK);
	assert_int_equal(known, 1);
	make_id(other, sizeof(other), 2);
	assert_int_equal(store_recovered_step_known(s, other, &known, &d), MLA_OK);
	assert_int_equal(known, 0);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replay_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovered_peer_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_known, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
