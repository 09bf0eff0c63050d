/* Unit tests of the gateway store (gateway/store*.c): outbox order and states, receipts,
 * recovery, inbox, alerts, group commit and rollback, witnessing, idempotency keys, and the
 * durability of acknowledged writes across SIGKILL (the store's life: test_store_life.c). */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store.h"
#include "store/store_fault.h"
#include "store/store_reader.h"
#include "store_fx.h"

/* History rows gathered by the callback. */
struct hist {
	size_t n;
	char state[16][24];
	char detail[16][64];
};

static void hist_fn(const char *state, int64_t at_ms, const char *detail, void *arg)
{
	struct hist *h = arg;

	assert_true(at_ms > 0);
	if (h->n >= 16)
		return;
	assert_int_equal(mla_snprintf(h->state[h->n], sizeof(h->state[0]), "%s", state), MLA_OK);
	assert_int_equal(mla_snprintf(h->detail[h->n], sizeof(h->detail[0]), "%s",
			detail ? detail : ""), MLA_OK);
	h->n++;
}

/* Idempotency keys (schema 5): stored with the outbox row, per principal, ignored once
 * expired; a second put under a live key stores nothing; the purge deletes expired keys. */
static void test_idempotency_keys(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(1, "FR", 0, 1000, 1000), m2 = make_out(2, "FR", 0, 2000, 2000);
	struct out_msg row;
	struct store_idem got;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = open_ok(f);
	size_t n = 9;
	int found = 0;

	assert_int_equal(mla_snprintf(m.submitted_by, sizeof(m.submitted_by), "authority:a"),
			 MLA_OK);
	assert_int_equal(mla_snprintf(m.idem_key, sizeof(m.idem_key), "order-1"), MLA_OK);
	memset(m.idem_digest, 0xab, sizeof(m.idem_digest));
	put_ok(s, &m);
	assert_int_equal(store_idem_get(s, "authority:a", "order-1", 0, &got, &found, &d), MLA_OK);
	assert_int_equal(found, 1);
	assert_string_equal(got.message_id, m.message_id);
	assert_string_equal(got.case_id, m.case_id);
	assert_string_equal(got.to_state, "FR");
	assert_memory_equal(got.digest, m.idem_digest, 32);
	/* another principal, another key, an expired one: not found */
	assert_int_equal(store_idem_get(s, "authority:b", "order-1", 0, &got, &found, &d), MLA_OK);
	assert_int_equal(found, 0);
	assert_int_equal(store_idem_get(s, "authority:a", "order-2", 0, &got, &found, &d), MLA_OK);
	assert_int_equal(found, 0);
	assert_int_equal(store_idem_get(s, "authority:a", "order-1", 1001, &got, &found, &d),
			 MLA_OK);
	assert_int_equal(found, 0);
	/* the same live key again: refused, and its outbox row is not kept either */
	memcpy(m2.submitted_by, m.submitted_by, sizeof(m2.submitted_by));
	memcpy(m2.idem_key, m.idem_key, sizeof(m2.idem_key));
	m2.idem_not_before_ms = 1000;
	assert_int_equal(store_outbox_put(s, &m2, env_bytes, sizeof(env_bytes), &d), MLA_ERR_EXISTS);
	assert_int_equal(store_outbox_get(s, m2.message_id, &row, &d), MLA_ERR_NOT_FOUND);
	/* expired (written before not_before) but not purged yet: the next put takes it over */
	m2.idem_not_before_ms = 1001;
	put_ok(s, &m2);
	assert_int_equal(store_idem_get(s, "authority:a", "order-1", 0, &got, &found, &d), MLA_OK);
	assert_string_equal(got.message_id, m2.message_id);
	/* the purge deletes what was written before its limit, and only that */
	assert_int_equal(store_idem_purge(s, 2000, &n, &d), MLA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_idem_purge(s, 2001, &n, &d), MLA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_idem_get(s, "authority:a", "order-1", 0, &got, &found, &d), MLA_OK);
	assert_int_equal(found, 0);
	store_close(s);
}

static void test_put_get_duplicate(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(7, "DE", 1, 5000, 5000), got;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = open_ok(f);
	mla_buf env;

	put_ok(s, &m);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	assert_string_equal(got.message_id, m.message_id);
	assert_string_equal(got.kind, "mla-request");
	assert_string_equal(got.action, "request");
	assert_int_equal(got.priority, 1);
	assert_int_equal(got.attempts, 0);
	assert_int_equal(got.deadline_ms, m.deadline_ms);
	assert_string_equal(got.last_error, "");
	assert_int_equal(store_outbox_envelope(s, m.message_id, &env, NULL), MLA_OK);
	assert_int_equal(env.len, sizeof(env_bytes));
	assert_memory_equal(env.data, env_bytes, sizeof(env_bytes));
	mla_buf_free(&env);

	assert_int_equal(store_outbox_put(s, &m, env_bytes, sizeof(env_bytes), &d), MLA_ERR_EXISTS);
	assert_null(strstr(d.msg, "SECRET"));
	assert_int_equal(store_outbox_get(s, "00000000-0000-4000-8000-999999999999", &got, &d),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(store_outbox_envelope(s, "nope", &env, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&env);
	/* refused before SQLite: no envelope, bad priority, unterminated id */
	assert_int_equal(store_outbox_put(s, &m, NULL, 0, NULL), MLA_ERR_ARG);
	m.priority = 3;
	assert_int_equal(store_outbox_put(s, &m, env_bytes, 4, NULL), MLA_ERR_ARG);
	m.priority = 0;
	memset(m.message_id, 'a', sizeof(m.message_id));
	assert_int_equal(store_outbox_put(s, &m, env_bytes, 4, NULL), MLA_ERR_ARG);
	store_close(s);
}

static int not_fr(const char *to_state, void *arg)
{
	(*(int *)arg)++;
	return strcmp(to_state, "FR") != 0;
}

static void test_due_order_filter_max(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg all[8], out[8];
	size_t n = 0, i;
	int calls = 0;
	mla_diag d = {MLA_OK, ""};
	/* id, to, priority, created, next */
	all[0] = make_out(1, "DE", 0, 100, 100);  /* normal, oldest */
	all[1] = make_out(2, "DE", 1, 300, 300);  /* urgent */
	all[2] = make_out(3, "DE", 2, 400, 400);  /* crisis, newest */
	all[3] = make_out(4, "DE", 1, 200, 200);  /* urgent, older */
	all[4] = make_out(5, "DE", 2, 150, 9000); /* crisis, not due yet */
	all[5] = make_out(6, "FR", 2, 50, 50);    /* crisis to FR: filtered */
	all[6] = make_out(7, "DE", 0, 250, 250);  /* normal, newer */
	all[7] = make_out(8, "IT", 0, 90, 1000);  /* next_attempt_ms == now: due */
	for (i = 0; i < 8; i++)
		put_ok(s, &all[i]);

	assert_int_equal(store_outbox_due(s, 1000, not_fr, &calls, out, 8, &n, NULL), MLA_OK);
	assert_int_equal(n, 6);
	assert_true(calls >= 7);
	assert_string_equal(out[0].message_id, all[2].message_id);
	assert_string_equal(out[1].message_id, all[3].message_id);
	assert_string_equal(out[2].message_id, all[1].message_id);
	assert_string_equal(out[3].message_id, all[7].message_id);
	assert_string_equal(out[4].message_id, all[0].message_id);
	assert_string_equal(out[5].message_id, all[6].message_id);

	/* without a filter FR's crisis message comes first; max stops the scan */
	assert_int_equal(store_outbox_due(s, 1000, NULL, NULL, out, 2, &n, NULL), MLA_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].message_id, all[5].message_id);
	assert_string_equal(out[1].message_id, all[2].message_id);
	assert_int_equal(store_outbox_due(s, 1000, NULL, NULL, NULL, 0, &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
	/* later the deferred crisis message is due too, and only queued ones are offered */
	if (store_outbox_set_state(s, all[5].message_id, MSG_SENDING, 0, NULL, &d) != MLA_OK)
		fail_msg("set_state: %s", d.msg);
	assert_int_equal(store_outbox_due(s, 9000, NULL, NULL, out, 8, &n, NULL), MLA_OK);
	assert_int_equal(n, 7);
	assert_string_equal(out[0].message_id, all[4].message_id);
	store_close(s);
}

static void test_state_transitions_history(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(11, "PT", 0, 100, 100), got;
	static const uint8_t rc[] = "positive receipt";
	struct hist h;
	mla_diag d = {MLA_OK, ""};
	uint64_t counts[6];

	put_ok(s, &m);
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_SENDING, 0, NULL, NULL), 0);
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_QUEUED, 5000,
						"connect refused", NULL), MLA_OK);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.state, MSG_QUEUED);
	assert_int_equal(got.attempts, 1);
	assert_int_equal(got.next_attempt_ms, 5000);
	assert_string_equal(got.last_error, "connect refused");
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_SENDING, 0, NULL, NULL), 0);
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_QUEUED, 9000, NULL, NULL), 0);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.attempts, 2);
	assert_string_equal(got.last_error, "connect refused"); /* kept without a new detail */
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_SENDING, 0, NULL, NULL), 0);
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_AWAITING_RECEIPT, 0, NULL,
						NULL), MLA_OK);
	/* delivered only with a receipt */
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_DELIVERED, 0, NULL, NULL),
			 MLA_ERR_ARG);
	assert_int_equal(store_outbox_receipt(s, m.message_id, MSG_DELIVERED, rc, sizeof(rc),
					      "verified", NULL), MLA_OK);
	/* a final state is final */
	assert_int_equal(store_outbox_set_state(s, m.message_id, MSG_QUEUED, 0, "late", &d),
			 MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "delivered"));
	assert_int_equal(store_outbox_set_state(s, "missing", MSG_FAILED, 0, NULL, NULL),
			 MLA_ERR_NOT_FOUND);

	memset(&h, 0, sizeof(h));
	assert_int_equal(store_history(s, m.message_id, hist_fn, &h, NULL), MLA_OK);
	assert_int_equal(h.n, 8);
	assert_string_equal(h.state[0], "queued");
	assert_string_equal(h.state[1], "sending");
	assert_string_equal(h.state[2], "queued");
	assert_string_equal(h.detail[2], "connect refused");
	assert_string_equal(h.state[3], "sending");
	assert_string_equal(h.state[4], "queued");
	assert_string_equal(h.state[5], "sending");
	assert_string_equal(h.state[6], "awaiting-receipt");
	assert_string_equal(h.state[7], "delivered");
	assert_string_equal(h.detail[7], "verified");
	assert_int_equal(store_outbox_counts(s, counts, NULL), MLA_OK);
	assert_int_equal(counts[MSG_DELIVERED], 1);
	assert_int_equal(counts[MSG_QUEUED], 0);
	assert_string_equal(msg_state_name(MSG_AWAITING_RECEIPT), "awaiting-receipt");
	assert_string_equal(msg_state_name(MSG_FAILED), "failed");
	store_close(s);
}

static void test_receipt_storage(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m = make_out(21, "ES", 0, 100, 100), got;
	static const uint8_t neg[] = "<Receipt>negative: sig-invalid</Receipt>";
	mla_buf b;

	put_ok(s, &m);
	assert_int_equal(store_outbox_receipt_get(s, m.message_id, &b, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&b);
	assert_int_equal(store_outbox_receipt(s, m.message_id, MSG_FAILED, neg, sizeof(neg), NULL,
					      NULL), MLA_ERR_ARG);
	assert_int_equal(store_outbox_receipt(s, m.message_id, MSG_REJECTED, neg, sizeof(neg),
					      "sig-invalid", NULL), MLA_OK);
	assert_int_equal(store_outbox_receipt_get(s, m.message_id, &b, NULL), MLA_OK);
	assert_int_equal(b.len, sizeof(neg));
	assert_memory_equal(b.data, neg, sizeof(neg));
	mla_buf_free(&b);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.state, MSG_REJECTED);
	assert_string_equal(got.last_error, "sig-invalid");
	/* a second receipt for a final message is refused, the first one stays */
	assert_int_equal(store_outbox_receipt(s, m.message_id, MSG_DELIVERED, neg, 3, NULL, NULL),
			 MLA_ERR_ARG);
	assert_int_equal(store_outbox_receipt(s, "missing", MSG_DELIVERED, neg, 3, NULL, NULL),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(store_outbox_receipt_get(s, "missing", &b, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&b);
	store_close(s);
}

static void test_recover_requeues_in_flight(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m[4], got;
	static const uint8_t rc[] = "r";
	size_t n = 99, i;
	struct hist h;

	for (i = 0; i < 4; i++) {
		m[i] = make_out(31 + (unsigned)i, "NL", 0, 100, 100);
		put_ok(s, &m[i]);
	}
	assert_int_equal(store_outbox_set_state(s, m[0].message_id, MSG_SENDING, 0, NULL, NULL), 0);
	assert_int_equal(store_outbox_set_state(s, m[1].message_id, MSG_AWAITING_RECEIPT, 0, NULL,
						NULL), 0);
	assert_int_equal(store_outbox_receipt(s, m[2].message_id, MSG_DELIVERED, rc, 1, NULL, NULL),
			 0);
	store_close(s);

	s = open_ok(f);
	assert_int_equal(store_outbox_recover(s, 77777, &n, NULL), MLA_OK);
	assert_int_equal(n, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(store_outbox_get(s, m[i].message_id, &got, NULL), MLA_OK);
		assert_int_equal(got.state, MSG_QUEUED);
		assert_int_equal(got.next_attempt_ms, 77777);
		assert_int_equal(got.attempts, 0);
		memset(&h, 0, sizeof(h));
		assert_int_equal(store_history(s, m[i].message_id, hist_fn, &h, NULL), MLA_OK);
		assert_int_equal(h.n, 3);
		assert_string_equal(h.state[2], "queued");
		assert_string_equal(h.detail[2], "recovered after restart");
	}
	assert_int_equal(store_outbox_get(s, m[2].message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.state, MSG_DELIVERED);
	assert_int_equal(store_outbox_get(s, m[3].message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.next_attempt_ms, 100);
	assert_int_equal(store_outbox_recover(s, 88888, &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
	store_close(s);
}

static struct in_msg make_in(unsigned n)
{
	struct in_msg m;

	memset(&m, 0, sizeof(m));
	make_id(m.message_id, sizeof(m.message_id), n);
	assert_int_equal(mla_snprintf(m.case_id, sizeof(m.case_id), "case-in-%u", n), MLA_OK);
	assert_int_equal(mla_snprintf(m.from_state, sizeof(m.from_state), "BE"), MLA_OK);
	assert_int_equal(mla_snprintf(m.kind, sizeof(m.kind), "mla-request"), MLA_OK);
	assert_int_equal(mla_snprintf(m.action, sizeof(m.action), "request"), MLA_OK);
	m.priority = 1;
	m.created_ms = 1000;
	m.received_ms = 2000;
	memset(m.digest, 0xa0 + (int)n, sizeof(m.digest));
	return m;
}

static void test_inbox_lookup_put_negative(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct in_msg a = make_in(1), b = make_in(2);
	static const uint8_t pos[] = "positive", neg[] = "negative";
	uint8_t dg[32];
	uint64_t acc = 9, rej = 9;
	int found = -1;
	mla_buf r;
	struct hist h;

	assert_int_equal(store_inbox_lookup(s, a.message_id, &found, dg, &r, NULL), MLA_OK);
	assert_int_equal(found, 0);
	mla_buf_free(&r);
	assert_int_equal(store_inbox_put(s, &a, 1, env_bytes, sizeof(env_bytes), pos, sizeof(pos),
					 NULL), MLA_OK);
	assert_int_equal(store_inbox_put(s, &a, 1, env_bytes, sizeof(env_bytes), pos, sizeof(pos),
					 NULL), MLA_ERR_EXISTS);
	assert_int_equal(store_inbox_put(s, &b, 1, NULL, 0, neg, sizeof(neg), NULL), MLA_ERR_ARG);
	assert_int_equal(store_inbox_put(s, &b, 0, NULL, 0, neg, sizeof(neg), NULL), MLA_OK);

	assert_int_equal(store_inbox_lookup(s, a.message_id, &found, dg, &r, NULL), MLA_OK);
	assert_int_equal(found, 1);
	assert_memory_equal(dg, a.digest, 32);
	assert_int_equal(r.len, sizeof(pos));
	assert_memory_equal(r.data, pos, sizeof(pos));
	mla_buf_free(&r);
	assert_int_equal(store_inbox_lookup(s, b.message_id, &found, dg, &r, NULL), MLA_OK);
	assert_int_equal(found, 1);
	assert_memory_equal(dg, b.digest, 32);
	assert_memory_equal(r.data, neg, sizeof(neg));
	mla_buf_free(&r);

	assert_int_equal(store_inbox_count(s, &acc, &rej, NULL), MLA_OK);
	assert_int_equal(acc, 1);
	assert_int_equal(rej, 1);
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_history(s, a.message_id, hist_fn, &h, NULL), MLA_OK);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.state[0], "received");
	memset(&h, 0, sizeof(h));
	assert_int_equal(store_history(s, b.message_id, hist_fn, &h, NULL), MLA_OK);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.state[0], "rejected");
	store_close(s);
}

static void test_alerts_count(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	uint64_t n = 9;

	assert_int_equal(store_alert_count(s, "duplicate-id", &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_alert(s, "duplicate-id", "id-1", "digest differs", NULL), MLA_OK);
	assert_int_equal(store_alert(s, "duplicate-id", NULL, NULL, NULL), MLA_OK);
	assert_int_equal(store_alert(s, "cert-expiry", NULL, "30 days", NULL), MLA_OK);
	assert_int_equal(store_alert(s, "", NULL, NULL, NULL), MLA_ERR_ARG);
	assert_int_equal(store_alert_count(s, "duplicate-id", &n, NULL), MLA_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_alert_count(s, "cert-expiry", &n, NULL), MLA_OK);
	assert_int_equal(n, 1);
	store_close(s);
}

static void test_group_commit_100(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg m;
	uint64_t counts[6];
	unsigned i;

	assert_int_equal(store_begin(s, NULL), MLA_OK);
	assert_int_equal(store_begin(s, NULL), MLA_ERR_ARG);
	for (i = 0; i < 100; i++) {
		m = make_out(1000 + i, "AT", (int)(i % 3), i, i);
		put_ok(s, &m);
	}
	assert_int_equal(store_commit(s, NULL), MLA_OK);
	assert_int_equal(store_commit(s, NULL), MLA_ERR_ARG);
	store_close(s);
	s = open_ok(f);
	assert_int_equal(store_outbox_counts(s, counts, NULL), MLA_OK);
	assert_int_equal(counts[MSG_QUEUED], 100);
	assert_int_equal((int64_t)counts_of(f->path).history, 100);
	store_close(s);
}

static void test_rollback_discards(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg a = make_out(1, "AT", 0, 1, 1), b = make_out(2, "AT", 0, 2, 2), got;
	uint64_t counts[6];
	unsigned i;

	assert_int_equal(store_begin(s, NULL), MLA_OK);
	for (i = 0; i < 10; i++) {
		struct out_msg m = make_out(500 + i, "AT", 0, i, i);
		put_ok(s, &m);
	}
	assert_int_equal(store_alert(s, "x", NULL, NULL, NULL), MLA_OK);
	assert_int_equal(store_rollback(s), MLA_OK);
	assert_int_equal(store_outbox_counts(s, counts, NULL), MLA_OK);
	assert_int_equal(counts[MSG_QUEUED], 0);
	assert_int_equal((int64_t)counts_of(f->path).history, 0);
	assert_int_equal((int64_t)counts_of(f->path).alerts, 0);

	/* a failed write inside a group undoes only itself */
	assert_int_equal(store_begin(s, NULL), MLA_OK);
	put_ok(s, &a);
	assert_int_equal(store_outbox_put(s, &a, env_bytes, 3, NULL), MLA_ERR_EXISTS);
	put_ok(s, &b);
	assert_int_equal(store_commit(s, NULL), MLA_OK);
	assert_int_equal(store_outbox_get(s, a.message_id, &got, NULL), MLA_OK);
	assert_int_equal(store_outbox_get(s, b.message_id, &got, NULL), MLA_OK);
	assert_int_equal((int64_t)counts_of(f->path).history, 2);
	/* an unfinished group is discarded on close */
	assert_int_equal(store_begin(s, NULL), MLA_OK);
	assert_int_equal(store_alert(s, "y", NULL, NULL, NULL), MLA_OK);
	store_close(s);
	assert_int_equal((int64_t)counts_of(f->path).alerts, 0);
}

#define DUR_N 200
#define DUR_ENV 16384

/* The child: puts up to DUR_N messages, one per go byte read from rfd, acknowledging each on
 * wfd once put has returned. */
static void durability_child(const char *path, int rfd, int wfd)
{
	static uint8_t env[DUR_ENV];
	gw_store *s = NULL;
	struct out_msg m;
	unsigned i;
	char go;

	memset(env, 'e', sizeof(env));
	if (store_open(path, &s, NULL) != MLA_OK)
		_exit(2);
	for (i = 0; i < DUR_N; i++) {
		if (read(rfd, &go, 1) != 1)
			_exit(5);
		m = make_out(i, "SE", (int)(i % 3), i, i);
		if (store_outbox_put(s, &m, env, sizeof(env), NULL) != MLA_OK)
			_exit(3);
		if (write(wfd, m.message_id, MLA_UUID_LEN) != MLA_UUID_LEN)
			_exit(4);
	}
	_exit(0);
}

static void send_go(int fd, size_t n)
{
	char go[64];

	assert_true(n <= sizeof(go));
	memset(go, 'g', n);
	assert_int_equal(write(fd, go, n), (ssize_t)n);
}

/* Reads one acknowledged id; 0 at end of file. */
static int read_ack(int fd, char id[MLA_UUID_LEN + 1])
{
	size_t got = 0;
	ssize_t k;

	while (got < MLA_UUID_LEN) {
		k = read(fd, id + got, MLA_UUID_LEN - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return 0;
		got += (size_t)k;
	}
	id[MLA_UUID_LEN] = '\0';
	return 1;
}

/* SIGKILL while the child is busy putting: every id acknowledged before is in the store. */
static void test_durability_sigkill(void **state)
{
	struct fx *f = *state;
	char (*acked)[MLA_UUID_LEN + 1] = calloc(DUR_N, sizeof(*acked));
	int go[2], ack[2], status = 0;
	size_t nacked = 0, i;
	struct out_msg m;
	gw_store *s;
	pid_t pid;

	assert_non_null(acked);
	assert_int_equal(store_init(f->path, NULL), MLA_OK);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ack), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(go[1]);
		close(ack[0]);
		durability_child(f->path, go[0], ack[1]);
	}
	close(go[0]);
	close(ack[1]);
	send_go(go[1], 60);
	while (nacked < 50 && read_ack(ack[0], acked[nacked]))
		nacked++;
	assert_int_equal(nacked, 50);
	/* keep the child busy and kill it in the middle: it can never reach DUR_N */
	send_go(go[1], 40);
	while (nacked < 55 && read_ack(ack[0], acked[nacked]))
		nacked++;
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	while (nacked < DUR_N && read_ack(ack[0], acked[nacked]))
		nacked++;
	close(go[1]);
	close(ack[0]);
	assert_true(nacked >= 55 && nacked <= 100);

	s = open_ok(f);
	for (i = 0; i < nacked; i++)
		assert_int_equal(store_outbox_get(s, acked[i], &m, NULL), MLA_OK);
	store_close(s);
	assert_true((int64_t)counts_of(f->path).outbox >= (int64_t)nacked);
	pragma_is(f->path, "integrity_check", "ok");
	free(acked);
}

/* A peer back up: its queued messages become due now; other peers' and other states' not. */
static void test_wake_peer(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg a = make_out(1, "DE", 0, 100, 5000), b = make_out(2, "DE", 2, 200, 9000);
	struct out_msg c = make_out(3, "FR", 0, 100, 5000), got;
	size_t n = 0;

	put_ok(s, &a);
	put_ok(s, &b);
	put_ok(s, &c);
	assert_int_equal(store_outbox_wake(s, "DE", 1000, &n, NULL), MLA_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_outbox_get(s, b.message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.next_attempt_ms, 1000);
	assert_int_equal(store_outbox_get(s, c.message_id, &got, NULL), MLA_OK);
	assert_int_equal(got.next_attempt_ms, 5000);
	/* nothing left to wake, and an already-due message is not pushed later */
	assert_int_equal(store_outbox_wake(s, "DE", 2000, &n, NULL), MLA_OK);
	assert_int_equal(n, 0);
	store_close(s);
}

/* Messages past their deadline are found whether or not they are due for an attempt. */
static void test_overdue(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct out_msg a = make_out(1, "DE", 0, 100, 99999), b = make_out(2, "DE", 0, 200, 100);
	struct out_msg out[4];
	size_t n = 0;
	mla_diag d = {MLA_OK, ""};

	a.deadline_ms = 500;
	b.deadline_ms = 400;
	put_ok(s, &a);
	put_ok(s, &b);
	assert_int_equal(store_outbox_overdue(s, 450, out, 4, &n, NULL), MLA_OK);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].message_id, b.message_id);
	assert_int_equal(store_outbox_overdue(s, 600, out, 4, &n, NULL), MLA_OK);
	assert_int_equal(n, 2);
	assert_string_equal(out[0].message_id, b.message_id); /* earliest deadline first */
	/* only queued messages: one being sent is left to its exchange */
	if (store_outbox_set_state(s, a.message_id, MSG_SENDING, 0, NULL, &d) != MLA_OK)
		fail_msg("set_state: %s", d.msg);
	assert_int_equal(store_outbox_overdue(s, 600, out, 4, &n, NULL), MLA_OK);
	assert_int_equal(n, 1);
	store_close(s);
}

/* The audit table is dense: the next index only, never a gap, never a rewrite. */
static void test_audit_dense(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	uint8_t leaf[32], got_leaf[32];
	uint64_t next = 99;
	mla_buf out;

	memset(leaf, 7, sizeof(leaf));
	assert_int_equal(store_audit_next(s, &next, NULL), MLA_OK);
	assert_int_equal(next, 0);
	assert_int_equal(store_audit_append(s, 0, (const uint8_t *)"e0", 2, leaf, NULL), MLA_OK);
	assert_int_equal(store_audit_append(s, 1, (const uint8_t *)"e1", 2, leaf, NULL), MLA_OK);
	assert_int_equal(store_audit_append(s, 1, (const uint8_t *)"xx", 2, leaf, NULL),
			 MLA_ERR_EXISTS);
	assert_int_equal(store_audit_append(s, 3, (const uint8_t *)"e3", 2, leaf, NULL),
			 MLA_ERR_ARG);
	assert_int_equal(store_audit_next(s, &next, NULL), MLA_OK);
	assert_int_equal(next, 2);
	assert_int_equal(store_audit_get(s, 1, &out, got_leaf, NULL), MLA_OK);
	assert_int_equal(out.len, 2);
	assert_memory_equal(out.data, "e1", 2);
	assert_memory_equal(got_leaf, leaf, 32);
	mla_buf_free(&out);
	assert_int_equal(store_audit_get(s, 5, &out, NULL, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&out);
	store_close(s);
}

static mla_err collect_leaf(uint64_t seq, const uint8_t leaf[32], void *arg)
{
	uint8_t *seen = arg;

	if (seq >= 4 || leaf[0] != (uint8_t)seq)
		return MLA_ERR_INTERNAL;
	seen[seq] = 1;
	return MLA_OK;
}

/* The leaves in order from any start, as the daemon rebuilds its tree. */
static void test_audit_leaves(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	uint8_t leaf[32], seen[4] = {0};

	for (uint64_t i = 0; i < 4; i++) {
		memset(leaf, (int)i, sizeof(leaf));
		assert_int_equal(store_audit_append(s, i, (const uint8_t *)"e", 1, leaf, NULL),
				 MLA_OK);
	}
	assert_int_equal(store_audit_leaves(s, 2, collect_leaf, seen, NULL), MLA_OK);
	assert_memory_equal(seen, "\0\0\1\1", 4);
	assert_int_equal(store_audit_leaves(s, 0, collect_leaf, seen, NULL), MLA_OK);
	assert_memory_equal(seen, "\1\1\1\1", 4);
	assert_int_equal(store_audit_leaves(s, 9, collect_leaf, seen, NULL), MLA_OK);
	store_close(s);
}

/* Checkpoints: only growing sizes, never beyond the log, kept across a reopen, rolled back
 * with their group. */
static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	uint8_t leaf[32];
	uint64_t size = 0;
	int64_t at = 0;
	mla_buf note;

	memset(leaf, 1, sizeof(leaf));
	assert_int_equal(store_checkpoint_latest(s, &size, &note, &at, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&note);
	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(store_audit_append(s, i, (const uint8_t *)"e", 1, leaf, NULL),
				 MLA_OK);
	assert_int_equal(store_checkpoint_put(s, 0, "n0\n", 3, 1, NULL), MLA_ERR_ARG);
	assert_int_equal(store_checkpoint_put(s, 6, "n6\n", 3, 1, NULL), MLA_ERR_ARG);
	assert_int_equal(store_checkpoint_put(s, 2, "n2\n", 3, 100, NULL), MLA_OK);
	assert_int_equal(store_checkpoint_put(s, 2, "x2\n", 3, 101, NULL), MLA_ERR_EXISTS);
	assert_int_equal(store_checkpoint_put(s, 4, "n4\n", 3, 102, NULL), MLA_OK);
	assert_int_equal(store_checkpoint_put(s, 3, "n3\n", 3, 103, NULL), MLA_ERR_EXISTS);
	/* a checkpoint in a rolled-back group is gone with it */
	assert_int_equal(store_begin(s, NULL), MLA_OK);
	assert_int_equal(store_checkpoint_put(s, 5, "n5\n", 3, 104, NULL), MLA_OK);
	assert_int_equal(store_rollback(s), MLA_OK);
	store_close(s);
	s = open_ok(f);
	assert_int_equal(store_checkpoint_latest(s, &size, &note, &at, NULL), MLA_OK);
	assert_int_equal(size, 4);
	assert_int_equal(at, 102);
	assert_string_equal((const char *)note.data, "n4\n");
	mla_buf_free(&note);
	assert_int_equal(store_checkpoint_get(s, 2, &note, &at, NULL), MLA_OK);
	assert_int_equal(at, 100);
	assert_string_equal((const char *)note.data, "n2\n");
	mla_buf_free(&note);
	assert_int_equal(store_checkpoint_get(s, 3, &note, NULL, NULL), MLA_ERR_NOT_FOUND);
	mla_buf_free(&note);
	assert_int_equal(store_checkpoint_latest(s, NULL, NULL, NULL, NULL), MLA_OK);
	store_close(s);
}

/* Witnessing: a peer's cosigned sizes only grow per log; a cosignature is added to our own
 * checkpoint once per witness. */
static void test_witnessing(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	uint8_t leaf[32], root[32], got[32];
	uint64_t size = 0;
	mla_buf note;

	memset(leaf, 1, sizeof(leaf));
	memset(root, 7, sizeof(root));
	assert_int_equal(store_witness_latest(s, "mlagw.co/audit", &size, got, NULL),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(store_witness_put(s, "mlagw.co/audit", 5, root, "n5\n", 3, 1, NULL),
			 MLA_OK);
	assert_int_equal(store_witness_put(s, "mlagw.co/audit", 5, root, "x5\n", 3, 2, NULL),
			 MLA_ERR_EXISTS);
	assert_int_equal(store_witness_put(s, "mlagw.co/audit", 4, root, "n4\n", 3, 2, NULL),
			 MLA_ERR_EXISTS);
	assert_int_equal(store_witness_put(s, "mlagw.fr/audit", 2, leaf, "f2\n", 3, 2, NULL),
			 MLA_OK);
	assert_int_equal(store_witness_latest(s, "mlagw.co/audit", &size, got, NULL), MLA_OK);
	assert_int_equal(size, 5);
	assert_memory_equal(got, root, 32);
	assert_int_equal(store_peer_cert_put(s, "CO", leaf, 32, NULL), MLA_OK);
	assert_int_equal(store_peer_cert_put(s, "CO", leaf, 32, NULL), MLA_OK); /* kept once */
	assert_int_equal((int64_t)counts_of(f->path).peer_certs, 1);
	/* at most 32 per State: a 33rd new one is refused, a known one still accepted */
	for (int i = 1; i < 32; i++) {
		uint8_t der[4] = {'c', 'e', 'r', (uint8_t)i};
		assert_int_equal(store_peer_cert_put(s, "CO", der, 4, NULL), MLA_OK);
	}
	assert_int_equal(store_peer_cert_put(s, "CO", (const uint8_t *)"new", 3, NULL),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(store_peer_cert_put(s, "CO", leaf, 32, NULL), MLA_OK);
	assert_int_equal(store_peer_cert_put(s, "FR", (const uint8_t *)"new", 3, NULL), MLA_OK);
	/* our checkpoint gets each witness's line once */
	assert_int_equal(store_audit_append(s, 0, (const uint8_t *)"e", 1, leaf, NULL), MLA_OK);
	assert_int_equal(store_checkpoint_put(s, 1, "t\n\n\xe2\x80\x94 me A\n", 12, 1, NULL),
			 MLA_OK);
	assert_int_equal(store_checkpoint_cosign(s, 1, "w", "\xe2\x80\x94 w B\n", NULL), MLA_OK);
	assert_int_equal(store_checkpoint_cosign(s, 1, "w", "\xe2\x80\x94 w C\n", NULL), MLA_OK);
	assert_int_equal(store_checkpoint_get(s, 1, &note, NULL, NULL), MLA_OK);
	assert_string_equal((const char *)note.data,
			    "t\n\n\xe2\x80\x94 me A\n\xe2\x80\x94 w B\n");
	mla_buf_free(&note);
	assert_int_equal(store_checkpoint_cosign(s, 2, "w", "\xe2\x80\x94 w B\n", NULL),
			 MLA_ERR_NOT_FOUND);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_witnessing),
		T(test_put_get_duplicate),
		T(test_due_order_filter_max),
		T(test_state_transitions_history),
		T(test_receipt_storage),
		T(test_recover_requeues_in_flight),
		T(test_inbox_lookup_put_negative),
		T(test_alerts_count),
		T(test_group_commit_100),
		T(test_rollback_discards),
		T(test_durability_sigkill),
		T(test_wake_peer),
		T(test_overdue),
		T(test_audit_dense),
		T(test_audit_leaves),
		T(test_checkpoints),
		T(test_idempotency_keys),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
