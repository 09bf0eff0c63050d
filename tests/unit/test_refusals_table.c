/* The refusals held in their window (gateway/peer/refusals_table.c, SPEC 13 Refusals), on a
 * clock the test moves: repeats of a key counted and answered with the first refusal's
 * receipt, one aggregate with the count when the window closes (none without repeats), a
 * repeat after the window a first refusal again, unauthenticated refusals counted only after
 * REFUSALS_UNAUTH_FIRSTS firsts, the least recently seen key let go when REFUSALS_MAX_KEYS are
 * held, and a flush that lets go of every key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peer/refusals_table.h"

#define WINDOW 60000u

/* What the table let go of, in order. */
struct outs {
	size_t n, with_repeats;
	struct refusal_key k[REFUSALS_MAX_KEYS + 8];
	uint32_t repeats[REFUSALS_MAX_KEYS + 8];
	char message_id[REFUSALS_MAX_KEYS + 8][MLA_UUID_LEN + 1];
};

static void out(void *arg, const struct refusal_node *x)
{
	struct outs *o = arg;

	assert_true(o->n < REFUSALS_MAX_KEYS + 8);
	o->k[o->n] = x->k;
	o->repeats[o->n] = x->repeats;
	memcpy(o->message_id[o->n], x->message_id, sizeof(o->message_id[0]));
	o->with_repeats += x->repeats > 0;
	o->n++;
}

static struct refusal_key key(const char *peer, mla_err err, int n)
{
	struct refusal_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.peer, peer, 2);
	k.err = err;
	if (n >= 0) {
		k.has_digest = 1;
		memcpy(k.digest, &n, sizeof(n));
	}
	return k;
}

struct fixture {
	struct refusals_table t;
	struct outs o;
	mla_buf receipt;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || refusals_table_init(&f->t, out, &f->o) != MLA_OK)
		return -1;
	mla_buf_init(&f->receipt, 64);
	if (mla_buf_append(&f->receipt, (const uint8_t *)"<receipt/>", 10) != MLA_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	refusals_table_free(&f->t);
	mla_buf_free(&f->receipt);
	free(f);
	return 0;
}

static void first(struct fixture *f, const struct refusal_key *k, const char *id, int64_t now)
{
	struct refusal_first fr = {id, "CO-1", "mla", "request", &f->receipt};

	refusals_table_first(&f->t, k, &fr, now);
}

/* An exact key: repeats answered with the first receipt and counted; one aggregate at the
 * window's close; held for workers inside the window only. */
static void test_exact_repeats(void **state)
{
	struct fixture *f = *state;
	struct refusal_key k = key("CO", MLA_ERR_SIG_INVALID, 1);
	const mla_buf *r = NULL;

	assert_int_equal(refusals_table_repeat(&f->t, &k, 0, WINDOW, &r), 0); /* not held */
	first(f, &k, "m-1", 1000);
	assert_int_equal(refusals_table_held(&f->t, &k, 1000 + WINDOW - 1, WINDOW), 1);
	assert_int_equal(refusals_table_held(&f->t, &k, 1000 + WINDOW, WINDOW), 0);
	for (int i = 0; i < 5; i++) {
		r = NULL;
		assert_int_equal(refusals_table_repeat(&f->t, &k, 2000 + i, WINDOW, &r), 1);
		assert_non_null(r);
		assert_memory_equal(r->data, "<receipt/>", 10);
	}
	refusals_table_expire(&f->t, 1000 + WINDOW - 1, WINDOW);
	assert_int_equal(f->o.n, 0);
	refusals_table_expire(&f->t, 1000 + WINDOW, WINDOW);
	assert_int_equal(f->o.n, 1);
	assert_int_equal(f->o.repeats[0], 5);
	assert_string_equal(f->o.message_id[0], "m-1");
	assert_int_equal(f->t.n, 0);
}

/* A repeat after the window closed lets the key go (its aggregate) and is a first again; a
 * key without repeats goes out with a count of 0 (its caller writes nothing). */
static void test_window_closed(void **state)
{
	struct fixture *f = *state;
	struct refusal_key k = key("ES", MLA_ERR_CERT_UNTRUSTED, 2), other = key("ES", MLA_ERR_CERT_UNTRUSTED, 3);

	first(f, &k, "m-2", 0);
	assert_int_equal(refusals_table_repeat(&f->t, &k, 10, WINDOW, NULL), 1);
	assert_int_equal(refusals_table_repeat(&f->t, &k, WINDOW, WINDOW, NULL), 0);
	assert_int_equal(f->o.n, 1);
	assert_int_equal(f->o.repeats[0], 1);
	assert_int_equal(refusals_table_repeat(&f->t, &k, WINDOW + 1, WINDOW, NULL), 0);
	first(f, &other, "m-3", 5);
	refusals_table_flush(&f->t);
	assert_int_equal(f->o.n, 2);
	assert_int_equal(f->o.repeats[1], 0);
	assert_int_equal(f->o.with_repeats, 1);
}

/* Unauthenticated refusals (no digest) of one peer and error: the first
 * REFUSALS_UNAUTH_FIRSTS in a window have their own entries, the rest are counted, with no
 * receipt to answer with (each gets its own). */
static void test_unauthenticated(void **state)
{
	struct fixture *f = *state;
	struct refusal_key k = key("MX", MLA_ERR_SIG_INVALID, -1);
	struct refusal_first fr = {NULL, NULL, NULL, NULL, NULL};
	const mla_buf *r = &f->receipt;

	refusals_table_first(&f->t, &k, &fr, 0);
	for (int i = 1; i < REFUSALS_UNAUTH_FIRSTS; i++) {
		assert_int_equal(refusals_table_repeat(&f->t, &k, i, WINDOW, NULL), 0);
		refusals_table_first(&f->t, &k, &fr, i);
	}
	assert_int_equal(refusals_table_repeat(&f->t, &k, 100, WINDOW, &r), 1);
	assert_null(r);
	assert_int_equal(refusals_table_repeat(&f->t, &k, 101, WINDOW, NULL), 1);
	assert_int_equal(refusals_table_held(&f->t, &k, 102, WINDOW), 0); /* exact keys only */
	refusals_table_flush(&f->t);
	assert_int_equal(f->o.n, 1);
	assert_int_equal(f->o.repeats[0], 2);
	assert_int_equal(f->o.k[0].has_digest, 0);
}

/* At REFUSALS_MAX_KEYS keys the least recently seen goes out to make room: a repeat makes a
 * key recent again. */
static void test_bounded(void **state)
{
	struct fixture *f = *state;
	struct refusal_key k0 = key("CO", MLA_ERR_SIG_INVALID, 0), k1 = key("CO", MLA_ERR_SIG_INVALID, 1);

	for (int i = 0; i < REFUSALS_MAX_KEYS; i++) {
		struct refusal_key k = key("CO", MLA_ERR_SIG_INVALID, i);

		first(f, &k, "m", i);
	}
	assert_int_equal(f->t.n, REFUSALS_MAX_KEYS);
	assert_int_equal(refusals_table_repeat(&f->t, &k0, 10000, WINDOW, NULL), 1);
	{
		struct refusal_key k = key("CO", MLA_ERR_SIG_INVALID, REFUSALS_MAX_KEYS);

		first(f, &k, "m", 10001);
	}
	assert_int_equal(f->t.n, REFUSALS_MAX_KEYS);
	assert_int_equal(f->o.n, 1);
	assert_memory_equal(&f->o.k[0], &k1, sizeof(k1)); /* k0 was seen again: k1 went */
	assert_int_equal(refusals_table_held(&f->t, &k0, 10002, WINDOW), 1);
	assert_int_equal(refusals_table_held(&f->t, &k1, 10002, WINDOW), 0);
	refusals_table_flush(&f->t);
	assert_int_equal(f->o.n, REFUSALS_MAX_KEYS + 1);
	assert_int_equal(f->o.with_repeats, 1);
	assert_int_equal(f->t.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exact_repeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unauthenticated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounded, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
