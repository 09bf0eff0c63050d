/* Attachments being received in the store (store_transfer.c, schema 13, SPEC 17.13): a
 * transfer kept apart from the inbox, segments held once each, the missing ranges bounded,
 * dropping a transfer drops its segments, the timeout's query, and the upgrade from 12. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/store_fault.h"
#include "store_fx.h"

static void make_transfer(struct store_transfer_in *t, unsigned n, int64_t at)
{
	memset(t, 0, sizeof(*t));
	make_id(t->message_id, sizeof(t->message_id), n);
	memcpy(t->from_state, "ES", 3);
	memset(t->digest, 0x5a, 32);
	t->received_ms = at;
	t->n = 2;
	for (unsigned i = 0; i < 2; i++) {
		t->att[i].index = i + 1;
		t->att[i].segment_size = 65536;
		t->att[i].segments = i == 0 ? 10 : 1;
		t->att[i].size = i == 0 ? 10 * 65552 : 16;
		memset(t->att[i].root, (int)(0x10 + i), 32);
	}
}

static void missing_is(gw_store *s, const char *id, unsigned idx, uint64_t segments, size_t max,
		       const char *want, int want_more, uint64_t want_held)
{
	uint64_t r[8][2], held = 0;
	char got[128] = "";
	size_t n = 0, at = 0;
	int more = -1;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_transfer_missing(s, id, idx, segments, r, max, &n, &more, &held, &d),
			 MLA_OK);
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(got + at, sizeof(got) - at, "%s%llu-%llu", i ? "," : "",
				       (unsigned long long)r[i][0], (unsigned long long)r[i][1]);
	assert_string_equal(got, want);
	assert_int_equal(more, want_more);
	assert_int_equal(held, want_held);
}

static void test_transfer_round_trip(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_transfer_in t, back;
	mla_diag d = {MLA_OK, ""};
	uint64_t held = 0;
	int found = 0, added = 0;
	mla_buf env;

	make_transfer(&t, 1, 1000);
	assert_int_equal(store_transfer_in_put(s, &t, env_bytes, sizeof(env_bytes), &d), MLA_OK);
	assert_int_equal(store_transfer_in_put(s, &t, env_bytes, sizeof(env_bytes), &d),
			 MLA_ERR_EXISTS);
	assert_int_equal(store_transfer_in_get(s, t.message_id, &found, &back, &env, &d), MLA_OK);
	assert_int_equal(found, 1);
	assert_int_equal(back.n, 2);
	assert_memory_equal(back.att, t.att, sizeof(t.att[0]) * 2);
	assert_string_equal(back.from_state, "ES");
	assert_int_equal(back.received_ms, 1000);
	assert_int_equal(env.len, sizeof(env_bytes));
	mla_buf_free(&env);
	/* not in the inbox: nobody reading received messages sees it */
	assert_int_equal(counts_of(f->path).inbox, 0);
	missing_is(s, t.message_id, 1, 10, 8, "0-9", 0, 0);
	assert_int_equal(store_transfer_seg_put(s, t.message_id, 1, 3, &added, &d), MLA_OK);
	assert_int_equal(added, 1);
	assert_int_equal(store_transfer_seg_put(s, t.message_id, 1, 3, &added, &d), MLA_OK);
	assert_int_equal(added, 0); /* held already: idempotent */
	assert_int_equal(store_transfer_seg_put(s, t.message_id, 1, 0, &added, &d), MLA_OK);
	assert_int_equal(store_transfer_seg_put(s, t.message_id, 1, 9, &added, &d), MLA_OK);
	assert_int_equal(store_transfer_seg_put(s, t.message_id, 1, 5, &added, &d), MLA_OK);
	missing_is(s, t.message_id, 1, 10, 8, "1-2,4-4,6-8", 0, 4);
	missing_is(s, t.message_id, 1, 10, 2, "1-2,4-4", 1, 4); /* bounded, with the flag */
	missing_is(s, t.message_id, 2, 1, 8, "0-0", 0, 0);
	assert_int_equal(store_transfer_held(s, t.message_id, &held, &d), MLA_OK);
	assert_int_equal(held, 4);
	/* a segment of a message not being received is refused by the key */
	make_id(back.message_id, sizeof(back.message_id), 2);
	assert_int_not_equal(store_transfer_seg_put(s, back.message_id, 1, 0, &added, &d), MLA_OK);
	assert_int_equal(store_transfer_in_drop(s, t.message_id, &d), MLA_OK);
	assert_int_equal(store_transfer_in_get(s, t.message_id, &found, &back, NULL, &d), MLA_OK);
	assert_int_equal(found, 0);
	assert_int_equal(store_transfer_held(s, t.message_id, &held, &d), MLA_OK);
	assert_int_equal(held, 0); /* its segments went with it */
	store_close(s);
}

static void test_transfer_older(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_transfer_in t;
	char ids[4][MLA_UUID_LEN + 1];
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	for (unsigned i = 0; i < 3; i++) {
		make_transfer(&t, 10 + i, 1000 * (int64_t)(3 - i));
		assert_int_equal(store_transfer_in_put(s, &t, env_bytes, sizeof(env_bytes), &d),
				 MLA_OK);
	}
	assert_int_equal(store_transfer_in_older(s, 2500, ids, 4, &n, &d), MLA_OK);
	assert_int_equal(n, 2);
	make_id(t.message_id, sizeof(t.message_id), 12); /* received at 1000: the oldest first */
	assert_string_equal(ids[0], t.message_id);
	assert_int_equal(store_transfer_in_older(s, 2500, ids, 1, &n, &d), MLA_OK);
	assert_int_equal(n, 1);
	store_close(s);
}

/* What one peer holds reserved: its transfers only, counted and summed over every
 * attachment; a dropped one no longer counts. */
static void test_transfer_of_peer(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_transfer_in t;
	uint64_t count = 9, bytes = 9;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_transfer_in_of_peer(s, "ES", &count, &bytes, &d), MLA_OK);
	assert_true(count == 0 && bytes == 0);
	for (unsigned i = 0; i < 3; i++) {
		make_transfer(&t, 20 + i, 1000);
		if (i == 2)
			memcpy(t.from_state, "CO", 3);
		assert_int_equal(store_transfer_in_put(s, &t, env_bytes, sizeof(env_bytes), &d),
				 MLA_OK);
	}
	assert_int_equal(store_transfer_in_of_peer(s, "ES", &count, &bytes, &d), MLA_OK);
	assert_int_equal(count, 2);
	assert_int_equal(bytes, 2 * (10 * 65552 + 16));
	assert_int_equal(store_transfer_in_of_peer(s, "CO", &count, &bytes, &d), MLA_OK);
	assert_true(count == 1 && bytes == 10 * 65552 + 16);
	make_id(t.message_id, sizeof(t.message_id), 20);
	assert_int_equal(store_transfer_in_drop(s, t.message_id, &d), MLA_OK);
	assert_int_equal(store_transfer_in_of_peer(s, "ES", &count, &bytes, &d), MLA_OK);
	assert_true(count == 1 && bytes == 10 * 65552 + 16);
	assert_int_equal(store_transfer_in_of_peer(s, "MX", &count, &bytes, &d), MLA_OK);
	assert_true(count == 0 && bytes == 0);
	store_close(s);
}

static void test_upgrade_from_12(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v12(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 12);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	make_transfer(&t, 1, 1000);
	assert_int_equal(store_transfer_in_put(s, &t, env_bytes, sizeof(env_bytes), &d), MLA_OK);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transfer_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_older, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_of_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_12, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
