/* Audit entry version 6 (protocol/SPEC.md 14): version 5's lines, then priority and grounds,
 * for the submitted, answered and received entries of case steps. Its golden vector (a
 * Refused answer with two grounds received from ES); an entry with a priority is only ever
 * version 6 and one without never is; what the priority and grounds rules refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_entry_fx.h"
#include "mlagw/audit_entry.h"
#include "mlagw/buf.h"
#include "mlagw/codec.h"

#define V6_LEAF "33579e40ec1dfd479433158fed090c437136940a9d7d8e68d37f5b3df1b9bea9"

static const char v6_text[] =
	"mlagw-audit-entry/6\n"
	"seq 46\n"
	"time 2026-11-27T20:53:47.123Z\n"
	"event received\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action refused\n"
	"from ES\n"
	"to CO\n"
	"actor ES\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 -\n"
	"error -\n"
	"reason -\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 -\n"
	"audit-cert-sha256 -\n"
	"priority urgent\n"
	"grounds untoc-18-21-a,untoc-18-21-d\n";

static void v6_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 46;
	e->time_ms = INT64_C(1795812827123); /* 2026-11-27T20:53:47.123Z */
	e->event = MLA_AUDIT_RECEIVED;
	put(e->message_id, sizeof(e->message_id), "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f");
	put(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042");
	put(e->kind, sizeof(e->kind), "mla");
	put(e->action, sizeof(e->action), "refused");
	put(e->from, sizeof(e->from), "ES");
	put(e->to, sizeof(e->to), "CO");
	put(e->actor, sizeof(e->actor), "ES");
	put(e->priority, sizeof(e->priority), "urgent");
	put(e->grounds, sizeof(e->grounds), "untoc-18-21-a,untoc-18-21-d");
	e->has_envelope_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->envelope_sha256[i] = (uint8_t)i;
}

static void test_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v6_entry(&e);
	check_vector(&e, v6_text, 459, V6_LEAF);
}

/* A priority makes any entry version 6 (a version 2 Kind too); without one it is what it was
 * (the v5 vector's entry stays version 5, a v1 step version 1). */
static void test_which_version(void **state)
{
	mla_audit_entry e, back;
	mla_diag d = {0};
	mla_buf b;

	(void)state;
	v6_entry(&e);
	put(e.kind, sizeof(e.kind), "production-order");
	e.grounds[0] = '\0';
	put(e.action, sizeof(e.action), "postponed");
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_memory_equal(b.data, "mlagw-audit-entry/6\n", 20);
	assert_non_null(strstr((const char *)b.data, "\ngrounds -\n"));
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	mla_buf_free(&b);
	v6_entry(&e);
	e.priority[0] = '\0';
	e.grounds[0] = '\0';
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_memory_equal(b.data, "mlagw-audit-entry/1\n", 20);
	mla_buf_free(&b);
	/* all three priorities, on the three events */
	const char *const pr[] = {"normal", "urgent", "crisis"};
	const mla_audit_event ev[] = {MLA_AUDIT_SUBMITTED, MLA_AUDIT_ANSWERED, MLA_AUDIT_RECEIVED};
	for (int i = 0; i < 3; i++) {
		v6_entry(&e);
		e.event = ev[i];
		put(e.priority, sizeof(e.priority), pr[i]);
		assert_int_equal(ser(&e, &b), MLA_OK);
		assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
		assert_string_equal(back.priority, pr[i]);
		mla_buf_free(&b);
	}
}

/* The vector under versions 1 to 5, with priority -, an unknown priority, grounds on another
 * action or out of order, repeated, unknown, with an empty item; a priority on another event
 * or without a case: refused. */
static void test_refused(void **state)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{"priority urgent\n", "priority -\n"},
		{"priority urgent\n", "priority high\n"},
		{"priority urgent\n", "priority Urgent\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds untoc-18-21-d,untoc-18-21-a\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds untoc-18-21-a,untoc-18-21-a\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds untoc-18-21-a,\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds ,untoc-18-21-a\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds untoc-18-21-e\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", "grounds untoc-18-21-a untoc-18-21-d\n"},
		{"action refused\n", "action accepted\n"},
		{"event received\n", "event delivered\n"},
		{"event received\n", "event sent\n"},
		{"case CO-FGN/2026.0042\n", "case -\n"},
		{"grounds untoc-18-21-a,untoc-18-21-d\n", ""},
		{"audit-cert-sha256 -\n", "audit-cert-sha256 -\nx 1\n"},
	};
	mla_audit_entry e;
	mla_buf b;
	char t[2048];

	(void)state;
	for (int v = 1; v <= 5; v++) {
		assert_int_equal(mla_snprintf(t, sizeof(t), "%s", v6_text), MLA_OK);
		t[18] = (char)('0' + v);
		assert_int_equal(parse_text(t), MLA_ERR_HEADER);
	}
	assert_int_equal(parse_text(v6_text), MLA_OK);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++)
		if (parse_edited(v6_text, edits[i].from, edits[i].to) != MLA_ERR_HEADER)
			fail_msg("accepted edit %zu: %s", i, edits[i].to);
	/* serialize holds the same rules */
	v6_entry(&e);
	e.priority[0] = '\0';
	assert_int_not_equal(ser(&e, &b), MLA_OK); /* grounds without a priority */
	mla_buf_free(&b);
	v6_entry(&e);
	e.event = MLA_AUDIT_DOCUMENT_FETCHED;
	put(e.reason, sizeof(e.reason), "legal review");
	assert_int_not_equal(ser(&e, &b), MLA_OK);
	mla_buf_free(&b);
	/* every ground, once each, in order: the longest grounds line, within the bounds */
	mla_buf all;
	mla_audit_entry back;
	mla_diag d = {0};
	mla_buf_init(&all, MLA_AUDIT_GROUNDS_MAX);
	for (int k = 0; mla_audit_grounds[k] != NULL; k++)
		assert_int_equal(mla_buf_printf(&all, "%s%s", k > 0 ? "," : "",
						mla_audit_grounds[k]), MLA_OK);
	assert_int_equal(mla_buf_terminate(&all), MLA_OK);
	v6_entry(&e);
	put(e.grounds, sizeof(e.grounds), (const char *)all.data);
	mla_buf_free(&all);
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_string_equal(back.grounds, e.grounds);
	mla_buf_free(&b);
}

/* mla_audit_grounds_add keeps the field canonical whatever order the document names them in. */
static void test_grounds_add(void **state)
{
	char g[MLA_AUDIT_GROUNDS_MAX + 1] = "";
	char small[12] = "";

	(void)state;
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "bank-secrecy"), MLA_OK);
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "untoc-18-21-d"), MLA_OK);
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "bank-secrecy"), MLA_OK);
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "untoc-18-21-a"), MLA_OK);
	assert_string_equal(g, "untoc-18-21-a,untoc-18-21-d,bank-secrecy");
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), "untoc-18-21-z"), MLA_ERR_ARG);
	assert_int_equal(mla_audit_grounds_add(g, sizeof(g), ""), MLA_ERR_ARG);
	assert_string_equal(g, "untoc-18-21-a,untoc-18-21-d,bank-secrecy");
	assert_int_equal(mla_audit_grounds_add(small, sizeof(small), "eio-11-1-a"), MLA_OK);
	assert_int_equal(mla_audit_grounds_add(small, sizeof(small), "eio-11-1-b"),
			 MLA_ERR_TOO_LARGE);
	assert_string_equal(small, "eio-11-1-a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_which_version),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_grounds_add),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
