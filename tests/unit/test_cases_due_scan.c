/* The looks at the cases' deadlines that cost the cases due, not every case (store schema 12,
 * gateway/cases/cases_due.c, SPEC 16.9 "Cost"): with many open cases, a look reads (count,
 * not time) only the cases whose deadlines crossed a threshold since the last look, those
 * with a threshold to fire, and those written since (a step, a fired mark, new rules); the
 * metrics and the escalation candidates it gives equal those of computing every case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cases/cases.h"
#include "mlagw/codec.h"
#include "store/store_fault.h"
#include "store_fx.h"

#define MIN INT64_C(60000)
#define DAY (INT64_C(24) * 60 * MIN)
#define T0 INT64_C(1769336400000) /* 2026-01-25T10:20:00Z */
#define N 400                     /* open cases */
/* Every case received on 2026-01-25 is due when 2026-02-04 ends (10 calendar days); case i,
 * received at T0 + i minutes, reaches 50% at TH + 30 i seconds, 90% at T90 + 6 i seconds. */
#define D INT64_C(1770249600000)  /* 2026-02-05T00:00:00Z */
#define TH ((T0 + D) / 2)
#define T90 (T0 / 10 + D / 10 * 9)

static struct store_life_key key_of(unsigned i)
{
	struct store_life_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.state, "CO", 2);
	(void)mla_snprintf_cut(k.case_id, sizeof(k.case_id), "CO-%04u", i);
	memcpy(k.peer, "CO", 2);
	return k;
}

static void step(gw_store *s, unsigned i, unsigned n, const char *action, int64_t at,
		 const struct store_deadline_facts *facts)
{
	struct store_life_step p;
	mla_diag d = {MLA_OK, ""};

	memset(&p, 0, sizeof(p));
	p.key = key_of(i);
	p.side = MLA_SIDE_REQUESTED;
	p.by = strcmp(action, "request") == 0 ? MLA_SIDE_REQUESTING : MLA_SIDE_REQUESTED;
	make_id(p.message_id, sizeof(p.message_id), n);
	assert_int_equal(mla_snprintf(p.action, sizeof(p.action), "%s", action), MLA_OK);
	p.at_ms = at;
	p.facts = facts;
	if (store_life_apply(s, &p, &d) != MLA_OK)
		fail_msg("%s: %s", action, d.msg);
}

/* N production orders (10 days), case i received at T0 + i minutes; every 7th urgent. */
static void open_cases(gw_store *s)
{
	for (unsigned i = 0; i < N; i++) {
		struct store_deadline_facts f;

		memset(&f, 0, sizeof(f));
		f.type = (int)MLA_CASE_PRODUCTION_ORDER;
		f.priority = i % 7 == 0 ? (int)MLA_PRIORITY_URGENT : (int)MLA_PRIORITY_NORMAL;
		f.wished_ms = MLA_DEADLINE_NO_TIME;
		f.rule = MLA_DEADLINE_RULE_N;
		f.recorded_ms = MLA_DEADLINE_NO_TIME;
		memcpy(f.kind, "mla", 4);
		step(s, i, 1 + i, "request", T0 + (int64_t)i * MIN, &f);
	}
}

/* The cases with a threshold to fire, as the escalation scan sees them. */
struct seen {
	size_t open, to_fire;
	char fire[N][MLA_CASE_ID_MAX + 1];
};

static mla_err see(const struct store_life_case *c, const struct cases_deadlines *dl, void *arg)
{
	struct seen *x = arg;
	unsigned pct[MLA_DEADLINE_THRESHOLDS];

	x->open++;
	for (size_t i = 0; i < dl->n; i++)
		if (mla_deadline_escalations(dl->d[i].clock.permille, dl->d[i].fired_pct, pct) > 0) {
			memcpy(x->fire[x->to_fire++], c->key.case_id, sizeof(x->fire[0]));
			break;
		}
	return MLA_OK;
}

/* One look at now: the cases it read; the cases to fire equal those of computing all. */
static size_t look(gw_store *s, const mla_deadline_rules *rules, int64_t now)
{
	static struct seen due, all;
	struct cases_due_scan scan;
	mla_diag d = {MLA_OK, ""};

	memset(&due, 0, sizeof(due));
	memset(&all, 0, sizeof(all));
	if (cases_due_each(s, rules, now, see, &due, &scan, &d) != MLA_OK)
		fail_msg("%s", d.msg);
	assert_int_equal(scan.put_failed, 0);
	assert_int_equal(cases_deadlines_each(s, rules, now, see, &all, &d), MLA_OK);
	assert_int_equal(all.open, N);
	assert_int_equal(due.to_fire, all.to_fire);
	for (size_t i = 0; i < all.to_fire; i++) {
		size_t j = 0;

		while (j < due.to_fire && strcmp(due.fire[j], all.fire[i]) != 0)
			j++;
		assert_true(j < due.to_fire);
	}
	return scan.read;
}

/* The metrics from the summaries equal those of computing every case; the cases read. */
static size_t counts_agree(gw_store *s, const mla_deadline_rules *rules, int64_t now)
{
	struct cases_due_counts a, b;
	struct cases_due_scan scan;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(cases_due_count(s, rules, now, &a, &scan, &d), MLA_OK);
	assert_int_equal(cases_due_count_all(s, rules, now, &b, &d), MLA_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	return scan.read;
}

static void fire(gw_store *s, unsigned i, unsigned pct)
{
	struct store_life_key k = key_of(i);
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_deadline_fired(s, &k, MLA_DEADLINE_PRODUCTION, pct, &d), MLA_OK);
}

static void fire_all(gw_store *s, unsigned from, unsigned to, unsigned pct)
{
	for (unsigned i = from; i <= to; i++)
		fire(s, i, pct);
}

static void test_reads_only_due(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_deadline_rules rules;
	int64_t now = T0 + N * MIN + 60 * MIN, half = TH + 5 * MIN;
	int64_t t2 = TH + DAY, t3 = T90 + 3 * MIN, t4 = D + 5 * MIN;

	mla_deadline_rules_default(&rules);
	open_cases(s);
	assert_int_equal(look(s, &rules, now), N); /* the first look computes every case */
	assert_int_equal(look(s, &rules, now), 0); /* nothing changed */
	assert_int_equal(look(s, &rules, now + 3 * DAY), 0);
	/* cases 0 .. 10 reached 50% of 10 days: only they are read, until fired */
	assert_int_equal(look(s, &rules, half), 11);
	assert_int_equal(look(s, &rules, half), 11);
	assert_int_equal(counts_agree(s, &rules, half), 0); /* metrics: no state changed */
	fire_all(s, 0, 10, 50);
	assert_int_equal(look(s, &rules, half), 11); /* written: computed again */
	assert_int_equal(look(s, &rules, half), 0);
	/* a step on one case: that case only */
	step(s, 200, 10000, "received", half, NULL);
	assert_int_equal(look(s, &rules, half), 1);
	assert_int_equal(look(s, &rules, half), 0);
	/* a day later every other case reached 50% */
	assert_int_equal(look(s, &rules, t2), N - 11);
	fire_all(s, 11, N - 1, 50);
	assert_int_equal(look(s, &rules, t2), N - 11);
	assert_int_equal(look(s, &rules, t2), 0);
	assert_int_equal(look(s, &rules, T90 - MIN), 0);
	/* due soon: cases 0 .. 30 at 90%, counted from the summaries as from every case */
	assert_int_equal(counts_agree(s, &rules, t3), 31);
	fire_all(s, 0, 30, 90);
	assert_int_equal(counts_agree(s, &rules, t3), 31);
	assert_int_equal(counts_agree(s, &rules, t3), 0);
	/* overdue, all: each case with its threshold to fire until it is */
	assert_int_equal(counts_agree(s, &rules, t4), N);
	assert_int_equal(look(s, &rules, t4), N);
	fire_all(s, 0, N - 1, 100);
	assert_int_equal(counts_agree(s, &rules, t4), N);
	assert_int_equal(counts_agree(s, &rules, t4), 0);
	assert_int_equal(look(s, &rules, t4 + 30 * DAY), 0); /* overdue stays overdue */
	/* other rules (a reload): every case once, then only those due under them */
	rules.rule[MLA_DEADLINE_PRODUCTION].count = 20;
	assert_int_equal(look(s, &rules, t4), N);
	assert_int_equal(look(s, &rules, t4), 0);
	store_close(s);
}

/* A store of schema 11 gets the summaries (all to compute) at its upgrade to 12. */
static void test_upgrade(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_deadline_rules rules;
	mla_diag d = {MLA_OK, ""};

	mla_deadline_rules_default(&rules);
	open_cases(s);
	assert_int_equal(look(s, &rules, T0 + DAY), N);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v11(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 11);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), 14);
	assert_int_equal(STORE_SCHEMA_VERSION, 14);
	assert_int_equal(look(s, &rules, T0 + DAY), N);
	assert_int_equal(look(s, &rules, T0 + DAY), 0);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_only_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
