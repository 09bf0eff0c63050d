/* Unit tests of the audit entry serialization (protocol/audit_entry.c): round trips for every
 * event, refusal of invalid fields, canonicality of the parser (every deviation from the one
 * accepted byte string is refused), the leaf hash, and the golden vector of the SPEC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"

/* The golden vector of protocol/SPEC.md section 14, "Entry serialization". */
static const char golden_text[] =
	"mlagw-audit-entry/1\n"
	"seq 42\n"
	"time 2026-11-27T20:47:47.123Z\n"
	"event document-fetched\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action request\n"
	"from CO\n"
	"to ES\n"
	"actor agency:policia-judicial\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 -\n"
	"error -\n"
	"reason Ejecuci\xc3\xb3n de la solicitud\n";
static const char golden_leaf_hex[] =
	"3e97caaf0ed2b2fae2ba27023add218d8d4ee3efe5e7080659491b26fba64951";

static void golden_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 42;
	e->time_ms = INT64_C(1795812467123); /* 2026-11-27T20:47:47.123Z */
	e->event = MLA_AUDIT_DOCUMENT_FETCHED;
	assert_int_equal(mla_snprintf(e->message_id, sizeof(e->message_id), "%s",
			"6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"), MLA_OK);
	assert_int_equal(mla_snprintf(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042"), MLA_OK);
	assert_int_equal(mla_snprintf(e->kind, sizeof(e->kind), "mla"), MLA_OK);
	assert_int_equal(mla_snprintf(e->action, sizeof(e->action), "request"), MLA_OK);
	assert_int_equal(mla_snprintf(e->from, sizeof(e->from), "CO"), MLA_OK);
	assert_int_equal(mla_snprintf(e->to, sizeof(e->to), "ES"), MLA_OK);
	assert_int_equal(mla_snprintf(e->actor, sizeof(e->actor), "agency:policia-judicial"),
			MLA_OK);
	e->has_envelope_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->envelope_sha256[i] = (uint8_t)i;
	assert_int_equal(mla_snprintf(e->reason, sizeof(e->reason),
			"Ejecuci\xc3\xb3n de la solicitud"), MLA_OK);
}

/* Sets a string field with a zero tail, so that equal entries compare equal with memcmp. */
#define PUT(f, v)                                                                           \
	do {                                                                                \
		memset(e.f, 0, sizeof(e.f));                                                \
		assert_int_equal(mla_strcpy(e.f, sizeof(e.f), v), MLA_OK);                  \
	} while (0)

/* serialize into a fresh buffer; returns the code, the bytes in *out (caller frees). */
static mla_err ser(const mla_audit_entry *e, mla_buf *out, mla_diag *diag)
{
	mla_buf_init(out, MLA_AUDIT_ENTRY_MAX);
	return mla_audit_entry_serialize(e, out, diag);
}

static void assert_roundtrip(const mla_audit_entry *e)
{
	mla_audit_entry back;
	mla_buf b, b2;
	mla_diag d = {0};

	assert_int_equal(ser(e, &b, &d), MLA_OK);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_memory_equal(e, &back, sizeof(back));
	assert_int_equal(ser(&back, &b2, &d), MLA_OK);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.data, b2.data, b.len);
	mla_buf_free(&b);
	mla_buf_free(&b2);
}

static int contains(mla_buf *b, const char *s)
{
	assert_int_equal(mla_buf_terminate(b), MLA_OK);
	return strstr((const char *)b->data, s) != NULL;
}

/* ---- round trips ---- */

/* What the version 4 events need on top of the golden entry (tests/unit/test_audit_entry_v4.c
 * tests them in detail). */
static void v4_fields(mla_audit_entry *e)
{
	switch (e->event) {
	case MLA_AUDIT_RESEALED:
		assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "replay"), MLA_OK);
		e->has_prev_envelope_sha256 = 1;
		memset(e->prev_envelope_sha256, 0x77, 32);
		/* a receipt, as for recovered */
		/* fall through */
	case MLA_AUDIT_RECOVERED:
		e->has_receipt_sha256 = e->has_envelope_sha256 = 1;
		memset(e->receipt_sha256, 0x66, 32);
		break;
	case MLA_AUDIT_AUDIT_KEY_CHANGED:
		memset(e->message_id, 0, sizeof(e->message_id));
		e->has_envelope_sha256 = e->has_receipt_sha256 = 0;
		memset(e->envelope_sha256, 0, 32);
		memset(e->receipt_sha256, 0, 32);
		e->has_audit_cert_sha256 = 1;
		memset(e->audit_cert_sha256, 0x3d, 32);
		break;
	case MLA_AUDIT_CLOCK_STEPPED:
		memset(e->message_id, 0, sizeof(e->message_id));
		e->has_envelope_sha256 = e->has_receipt_sha256 = 0;
		memset(e->envelope_sha256, 0, 32);
		memset(e->receipt_sha256, 0, 32);
		assert_int_equal(mla_strcpy(e->reason, sizeof(e->reason), "step -2000 ms"), MLA_OK);
		break;
	case MLA_AUDIT_PROTECTED_VIEWED: /* version 5 only (test_audit_entry_protected.c) */
		e->has_receipt_sha256 = 0;
		memset(e->receipt_sha256, 0, 32);
		memset(e->reason, 0, sizeof(e->reason));
		assert_int_equal(mla_strcpy(e->reason, sizeof(e->reason), "legal review"), MLA_OK);
		break;
	case MLA_AUDIT_DIRECTORY_ADOPTED: /* version 8 only (test_audit_entry_v8.c) */
		memset(e->message_id, 0, sizeof(e->message_id));
		e->has_envelope_sha256 = e->has_receipt_sha256 = 0;
		memset(e->envelope_sha256, 0, 32);
		memset(e->receipt_sha256, 0, 32);
		assert_int_equal(mla_strcpy(e->dir_publisher, sizeof(e->dir_publisher), "ES"),
				 MLA_OK);
		e->dir_serial = 42;
		e->dir_issued = 1796378400;  /* 2026-12-04T10:00:00Z */
		e->dir_expires = 1796983200; /* 2026-12-11T10:00:00Z */
		e->has_dir_sha256 = 1;
		memset(e->dir_sha256, 0x4e, 32);
		break;
	case MLA_AUDIT_DIRECTORY_REFUSED: /* version 9 only (test_audit_entry_v9.c) */
		memset(e->message_id, 0, sizeof(e->message_id));
		e->has_envelope_sha256 = e->has_receipt_sha256 = 0;
		memset(e->envelope_sha256, 0, 32);
		memset(e->receipt_sha256, 0, 32);
		assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "sig-invalid"), MLA_OK);
		break;
	default:
		break;
	}
}

static void test_every_event(void **state)
{
	(void)state;
	for (unsigned ev = 0; ev < MLA_AUDIT_EVENT_N; ev++) {
		mla_audit_entry e;
		mla_audit_event back;

		golden_entry(&e);
		e.event = (mla_audit_event)ev;
		e.seq = ev * 1000u;
		PUT(reason, "");
		if (ev == MLA_AUDIT_CONFIG_RELOADED || ev == MLA_AUDIT_KEY_CHANGED)
			PUT(message_id, "");
		if (ev == MLA_AUDIT_REJECTED || ev == MLA_AUDIT_FAILED ||
		    ev == MLA_AUDIT_ACCESS_DENIED)
			PUT(error, ev == MLA_AUDIT_FAILED ? "deadline" : "sig-invalid");
		if (ev == MLA_AUDIT_DOCUMENT_FETCHED || ev == MLA_AUDIT_KEY_CHANGED)
			PUT(reason, "signing key renewed");
		if (ev == MLA_AUDIT_DELIVERED) {
			e.has_receipt_sha256 = 1;
			memset(e.receipt_sha256, 0xab, 32);
			PUT(actor, "ES");
		}
		if (ev == MLA_AUDIT_SENT)
			PUT(actor, "gateway");
		if (ev == MLA_AUDIT_EPOCH_OPENED) {
			PUT(message_id, "");
			PUT(prev_origin, "mlagw.es/audit");
			e.prev_size = 7;
		}
		v4_fields(&e);
		assert_roundtrip(&e);
		assert_int_equal(mla_audit_event_parse(mla_audit_event_name(e.event), &back),
				 MLA_OK);
		assert_int_equal(back, e.event);
	}
	assert_null(mla_audit_event_name(MLA_AUDIT_EVENT_N));
}

/* Every optional field absent, and the extremes of seq and time. */
static void test_minimal_and_extremes(void **state)
{
	mla_audit_entry e;
	mla_buf b;
	mla_diag d = {0};
	static const char minimal[] = "mlagw-audit-entry/1\nseq 0\ntime 1970-01-01T00:00:00.000Z\n"
				      "event config-reloaded\nmessage -\ncase -\nkind -\naction -\n"
				      "from -\nto -\nactor gateway\nenvelope-sha256 -\n"
				      "receipt-sha256 -\nerror -\nreason -\n";

	(void)state;
	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_CONFIG_RELOADED;
	assert_int_equal(mla_snprintf(e.actor, sizeof(e.actor), "gateway"), MLA_OK);
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_int_equal(b.len, strlen(minimal));
	assert_memory_equal(b.data, minimal, b.len);
	mla_buf_free(&b);
	assert_roundtrip(&e);

	e.seq = UINT64_MAX;
	e.time_ms = MLA_AUDIT_TIME_MAX_MS;
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_true(contains(&b, "seq 18446744073709551615\ntime 9999-12-31T23:59:59.999Z\n"));
	mla_buf_free(&b);
	assert_roundtrip(&e);

	e.time_ms = INT64_C(1709164800000); /* 2024-02-29T00:00:00.000Z, a leap day */
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_true(contains(&b, "time 2024-02-29T00:00:00.000Z\n"));
	mla_buf_free(&b);
	assert_roundtrip(&e);
}

/* ---- serialize refuses invalid entries, naming the field ---- */

static void refuse(const mla_audit_entry *e, const char *field)
{
	mla_buf b;
	mla_diag d = {0};

	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_buf_append(&b, "x", 1), MLA_OK);
	assert_int_equal(mla_audit_entry_serialize(e, &b, &d), MLA_ERR_ARG);
	assert_int_equal(b.len, 1); /* unchanged */
	if (strstr(d.msg, field) == NULL)
		fail_msg("message '%s' does not name '%s'", d.msg, field);
	mla_buf_free(&b);
}

#define REFUSE(field, stmt)                                                                 \
	do {                                                                                \
		mla_audit_entry e_;                                                         \
		golden_entry(&e_);                                                          \
		{                                                                           \
			mla_audit_entry *e = &e_;                                           \
			stmt;                                                               \
		}                                                                           \
		refuse(&e_, field);                                                         \
	} while (0)

#define SET(f, v) assert_int_equal(mla_strcpy(e->f, sizeof(e->f), v), MLA_OK)

static void test_serialize_refuses(void **state)
{
	char longer[MLA_AUDIT_REASON_MAX + 1];

	(void)state;
	REFUSE("time", e->time_ms = -1);
	REFUSE("time", e->time_ms = MLA_AUDIT_TIME_MAX_MS + 1);
	REFUSE("event", e->event = MLA_AUDIT_EVENT_N);
	REFUSE("message", SET(message_id, "6F0C2A4E-8B1D-4C3A-9E5F-7A6B8C9D0E1F"));
	REFUSE("message", SET(message_id, "6f0c2a4e8b1d4c3a9e5f7a6b8c9d0e1f"));
	REFUSE("case", SET(case_id, "CO 2026"));
	REFUSE("kind", SET(kind, "gossip"));
	REFUSE("action", SET(action, "Request"));
	REFUSE("from", SET(from, "Co"));
	REFUSE("to", SET(to, "E"));
	REFUSE("actor", SET(actor, ""));
	REFUSE("actor", SET(actor, "root:someone"));
	REFUSE("actor", SET(actor, "agency:"));
	REFUSE("actor", SET(actor, "agency: x"));
	REFUSE("actor", SET(actor, "agency:a\nb"));
	REFUSE("actor", SET(actor, "es"));
	REFUSE("error", e->event = MLA_AUDIT_REJECTED; e->reason[0] = '\0'; SET(error, "nope"));
	REFUSE("error", e->event = MLA_AUDIT_REJECTED; e->reason[0] = '\0');
	REFUSE("error", SET(error, "sig-invalid"));
	REFUSE("reason", e->reason[0] = '\0');
	REFUSE("reason", e->event = MLA_AUDIT_SENT);
	REFUSE("reason", SET(reason, "-"));
	REFUSE("reason", SET(reason, " leading space"));
	REFUSE("reason", SET(reason, "trailing space "));
	REFUSE("reason", SET(reason, "tab\there"));
	REFUSE("reason", SET(reason, "cr\rlf"));
	REFUSE("reason", SET(reason, "del\x7f"));
	REFUSE("reason", SET(reason, "c1 \xc2\x85"));
	REFUSE("reason", SET(reason, "bidi \xe2\x80\xae override"));
	REFUSE("reason", SET(reason, "bad \xc3 utf8"));
	REFUSE("reason", SET(reason, "overlong \xc0\xaf"));
	REFUSE("message", e->event = MLA_AUDIT_SUBMITTED; e->reason[0] = '\0';
	e->message_id[0] = '\0');
	REFUSE("message", e->event = MLA_AUDIT_KEY_CHANGED);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	{
		mla_audit_entry e;
		mla_buf b;
		mla_diag d = {0};

		golden_entry(&e);
		memcpy(e.reason, longer, sizeof(longer)); /* exactly 200 bytes: accepted */
		assert_roundtrip(&e);
		/* 201 bytes cannot be in the struct; the parser refuses them (test_canonical). */
		/* an output buffer too small: MLA_ERR_TOO_LARGE, unchanged */
		mla_buf_init(&b, 100);
		assert_int_equal(mla_audit_entry_serialize(&e, &b, &d), MLA_ERR_TOO_LARGE);
		assert_int_equal(b.len, 0);
		mla_buf_free(&b);
	}
}

/* ---- canonicality: every deviation from the golden bytes is refused ---- */

/* golden_text with the first occurrence of from replaced by to, parsed: must be refused. */
static void mutate(const char *from, const char *to, mla_err want)
{
	char buf[2048];
	const char *at = strstr(golden_text, from);
	size_t pre, n;
	mla_audit_entry e;
	mla_diag d = {0};

	if (at == NULL)
		fail_msg("'%s' not in the golden text", from);
	pre = (size_t)(at - golden_text);
	n = (size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, golden_text, to,
			     at + strlen(from));
	assert_true(n < sizeof(buf));
	if (mla_audit_entry_parse((const uint8_t *)buf, n, &e, &d) != want)
		fail_msg("replacing '%s' by '%s' was not refused with %d", from, to, want);
	assert_true(d.msg[0] != '\0');
}

#define BAD(from, to) mutate(from, to, MLA_ERR_HEADER)

static void test_canonical(void **state)
{
	mla_audit_entry e;
	mla_diag d = {0};
	char reason201[MLA_AUDIT_REASON_MAX + 16];

	(void)state;
	assert_int_equal(mla_audit_entry_parse((const uint8_t *)golden_text, strlen(golden_text),
					       &e, &d),
			 MLA_OK);
	/* structure */
	BAD("mlagw-audit-entry/1\n", "mlagw-audit-entry/2\n");
	BAD("mlagw-audit-entry/1\n", "");
	BAD("from CO\nto ES\n", "to ES\nfrom CO\n");           /* reordered */
	BAD("kind mla\n", "");                                   /* missing */
	BAD("kind mla\n", "kind mla\nkind mla\n");               /* duplicated */
	BAD("reason Ejecuci\xc3\xb3n de la solicitud\n", "");    /* last one missing */
	BAD("error -\n", "error -\nextra x\n");                  /* unknown field */
	BAD("error -\n", "Error -\n");
	/* spaces */
	BAD("seq 42", "seq  42");
	BAD("seq 42", "seq 42 ");
	BAD("seq 42", "seq\t42");
	BAD("event document-fetched", "event  document-fetched");
	BAD("to ES", "to ES ");
	BAD("reason E", "reason  E");
	BAD("solicitud\n", "solicitud \n");
	BAD("error -", "error");
	BAD("error -", "error ");
	BAD("receipt-sha256 -", "receipt-sha256 --");
	/* line ends and trailing data */
	BAD("seq 42\n", "seq 42\r\n");
	BAD("solicitud\n", "solicitud\r\n");
	BAD("solicitud\n", "solicitud\n\n");
	BAD("solicitud\n", "solicitud\nx");
	BAD("solicitud\n", "solicitud");
	BAD("seq 42\n", "seq 42\n\n");
	/* numbers and time */
	BAD("seq 42", "seq 042");
	BAD("seq 42", "seq +42");
	BAD("seq 42", "seq -1");
	BAD("seq 42", "seq 18446744073709551616");
	BAD("seq 42", "seq 4x");
	BAD("seq 42", "seq -");
	BAD("47.123Z", "47Z");
	BAD("47.123Z", "47.12Z");
	BAD("47.123Z", "47.1230Z");
	BAD("47.123Z", "47.123z");
	BAD("47.123Z", "47.123+00:00");
	BAD("2026-11-27T", "2026-11-27 ");
	BAD("2026-11-27T", "2026-02-30T");
	BAD("2026-11-27T", "2026-02-29T");
	BAD("2026-11-27T", "2026-13-27T");
	BAD("2026-11-27T", "1969-12-31T");
	BAD("T20:47:47", "T24:00:00");
	BAD("T20:47:47", "T20:60:47");
	BAD("T20:47:47", "T20:47:60");
	BAD("time 2026", "time -");
	/* vocabulary and syntax of the fields */
	BAD("event document-fetched", "event document-viewed");
	BAD("event document-fetched", "event Document-fetched");
	BAD("message 6f0c2a4e", "message 6F0C2A4E");
	BAD("case CO-FGN", "case CO FGN");
	BAD("kind mla", "kind MLA");
	BAD("action request", "action req");
	BAD("from CO", "from co");
	BAD("from CO", "from COL");
	BAD("actor agency:", "actor root:");
	BAD("actor agency:policia-judicial", "actor -");
	BAD("0a0b0c0d0e0f", "0A0B0C0D0E0F");                    /* upper-case hex */
	BAD("1e1f\n", "1e\n");                                   /* short digest */
	BAD("1e1f\n", "1e1f00\n");                               /* long digest */
	BAD("1e1f\n", "1e1g\n");
	BAD("error -", "error sig-invalid");                     /* not allowed for the event */
	BAD("reason Ejecuci\xc3\xb3n de la solicitud", "reason -"); /* required */
	BAD("solicitud", "solicitud\t");
	BAD("solicitud", "soli\x01" "citud");
	BAD("solicitud", "soli\x7f" "citud");
	BAD("\xc3\xb3", "\xc3");                                 /* invalid UTF-8 */
	BAD("\xc3\xb3", "\xe2\x80\xa8");                         /* line separator */
	/* NUL in a value (can not be written with BAD: strings) */
	{
		char buf[sizeof(golden_text)];
		memcpy(buf, golden_text, sizeof(buf));
		*strstr(buf, "solicitud") = '\0';
		size_t n = sizeof(golden_text) - 1;
		assert_int_equal(mla_audit_entry_parse((const uint8_t *)buf, n, &e, &d),
				 MLA_ERR_HEADER);
	}
	/* a reason of 201 bytes */
	memset(reason201, 'a', MLA_AUDIT_REASON_MAX + 1);
	reason201[MLA_AUDIT_REASON_MAX + 1] = '\0';
	BAD("Ejecuci\xc3\xb3n de la solicitud", reason201);
	/* empty and oversized input */
	assert_int_equal(mla_audit_entry_parse(NULL, 0, &e, &d), MLA_ERR_HEADER);
	{
		uint8_t big[MLA_AUDIT_ENTRY_MAX + 1];
		memset(big, 'a', sizeof(big));
		assert_int_equal(mla_audit_entry_parse(big, sizeof(big), &e, &d),
				 MLA_ERR_TOO_LARGE);
	}
	/* every proper prefix of the golden text is refused */
	for (size_t n = 0; n < strlen(golden_text); n++)
		assert_int_not_equal(mla_audit_entry_parse((const uint8_t *)golden_text, n, &e, &d),
				     MLA_OK);
}

/* ---- the parser accepts only what serialize writes, on many mutated entries ---- */

static uint64_t rng(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One random edit of b (n bytes) in place: replace, insert or delete one byte, the byte
 * drawn mostly from what the format is made of. Returns the new length. */
static size_t edit(uint8_t *b, size_t n, size_t cap, uint64_t *x)
{
	static const char alphabet[] = "0123456789abcdefABCDEFgzZT:.-_/ \n\r\t\x7f\xc3\xb3\xe2\x80";
	size_t at = (size_t)(rng(x) % (n + 1)), op = (size_t)(rng(x) % 3);
	uint8_t c = rng(x) % 8 == 0 ? (uint8_t)rng(x)
				    : (uint8_t)alphabet[rng(x) % (sizeof(alphabet) - 1)];

	if (op == 0 && at < n) {
		b[at] = c;
	} else if (op == 1 && n < cap) {
		memmove(b + at + 1, b + at, n - at);
		b[at] = c;
		n++;
	} else if (at < n) {
		memmove(b + at, b + at + 1, n - at - 1);
		n--;
	}
	return n;
}

/* Whatever parse accepts must serialize back to the same bytes: the property the parser
 * once checked by re-serializing every entry, now held by its readers alone. */
static size_t check_mutations(const mla_audit_entry *base, uint64_t *x, int rounds)
{
	uint8_t buf[MLA_AUDIT_ENTRY_MAX + 64];
	mla_audit_entry e;
	mla_buf b, again;
	mla_diag d = {0};
	size_t accepted = 0;

	assert_int_equal(ser(base, &b, &d), MLA_OK);
	for (int i = 0; i < rounds; i++) {
		size_t n = b.len, edits = 1 + (size_t)(rng(x) % 3);
		memcpy(buf, b.data, n);
		while (edits-- > 0)
			n = edit(buf, n, sizeof(buf), x);
		if (mla_audit_entry_parse(buf, n, &e, &d) != MLA_OK)
			continue;
		accepted++;
		assert_int_equal(ser(&e, &again, &d), MLA_OK);
		if (again.len != n || memcmp(again.data, buf, n) != 0)
			fail_msg("accepted a non-canonical entry:\n%.*s", (int)n, (const char *)buf);
		mla_buf_free(&again);
	}
	mla_buf_free(&b);
	return accepted;
}

static void test_mutations_canonical(void **state)
{
	uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
	size_t accepted = 0;

	(void)state;
	for (unsigned ev = 0; ev < MLA_AUDIT_EVENT_N; ev++) {
		mla_audit_entry e;

		golden_entry(&e);
		e.event = (mla_audit_event)ev;
		e.seq = (uint64_t)ev * 7919u;
		PUT(reason, ev == MLA_AUDIT_DOCUMENT_FETCHED || ev == MLA_AUDIT_ACCESS_DENIED
				    ? "legal review" : "");
		if (ev == MLA_AUDIT_CONFIG_RELOADED || ev == MLA_AUDIT_KEY_CHANGED)
			PUT(message_id, "");
		if (ev == MLA_AUDIT_REJECTED || ev == MLA_AUDIT_FAILED)
			PUT(error, "deadline");
		if (ev == MLA_AUDIT_RECEIPT_ISSUED) {
			e.has_receipt_sha256 = 1;
			memset(e.receipt_sha256, 0x5c, 32);
			PUT(actor, "CO");
		}
		if (ev == MLA_AUDIT_EPOCH_OPENED) {
			PUT(message_id, "");
			PUT(prev_origin, "mlagw.es/audit/41");
			e.prev_size = 1161;
			memset(e.prev_root, 0x3c, sizeof(e.prev_root));
			memset(e.prev_sig, 0xc3, sizeof(e.prev_sig));
		}
		v4_fields(&e);
		accepted += check_mutations(&e, &x, 20000);
	}
	/* some edits keep an entry valid (a digit, a hex digit, a letter of a reason) */
	assert_true(accepted > 1000);
}

/* ---- golden vector and leaf hash ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mla_snprintf(out + 2 * i, 3, "%02x", p[i]), MLA_OK);
}

static void test_golden(void **state)
{
	mla_audit_entry e, back;
	mla_buf b;
	mla_diag d = {0};
	uint8_t leaf[MLA_MERKLE_HASH_LEN], direct[MLA_MERKLE_HASH_LEN];
	char leaf_hex[2 * MLA_MERKLE_HASH_LEN + 1];

	(void)state;
	golden_entry(&e);
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	if (b.len != strlen(golden_text) || memcmp(b.data, golden_text, b.len) != 0)
		fail_msg("golden bytes differ:\n%.*s", (int)b.len, (const char *)b.data);
	assert_int_equal(mla_audit_entry_leaf_hash(&e, leaf, &d), MLA_OK);
	assert_int_equal(mla_merkle_leaf_hash(b.data, b.len, direct), MLA_OK);
	assert_memory_equal(leaf, direct, sizeof(leaf));
	hex(leaf, sizeof(leaf), leaf_hex);
	if (strcmp(leaf_hex, golden_leaf_hex) != 0)
		fail_msg("golden leaf hash is %s", leaf_hex);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_memory_equal(&e, &back, sizeof(e));
	mla_buf_free(&b);
	/* an invalid entry has no leaf hash */
	e.event = MLA_AUDIT_SENT;
	assert_int_equal(mla_audit_entry_leaf_hash(&e, leaf, &d), MLA_ERR_ARG);
}

/* ---- version 2: an aggregate of identical events (count) ---- */

/* The version 2 vector of protocol/SPEC.md section 14: 499 repeats of a refused envelope. */
static const char v2_text[] =
	"mlagw-audit-entry/2\n"
	"seq 43\n"
	"time 2026-11-27T20:48:47.123Z\n"
	"event rejected\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action request\n"
	"from CO\n"
	"to ES\n"
	"actor CO\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
	"error replay\n"
	"reason -\n"
	"count 499\n";
static const char v2_leaf_hex[] =
	"79a4b61c24bfa8f0bcfb44b3718f773729c256d8345852a9314bdd3dee781fcf";

static void v2_entry(mla_audit_entry *e)
{
	golden_entry(e);
	e->seq = 43;
	e->time_ms = INT64_C(1795812527123); /* 2026-11-27T20:48:47.123Z */
	e->event = MLA_AUDIT_REJECTED;
	memset(e->actor, 0, sizeof(e->actor));
	memset(e->reason, 0, sizeof(e->reason));
	assert_int_equal(mla_strcpy(e->actor, sizeof(e->actor), "CO"), MLA_OK);
	assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "replay"), MLA_OK);
	e->has_receipt_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->receipt_sha256[i] = (uint8_t)(32 + i);
	e->count = 499;
}

static void test_v2_vector(void **state)
{
	mla_audit_entry e, back;
	mla_buf b;
	mla_diag d = {0};
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	char leaf_hex[2 * MLA_MERKLE_HASH_LEN + 1];

	(void)state;
	v2_entry(&e);
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	if (b.len != strlen(v2_text) || memcmp(b.data, v2_text, b.len) != 0)
		fail_msg("v2 bytes differ:\n%.*s", (int)b.len, (const char *)b.data);
	assert_int_equal(b.len, 379);
	mla_buf_free(&b);
	assert_int_equal(mla_audit_entry_leaf_hash(&e, leaf, &d), MLA_OK);
	hex(leaf, sizeof(leaf), leaf_hex);
	if (strcmp(leaf_hex, v2_leaf_hex) != 0)
		fail_msg("v2 leaf hash is %s", leaf_hex);
	assert_int_equal(mla_audit_entry_parse((const uint8_t *)v2_text, strlen(v2_text), &back,
					       &d),
			 MLA_OK);
	assert_memory_equal(&e, &back, sizeof(e));
	assert_int_equal(back.count, 499);
	/* a version 1 entry reads as count 1 */
	assert_int_equal(mla_audit_entry_parse((const uint8_t *)golden_text, strlen(golden_text),
					       &back, &d),
			 MLA_OK);
	assert_int_equal(back.count, 1);
}

/* count 1 is version 1, byte for byte; the extremes; receipt-issued may count too. */
static void test_v2_roundtrip(void **state)
{
	mla_audit_entry e;
	mla_buf b;
	mla_diag d = {0};

	(void)state;
	v2_entry(&e);
	e.count = 1;
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_true(contains(&b, "mlagw-audit-entry/1\n"));
	assert_false(contains(&b, "count"));
	mla_buf_free(&b);
	assert_roundtrip(&e);
	e.count = 2;
	assert_roundtrip(&e);
	e.count = UINT32_MAX;
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_true(contains(&b, "reason -\ncount 4294967295\n"));
	mla_buf_free(&b);
	assert_roundtrip(&e);
	e.event = MLA_AUDIT_RECEIPT_ISSUED;
	memset(e.error, 0, sizeof(e.error));
	assert_roundtrip(&e);
}

/* serialize: count 0, and a count above 1 on an event that is not counted */
static void test_v2_serialize_refuses(void **state)
{
	(void)state;
	REFUSE("count", e->count = 0);
	REFUSE("count", e->count = 2);                            /* document-fetched */
	REFUSE("count", e->event = MLA_AUDIT_RECEIVED; e->reason[0] = '\0'; e->count = 7);
}

/* v2_text with the first occurrence of from replaced by to, parsed: must be refused. */
static void mutate_v2(const char *from, const char *to)
{
	char buf[2048];
	const char *at = strstr(v2_text, from);
	size_t pre, n;
	mla_audit_entry e;
	mla_diag d = {0};

	if (at == NULL)
		fail_msg("'%s' not in the v2 text", from);
	pre = (size_t)(at - v2_text);
	n = (size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, v2_text, to,
			     at + strlen(from));
	assert_true(n < sizeof(buf));
	if (mla_audit_entry_parse((const uint8_t *)buf, n, &e, &d) != MLA_ERR_HEADER)
		fail_msg("replacing '%s' by '%s' was not refused", from, to);
	assert_true(d.msg[0] != '\0');
}

static void test_v2_canonical(void **state)
{
	(void)state;
	mutate_v2("count 499\n", "count 0\n");
	mutate_v2("count 499\n", "count 1\n");          /* that entry is version 1 */
	mutate_v2("count 499\n", "count 0499\n");       /* leading zero */
	mutate_v2("count 499\n", "count +499\n");
	mutate_v2("count 499\n", "count 4294967296\n"); /* beyond 2^32 - 1 */
	mutate_v2("count 499\n", "count 499 \n");
	mutate_v2("count 499\n", "count -\n");
	mutate_v2("count 499\n", "");                   /* missing */
	mutate_v2("count 499\n", "count 499\ncount 499\n");
	mutate_v2("count 499\n", "count 499");          /* no final LF */
	mutate_v2("reason -\ncount 499\n", "count 499\nreason -\n"); /* order */
	mutate_v2("mlagw-audit-entry/2\n", "mlagw-audit-entry/1\n"); /* v1 has no count */
	mutate_v2("mlagw-audit-entry/2\n", "mlagw-audit-entry/3\n");
	mutate_v2("event rejected\nmessage", "event sent\nmessage"); /* counted: not allowed */
	mutate_v2("event rejected\nmessage", "event delivered\nmessage");
	/* a version 1 entry followed by a count line */
	BAD("reason Ejecuci\xc3\xb3n de la solicitud\n",
	    "reason Ejecuci\xc3\xb3n de la solicitud\ncount 2\n");
}


/* ---- version 3: epoch-opened, the link to the previous epoch (SPEC 14, "Log epochs") ---- */

static const char v3_text[] =
	"mlagw-audit-entry/3\n"
	"seq 0\n"
	"time 2026-11-27T20:49:47.123Z\n"
	"event epoch-opened\n"
	"message -\n"
	"case -\n"
	"kind -\n"
	"action -\n"
	"from -\n"
	"to -\n"
	"actor gateway\n"
	"envelope-sha256 -\n"
	"receipt-sha256 -\n"
	"error -\n"
	"reason -\n"
	"count 1\n"
	"prev-origin mlagw.es/audit\n"
	"prev-size 1161\n"
	"prev-root AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
	"prev-signature "
	"ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmM=\n";

static void v3_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 0;
	e->time_ms = INT64_C(1795812587123); /* 2026-11-27T20:49:47.123Z */
	e->event = MLA_AUDIT_EPOCH_OPENED;
	assert_int_equal(mla_strcpy(e->actor, sizeof(e->actor), "gateway"), MLA_OK);
	assert_int_equal(mla_strcpy(e->prev_origin, sizeof(e->prev_origin), "mlagw.es/audit"),
			 MLA_OK);
	e->prev_size = 1161;
	for (size_t i = 0; i < 32; i++)
		e->prev_root[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(e->prev_sig); i++)
		e->prev_sig[i] = (uint8_t)(32 + i);
}

static void test_v3_vector(void **state)
{
	mla_audit_entry e, back;
	mla_buf b, note;
	mla_diag d = {0};

	(void)state;
	v3_entry(&e);
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	if (b.len != strlen(v3_text) || memcmp(b.data, v3_text, b.len) != 0)
		fail_msg("v3 bytes differ:\n%.*s", (int)b.len, (const char *)b.data);
	assert_int_equal(b.len, 399);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_int_equal(memcmp(&back, &e, sizeof(e)), 0);
	{
		uint8_t leaf[MLA_MERKLE_HASH_LEN];
		char leaf_hex[2 * MLA_MERKLE_HASH_LEN + 1];

		assert_int_equal(mla_audit_entry_leaf_hash(&e, leaf, &d), MLA_OK);
		hex(leaf, sizeof(leaf), leaf_hex);
		assert_string_equal(leaf_hex, "c4b62dc8321cfa526c8ca30d7a62361e0e808e5899d8f20585b"
					      "533243cf99851");
	}
	mla_buf_free(&b);
	mla_buf_init(&note, 1024);
	assert_int_equal(mla_audit_entry_link_note(&e, &note), MLA_OK);
	assert_int_equal(mla_buf_terminate(&note), MLA_OK);
	assert_string_equal((const char *)note.data,
			    "mlagw.es/audit\n1161\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n"
			    "\xe2\x80\x94 mlagw.es/audit ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj9AQUJ"
			    "DREVGR0hJSktMTU5PUFFSU1RVVldYWVpbXF1eX2BhYmM=\n");
	mla_buf_free(&note);
	/* the longest version 3 entry still fits the entry limit */
	v3_entry(&e);
	golden_entry(&back);
	memcpy(e.case_id, back.case_id, sizeof(e.case_id));
	memset(e.case_id, 'C', MLA_CASE_ID_MAX);
	memset(e.reason, 'r', MLA_AUDIT_REASON_MAX);
	memset(e.actor, 0, sizeof(e.actor));
	memcpy(e.actor, "authority:", 10);
	memset(e.actor + 10, 'a', MLA_AUDIT_ACTOR_NAME_MAX);
	e.seq = UINT64_MAX;
	e.prev_size = UINT64_MAX;
	e.has_envelope_sha256 = e.has_receipt_sha256 = 1;
	memcpy(e.kind, back.kind, sizeof(e.kind));
	memcpy(e.action, back.action, sizeof(e.action));
	memcpy(e.from, "ES", 3);
	memcpy(e.to, "CO", 3);
	assert_int_equal(mla_strcpy(e.prev_origin, sizeof(e.prev_origin), "mlagw.es/audit/999999"),
			 MLA_OK);
	assert_int_equal(ser(&e, &b, &d), MLA_OK);
	assert_true(b.len <= MLA_AUDIT_ENTRY_MAX);
	mla_buf_free(&b);
}

static void test_v3_refuses(void **state)
{
	mla_audit_entry e;
	mla_buf b;
	mla_diag d = {0};

	(void)state;
	v3_entry(&e);
	e.prev_origin[0] = '\0';
	assert_int_equal(ser(&e, &b, &d), MLA_ERR_ARG); /* epoch-opened needs its link */
	v3_entry(&e);
	e.prev_size = 0;
	assert_int_equal(ser(&e, &b, &d), MLA_ERR_ARG);
	v3_entry(&e);
	assert_int_equal(mla_strcpy(e.prev_origin, sizeof(e.prev_origin), "mlagw.es/audit/1"),
			 MLA_OK);
	assert_int_equal(ser(&e, &b, &d), MLA_ERR_ARG); /* epoch 1 has no number */
	v3_entry(&e);
	e.event = MLA_AUDIT_CONFIG_RELOADED; /* only epoch-opened links */
	assert_int_equal(ser(&e, &b, &d), MLA_ERR_ARG);
	v3_entry(&e);
	e.count = 2;
	assert_int_equal(ser(&e, &b, &d), MLA_ERR_ARG);
}

/* v3_text with from replaced by to: refused. */
static void mutate_v3(const char *from, const char *to)
{
	char buf[2048];
	const char *at = strstr(v3_text, from);
	size_t pre, n;
	mla_audit_entry e;
	mla_diag d = {0};

	if (at == NULL)
		fail_msg("'%s' not in the v3 text", from);
	pre = (size_t)(at - v3_text);
	n = (size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)pre, v3_text, to,
			     at + strlen(from));
	assert_true(n < sizeof(buf));
	if (mla_audit_entry_parse((const uint8_t *)buf, n, &e, &d) != MLA_ERR_HEADER)
		fail_msg("replacing '%s' by '%s' was not refused", from, to);
}

static void test_v3_canonical(void **state)
{
	(void)state;
	mutate_v3("count 1\n", "count 2\n");
	mutate_v3("count 1\n", "");
	mutate_v3("mlagw-audit-entry/3\n", "mlagw-audit-entry/2\n");
	mutate_v3("mlagw-audit-entry/3\n", "mlagw-audit-entry/4\n");
	mutate_v3("event epoch-opened", "event config-reloaded"); /* v3 holds only the link */
	mutate_v3("prev-origin mlagw.es/audit\n", "prev-origin mlagw.es/audit/01\n");
	mutate_v3("prev-origin mlagw.es/audit\n", "prev-origin mlagw.ES/audit\n");
	mutate_v3("prev-origin mlagw.es/audit\n", "prev-origin -\n");
	mutate_v3("prev-size 1161\n", "prev-size 01161\n");
	mutate_v3("prev-size 1161\n", "prev-size 0\n");
	mutate_v3("prev-root AAEC", "prev-root !AEC");
	mutate_v3("Hh8=\n", "Hh9=\n"); /* non-zero pad bits */
	mutate_v3("YmM=\n", "YmM\n");
	mutate_v3("YmM=\n", "YmM=\nextra x\n");
	mutate_v3("prev-size 1161\nprev-root", "prev-root");
}

static void test_origins(void **state)
{
	char o[MLA_AUDIT_ORIGIN_MAX + 1], st[3];
	uint32_t ep = 0;

	(void)state;
	assert_int_equal(mla_audit_origin_format("ES", 1, o), MLA_OK);
	assert_string_equal(o, "mlagw.es/audit");
	assert_int_equal(mla_audit_origin_format("ES", 2, o), MLA_OK);
	assert_string_equal(o, "mlagw.es/audit/2");
	assert_int_equal(mla_audit_origin_format("ES", 0, o), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_format("es", 2, o), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit/12", st, &ep), MLA_OK);
	assert_string_equal(st, "CO");
	assert_int_equal(ep, 12);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit", st, &ep), MLA_OK);
	assert_int_equal(ep, 1);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit/1", st, &ep), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit/", st, &ep), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit2", st, &ep), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_parse("mlagw.c1/audit", st, &ep), MLA_ERR_ARG);
	assert_int_equal(mla_audit_origin_parse("mlagw.co/audit/1000000", st, &ep), MLA_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_event),
		cmocka_unit_test(test_minimal_and_extremes),
		cmocka_unit_test(test_serialize_refuses),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_mutations_canonical),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_v2_vector),
		cmocka_unit_test(test_v2_roundtrip),
		cmocka_unit_test(test_v2_serialize_refuses),
		cmocka_unit_test(test_v2_canonical),
		cmocka_unit_test(test_v3_vector),
		cmocka_unit_test(test_v3_refuses),
		cmocka_unit_test(test_v3_canonical),
		cmocka_unit_test(test_origins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
