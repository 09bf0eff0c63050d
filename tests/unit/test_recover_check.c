/* The asker's check of an item a peer gives back (gateway/recover/recover_check.c): an
 * envelope ES -> CO with CO's positive receipt passes from either side in its direction;
 * every forgery a peer could try (another digest, a negative receipt, a receipt signed by the
 * wrong State, the wrong direction or parties, another message id, altered bytes) is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "fixture.h"
#include "recover/recover_check.h"

struct case_ {
	struct recover_item it;
	mla_verified v;
};

/* A receipt for env signed by signer, as receiver of the State named. */
static void receipt_for(const struct fixture *f, const mla_buf *env, const char *receiver,
			const char *sender, mla_outcome outcome, const mla_signer *signer,
			const char *message_id, mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};
	mla_receipt r;

	assert_int_equal(mla_receipt_init(&r), MLA_OK);
	memcpy(r.message_id, message_id, MLA_UUID_LEN + 1);
	SHA256(env->data, env->len, r.envelope_digest);
	memcpy(r.receiver_state, receiver, 3);
	memcpy(r.sender_state, sender, 3);
	r.outcome = outcome;
	if (outcome == MLA_OUTCOME_REJECTED)
		r.error = MLA_ERR_SIG_INVALID;
	if (mla_receipt_seal(&r, signer, &f->limits, out, &d) != MLA_OK)
		fail_msg("receipt seal: %s", d.msg);
}

/* An item ES -> CO as CO would give it back to ES (sent-by-you), receipt signed by CO. */
static void make(const struct fixture *f, struct case_ *c)
{
	mla_diag d = {MLA_OK, ""};

	memset(c, 0, sizeof(*c));
	assert_int_equal(fixture_seal(f, "<Request>r</Request>", 20, &c->it.envelope), MLA_OK);
	assert_int_equal(mla_envelope_verify(c->it.envelope.data, c->it.envelope.len, f->trust,
					     &f->limits, &c->v, &d), MLA_OK);
	memcpy(c->it.message_id, c->v.header.message_id, MLA_UUID_LEN + 1);
	c->it.dir = RECOVER_SENT_BY_YOU;
	receipt_for(f, &c->it.envelope, "CO", "ES", MLA_OUTCOME_ACCEPTED, f->co_signer,
		    c->it.message_id, &c->it.receipt);
}

static void done(struct case_ *c)
{
	mla_buf_free(&c->it.envelope);
	mla_buf_free(&c->it.receipt);
}

static mla_err check(const struct fixture *f, const struct case_ *c, const char *own,
		     const char *peer, struct recover_checked *out)
{
	mla_diag d = {MLA_OK, ""};

	return recover_check_item(&c->it, own, peer, f->trust, &f->limits, out, &d);
}

static void test_good_both_sides(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	uint8_t sha[32];
	struct case_ c;

	make(f, &c);
	assert_int_equal(check(f, &c, "ES", "CO", &out), MLA_OK); /* ES sent it, CO gives back */
	assert_memory_equal(out.v.digest, c.v.digest, 32);
	SHA256(c.it.receipt.data, c.it.receipt.len, sha);
	assert_memory_equal(out.receipt_sha256, sha, 32);
	assert_string_equal(out.receipt.receiver_state, "CO");
	c.it.dir = RECOVER_SENT_TO_YOU; /* CO received it, ES gives back */
	assert_int_equal(check(f, &c, "CO", "ES", &out), MLA_OK);
	done(&c);
}

static void test_wrong_direction_or_parties(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	struct case_ c;

	make(f, &c);
	assert_int_not_equal(check(f, &c, "CO", "ES", &out), MLA_OK); /* sent-by-you to CO */
	assert_int_not_equal(check(f, &c, "ES", "MX", &out), MLA_OK); /* not MX's message */
	assert_int_not_equal(check(f, &c, "MX", "CO", &out), MLA_OK);
	c.it.dir = RECOVER_SENT_TO_YOU;
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	done(&c);
}

static void test_other_message_id(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	struct case_ c;

	make(f, &c);
	c.it.message_id[0] = c.it.message_id[0] == 'a' ? 'b' : 'a';
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	done(&c);
}

static void test_receipt_of_other_bytes(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	mla_buf other;
	struct case_ c;

	make(f, &c);
	mla_buf_init(&other, 1 << 20);
	assert_int_equal(mla_buf_append(&other, c.it.envelope.data, c.it.envelope.len), MLA_OK);
	assert_int_equal(mla_buf_append_str(&other, "\n"), MLA_OK); /* another digest */
	mla_buf_free(&c.it.receipt);
	receipt_for(f, &other, "CO", "ES", MLA_OUTCOME_ACCEPTED, f->co_signer, c.it.message_id,
		    &c.it.receipt);
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	mla_buf_free(&other);
	done(&c);
}

static void test_negative_receipt(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	struct case_ c;

	make(f, &c);
	mla_buf_free(&c.it.receipt);
	receipt_for(f, &c.it.envelope, "CO", "ES", MLA_OUTCOME_REJECTED, f->co_signer,
		    c.it.message_id, &c.it.receipt);
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	done(&c);
}

static void test_receipt_by_wrong_state(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	struct case_ c;

	make(f, &c);
	mla_buf_free(&c.it.receipt); /* ES signs "CO's" receipt: does not chain to CO */
	receipt_for(f, &c.it.envelope, "CO", "ES", MLA_OUTCOME_ACCEPTED, f->es_signer,
		    c.it.message_id, &c.it.receipt);
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	mla_buf_free(&c.it.receipt); /* ES's own receipt, well signed, but not the recipient */
	receipt_for(f, &c.it.envelope, "ES", "ES", MLA_OUTCOME_ACCEPTED, f->es_signer,
		    c.it.message_id, &c.it.receipt);
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	mla_buf_free(&c.it.receipt); /* CO's, naming another sender */
	receipt_for(f, &c.it.envelope, "CO", "MX", MLA_OUTCOME_ACCEPTED, f->co_signer,
		    c.it.message_id, &c.it.receipt);
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	done(&c);
}

static void test_altered_envelope(void **state)
{
	const struct fixture *f = *state;
	struct recover_checked out;
	struct case_ c;

	make(f, &c);
	fixture_replace(&c.it.envelope, ">mla<", ">eio<"); /* the Kind, signed */
	assert_int_not_equal(check(f, &c, "ES", "CO", &out), MLA_OK);
	done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_both_sides),
		cmocka_unit_test(test_wrong_direction_or_parties),
		cmocka_unit_test(test_other_message_id),
		cmocka_unit_test(test_receipt_of_other_bytes),
		cmocka_unit_test(test_negative_receipt),
		cmocka_unit_test(test_receipt_by_wrong_state),
		cmocka_unit_test(test_altered_envelope),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
