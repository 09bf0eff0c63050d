/* Audit entry version 4 (protocol/SPEC.md section 14): the events resealed, recovered,
 * clock-stepped and audit-key-changed, written only in it; its golden vector; what serialize and parse refuse. */
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

static const char v4_text[] =
	"mlagw-audit-entry/4\n"
	"seq 43\n"
	"time 2026-11-27T20:50:47.123Z\n"
	"event resealed\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action request\n"
	"from CO\n"
	"to ES\n"
	"actor gateway\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
	"error replay\n"
	"reason -\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n"
	"audit-cert-sha256 -\n";

/* The vector's entry: a message sealed again after its first seal was refused for replay. */
static void v4_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 43;
	e->time_ms = INT64_C(1795812647123); /* 2026-11-27T20:50:47.123Z */
	e->event = MLA_AUDIT_RESEALED;
	put(e->message_id, sizeof(e->message_id), "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f");
	put(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042");
	put(e->kind, sizeof(e->kind), "mla");
	put(e->action, sizeof(e->action), "request");
	put(e->from, sizeof(e->from), "CO");
	put(e->to, sizeof(e->to), "ES");
	put(e->actor, sizeof(e->actor), "gateway");
	put(e->error, sizeof(e->error), "replay");
	e->has_envelope_sha256 = e->has_receipt_sha256 = e->has_prev_envelope_sha256 = 1;
	for (size_t i = 0; i < 32; i++) {
		e->envelope_sha256[i] = (uint8_t)i;
		e->receipt_sha256[i] = (uint8_t)(32 + i);
		e->prev_envelope_sha256[i] = (uint8_t)(64 + i);
	}
}

static void test_v4_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v4_entry(&e);
	check_vector(&e, v4_text, 543,
		     "b35bc0b3eb99adc6fa24fb9f610ec8e054d5a7484b55dfb922bc9170f7ffc98a");
	roundtrip(&e, 4);
}

/* recovered and clock-stepped, and the longest version 4 entry within the entry limit. */
static void test_v4_events(void **state)
{
	mla_audit_entry e;
	mla_buf b;

	(void)state;
	v4_entry(&e);
	e.event = MLA_AUDIT_RECOVERED;
	memset(e.error, 0, sizeof(e.error));
	e.has_prev_envelope_sha256 = 0;
	memset(e.prev_envelope_sha256, 0, 32);
	put(e.actor, sizeof(e.actor), "ES");
	put(e.reason, sizeof(e.reason), "re-fetched from ES after a store loss");
	roundtrip(&e, 4);

	mla_audit_entry_init(&e);
	e.time_ms = INT64_C(1795812647123);
	e.event = MLA_AUDIT_CLOCK_STEPPED;
	put(e.actor, sizeof(e.actor), "gateway");
	put(e.reason, sizeof(e.reason), "wall clock stepped back 2000 ms");
	roundtrip(&e, 4);

	mla_audit_entry_init(&e);
	e.time_ms = INT64_C(1795812647123);
	e.event = MLA_AUDIT_AUDIT_KEY_CHANGED;
	put(e.actor, sizeof(e.actor), "gateway");
	e.has_audit_cert_sha256 = 1;
	memset(e.audit_cert_sha256, 0xa5, 32);
	roundtrip(&e, 4);

	v4_entry(&e);
	e.has_audit_cert_sha256 = 1; /* not allowed with resealed: only for the length */
	memset(e.case_id, 'C', MLA_CASE_ID_MAX);
	memset(e.reason, 'r', MLA_AUDIT_REASON_MAX);
	memset(e.actor, 0, sizeof(e.actor));
	memcpy(e.actor, "authority:", 10);
	memset(e.actor + 10, 'a', MLA_AUDIT_ACTOR_NAME_MAX);
	put(e.error, sizeof(e.error), "receipt-mismatch");
	e.seq = UINT64_MAX;
	assert_int_equal(ser(&e, &b), MLA_ERR_ARG);
	mla_buf_free(&b);
	e.has_audit_cert_sha256 = 0;
	assert_int_equal(ser(&e, &b), MLA_OK);
	/* the longest: the resealed lines plus a 64-digit audit-cert-sha256 */
	assert_true(b.len + 64 <= MLA_AUDIT_ENTRY_MAX);
	mla_buf_free(&b);
}

/* Serialize refuses a version 4 event without what it requires, or with what it forbids. */
static void test_v4_serialize_refuses(void **state)
{
	mla_audit_entry e;
	mla_buf b;

	(void)state;
#define REFUSED(edit)                                                                       \
	do {                                                                                \
		v4_entry(&e);                                                               \
		edit;                                                                       \
		assert_int_equal(ser(&e, &b), MLA_ERR_ARG);                                 \
		assert_int_equal(b.len, 0);                                                 \
		mla_buf_free(&b);                                                           \
	} while (0)
	REFUSED(e.has_prev_envelope_sha256 = 0);
	REFUSED(e.has_envelope_sha256 = 0);
	REFUSED(e.has_receipt_sha256 = 0);
	REFUSED(memset(e.error, 0, sizeof(e.error)));
	REFUSED(memset(e.message_id, 0, sizeof(e.message_id)));
	REFUSED(e.count = 2);
	/* only resealed names a previous seal */
	REFUSED(e.event = MLA_AUDIT_SENT);
	REFUSED((e.event = MLA_AUDIT_RECOVERED, memset(e.error, 0, sizeof(e.error))));
	/* recovered needs the envelope and the receipt the peer gave back */
	REFUSED((e.event = MLA_AUDIT_RECOVERED, memset(e.error, 0, sizeof(e.error)),
		 e.has_prev_envelope_sha256 = 0, e.has_receipt_sha256 = 0));
	/* clock-stepped names no message or digest, and says the step in its reason */
	REFUSED((e.event = MLA_AUDIT_CLOCK_STEPPED, memset(e.error, 0, sizeof(e.error)),
		 e.has_prev_envelope_sha256 = 0, memset(e.message_id, 0, sizeof(e.message_id)),
		 e.has_envelope_sha256 = e.has_receipt_sha256 = 0));
	REFUSED((e.event = MLA_AUDIT_CLOCK_STEPPED, memset(e.error, 0, sizeof(e.error)),
		 e.has_prev_envelope_sha256 = 0, memset(e.message_id, 0, sizeof(e.message_id)),
		 put(e.reason, sizeof(e.reason), "stepped")));
	/* audit-key-changed names the next certificate, and only it does */
	REFUSED((e.event = MLA_AUDIT_AUDIT_KEY_CHANGED, memset(e.error, 0, sizeof(e.error)),
		 e.has_prev_envelope_sha256 = 0, memset(e.message_id, 0, sizeof(e.message_id)),
		 e.has_envelope_sha256 = e.has_receipt_sha256 = 0));
	REFUSED((e.has_audit_cert_sha256 = 1));
#undef REFUSED
}

/* v4_text with from replaced by to: refused by parse. */
static void mutate(const char *from, const char *to)
{
	if (parse_edited(v4_text, from, to) != MLA_ERR_HEADER)
		fail_msg("replacing '%s' by '%s' was not refused", from, to);
}

static void test_v4_canonical(void **state)
{
	(void)state;
	mutate("mlagw-audit-entry/4\n", "mlagw-audit-entry/3\n");
	mutate("mlagw-audit-entry/4\n", "mlagw-audit-entry/5\n");
	mutate("count 1\n", "count 2\n");
	mutate("count 1\n", "");
	mutate("prev-origin -\n", "prev-origin mlagw.es/audit\n");
	mutate("prev-size -\n", "prev-size 1\n");
	mutate("prev-root -\n", "");
	mutate("prev-envelope-sha256 4041", "prev-envelope-sha256 4G41");
	mutate("prev-envelope-sha256 4041", "prev-envelope-sha256 -\nx 4041");
	mutate("audit-cert-sha256 -\n", "audit-cert-sha256 -\nextra x\n");
	mutate("audit-cert-sha256 -\n", "audit-cert-sha256 -");
	mutate("audit-cert-sha256 -\n", "");
	mutate("5e5f\n", "5E5F\n");
	mutate("audit-cert-sha256 -\n", "audit-cert-sha256 00\n");
	/* an earlier event in version 4, a version 4 event in an earlier version */
	mutate("event resealed\n", "event sent\n");
	{
		mla_audit_entry e;
		mla_diag d = {0};
		char v1[1024];
		const char *reason = strstr(v4_text, "reason -\n");
		int n = snprintf(v1, sizeof(v1), "mlagw-audit-entry/1%.*s",
				 (int)(reason + strlen("reason -\n") - (v4_text + 19)),
				 v4_text + 19);

		assert_true(n > 0 && (size_t)n < sizeof(v1));
		assert_int_equal(mla_audit_entry_parse((const uint8_t *)v1, (size_t)n, &e, &d),
				 MLA_ERR_HEADER);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_vector),
		cmocka_unit_test(test_v4_events),
		cmocka_unit_test(test_v4_serialize_refuses),
		cmocka_unit_test(test_v4_canonical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
