/* The audit event protected-viewed (protocol/SPEC.md 14 and 16.12): written as version 5 only,
 * with message and reason required, no receipt digest; its golden vector; what serialize and
 * parse refuse. */
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
#include "mlagw/codec.h"

static const char pv_text[] =
	"mlagw-audit-entry/5\n"
	"seq 45\n"
	"time 2026-11-27T20:52:47.123Z\n"
	"event protected-viewed\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action request\n"
	"from CO\n"
	"to ES\n"
	"actor authority:fiscalia\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 -\n"
	"error -\n"
	"reason witness protection review\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 -\n"
	"audit-cert-sha256 -\n";

static void pv_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 45;
	e->time_ms = INT64_C(1795812767123); /* 2026-11-27T20:52:47.123Z */
	e->event = MLA_AUDIT_PROTECTED_VIEWED;
	put(e->message_id, sizeof(e->message_id), "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f");
	put(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042");
	put(e->kind, sizeof(e->kind), "mla");
	put(e->action, sizeof(e->action), "request");
	put(e->from, sizeof(e->from), "CO");
	put(e->to, sizeof(e->to), "ES");
	put(e->actor, sizeof(e->actor), "authority:fiscalia");
	put(e->reason, sizeof(e->reason), "witness protection review");
	e->has_envelope_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->envelope_sha256[i] = (uint8_t)i;
}

static void test_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	pv_entry(&e);
	check_vector(&e, pv_text, strlen(pv_text),
		     "f2a1dd3883962db1431d3d6527f3685db1d11b2a05b5db43fb8dde388446b032");
}

/* Version 5 whatever its kind and action: a version 2 value keeps it there too. */
static void test_v2_kind_still_v5(void **state)
{
	mla_audit_entry e, back;
	mla_diag d = {0};
	mla_buf b;

	(void)state;
	pv_entry(&e);
	put(e.kind, sizeof(e.kind), "production-order");
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_memory_equal(b.data, "mlagw-audit-entry/5\n", 20);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	mla_buf_free(&b);
}

/* The same lines under another version, a missing reason or message, a receipt digest or a
 * count: refused. */
static void test_refused(void **state)
{
	mla_audit_entry e;
	mla_diag d = {0};
	mla_buf b;
	char *t;

	(void)state;
	for (int v = 1; v <= 4; v++) {
		t = strdup(pv_text);
		assert_non_null(t);
		t[18] = (char)('0' + v);
		assert_int_equal(mla_audit_entry_parse((const uint8_t *)t, strlen(t), &e, &d),
				 MLA_ERR_HEADER);
		free(t);
	}
	pv_entry(&e);
	e.reason[0] = '\0';
	assert_int_not_equal(ser(&e, &b), MLA_OK);
	mla_buf_free(&b);
	pv_entry(&e);
	e.message_id[0] = '\0';
	assert_int_not_equal(ser(&e, &b), MLA_OK);
	mla_buf_free(&b);
	pv_entry(&e);
	e.has_receipt_sha256 = 1;
	assert_int_not_equal(ser(&e, &b), MLA_OK);
	mla_buf_free(&b);
	pv_entry(&e);
	e.count = 2;
	assert_int_not_equal(ser(&e, &b), MLA_OK);
	mla_buf_free(&b);
	assert_int_equal(mla_audit_event_parse("protected-viewed", &e.event), MLA_OK);
	assert_int_equal(e.event, MLA_AUDIT_PROTECTED_VIEWED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_v2_kind_still_v5),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
