/* What a case's deadline clock reads from the lifecycle (gateway/cases/cases_clock.c): the
 * request's receipt time, the Accepted step's time, the intervals additional information
 * was awaited (the last one open while it is awaited), and no case without a lifecycle. */
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

static void step(gw_store *s, const struct store_life_key *k, unsigned n, const char *action,
		 mla_life_side by, int64_t at)
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
	if (store_life_apply(s, &p, &d) != MLA_OK)
		fail_msg("%s: %s", action, d.msg);
}

/* A step recording a time (an arrest, a consent): its facts kept with it. */
static void recorded_step(gw_store *s, const struct store_life_key *k, unsigned n,
			  const char *action, int64_t at, int64_t recorded)
{
	struct store_life_step p;
	struct store_deadline_facts f;
	mla_diag d = {MLA_OK, ""};

	memset(&p, 0, sizeof(p));
	memset(&f, 0, sizeof(f));
	f.rule = MLA_DEADLINE_RULE_N;
	f.wished_ms = MLA_DEADLINE_NO_TIME;
	f.recorded_ms = recorded;
	p.key = *k;
	p.side = MLA_SIDE_REQUESTED;
	p.by = MLA_SIDE_REQUESTED;
	make_id(p.message_id, sizeof(p.message_id), n);
	assert_int_equal(mla_snprintf(p.action, sizeof(p.action), "%s", action), MLA_OK);
	p.at_ms = at;
	p.facts = &f;
	if (store_life_apply(s, &p, &d) != MLA_OK)
		fail_msg("%s: %s", action, d.msg);
}

/* SPEC 16.9: the executing State's recorded arrest or consent starts a clock that runs
 * against itself. A time recorded after the step took effect (a document dated years ahead)
 * would hold that deadline off on both sides: it counts as the step's own time. One
 * recorded before the step (an arrest on an alert before the warrant arrived) stands. */
static void test_recorded_after_step(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-9", "CO"};
	struct cases_clock c;
	mla_diag d = {MLA_OK, ""};
	const int64_t future = (int64_t)4102444800000; /* 2100-01-01 */

	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, 1000000);
	step(s, &k, 2, "received", MLA_SIDE_REQUESTED, 2000000);
	recorded_step(s, &k, 3, "person-arrested", 3000000, future);
	assert_int_equal(cases_clock_get(s, &k, &c, &d), MLA_OK);
	assert_int_equal(c.arrest_ms, 3000000);
	recorded_step(s, &k, 4, "surrender-consented", 4000000, 3500000);
	assert_int_equal(cases_clock_get(s, &k, &c, &d), MLA_OK);
	assert_int_equal(c.consent_ms, 3500000); /* before its step: as recorded */
	store_close(s);
}

static void test_clock(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_life_key k = {"CO", "CO-7", "CO"}, none = {"CO", "CO-8", "CO"};
	struct cases_clock c;
	mla_diag d = {MLA_OK, ""};

	step(s, &k, 1, "request", MLA_SIDE_REQUESTING, 1000);
	step(s, &k, 2, "received", MLA_SIDE_REQUESTED, 2000);
	step(s, &k, 3, "additional-information-requested", MLA_SIDE_REQUESTED, 3000);
	step(s, &k, 4, "additional-information-provided", MLA_SIDE_REQUESTING, 5000);
	step(s, &k, 5, "additional-information-requested", MLA_SIDE_REQUESTED, 7000);
	assert_int_equal(cases_clock_get(s, &k, &c, &d), MLA_OK);
	assert_int_equal(c.start_ms, 1000);
	assert_int_equal(c.accepted_ms, 0);
	assert_int_equal(c.n_pauses, 2);
	assert_int_equal(c.pauses[0].from_ms, 3000);
	assert_int_equal(c.pauses[0].to_ms, 5000);
	assert_int_equal(c.pauses[1].from_ms, 7000);
	assert_true(c.pauses[1].to_ms == MLA_DEADLINE_OPEN);
	step(s, &k, 6, "additional-information-provided", MLA_SIDE_REQUESTING, 9000);
	step(s, &k, 7, "accepted", MLA_SIDE_REQUESTED, 10000);
	assert_int_equal(cases_clock_get(s, &k, &c, &d), MLA_OK);
	assert_int_equal(c.pauses[1].to_ms, 9000);
	assert_int_equal(c.accepted_ms, 10000);
	assert_int_equal(c.extended_ms, 0);
	step(s, &k, 8, "deadline-extended", MLA_SIDE_REQUESTED, 11000);
	step(s, &k, 9, "deadline-extended", MLA_SIDE_REQUESTED, 12000);
	assert_int_equal(cases_clock_get(s, &k, &c, &d), MLA_OK);
	assert_int_equal(c.extended_ms, 12000); /* the last one */
	assert_int_equal(c.accepted_ms, 10000); /* a step that stays in accepted is no Accepted */
	assert_int_equal(cases_clock_get(s, &none, &c, &d), MLA_ERR_NOT_FOUND);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recorded_after_step, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
