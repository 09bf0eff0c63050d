/* Audit entry version 7 (protocol/SPEC.md 14): version 6's lines, then attachments (the
 * signed attachment list of an envelope version 3, "index:size:root" comma-separated) and
 * attachment (the index read, on document-fetched). Its golden vector; an entry naming
 * attachments is only ever version 7 and one without never is; the field rules; the list's
 * formatting from an mla_attach_list; versions 1 to 6 unchanged. */
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

#define ROOT1 "14aea07aecd467fafcd9fce1ebc5445d585ed8e1fa510dc882d8785ee0b2be65"
#define V7_LEAF "5477576c366222b270eb127500f4368417294ca76384af9832aaf164f6627922"
#define ROOT2 "00000000000000000000000000000000000000000000000000000000000000ff"

static const char v7_text[] =
	"mlagw-audit-entry/7\n"
	"seq 7\n"
	"time 2026-11-27T20:53:47.123Z\n"
	"event document-fetched\n"
	"message 6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f\n"
	"case CO-FGN/2026.0042\n"
	"kind mla\n"
	"action executed\n"
	"from ES\n"
	"to CO\n"
	"actor agency:co-police\n"
	"envelope-sha256 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	"receipt-sha256 -\n"
	"error -\n"
	"reason evidence review\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 -\n"
	"audit-cert-sha256 -\n"
	"priority -\n"
	"grounds -\n"
	"attachments 1:19:" ROOT1 ",2:16:" ROOT2 "\n"
	"attachment 2\n";

static void v7_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 7;
	e->time_ms = INT64_C(1795812827123); /* 2026-11-27T20:53:47.123Z */
	e->event = MLA_AUDIT_DOCUMENT_FETCHED;
	put(e->message_id, sizeof(e->message_id), "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f");
	put(e->case_id, sizeof(e->case_id), "CO-FGN/2026.0042");
	put(e->kind, sizeof(e->kind), "mla");
	put(e->action, sizeof(e->action), "executed");
	put(e->from, sizeof(e->from), "ES");
	put(e->to, sizeof(e->to), "CO");
	put(e->actor, sizeof(e->actor), "agency:co-police");
	put(e->reason, sizeof(e->reason), "evidence review");
	put(e->attachments, sizeof(e->attachments), "1:19:" ROOT1 ",2:16:" ROOT2);
	e->attachment = 2;
	e->has_envelope_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->envelope_sha256[i] = (uint8_t)i;
}

static void test_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v7_entry(&e);
	check_vector(&e, v7_text, 629, V7_LEAF);
}

/* A submitted entry with the list and no index; without either an entry keeps its version. */
static void test_which_version(void **state)
{
	mla_audit_entry e, back;
	mla_diag d = {0};
	mla_buf b;

	(void)state;
	v7_entry(&e);
	e.event = MLA_AUDIT_SUBMITTED;
	memset(e.reason, 0, sizeof(e.reason));
	e.attachment = 0;
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_memory_equal(b.data, "mlagw-audit-entry/7\n", 20);
	assert_non_null(strstr((const char *)b.data, "\nattachment -\n"));
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_int_equal(memcmp(&back, &e, sizeof(e)), 0);
	mla_buf_free(&b);
	e.attachments[0] = '\0';
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_memory_equal(b.data, "mlagw-audit-entry/1\n", 20);
	mla_buf_free(&b);
	/* the same entry spelled as version 7 with both fields absent is refused */
	{
		char t[sizeof v7_text + 64];
		char *p;
		v7_entry(&e);
		assert_int_equal(ser(&e, &b), MLA_OK);
		memcpy(t, b.data, b.len);
		t[b.len] = '\0';
		mla_buf_free(&b);
		p = strstr(t, "attachments ");
		memcpy(p, "attachments -\nattachment -\n", 28);
		assert_int_equal(parse_text(t), MLA_ERR_HEADER);
	}
}

static void test_rules(void **state)
{
	mla_audit_entry e;
	static const char *const bad[] = {
		"2:19:" ROOT1,                         /* does not start at 1 */
		"1:19:" ROOT1 ",3:16:" ROOT2,          /* a gap */
		"1:019:" ROOT1,                        /* a leading zero */
		"1:15:" ROOT1,                         /* below one tag */
		"1:19:" ROOT1 ",",                     /* a trailing comma */
		"1:19:14AEA07AECD467FAFCD9FCE1EBC5445D585ED8E1FA510DC882D8785EE0B2BE65", /* hex case */
		"1:19:" ROOT1 "0",                     /* a longer root */
		"1:19",                                /* no root */
		"1:123456789012345:" ROOT1,            /* 15 digits */
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v7_entry(&e);
		put(e.attachments, sizeof(e.attachments), bad[i]);
		if (ser_only(&e) != MLA_ERR_ARG)
			fail_msg("accepted attachments %s", bad[i]);
		assert_false(mla_audit_attachments_ok(bad[i]));
	}
	v7_entry(&e);
	e.attachment = 65; /* an index beyond the format's 64 */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v7_entry(&e);
	e.event = MLA_AUDIT_SUBMITTED; /* the index of a read only on document-fetched */
	e.reason[0] = '\0';
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v7_entry(&e);
	e.has_envelope_sha256 = 0; /* the list goes with the envelope's digest */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v7_entry(&e);
	e.event = MLA_AUDIT_CONFIG_RELOADED; /* no message, no envelope list */
	e.message_id[0] = '\0';
	e.attachment = 0;
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
}

/* Parse refuses what serialize never writes in the two new lines. */
static void test_parse_strict(void **state)
{
	static const char *const lines[] = {"attachment 0\n", "attachment 02\n",
					    "attachment 65\n", "attachment x\n"};
	char t[sizeof v7_text + 16];
	char *p;

	(void)state;
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		memcpy(t, v7_text, sizeof v7_text);
		p = strstr(t, "attachment 2\n");
		memcpy(p, lines[i], strlen(lines[i]) + 1);
		if (parse_text(t) == MLA_OK)
			fail_msg("accepted %s", lines[i]);
	}
	memcpy(t, v7_text, sizeof v7_text);
	t[strlen(t) - 13] = '\0'; /* without its last line */
	assert_int_equal(parse_text(t), MLA_ERR_HEADER);
	assert_int_equal(parse_text(v7_text), MLA_OK);
}

/* The value for a list: its public parts in order. */
static void test_format(void **state)
{
	mla_attach_list *l = NULL;
	char out[MLA_AUDIT_ATTACHMENTS_MAX + 1];

	(void)state;
	assert_int_equal(mla_attach_list_new(&l), MLA_OK);
	assert_int_equal(mla_audit_attachments_format(l, out, sizeof out), MLA_ERR_ARG);
	l->n = MLA_ATTACH_MAX;
	for (size_t i = 0; i < l->n; i++) {
		l->item[i].pub.index = (uint32_t)(i + 1);
		l->item[i].pub.size = (uint64_t)1 << 40; /* the largest sizes: 13 digits */
		memset(l->item[i].pub.root, 0xab, 32);
	}
	assert_int_equal(mla_audit_attachments_format(l, out, sizeof out), MLA_OK);
	assert_true(mla_audit_attachments_ok(out));
	assert_int_equal(mla_audit_attachments_format(l, out, 100), MLA_ERR_TOO_LARGE);
	l->n = 1;
	l->item[0].pub.size = 19;
	assert_int_equal(mla_audit_attachments_format(l, out, sizeof out), MLA_OK);
	assert_string_equal(out, "1:19:abababababababababababababababababababababababababababababababab");
	mla_attach_list_free(l);
}

/* 64 attachments of the largest size fit an entry within MLA_AUDIT_ENTRY_MAX. */
static void test_full_entry(void **state)
{
	mla_attach_list *l = NULL;
	mla_audit_entry e, back;
	mla_diag d = {0};
	mla_buf b;

	(void)state;
	assert_int_equal(mla_attach_list_new(&l), MLA_OK);
	l->n = MLA_ATTACH_MAX;
	for (size_t i = 0; i < l->n; i++) {
		l->item[i].pub.index = (uint32_t)(i + 1);
		l->item[i].pub.size = ((uint64_t)1 << 40) + ((uint64_t)16 << 24);
		memset(l->item[i].pub.root, 0xcd, 32);
	}
	v7_entry(&e);
	put(e.reason, sizeof(e.reason), "a reason of some length that an auditor wrote down");
	assert_int_equal(mla_audit_attachments_format(l, e.attachments, sizeof e.attachments),
			 MLA_OK);
	assert_int_equal(ser(&e, &b), MLA_OK);
	assert_true(b.len <= MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_audit_entry_parse(b.data, b.len, &back, &d), MLA_OK);
	assert_int_equal(memcmp(&back, &e, sizeof(e)), 0);
	mla_buf_free(&b);
	mla_attach_list_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),       cmocka_unit_test(test_which_version),
		cmocka_unit_test(test_rules),        cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_format),       cmocka_unit_test(test_full_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
