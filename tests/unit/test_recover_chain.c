/* The replay order of recovered case steps (gateway/recover/recover_chain.c, SPEC 14
 * Recovery): steps given back in any order, one a page or all at once, are applied in the
 * order of their chain; each is tried at most twice (linear work where a retry of every
 * waiting step on every page cost K squared); steps whose predecessor never comes are held
 * to the end and reported, up to a cap beyond which a step is refused, never lost silently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "recover/recover_chain.h"

#define CASES_MAX 64

/* A step as the fake case model sees it: its case and its place in the case's chain. */
struct fake_step {
	int c, seq;
	char id[MLA_UUID_LEN + 1];
	char follows[MLA_UUID_LEN + 1];
};

/* A store of cases: the last step applied per case; steps applied, in order. */
struct model {
	char last[CASES_MAX][MLA_UUID_LEN + 1];
	int applied[CASES_MAX][4096];
	size_t n_applied[CASES_MAX];
	uint64_t tries;
	int refuse_seq; /* a step with this seq is refused for good (-1: none) */
	size_t over;    /* steps let go over the cap */
};

/* The check of a live step: a request opens an empty case, any other step follows the
 * case's last one. */
static enum recover_try try_step(void *arg, void *item)
{
	struct model *m = arg;
	const struct fake_step *s = item;

	m->tries++;
	if (s->seq == m->refuse_seq)
		return RECOVER_TRY_DONE;
	if (s->follows[0] == '\0' ? m->last[s->c][0] != '\0'
				  : strcmp(s->follows, m->last[s->c]) != 0)
		return RECOVER_TRY_WAIT;
	memcpy(m->last[s->c], s->id, sizeof(m->last[s->c]));
	m->applied[s->c][m->n_applied[s->c]++] = s->seq;
	return RECOVER_TRY_APPLIED;
}

static void over(void *arg, void *item)
{
	(void)item;
	((struct model *)arg)->over++;
}

static void step_id(char out[MLA_UUID_LEN + 1], int c, int seq)
{
	assert_int_equal(mla_snprintf(out, MLA_UUID_LEN + 1, "00000000-0000-4000-8000-%04d%08d", c,
				      seq), MLA_OK);
}

/* Step seq of case c (seq 0: its request); root_missing: seq 0 is never given. */
static struct fake_step make(int c, int seq)
{
	struct fake_step s;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.seq = seq;
	step_id(s.id, c, seq);
	if (seq > 0)
		step_id(s.follows, c, seq - 1);
	return s;
}

static void add(struct recover_chain *ch, const struct fake_step *s, int64_t at_ms)
{
	struct recover_link l;
	void *item = NULL;

	memset(&l, 0, sizeof(l));
	memcpy(l.id, s->id, sizeof(l.id));
	memcpy(l.follows, s->follows, sizeof(l.follows));
	l.at_ms = at_ms;
	l.order = (uint64_t)at_ms;
	assert_int_equal(recover_chain_add(ch, &l, &item), MLA_OK);
	memcpy(item, s, sizeof(*s));
}

static struct model *model_new(void)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->refuse_seq = -1;
	return m;
}

static void assert_chain_order(const struct model *m, int c, int k)
{
	assert_int_equal(m->n_applied[c], k);
	for (int i = 0; i < k; i++)
		assert_int_equal(m->applied[c][i], i);
}

/* The hostile peer's order: one step a page, the last of the chain first. Each step is tried
 * when it comes and once when its predecessor is applied: 2K - 1 tries, not K^2 / 2. */
static void test_reverse_one_a_page(void **state)
{
	const int k = 4000;
	struct recover_chain ch;
	struct model *m = model_new();

	(void)state;
	recover_chain_init(&ch, sizeof(struct fake_step), RECOVER_CHAIN_MAX);
	for (int seq = k - 1; seq >= 0; seq--) {
		struct fake_step s = make(0, seq);

		add(&ch, &s, seq); /* times in chain order: the receipts' */
		recover_chain_run(&ch, try_step, over, m);
		if (seq > 0)
			assert_int_equal(m->n_applied[0], 0);
	}
	assert_chain_order(m, 0, k);
	assert_true(m->tries <= 2 * (uint64_t)k);
	assert_int_equal(ch.tries, m->tries);
	assert_int_equal(ch.held, 0);
	recover_chain_free(&ch);
	free(m);
}

struct count {
	size_t waiting, left;
};

static void count_held(void *arg, const void *item, int waiting)
{
	struct count *n = arg;

	(void)item;
	if (waiting)
		n->waiting++;
	else
		n->left++;
}

/* K orphans (their predecessor never comes), one a page: each is tried exactly once and held
 * to the end, reported as waiting. */
static void test_orphans_tried_once(void **state)
{
	const int k = 4000;
	struct recover_chain ch;
	struct model *m = model_new();
	struct count n = {0, 0};

	(void)state;
	recover_chain_init(&ch, sizeof(struct fake_step), RECOVER_CHAIN_MAX);
	for (int i = 0; i < k; i++) {
		struct fake_step s = make(i % CASES_MAX, 2 * i + 1); /* seq 2i, its follows, never */

		add(&ch, &s, k - i);
		recover_chain_run(&ch, try_step, over, m);
	}
	assert_int_equal(m->tries, k);
	assert_int_equal(ch.held, k);
	recover_chain_each(&ch, count_held, &n);
	assert_int_equal(n.waiting, k);
	assert_int_equal(n.left, 0);
	recover_chain_free(&ch);
	free(m);
}

/* Many cases, their steps shuffled over pages of random sizes, receipt times in any order:
 * every case ends in its chain's order, at most two tries a step. */
static void test_shuffled_cases(void **state)
{
	const int cases = 40, per = 50, k = cases * per;
	struct fake_step *all = calloc((size_t)k, sizeof(*all));
	struct recover_chain ch;
	struct model *m = model_new();
	unsigned seed = 12345;

	(void)state;
	assert_non_null(all);
	for (int i = 0; i < k; i++)
		all[i] = make(i % cases, i / cases);
	for (int i = k - 1; i > 0; i--) {
		int j = (int)((seed = seed * 1103515245u + 12345u) >> 8) % (i + 1);
		struct fake_step t = all[i];

		all[i] = all[j];
		all[j] = t;
	}
	recover_chain_init(&ch, sizeof(struct fake_step), RECOVER_CHAIN_MAX);
	for (int i = 0; i < k;) {
		int page = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 8) % 64;

		for (int j = 0; j < page && i < k; j++, i++)
			add(&ch, &all[i], (int64_t)((seed = seed * 1103515245u + 12345u) >> 8));
		recover_chain_run(&ch, try_step, over, m);
	}
	for (int c = 0; c < cases; c++)
		assert_chain_order(m, c, per);
	assert_true(m->tries <= 2 * (uint64_t)k);
	assert_int_equal(ch.held, 0);
	recover_chain_free(&ch);
	free(m);
	free(all);
}

/* Two steps following the same one (a crossing): the oldest is applied, the other is left
 * (its turn came and went); a request that cannot open its case is left too. */
static void test_crossing_left(void **state)
{
	struct recover_chain ch;
	struct model *m = model_new();
	struct fake_step req = make(1, 0), a = make(1, 1), b = make(1, 1), again = make(1, 0);
	struct count n = {0, 0};

	(void)state;
	step_id(b.id, 1, 99);
	b.seq = 99;
	memcpy(again.id, "00000000-0000-4000-8000-999999999999", sizeof(again.id));
	again.seq = 98;
	recover_chain_init(&ch, sizeof(struct fake_step), RECOVER_CHAIN_MAX);
	add(&ch, &b, 20);
	add(&ch, &a, 10);
	recover_chain_run(&ch, try_step, over, m);
	assert_int_equal(m->n_applied[1], 0);
	add(&ch, &req, 5);
	add(&ch, &again, 30);
	recover_chain_run(&ch, try_step, over, m);
	assert_int_equal(m->n_applied[1], 2);
	assert_int_equal(m->applied[1][1], 1); /* a: the older of the two */
	assert_int_equal(ch.held, 2);
	recover_chain_each(&ch, count_held, &n);
	assert_int_equal(n.left, 2);
	assert_int_equal(n.waiting, 0);
	assert_int_equal(m->tries, 6); /* a and b, then req, a, b (woken) and again */
	recover_chain_free(&ch);
	free(m);
}

/* At most max steps wait (or are left): one more that must wait is let go (the caller is
 * told, it reports it); one whose turn it is is applied whatever; a slot of a step applied or
 * refused for good is free again. */
static void test_cap(void **state)
{
	struct recover_chain ch;
	struct model *m = model_new();

	(void)state;
	recover_chain_init(&ch, sizeof(struct fake_step), 100);
	for (int i = 0; i < 100; i++) {
		struct fake_step s = make(2, 1 + i); /* seq 0 missing: all wait */

		add(&ch, &s, i);
	}
	recover_chain_run(&ch, try_step, over, m);
	assert_int_equal(ch.held, 100);
	assert_int_equal(ch.kept, 100);
	assert_int_equal(m->over, 0);
	{
		struct fake_step orphan = make(3, 5), req = make(4, 0), next = make(4, 1);

		add(&ch, &orphan, 200); /* must wait: let go */
		add(&ch, &req, 201);    /* its turn: applied */
		add(&ch, &next, 202);
		recover_chain_run(&ch, try_step, over, m);
	}
	assert_int_equal(m->over, 1);
	assert_int_equal(m->n_applied[4], 2);
	assert_int_equal(ch.held, 100);
	{
		struct fake_step s = make(2, 0);

		add(&ch, &s, 300); /* the missing request: the 100 waiting follow, except 7 on */
		m->refuse_seq = 7;
		recover_chain_run(&ch, try_step, over, m);
	}
	/* seq 7 was refused: 8 and after wait for it */
	assert_int_equal(m->n_applied[2], 7);
	assert_int_equal(ch.held, 93);
	assert_int_equal(ch.kept, 93);
	recover_chain_free(&ch);
	free(m);
}

/* More steps added without a run than a page can bring: refused, not held. */
static void test_fresh_bound(void **state)
{
	struct recover_chain ch;
	struct recover_link l;
	void *item = NULL;

	(void)state;
	memset(&l, 0, sizeof(l));
	recover_chain_init(&ch, sizeof(struct fake_step), RECOVER_CHAIN_MAX);
	for (int i = 0; i < RECOVER_CHAIN_FRESH_MAX; i++)
		assert_int_equal(recover_chain_add(&ch, &l, &item), MLA_OK);
	assert_int_equal(recover_chain_add(&ch, &l, &item), MLA_ERR_TOO_LARGE);
	recover_chain_free(&ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reverse_one_a_page),
		cmocka_unit_test(test_orphans_tried_once),
		cmocka_unit_test(test_shuffled_cases),
		cmocka_unit_test(test_crossing_left),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_fresh_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
