/* The case lifecycle (SPEC 16.8): every (state, side, step) against the table written out
 * here by name, independently of the library's; refusals naming the state and the allowed
 * steps; the crossing rule before sealing and on receipt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/lifecycle.h"

/* SPEC 16.8's table: "from side step to". Everything not listed is illegal. */
static const char *const legal[] = {
	"none requesting request received",
	"transmitted requesting request received",
	"received requested received acknowledged",
	"received requested forwarded forwarded",
	"acknowledged requested forwarded forwarded",
	"received requested additional-information-requested additional-information-requested",
	"acknowledged requested additional-information-requested additional-information-requested",
	"forwarded requested additional-information-requested additional-information-requested",
	"additional-information-provided requested additional-information-requested "
	"additional-information-requested",
	"accepted requested additional-information-requested additional-information-requested",
	"postponed requested additional-information-requested additional-information-requested",
	"in-execution requested additional-information-requested additional-information-requested",
	"additional-information-requested requesting additional-information-provided "
	"additional-information-provided",
	"received requested accepted accepted",
	"acknowledged requested accepted accepted",
	"forwarded requested accepted accepted",
	"additional-information-provided requested accepted accepted",
	"postponed requested accepted accepted",
	"received requested postponed postponed",
	"acknowledged requested postponed postponed",
	"forwarded requested postponed postponed",
	"additional-information-provided requested postponed postponed",
	"accepted requested postponed postponed",
	"accepted requested in-execution in-execution",
	"postponed requested in-execution in-execution",
	"accepted requested executed executed",
	"in-execution requested executed executed",
	"accepted requested partially-executed partially-executed",
	"in-execution requested partially-executed partially-executed",
	"received requested refused refused",
	"acknowledged requested refused refused",
	"forwarded requested refused refused",
	"additional-information-requested requested refused refused",
	"additional-information-provided requested refused refused",
	"postponed requested refused refused",
	"transmitted requesting withdrawn withdrawn",
	"received requesting withdrawn withdrawn",
	"acknowledged requesting withdrawn withdrawn",
	"forwarded requesting withdrawn withdrawn",
	"additional-information-requested requesting withdrawn withdrawn",
	"additional-information-provided requesting withdrawn withdrawn",
	"accepted requesting withdrawn withdrawn",
	"postponed requesting withdrawn withdrawn",
	"in-execution requesting withdrawn withdrawn",
	"executed requesting closed closed",
	"partially-executed requesting closed closed",
	"refused requesting closed closed",
	"withdrawn requested closed closed",
	/* a deadline's extension leaves the case where it is; not while information is awaited */
	"received requested deadline-extended received",
	"acknowledged requested deadline-extended acknowledged",
	"forwarded requested deadline-extended forwarded",
	"additional-information-provided requested deadline-extended "
	"additional-information-provided",
	"accepted requested deadline-extended accepted",
	"postponed requested deadline-extended postponed",
	"in-execution requested deadline-extended in-execution",
	/* an arrest warrant's arrest and consent, before the final decision: the case stays */
	"received requested person-arrested received",
	"acknowledged requested person-arrested acknowledged",
	"forwarded requested person-arrested forwarded",
	"additional-information-provided requested person-arrested "
	"additional-information-provided",
	"postponed requested person-arrested postponed",
	"received requested surrender-consented received",
	"acknowledged requested surrender-consented acknowledged",
	"forwarded requested surrender-consented forwarded",
	"additional-information-provided requested surrender-consented "
	"additional-information-provided",
	"postponed requested surrender-consented postponed",
};

static const char *expected(mla_life_state s, mla_life_side side, mla_life_step t, char *to,
			    size_t n)
{
	char key[160];
	size_t k;

	k = (size_t)snprintf(key, sizeof(key), "%s %s %s ", mla_life_state_name(s),
			     mla_life_side_name(side), mla_life_step_name(t));
	for (size_t i = 0; i < sizeof(legal) / sizeof(legal[0]); i++)
		if (strncmp(legal[i], key, k) == 0) {
			snprintf(to, n, "%s", legal[i] + k);
			return to;
		}
	return NULL;
}

static void test_every_transition(void **state)
{
	size_t legal_seen = 0;

	(void)state;
	for (unsigned s = 0; s < MLA_LIFE_N; s++)
		for (unsigned side = 0; side < 2; side++)
			for (unsigned t = 0; t < MLA_STEP_N; t++) {
				char want[80], allowed[512];
				const char *w = expected((mla_life_state)s, (mla_life_side)side,
							 (mla_life_step)t, want, sizeof(want));
				mla_life_state to = MLA_LIFE_N;
				mla_diag d = {MLA_OK, ""};
				mla_err r = mla_life_apply((mla_life_state)s, (mla_life_side)side,
							   (mla_life_step)t, &to, &d);

				if (w != NULL) {
					assert_int_equal(r, MLA_OK);
					assert_string_equal(mla_life_state_name(to), w);
					legal_seen++;
					continue;
				}
				assert_int_equal(r, MLA_ERR_CASE_STEP);
				assert_int_equal(to, MLA_LIFE_NONE);
				/* names the step, the state and the allowed steps */
				assert_non_null(strstr(d.msg, mla_life_step_name((mla_life_step)t)));
				assert_non_null(strstr(d.msg, mla_life_state_name((mla_life_state)s)));
				mla_life_allowed_text((mla_life_state)s, (mla_life_side)side, allowed,
						      sizeof(allowed));
				assert_non_null(strstr(d.msg, allowed));
			}
	assert_int_equal(legal_seen, sizeof(legal) / sizeof(legal[0]));
}

static void test_allowed_lists(void **state)
{
	char text[512];
	mla_life_step steps[MLA_STEP_N];

	(void)state;
	mla_life_allowed_text(MLA_LIFE_ACCEPTED, MLA_SIDE_REQUESTED, text, sizeof(text));
	assert_string_equal(text, "additional-information-requested, postponed, in-execution, "
				  "executed, partially-executed, deadline-extended");
	mla_life_allowed_text(MLA_LIFE_ACCEPTED, MLA_SIDE_REQUESTING, text, sizeof(text));
	assert_string_equal(text, "withdrawn");
	mla_life_allowed_text(MLA_LIFE_CLOSED, MLA_SIDE_REQUESTING, text, sizeof(text));
	assert_string_equal(text, "none");
	assert_int_equal(mla_life_allowed(MLA_LIFE_RECEIVED, MLA_SIDE_REQUESTED, steps, 2), 9);
	assert_int_equal(steps[0], MLA_STEP_ACKNOWLEDGE);
	assert_int_equal(steps[1], MLA_STEP_FORWARD);
	/* a short buffer is cut, not overrun */
	mla_life_allowed_text(MLA_LIFE_ACCEPTED, MLA_SIDE_REQUESTED, text, 12);
	assert_int_equal(strlen(text), 11);
}

static void test_open_states_and_names(void **state)
{
	mla_life_state s;
	mla_life_step t;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	for (unsigned i = 0; i < MLA_LIFE_N; i++) {
		int open = mla_life_next((mla_life_state)i, MLA_SIDE_REQUESTING,
					 MLA_STEP_WITHDRAW) != MLA_LIFE_NONE;
		assert_int_equal(mla_life_state_open((mla_life_state)i), open);
		assert_int_equal(mla_life_state_parse(mla_life_state_name((mla_life_state)i), &s,
						      &d), MLA_OK);
		assert_int_equal(s, i);
	}
	for (unsigned i = 0; i < MLA_STEP_N; i++) {
		assert_int_equal(mla_life_step_parse(mla_life_step_name((mla_life_step)i), &t, &d),
				 MLA_OK);
		assert_int_equal(t, i);
	}
	assert_int_equal(mla_life_step_parse("acknowledged", &t, &d), MLA_ERR_ARG);
	assert_int_equal(mla_life_state_parse("open", &s, &d), MLA_ERR_ARG);
	assert_string_equal(mla_life_state_name(MLA_LIFE_N), "unknown");
}

#define ID_A "11111111-1111-4111-8111-111111111111"
#define ID_B "22222222-2222-4222-8222-222222222222"
#define ID_C "33333333-3333-4333-8333-333333333333"

static void test_send_rules(void **state)
{
	mla_life_track t = {MLA_LIFE_ACCEPTED, ID_A, "", MLA_STEP_REQUEST};
	mla_life_state to;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(mla_life_check_send(&t, MLA_SIDE_REQUESTED, MLA_STEP_EXECUTED, ID_A, &to,
					     &d), MLA_OK);
	assert_int_equal(to, MLA_LIFE_EXECUTED);
	/* stale: follows another step */
	assert_int_equal(mla_life_check_send(&t, MLA_SIDE_REQUESTED, MLA_STEP_EXECUTED, ID_B, &to,
					     &d), MLA_ERR_CASE_CONFLICT);
	assert_non_null(strstr(d.msg, ID_A));
	/* illegal before stale: the state is what the sender must learn first */
	assert_int_equal(mla_life_check_send(&t, MLA_SIDE_REQUESTED, MLA_STEP_ACKNOWLEDGE, ID_B,
					     &to, &d), MLA_ERR_CASE_STEP);
	assert_non_null(strstr(d.msg, "accepted"));
	/* one step of a side awaiting its receipt at a time */
	memcpy(t.pending, ID_C, sizeof(t.pending));
	assert_int_equal(mla_life_check_send(&t, MLA_SIDE_REQUESTED, MLA_STEP_EXECUTED, ID_A, &to,
					     &d), MLA_ERR_CASE_CONFLICT);
	assert_non_null(strstr(d.msg, ID_C));
	assert_int_equal(to, MLA_LIFE_NONE);
	/* the request: no step before it */
	{
		mla_life_track n = {MLA_LIFE_NONE, "", "", MLA_STEP_REQUEST};

		assert_int_equal(mla_life_check_send(&n, MLA_SIDE_REQUESTING, MLA_STEP_REQUEST, "",
						     &to, &d), MLA_OK);
		assert_int_equal(to, MLA_LIFE_RECEIVED);
		assert_int_equal(mla_life_check_send(&n, MLA_SIDE_REQUESTING, MLA_STEP_REQUEST,
						     NULL, &to, &d), MLA_OK);
		/* a request's InReplyTo (a related message) is not a step it follows */
		assert_int_equal(mla_life_check_send(&n, MLA_SIDE_REQUESTING, MLA_STEP_REQUEST,
						     ID_B, &to, &d), MLA_OK);
		assert_int_equal(mla_life_check_receive(&n, MLA_SIDE_REQUESTED, MLA_STEP_REQUEST,
							ID_B, &to, NULL, &d), MLA_OK);
		assert_int_equal(mla_life_check_send(&n, MLA_SIDE_REQUESTED, MLA_STEP_REQUEST, "",
						     &to, &d), MLA_ERR_CASE_STEP);
	}
}

/* A withdrawal (requesting) and an execution report (requested) both made on "accepted"
 * after step A: each gateway holds its own step pending when the other's arrives. */
static void test_crossing(void **state)
{
	mla_life_track requested = {MLA_LIFE_ACCEPTED, ID_A, ID_B, MLA_STEP_EXECUTED};
	mla_life_track requesting = {MLA_LIFE_ACCEPTED, ID_A, ID_C, MLA_STEP_WITHDRAW};
	mla_life_state to;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	/* at the requested State the withdrawal loses */
	assert_int_equal(mla_life_check_receive(&requested, MLA_SIDE_REQUESTED, MLA_STEP_WITHDRAW,
						ID_A, &to, NULL, &d), MLA_ERR_CASE_CONFLICT);
	assert_non_null(strstr(d.msg, ID_B));
	assert_int_equal(to, MLA_LIFE_NONE);
	/* at the requesting State the execution report wins */
	assert_int_equal(mla_life_check_receive(&requesting, MLA_SIDE_REQUESTING,
						MLA_STEP_EXECUTED, ID_A, &to, NULL, &d), MLA_OK);
	assert_int_equal(to, MLA_LIFE_EXECUTED);
	/* after it the requesting side is "executed" after ID_B: a withdrawal is illegal, a
	 * close legal; the requested side, its step receipted, agrees */
	{
		mla_life_track after = {MLA_LIFE_EXECUTED, ID_B, "", MLA_STEP_REQUEST};

		assert_int_equal(mla_life_check_send(&after, MLA_SIDE_REQUESTING, MLA_STEP_WITHDRAW,
						     ID_B, &to, &d), MLA_ERR_CASE_STEP);
		assert_int_equal(mla_life_check_send(&after, MLA_SIDE_REQUESTING, MLA_STEP_CLOSE,
						     ID_B, &to, &d), MLA_OK);
		assert_int_equal(to, MLA_LIFE_CLOSED);
		/* a step made before ID_B arrives late: stale */
		assert_int_equal(mla_life_check_receive(&after, MLA_SIDE_REQUESTED,
							MLA_STEP_WITHDRAW, ID_A, &to, NULL, &d),
				 MLA_ERR_CASE_STEP);
		after.state = MLA_LIFE_ACCEPTED;
		assert_int_equal(mla_life_check_receive(&after, MLA_SIDE_REQUESTED,
							MLA_STEP_WITHDRAW, ID_A, &to, NULL, &d),
				 MLA_ERR_CASE_CONFLICT);
	}
	/* a received step is checked against the sender's side */
	{
		mla_life_track t = {MLA_LIFE_RECEIVED, ID_A, "", MLA_STEP_REQUEST};

		assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTING, MLA_STEP_ACCEPT,
							ID_A, &to, NULL, &d), MLA_OK);
		assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_ACCEPT,
							ID_A, &to, NULL, &d), MLA_ERR_CASE_STEP);
		assert_non_null(strstr(d.msg, "requesting"));
	}
}

/* A peer's step that follows this gateway's pending step (the peer applied it; its receipt
 * has not arrived yet, e.g. after a crash): checked from the state the pending step leads
 * to, and the pending step is to be applied first. */
static void test_follows_pending(void **state)
{
	mla_life_track t = {MLA_LIFE_RECEIVED, ID_A, ID_B, MLA_STEP_INFO_REQUEST};
	mla_life_track req = {MLA_LIFE_TRANSMITTED, "", ID_A, MLA_STEP_REQUEST};
	mla_life_state to;
	mla_diag d = {MLA_OK, ""};
	int first = -1;

	(void)state;
	/* the requested side requested information (ID_B, pending); the answer follows it */
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_INFO_PROVIDE, ID_B,
						&to, &first, &d), MLA_OK);
	assert_int_equal(first, 1);
	assert_int_equal(to, MLA_LIFE_INFO_PROVIDED);
	/* checked from there: a step illegal after the pending one is refused */
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_WITHDRAW, ID_B,
						&to, &first, &d), MLA_OK);
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_REQUEST, ID_B,
						&to, &first, &d), MLA_ERR_CASE_STEP);
	assert_int_equal(first, 0);
	/* without pending_first it is judged on the state as it is: illegal there, or stale */
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_INFO_PROVIDE, ID_B,
						&to, NULL, &d), MLA_ERR_CASE_STEP);
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_WITHDRAW, ID_B,
						&to, NULL, &d), MLA_ERR_CASE_CONFLICT);
	/* the requesting side's request awaiting its receipt, the acknowledgement arrives */
	assert_int_equal(mla_life_check_receive(&req, MLA_SIDE_REQUESTING, MLA_STEP_ACKNOWLEDGE,
						ID_A, &to, &first, &d), MLA_OK);
	assert_int_equal(first, 1);
	assert_int_equal(to, MLA_LIFE_ACKNOWLEDGED);
	/* a step that follows another is judged on the state as it is (no request applied) */
	assert_int_equal(mla_life_check_receive(&req, MLA_SIDE_REQUESTING, MLA_STEP_ACKNOWLEDGE,
						ID_C, &to, &first, &d), MLA_ERR_CASE_STEP);
	assert_int_equal(first, 0);
	assert_int_equal(mla_life_check_receive(&t, MLA_SIDE_REQUESTED, MLA_STEP_WITHDRAW, ID_C,
						&to, &first, &d), MLA_ERR_CASE_CONFLICT);
	assert_int_equal(first, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition),
		cmocka_unit_test(test_allowed_lists),
		cmocka_unit_test(test_open_states_and_names),
		cmocka_unit_test(test_send_rules),
		cmocka_unit_test(test_crossing),
		cmocka_unit_test(test_follows_pending),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
