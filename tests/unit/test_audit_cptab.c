/* The verifier's checkpoint rows in a temporary file (protocol/audit/verify_cptab.c, SPEC 15
 * "Verifier memory"): rows read back as written across the cached block's boundaries, and a
 * checkpoint found by size among refused ones (size 0) wherever the last lookup left off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verify_internal.h"

#define ROWS 3500 /* more than three blocks of 1,024 */

/* Row i: refused (size 0) when i % 3 == 2 or i is in [1500, 2600) (a long refused run over a
 * block boundary), else of size 2i + 1 (ascending among the opened ones); its root names i. */
static int refused(size_t i)
{
	return i % 3 == 2 || (i >= 1500 && i < 2600);
}

static struct vcp row_of(size_t i)
{
	struct vcp r;

	memset(&r, 0, sizeof(r));
	if (!refused(i)) {
		r.size = 2 * (uint64_t)i + 1;
		memcpy(r.root, &i, sizeof(i));
		r.key = (uint32_t)(i % 5);
	}
	return r;
}

static void fill(struct vcptab *t)
{
	assert_int_equal(cptab_open(t), 0);
	for (size_t i = 0; i < ROWS; i++) {
		struct vcp r = row_of(i);
		assert_int_equal(cptab_put(t, i, &r), 0);
	}
	assert_int_equal(t->n, ROWS);
	assert_int_equal(cptab_flush(t), 0);
}

static void test_rows(void **state)
{
	struct vcptab t;
	struct vcp r, want;

	(void)state;
	fill(&t);
	for (size_t i = ROWS; i > 0; i--) { /* backwards: every block loaded again */
		want = row_of(i - 1);
		assert_int_equal(cptab_get(&t, i - 1, &r), 0);
		assert_true(i < 2 || r.floor >= (refused(i - 1) ? 0 : r.size)); /* set by put */
		r.floor = 0;
		assert_memory_equal(&r, &want, sizeof(r));
	}
	assert_int_equal(cptab_get(&t, ROWS, &r), -1);
	assert_int_equal(cptab_put(&t, ROWS + 1, &want), -1); /* no gap */
	/* a change to a row of an earlier block survives the cache moving on */
	assert_int_equal(cptab_get(&t, 3, &r), 0);
	r.pair = 1;
	r.tree = 1;
	assert_int_equal(cptab_put(&t, 3, &r), 0);
	assert_int_equal(cptab_get(&t, 3400, &want), 0);
	assert_int_equal(cptab_get(&t, 3, &want), 0);
	assert_int_equal(want.pair, 1);
	assert_int_equal(want.tree, 1);
	cptab_close(&t);
}

static void test_find(void **state)
{
	static const size_t order[] = {0, 1, 3, 4, 1024, 1023, 6, 3499, 1497, 2600, 2602, 1498};
	struct vcptab t;
	int err = 0;

	(void)state;
	fill(&t);
	for (size_t i = 0; i < ROWS; i++) /* every size, ascending, then missing ones */
		assert_int_equal(cptab_find(&t, 2 * (uint64_t)i + 1, &err),
				 refused(i) ? -1 : (long)i);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) /* jumps both ways */
		assert_int_equal(cptab_find(&t, 2 * (uint64_t)order[k] + 1, &err),
				 refused(order[k]) ? -1 : (long)order[k]);
	for (uint64_t n = 0; n < 2 * ROWS + 4; n += 2) /* even sizes: none */
		assert_int_equal(cptab_find(&t, n, &err), -1);
	assert_int_equal(cptab_find(&t, UINT64_MAX, &err), -1);
	assert_int_equal(err, 0);
	/* the next opened row: over the refused run */
	assert_int_equal(cptab_next(&t, 0, &err), 1);
	assert_int_equal(cptab_next(&t, 1, &err), 3);
	assert_int_equal(cptab_next(&t, 1498, &err), 2601); /* 2600 % 3 == 2 */
	assert_int_equal(cptab_next(&t, 3499, &err), -1);
	assert_int_equal(err, 0);
	cptab_close(&t);
}

/* Only refused rows (a bundle forged so that no checkpoint opens): nothing found. */
static void test_all_refused(void **state)
{
	struct vcptab t;
	struct vcp r;
	int err = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(cptab_open(&t), 0);
	for (size_t i = 0; i < 2100; i++)
		assert_int_equal(cptab_put(&t, i, &r), 0);
	assert_int_equal(cptab_find(&t, 1, &err), -1);
	assert_int_equal(cptab_next(&t, 0, &err), -1);
	assert_int_equal(err, 0);
	cptab_close(&t);
}

/* A hostile bundle: long refused runs (a checkpoint record that does not open costs its
 * author nothing) and many proofs, each a lookup by size and of the next opened row. Each
 * lookup reads O(log n) rows, not the refused run: a stepping search made the bundle's
 * verification quadratic. */
static void test_refused_runs_cost(void **state)
{
	enum { RUN = 300000, LOOKUPS = 20 };
	struct vcptab t;
	struct vcp r;
	int err = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(cptab_open(&t), 0);
	r.size = 1;
	assert_int_equal(cptab_put(&t, 0, &r), 0);
	r.size = 0;
	for (size_t i = 1; i <= RUN; i++)
		assert_int_equal(cptab_put(&t, i, &r), 0);
	r.size = 3;
	assert_int_equal(cptab_put(&t, RUN + 1, &r), 0);
	r.size = 0;
	for (size_t i = RUN + 2; i < 2 * RUN; i++)
		assert_int_equal(cptab_put(&t, i, &r), 0);
	assert_int_equal(cptab_flush(&t), 0);
	t.reads = 0;
	for (int k = 0; k < LOOKUPS; k++) {
		assert_int_equal(cptab_find(&t, 2, &err), -1);
		assert_int_equal(cptab_find(&t, 4, &err), -1);
		assert_int_equal(cptab_find(&t, 3, &err), RUN + 1);
		assert_int_equal(cptab_find(&t, 1, &err), 0);
		assert_int_equal(cptab_next(&t, 0, &err), RUN + 1);
		assert_int_equal(cptab_next(&t, 5, &err), RUN + 1);
		assert_int_equal(cptab_next(&t, RUN + 1, &err), -1);
	}
	assert_int_equal(err, 0);
	assert_true(t.reads < (uint64_t)LOOKUPS * 7 * 64);
	cptab_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_all_refused),
		cmocka_unit_test(test_refused_runs_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
