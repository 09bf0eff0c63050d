/* Audit entry version 5 (protocol/SPEC.md section 14): the entries naming a Kind or Action of
 * envelope version 2 only, written only in it, every other line as in the version the entry
 * would otherwise have; its golden vector; what serialize and parse refuse. */
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

static const char v5_text[] =
	"mlagw-audit-entry/5\n"
	"seq 44\n"
	"time 2026-11-27T20:51:47.123Z\n"
	"event received\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind production-order\n"
	"action postponed\n"
	"from ES\n"
	"to CO\n"
	"actor ES\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
	"error -\n"
	"reason -\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 -\n"
	"audit-cert-sha256 -\n";

/* The vector's entry: a Postponed answer to a production order, received from ES. */
static void v5_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 44;
	e->time_ms = INT64_C(1795812707123); /* 2026-11-27T20:51:47.123Z */
	e->event = MLA_AUDIT_RECEIVED;
	put(e->message_id, sizeof(e->message_id), "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f");
	put(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042");
	put(e->kind, sizeof(e->kind), "production-order");
	put(e->action, sizeof(e->action), "postponed");
	put(e->from, sizeof(e->from), "ES");
	put(e->to, sizeof(e->to), "CO");
	put(e->actor, sizeof(e->actor), "ES");
	e->has_envelope_sha256 = e->has_receipt_sha256 = 1;
	for (size_t i = 0; i < 32; i++) {
		e->envelope_sha256[i] = (uint8_t)i;
		e->receipt_sha256[i] = (uint8_t)(32 + i);
	}
}

static void test_v5_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v5_entry(&e);
	check_vector(&e, v5_text, 485,
		     "0b0201bd42fae1082b4e2aba6dc68eeeee2c119d0a1bbfea78ebfb25bf62df60");
	roundtrip(&e, 5);
}

/* The vocabulary: which envelope version first names each value. */
static void test_vocabulary_versions(void **state)
{
	static const char *const kinds2[] = {"spontaneous-information", "production-order",
					     "preservation-order"};
	static const char *const actions2[] = {"postponed", "forwarded", "in-execution", "closed",
					       "deadline-extended", "retrieved", "not-retrieved",
					       "other-channel", "person-arrested",
					       "surrender-consented"};

	(void)state;
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(mla_kind_version(kinds2[i]), 2);
	for (size_t i = 0; i < sizeof(actions2) / sizeof(actions2[0]); i++)
		assert_int_equal(mla_action_version(actions2[i]), 2);
	assert_int_equal(mla_kind_version("evidence"), 1);
	assert_int_equal(mla_kind_version("information-exchange"), 1);
	assert_int_equal(mla_action_version("withdrawn"), 1);
	assert_int_equal(mla_action_version("request"), 1);
	assert_int_equal(mla_kind_version("postponed"), 0);
	assert_int_equal(mla_action_version("production-order"), 0);
	assert_int_equal(mla_kind_version(""), 0);
}

/* Each new Kind and each new Action makes a version 5 entry; an entry naming only version 1
 * values keeps its version. */
static void test_v5_each_value(void **state)
{
	static const char *const kinds2[] = {"spontaneous-information", "production-order",
					     "preservation-order"};
	static const char *const actions2[] = {"postponed", "forwarded", "in-execution", "closed",
					       "deadline-extended", "retrieved", "not-retrieved",
					       "other-channel", "person-arrested",
					       "surrender-consented"};
	mla_audit_entry e;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		v5_entry(&e);
		put(e.kind, sizeof(e.kind), kinds2[i]);
		put(e.action, sizeof(e.action), "request");
		roundtrip(&e, 5);
	}
	for (size_t i = 0; i < sizeof(actions2) / sizeof(actions2[0]); i++) {
		v5_entry(&e);
		put(e.kind, sizeof(e.kind), "mla");
		put(e.action, sizeof(e.action), actions2[i]);
		if (strcmp(actions2[i], "other-channel") == 0) /* its record in the reason */
			put(e.reason, sizeof(e.reason), "other-channel means=fax");
		roundtrip(&e, 5);
		memset(e.kind, 0, sizeof(e.kind)); /* an action alone is enough */
		roundtrip(&e, 5);
	}
	v5_entry(&e);
	put(e.kind, sizeof(e.kind), "evidence");
	put(e.action, sizeof(e.action), "request");
	roundtrip(&e, 1);
}

/* Within version 5 each line holds what the same entry has in the version it would otherwise
 * have: an aggregate's count (2), a resealed's previous seal (4), an epoch link (3). */
static void test_v5_other_versions_fields(void **state)
{
	mla_audit_entry e;

	(void)state;
	v5_entry(&e); /* an aggregate of refusals (version 2 otherwise) */
	e.event = MLA_AUDIT_REJECTED;
	put(e.error, sizeof(e.error), "replay");
	e.count = 499;
	roundtrip(&e, 5);
	e.count = UINT32_MAX;
	roundtrip(&e, 5);

	v5_entry(&e); /* resealed (version 4 otherwise) */
	e.event = MLA_AUDIT_RESEALED;
	put(e.actor, sizeof(e.actor), "gateway");
	put(e.error, sizeof(e.error), "replay");
	e.has_prev_envelope_sha256 = 1;
	memset(e.prev_envelope_sha256, 0x40, 32);
	roundtrip(&e, 5);

	mla_audit_entry_init(&e); /* epoch-opened naming a kind (version 3 otherwise) */
	e.time_ms = INT64_C(1795812707123);
	e.event = MLA_AUDIT_EPOCH_OPENED;
	put(e.kind, sizeof(e.kind), "preservation-order");
	put(e.actor, sizeof(e.actor), "gateway");
	put(e.prev_origin, sizeof(e.prev_origin), "mlagw.es/audit");
	e.prev_size = 1161;
	memset(e.prev_root, 0x11, sizeof(e.prev_root));
	memset(e.prev_sig, 0x22, sizeof(e.prev_sig));
	roundtrip(&e, 5);

	/* the longest version 5 entries stay within the entry limit: every text field at its
	 * maximum, the longest Kind of version 2 and the longest Action */
	v5_entry(&e);
	e.event = MLA_AUDIT_RESEALED;
	e.seq = UINT64_MAX;
	put(e.kind, sizeof(e.kind), "spontaneous-information");
	put(e.action, sizeof(e.action), "additional-information-requested");
	memset(e.case_id, 'C', MLA_CASE_ID_MAX);
	memset(e.reason, 'r', MLA_AUDIT_REASON_MAX);
	memset(e.actor, 0, sizeof(e.actor));
	memcpy(e.actor, "authority:", 10);
	memset(e.actor + 10, 'a', MLA_AUDIT_ACTOR_NAME_MAX);
	put(e.error, sizeof(e.error), "receipt-mismatch");
	e.has_prev_envelope_sha256 = 1;
	roundtrip(&e, 5);
	e.event = MLA_AUDIT_EPOCH_OPENED;
	e.has_prev_envelope_sha256 = e.has_envelope_sha256 = e.has_receipt_sha256 = 0;
	memset(e.envelope_sha256, 0, 32); /* absent digests parse back as zeros */
	memset(e.receipt_sha256, 0, 32);
	memset(e.message_id, 0, sizeof(e.message_id));
	memset(e.error, 0, sizeof(e.error));
	put(e.prev_origin, sizeof(e.prev_origin), "mlagw.es/audit/999999");
	e.prev_size = UINT64_MAX;
	roundtrip(&e, 5);

	mla_audit_entry_init(&e); /* audit-key-changed (version 4 otherwise) */
	e.time_ms = INT64_C(1795812707123);
	e.event = MLA_AUDIT_AUDIT_KEY_CHANGED;
	put(e.action, sizeof(e.action), "closed");
	put(e.actor, sizeof(e.actor), "gateway");
	e.has_audit_cert_sha256 = 1;
	memset(e.audit_cert_sha256, 0xa5, 32);
	roundtrip(&e, 5);
}

/* Serialize holds a version 5 entry to the event's rules, whatever its version. */
static void test_v5_serialize_refuses(void **state)
{
	mla_audit_entry e;
	mla_buf b;

	(void)state;
#define REFUSED(edit)                                                                       \
	do {                                                                                \
		v5_entry(&e);                                                               \
		edit;                                                                       \
		assert_int_equal(ser(&e, &b), MLA_ERR_ARG);                                 \
		assert_int_equal(b.len, 0);                                                 \
		mla_buf_free(&b);                                                           \
	} while (0)
	REFUSED(e.count = 2); /* received is never counted */
	REFUSED(e.count = 0);
	REFUSED(e.has_prev_envelope_sha256 = 1); /* only resealed */
	REFUSED(e.has_audit_cert_sha256 = 1);    /* only audit-key-changed */
	REFUSED(put(e.prev_origin, sizeof(e.prev_origin), "mlagw.es/audit"));
	REFUSED(memset(e.message_id, 0, sizeof(e.message_id)));
	REFUSED(put(e.kind, sizeof(e.kind), "production"));
	REFUSED(put(e.action, sizeof(e.action), "postpone"));
#undef REFUSED
}

static void mutate(const char *from, const char *to)
{
	if (parse_edited(v5_text, from, to) != MLA_ERR_HEADER)
		fail_msg("replacing '%s' by '%s' was not refused", from, to);
}

static void test_v5_canonical(void **state)
{
	(void)state;
	assert_int_equal(parse_edited(v5_text, "count 1\n", "count 1\n"), MLA_OK);
	/* a version 1 entry written as version 5: canonical uniqueness */
	mutate("kind production-order\naction postponed\n", "kind mla\naction request\n");
	mutate("kind production-order\naction postponed\n", "kind evidence\naction -\n");
	mutate("mlagw-audit-entry/5\n", "mlagw-audit-entry/4\n");
	mutate("mlagw-audit-entry/5\n", "mlagw-audit-entry/6\n");
	mutate("count 1\n", "count 0\n");
	mutate("count 1\n", "count 01\n");
	mutate("count 1\n", "count 2\n"); /* received is not counted */
	mutate("count 1\n", "");
	mutate("prev-origin -\n", "prev-origin mlagw.es/audit\n");
	mutate("prev-size -\n", "prev-size 1\n");
	mutate("prev-root -\n", "");
	mutate("prev-envelope-sha256 -\n", "prev-envelope-sha256 " /* only resealed */
	       "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n");
	mutate("audit-cert-sha256 -\n", "audit-cert-sha256 -\nextra x\n");
	mutate("audit-cert-sha256 -\n", "audit-cert-sha256 -");
	mutate("audit-cert-sha256 -\n", "");
	mutate("kind production-order\n", "kind Production-order\n");
}

/* An envelope version 2 Kind or Action in a version 1 to 4 entry is refused: only version 5
 * holds them. */
static void test_v2_values_refused_below_v5(void **state)
{
	static const char v1[] =
		"mlagw-audit-entry/1\nseq 1\ntime 2026-11-27T20:51:47.123Z\nevent submitted\n"
		"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\ncase C-1\nkind mla\n"
		"action request\nfrom CO\nto ES\nactor gateway\nenvelope-sha256 -\n"
		"receipt-sha256 -\nerror -\nreason -\n";
	static const char v2[] =
		"mlagw-audit-entry/2\nseq 43\ntime 2026-11-27T20:48:47.123Z\nevent rejected\n"
		"message -\ncase -\nkind mla\naction request\nfrom CO\nto ES\nactor CO\n"
		"envelope-sha256 -\nreceipt-sha256 -\nerror replay\nreason -\ncount 499\n";
	static const char v3[] =
		"mlagw-audit-entry/3\nseq 0\ntime 2026-11-27T20:49:47.123Z\nevent epoch-opened\n"
		"message -\ncase -\nkind -\naction -\nfrom -\nto -\nactor gateway\n"
		"envelope-sha256 -\nreceipt-sha256 -\nerror -\nreason -\ncount 1\n"
		"prev-origin mlagw.es/audit\nprev-size 1161\n"
		"prev-root AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"prev-signature ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUF"
		"FSU1RVVldYWVpbXF1eX2BhYmM=\n";
	static const char v4[] =
		"mlagw-audit-entry/4\nseq 0\ntime 2026-11-27T20:49:47.123Z\nevent clock-stepped\n"
		"message -\ncase -\nkind mla\naction request\nfrom -\nto -\nactor gateway\n"
		"envelope-sha256 -\nreceipt-sha256 -\nerror -\nreason step -2000 ms\ncount 1\n"
		"prev-origin -\nprev-size -\nprev-root -\nprev-signature -\n"
		"prev-envelope-sha256 -\naudit-cert-sha256 -\n";

	(void)state;
	/* each text is valid as it stands */
	assert_int_equal(parse_edited(v1, "kind mla\n", "kind mla\n"), MLA_OK);
	assert_int_equal(parse_edited(v2, "kind mla\n", "kind mla\n"), MLA_OK);
	assert_int_equal(parse_edited(v3, "kind -\n", "kind -\n"), MLA_OK);
	assert_int_equal(parse_edited(v4, "kind mla\n", "kind mla\n"), MLA_OK);
	assert_int_equal(parse_edited(v1, "kind mla\n", "kind production-order\n"), MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v1, "kind mla\n", "kind spontaneous-information\n"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v1, "action request\n", "action closed\n"), MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v2, "kind mla\n", "kind preservation-order\n"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v2, "action request\n", "action forwarded\n"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v3, "kind -\n", "kind production-order\n"), MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v4, "action request\n", "action in-execution\n"),
			 MLA_ERR_HEADER);
	/* the same entries as version 5 are accepted */
	assert_int_equal(parse_edited(v4, "mlagw-audit-entry/4\nseq 0\ntime 2026-11-27T20:49:47."
				      "123Z\nevent clock-stepped\nmessage -\ncase -\nkind mla\n"
				      "action request\n",
				      "mlagw-audit-entry/5\nseq 0\ntime 2026-11-27T20:49:47.123Z\n"
				      "event clock-stepped\nmessage -\ncase -\nkind mla\n"
				      "action in-execution\n"),
			 MLA_OK);
}

/* The record of a request sent by other means (SPEC 16.11): submitted and received with its
 * reason (means, time, digest); its other events as any. */
static void test_other_channel_reason(void **state)
{
	static const char why[] = "other-channel means=courier sent-at=2026-11-27T20:00:00.000Z "
				  "document-sha256=00112233445566778899aabbccddeeff00112233445566778899"
				  "aabbccddeeff";
	mla_audit_entry e;
	mla_diag d = {0};
	mla_buf b;

	(void)state;
	v5_entry(&e);
	put(e.action, sizeof(e.action), "other-channel");
	assert_int_equal(ser(&e, &b), MLA_ERR_ARG); /* received without the record */
	e.event = MLA_AUDIT_SUBMITTED;
	put(e.actor, sizeof(e.actor), "authority:ca");
	assert_int_equal(mla_audit_entry_serialize(&e, &b, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "reason is required"));
	put(e.reason, sizeof(e.reason), why);
	roundtrip(&e, 5);
	e.event = MLA_AUDIT_SENT; /* sent, delivered: no reason, as any */
	assert_int_equal(ser(&e, &b), MLA_ERR_ARG);
	memset(e.reason, 0, sizeof(e.reason));
	roundtrip(&e, 5);
	put(e.action, sizeof(e.action), "postponed"); /* the rule is the record's only */
	e.event = MLA_AUDIT_SUBMITTED;
	put(e.reason, sizeof(e.reason), why);
	assert_int_equal(ser(&e, &b), MLA_ERR_ARG);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v5_vector),
		cmocka_unit_test(test_vocabulary_versions),
		cmocka_unit_test(test_v5_each_value),
		cmocka_unit_test(test_v5_other_versions_fields),
		cmocka_unit_test(test_v5_serialize_refuses),
		cmocka_unit_test(test_v5_canonical),
		cmocka_unit_test(test_v2_values_refused_below_v5),
		cmocka_unit_test(test_other_channel_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
