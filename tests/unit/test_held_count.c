/* The held segments of a transfer kept up in memory (gateway/peer/held_count.c, SPEC 17.13):
 * counted from the store the first time, then one more per segment added without reading the
 * store (a row written behind its back is not seen); counted again for another transfer of
 * the same id, after a batch was rolled back, and once the least recently used of more than
 * HELD_COUNTS transfers was forgotten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/gw.h"
#include "peer/held_count.h"
#include "store/store.h"

#define ID "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"

static char tmp[256], db[300];
static struct gw g;
static struct held_counts hc;

static void transfer(const char *id, int64_t received_ms)
{
	static const uint8_t env[] = "<Envelope/>";
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};

	memset(&t, 0, sizeof t);
	memcpy(t.message_id, id, MLA_UUID_LEN + 1);
	memcpy(t.from_state, "CO", 3);
	t.received_ms = received_ms;
	t.n = 1;
	t.att[0].index = 1;
	t.att[0].size = 100 * (65536 + 16);
	t.att[0].segment_size = 65536;
	t.att[0].segments = 100;
	assert_int_equal(store_transfer_in_put(g.store, &t, env, sizeof env - 1, &d), MLA_OK);
}

static void put(const char *id, uint64_t k)
{
	mla_diag d = {MLA_OK, ""};
	int added = 0;

	assert_int_equal(store_transfer_seg_put(g.store, id, 1, k, &added, &d), MLA_OK);
	assert_int_equal(added, 1);
}

/* Segment k added and counted: the count after it. */
static uint64_t add(const char *id, int64_t received_ms, uint64_t k)
{
	mla_diag d = {MLA_OK, ""};
	uint64_t held = 0;

	put(id, k);
	assert_int_equal(held_after_add(&g, &hc, id, received_ms, &held, &d), MLA_OK);
	return held;
}

static int setup(void **state)
{
	mla_diag d = {MLA_OK, ""};

	(void)state;
	snprintf(tmp, sizeof tmp, "%s/mlagw-held-XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(db, sizeof db, "%s/store.db", tmp);
	memset(&g, 0, sizeof g);
	memset(&hc, 0, sizeof hc);
	if (store_init(db, &d) != MLA_OK || store_open(db, &g.store, &d) != MLA_OK ||
	    gw_batch_new(&g.batch) != MLA_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	gw_batch_free(g.batch);
	store_close(g.store);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_counted_once_then_kept_up(void **state)
{
	(void)state;
	transfer(ID, 1000);
	put(ID, 50); /* held before the count is first asked for */
	assert_int_equal(add(ID, 1000, 0), 2);
	assert_int_equal(add(ID, 1000, 1), 3);
	put(ID, 60); /* behind its back: not read again */
	assert_int_equal(add(ID, 1000, 2), 4);
	/* another transfer of the same id (given up, begun again): counted from the store */
	assert_int_equal(add(ID, 2000, 3), 6);
}

static void test_counted_again_after_rollback(void **state)
{
	(void)state;
	transfer(ID, 1000);
	assert_int_equal(add(ID, 1000, 0), 1);
	gw_batch_begin(&g);
	assert_int_equal(add(ID, 1000, 1), 2); /* in the batch, then rolled back */
	gw_batch_fail(&g);
	gw_batch_end(&g);
	assert_int_equal(gw_batch_rollbacks(&g), 1);
	assert_int_equal(add(ID, 1000, 2), 2); /* segment 1 is gone from the store */
}

static void test_least_recently_used_forgotten(void **state)
{
	char ids[HELD_COUNTS + 1][MLA_UUID_LEN + 1];

	(void)state;
	for (int i = 0; i <= HELD_COUNTS; i++) {
		snprintf(ids[i], sizeof ids[i], "00000000-0000-4000-8000-%012d", i);
		transfer(ids[i], 1000);
		assert_int_equal(add(ids[i], 1000, 0), 1);
	}
	/* the first was forgotten for the last: a row behind its back is seen in its count */
	put(ids[0], 7);
	assert_int_equal(add(ids[0], 1000, 1), 3);
	/* the last is remembered: a row behind its back is not */
	put(ids[HELD_COUNTS], 7);
	assert_int_equal(add(ids[HELD_COUNTS], 1000, 1), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counted_once_then_kept_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counted_again_after_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_least_recently_used_forgotten, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
