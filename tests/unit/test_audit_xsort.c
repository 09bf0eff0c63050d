/* The audit verifier's external merge sort (protocol/audit/verify_xsort.c, SPEC 15 "Verifier
 * memory"): nothing, one row, one run in memory, many runs merged in one level and in two,
 * equal keys kept, rows read back out of order, and a temporary file that cannot be made or
 * written failing the sort instead of losing rows. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "verify_xsort.h"

/* A row: a 4-byte big-endian key, then the number of the row as put (not compared). */
struct row {
	uint8_t key[4];
	uint32_t put;
	uint8_t pad[24];
};

static struct row make(uint32_t k, uint32_t put)
{
	struct row r;

	memset(&r, 0, sizeof(r));
	r.key[0] = (uint8_t)(k >> 24);
	r.key[1] = (uint8_t)(k >> 16);
	r.key[2] = (uint8_t)(k >> 8);
	r.key[3] = (uint8_t)k;
	r.put = put;
	memset(r.pad, (int)(put & 0xff), sizeof(r.pad));
	return r;
}

static uint32_t key_of(const struct row *r)
{
	return (uint32_t)r->key[0] << 24 | (uint32_t)r->key[1] << 16 | (uint32_t)r->key[2] << 8 |
	       r->key[3];
}

/* n rows of keys (i * 7919) % modulus put in a sort of run rows a run; every row comes out
 * once, keys ascending, each with the bytes it was put with. */
static void sort_check(size_t n, size_t run, uint32_t modulus, int want_file)
{
	struct xsort s;
	uint8_t *seen = calloc(n + 1, 1);

	assert_non_null(seen);
	assert_int_equal(xsort_init(&s, sizeof(struct row), 4, run * sizeof(struct row)), 0);
	for (size_t i = 0; i < n; i++) {
		struct row r = make((uint32_t)((i * 7919) % modulus), (uint32_t)i);
		assert_int_equal(xsort_put(&s, &r), 0);
	}
	assert_int_equal(xsort_finish(&s), 0);
	assert_int_equal(s.total, n);
	assert_int_equal(s.in_mem, !want_file);
	for (size_t i = 0; i < n; i++) {
		const struct row *r = xsort_row(&s, i);
		struct row want;

		assert_non_null(r);
		want = make((uint32_t)((r->put * (uint64_t)7919) % modulus), r->put);
		assert_memory_equal(r, &want, sizeof(want));
		assert_false(seen[r->put]);
		seen[r->put] = 1;
		if (i > 0) {
			const struct row *p;
			uint32_t k = key_of(r);
			p = xsort_row(&s, i - 1); /* a step back */
			assert_non_null(p);
			assert_true(key_of(p) <= k);
			assert_non_null(xsort_row(&s, i));
		}
	}
	for (size_t i = n; i > 0; i -= i < n / 7 + 1 ? i : n / 7 + 1) /* far jumps back */
		assert_non_null(xsort_row(&s, i - 1));
	xsort_free(&s);
	free(seen);
}

static void test_empty(void **state)
{
	struct xsort s;

	(void)state;
	assert_int_equal(xsort_init(&s, sizeof(struct row), 4, 1 << 20), 0);
	assert_int_equal(xsort_finish(&s), 0);
	assert_int_equal(s.total, 0);
	xsort_free(&s);
}

static void test_one_row(void **state)
{
	(void)state;
	sort_check(1, 1, 100, 0);
	sort_check(1, 1000, 100, 0);
}

static void test_in_memory(void **state)
{
	(void)state;
	sort_check(5000, 5000, 100003, 0); /* exactly one run: no file */
}

static void test_runs_merged(void **state)
{
	(void)state;
	sort_check(5001, 5000, 100003, 1);		/* one row over: two runs */
	sort_check(20000, 1000, 100003, 1);		/* 20 runs, one level */
	sort_check(XSORT_FANIN * 30 + 17, 30, 1000003, 1); /* 65 runs: two levels */
	sort_check(XSORT_FANIN * XSORT_FANIN * 2 + 3, 2, 7, 1); /* three levels, keys repeat */
}

/* Rows of equal keys: all of them come out, side by side. */
static void test_equal_keys(void **state)
{
	(void)state;
	sort_check(10000, 333, 1, 1); /* one key for all */
	sort_check(10000, 333, 3, 1);
	sort_check(999, 1000, 2, 0);
}

/* A temporary file that cannot be made: the put that needs it fails, and so does the sort. */
static void test_no_temp_dir(void **state)
{
	struct xsort s;
	struct row r = make(1, 1);
	const char *old = getenv("TMPDIR");
	char *saved = old != NULL ? strdup(old) : NULL;

	(void)state;
	assert_int_equal(setenv("TMPDIR", "/nonexistent/mlagw-xsort-test", 1), 0);
	assert_int_equal(xsort_init(&s, sizeof(r), 4, 2 * sizeof(r)), 0);
	assert_int_equal(xsort_put(&s, &r), 0);
	assert_int_equal(xsort_put(&s, &r), 0);
	assert_int_equal(xsort_put(&s, &r), -1); /* the third spills the first two */
	assert_true(s.failed);
	assert_int_equal(xsort_finish(&s), -1);
	xsort_free(&s);
	if (saved != NULL)
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	else
		assert_int_equal(unsetenv("TMPDIR"), 0);
	free(saved);
}

/* A temporary file that cannot grow (a full disk): the sort fails, it does not lose rows. */
static void test_write_fails(void **state)
{
	struct xsort s;
	struct rlimit old, lim;
	int failed = 0;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 4096;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(xsort_init(&s, sizeof(struct row), 4, 10 * sizeof(struct row)), 0);
	for (uint32_t i = 0; i < 1000 && !failed; i++) {
		struct row r = make(1000 - i, i);
		failed = xsort_put(&s, &r) != 0;
	}
	assert_true(failed || xsort_finish(&s) != 0);
	assert_true(s.failed);
	xsort_free(&s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	     cmocka_unit_test(test_one_row),
		cmocka_unit_test(test_in_memory),    cmocka_unit_test(test_runs_merged),
		cmocka_unit_test(test_equal_keys),   cmocka_unit_test(test_no_temp_dir),
		cmocka_unit_test(test_write_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
