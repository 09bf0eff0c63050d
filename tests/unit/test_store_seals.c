/* store_outbox_reseal (SPEC 13 Time, Re-sealing): the old seal and its refusal are kept, the
 * outbox row moves to the new seal, queued; a stale old digest, a final message and more than
 * STORE_SEALS_MAX seals are refused and change nothing; the reader gives the seals back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store_fx.h"

struct seals_seen {
	unsigned n, last;
	size_t env_len;
};

static mla_err count_seal(const struct store_seal_row *row, void *arg)
{
	struct seals_seen *s = arg;

	assert_true(row->seal == s->last + 1); /* ascending from 1 */
	s->last = row->seal;
	s->n++;
	s->env_len = row->envelope_len;
	assert_int_equal(row->receipt_len, 7);
	assert_memory_equal(row->receipt, "refusal", 7);
	return MLA_OK;
}

static struct seals_seen seals_of(const char *path, const char *id)
{
	struct seals_seen s = {0, 0, 0};
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_reader_open(path, &r, &d), MLA_OK);
	assert_int_equal(store_reader_seals(r, id, count_seal, &s, &d), MLA_OK);
	store_reader_close(r);
	return s;
}

/* The k-th new seal of m: k bytes of 'a' + k, replacing old. */
static mla_err reseal(gw_store *s, const struct out_msg *m, const uint8_t old[32], unsigned k,
		      uint8_t next[32], unsigned *n)
{
	static uint8_t env[16];
	mla_diag d = {MLA_OK, ""};
	struct store_seal x = {.envelope = env, .len = k, .refusal = (const uint8_t *)"refusal",
			       .refusal_len = 7, .why = "CO refused its seal for replay"};

	memset(env, 'a' + (int)k, sizeof(env));
	memcpy(x.old_digest, old, 32);
	memset(x.digest, 0x80 + (int)k, 32); /* never a make_out digest */
	memcpy(next, x.digest, 32);
	return store_outbox_reseal(s, m->message_id, &x, n, &d);
}

static void test_reseal_keeps_old_seal(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(1, "CO", 0, 1000, 1000), got;
	uint8_t cur[32], next[32];
	mla_diag d = {MLA_OK, ""};
	mla_buf env;
	unsigned n = 0;

	put_ok(s, &m);
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_SENDING, 0, NULL, &d), MLA_OK);
	memcpy(cur, m.digest, 32);
	assert_int_equal(reseal(s, &m, cur, 1, next, &n), MLA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, &d), MLA_OK);
	assert_memory_equal(got.digest, next, 32);
	assert_int_equal(got.state, MSG_QUEUED);
	assert_int_equal(store_outbox_envelope(s, m.message_id, &env, &d), MLA_OK);
	assert_int_equal(env.len, 1);
	mla_buf_free(&env);
	/* a stale old digest (sealed again already) changes nothing */
	assert_int_equal(reseal(s, &m, cur, 2, next, &n), MLA_ERR_ARG);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, &d), MLA_OK);
	assert_int_equal(got.digest[0], 0x81);
	store_close(s);
	{
		struct seals_seen seen = seals_of(f->path, m.message_id);
		assert_int_equal(seen.n, 1);
		assert_int_equal(seen.env_len, sizeof(env_bytes)); /* the first seal's bytes */
	}
}

static void test_reseal_limits(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(2, "CO", 0, 1000, 1000), done = make_out(3, "CO", 0, 1000, 1000);
	uint8_t cur[32], next[32];
	mla_diag d = {MLA_OK, ""};
	unsigned n = 0;

	put_ok(s, &m);
	memcpy(cur, m.digest, 32);
	for (unsigned k = 1; k <= STORE_SEALS_MAX; k++) {
		assert_int_equal(reseal(s, &m, cur, k, next, &n), MLA_OK);
		assert_int_equal(n, k);
		memcpy(cur, next, 32);
	}
	assert_int_equal(reseal(s, &m, cur, STORE_SEALS_MAX + 1, next, &n), MLA_ERR_TOO_LARGE);
	/* a final message is never sealed again */
	put_ok(s, &done);
	assert_int_equal(store_outbox_receipt(s, done.message_id, MSG_REJECTED,
					      (const uint8_t *)"r", 1, "refused", &d), MLA_OK);
	assert_int_equal(reseal(s, &done, done.digest, 1, next, &n), MLA_ERR_ARG);
	store_close(s);
	assert_int_equal(seals_of(f->path, m.message_id).n, STORE_SEALS_MAX);
	assert_int_equal(seals_of(f->path, done.message_id).n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reseal_keeps_old_seal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reseal_limits, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
