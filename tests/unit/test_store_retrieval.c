/* The store's retrieval notices (schema 10, gateway/store/store_retrieval.c, SPEC 16.10):
 * a watched request's first reading is kept once; the notices owed come in order (an orphan
 * first, then retrieved, then not-retrieved after the period); reserved ones are owed no
 * more unless they never reached the outbox; the requesting side keeps what it got; an
 * upgrade from schema 9 watches nothing that came before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store_fault.h"
#include "store_fx.h"

static const uint8_t env[] = "envelope";
static const uint8_t rcpt[] = "receipt";

static struct in_msg request_in(unsigned n, int64_t received_ms)
{
	struct in_msg m;

	memset(&m, 0, sizeof(m));
	make_id(m.message_id, sizeof(m.message_id), n);
	assert_int_equal(mla_strcpy(m.case_id, sizeof(m.case_id), "ES-R"), MLA_OK);
	assert_int_equal(mla_strcpy(m.from_state, sizeof(m.from_state), "ES"), MLA_OK);
	assert_int_equal(mla_strcpy(m.kind, sizeof(m.kind), "mla"), MLA_OK);
	assert_int_equal(mla_strcpy(m.action, sizeof(m.action), "request"), MLA_OK);
	m.created_ms = m.received_ms = received_ms;
	memset(m.digest, 0x40 + (int)n, sizeof(m.digest));
	return m;
}

static void watch(gw_store *s, unsigned n, int64_t received_ms)
{
	struct in_msg m = request_in(n, received_ms);

	assert_int_equal(store_inbox_put(s, &m, 1, env, sizeof(env), rcpt, sizeof(rcpt), NULL),
			 MLA_OK);
	assert_int_equal(store_retrieval_open(s, m.message_id, received_ms, NULL), MLA_OK);
}

static void due_is(gw_store *s, int64_t now, int orphans, unsigned n, const char *action,
		   int64_t at_ms, const char *notice_id)
{
	struct store_notice_due d;
	char id[MLA_UUID_LEN + 1];
	int found = -1;

	assert_int_equal(store_retrieval_due(s, now, 1000, orphans, &d, &found, NULL), MLA_OK);
	if (n == 0) {
		assert_int_equal(found, 0);
		return;
	}
	make_id(id, sizeof(id), n);
	assert_int_equal(found, 1);
	assert_string_equal(d.request_id, id);
	assert_string_equal(d.action, action);
	assert_string_equal(d.peer, "ES");
	assert_string_equal(d.case_id, "ES-R");
	assert_true(d.at_ms == at_ms);
	assert_string_equal(d.notice_id, notice_id);
}

static void test_read_once_and_due(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	char id1[MLA_UUID_LEN + 1], id2[MLA_UUID_LEN + 1], nid[MLA_UUID_LEN + 1];
	struct store_retrieval r;
	struct out_msg m;
	int first = -1;

	watch(s, 1, 100);
	watch(s, 2, 200);
	make_id(id1, sizeof(id1), 1);
	make_id(id2, sizeof(id2), 2);
	due_is(s, 1099, 1, 0, NULL, 0, NULL); /* nothing read, the period not over */
	assert_int_equal(store_retrieval_read(s, id1, 500, &first, NULL), MLA_OK);
	assert_int_equal(first, 1);
	assert_int_equal(store_retrieval_read(s, id1, 600, &first, NULL), MLA_OK);
	assert_int_equal(first, 0); /* the second reading changes nothing */
	due_is(s, 1099, 0, 1, "retrieved", 500, "");
	make_id(nid, sizeof(nid), 50);
	assert_int_equal(store_retrieval_reserve(s, id1, "retrieved", nid, 500, NULL), MLA_OK);
	due_is(s, 1199, 0, 0, NULL, 0, NULL);  /* request 2 unread until 200 + 1000 */
	due_is(s, 1199, 1, 1, "retrieved", 500, nid); /* reserved, not in the outbox */
	m = make_out(50, "ES", 0, 10, 10);
	put_ok(s, &m);
	due_is(s, 1199, 1, 0, NULL, 0, NULL);
	due_is(s, 1200, 0, 2, "not-retrieved", 1200, "");
	assert_int_equal(store_retrieval_reserve(s, id2, "not-retrieved", "-", 1200, NULL),
			 MLA_OK);
	due_is(s, 99999, 1, 0, NULL, 0, NULL);
	assert_int_equal(store_retrieval_read(s, id2, 5000, &first, NULL), MLA_OK);
	due_is(s, 99999, 1, 2, "retrieved", 5000, ""); /* a late reading: retrieved still */
	assert_int_equal(store_retrieval_get(s, id2, &r, NULL), MLA_OK);
	assert_true(r.watched && r.first_read_ms == 5000 && r.not_retrieved_ms == 1200);
	assert_string_equal(r.not_retrieved_id, "-");
	assert_int_equal(store_retrieval_reserve(s, id2, "read", "-", 0, NULL), MLA_ERR_ARG);
	store_close(s);
}

static void test_unwatched_and_got(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	char id[MLA_UUID_LEN + 1], nid[MLA_UUID_LEN + 1], nid2[MLA_UUID_LEN + 1];
	struct store_retrieval r;
	int first = -1;

	make_id(id, sizeof(id), 7);
	make_id(nid, sizeof(nid), 8);
	make_id(nid2, sizeof(nid2), 9);
	assert_int_equal(store_retrieval_read(s, id, 500, &first, NULL), MLA_OK);
	assert_int_equal(first, 0); /* not watched: no row, no notice */
	due_is(s, 99999, 1, 0, NULL, 0, NULL);
	assert_int_equal(store_retrieval_got(s, id, "not-retrieved", nid, 1200, NULL), MLA_OK);
	assert_int_equal(store_retrieval_got(s, id, "not-retrieved", nid2, 1300, NULL), MLA_OK);
	assert_int_equal(store_retrieval_get(s, id, &r, NULL), MLA_OK);
	assert_true(!r.watched && r.got_not_retrieved_ms == 1200 && r.got_retrieved_ms == 0);
	assert_string_equal(r.got_not_retrieved_id, nid); /* the first one stays */
	store_close(s);
}

static void test_upgrade_from_9(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct in_msg m = request_in(3, 100);
	mla_diag d = {MLA_OK, ""};
	int first = -1;

	assert_int_equal(store_inbox_put(s, &m, 1, env, sizeof(env), rcpt, sizeof(rcpt), NULL),
			 MLA_OK);
	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_make_v9(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 9);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(STORE_SCHEMA_VERSION, 14);
	assert_int_equal(store_retrieval_read(s, m.message_id, 500, &first, NULL), MLA_OK);
	assert_int_equal(first, 0); /* received before schema 10: not watched */
	due_is(s, 99999, 1, 0, NULL, 0, NULL);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_once_and_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwatched_and_got, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_9, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
