/* Audit entry version 8 (protocol/SPEC.md 14): version 7's lines, then the directory a
 * directory-adopted entry records (publisher, serial, IssuedAt, Expires, SHA-256 of the
 * signed document). Its golden vector; the event is only ever version 8 and the directory
 * lines only on it; the field rules; versions 1 to 7 unchanged. */
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

#define DIGEST "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define V8_LEAF "960543ed636a97d0f6376e3a84279ac793ca68b614631169b0c0312efa3206e6"

static const char v8_text[] =
	"mlagw-audit-entry/8\n"
	"seq 9\n"
	"time 2026-12-04T10:05:00.250Z\n"
	"event directory-adopted\n"
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
	"reason fetched\n"
	"count 1\n"
	"prev-origin -\n"
	"prev-size -\n"
	"prev-root -\n"
	"prev-signature -\n"
	"prev-envelope-sha256 -\n"
	"audit-cert-sha256 -\n"
	"priority -\n"
	"grounds -\n"
	"attachments -\n"
	"attachment -\n"
	"directory-publisher ES\n"
	"directory-serial 42\n"
	"directory-issued 2026-12-04T10:00:00Z\n"
	"directory-expires 2026-12-11T10:00:00Z\n"
	"directory-sha256 " DIGEST "\n";

static void v8_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 9;
	e->time_ms = INT64_C(1796378700250); /* 2026-12-04T10:05:00.250Z */
	e->event = MLA_AUDIT_DIRECTORY_ADOPTED;
	assert_int_equal(mla_strcpy(e->actor, sizeof(e->actor), "gateway"), MLA_OK);
	assert_int_equal(mla_strcpy(e->reason, sizeof(e->reason), "fetched"), MLA_OK);
	assert_int_equal(mla_strcpy(e->dir_publisher, sizeof(e->dir_publisher), "ES"), MLA_OK);
	e->dir_serial = 42;
	e->dir_issued = mla_time_parse("2026-12-04T10:00:00Z");
	e->dir_expires = mla_time_parse("2026-12-11T10:00:00Z");
	e->has_dir_sha256 = 1;
	for (size_t i = 0; i < 32; i++)
		e->dir_sha256[i] = (uint8_t)(0x20 + i);
}

static void test_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v8_entry(&e);
	check_vector(&e, v8_text, strlen(v8_text), V8_LEAF);
}

/* The event is only ever version 8, and version 8 holds only it. */
static void test_which_version(void **state)
{
	(void)state;
	assert_int_equal(parse_text(v8_text), MLA_OK);
	/* the directory lines on another event */
	assert_int_equal(parse_edited(v8_text, "event directory-adopted", "event config-reloaded"),
			 MLA_ERR_HEADER);
	/* the event under version 7's first line (and without the directory lines) */
	assert_int_equal(parse_edited(v8_text, "mlagw-audit-entry/8", "mlagw-audit-entry/7"),
			 MLA_ERR_HEADER);
	{
		char t[sizeof v8_text];
		const char *cut = strstr(v8_text, "directory-publisher");
		size_t n = (size_t)(cut - v8_text);

		memcpy(t, v8_text, n);
		t[n] = '\0';
		memcpy(t, "mlagw-audit-entry/7", 19);
		assert_int_equal(parse_text(t), MLA_ERR_HEADER);
	}
}

static void test_rules(void **state)
{
	mla_audit_entry e;

	(void)state;
	v8_entry(&e);
	e.dir_serial = 0; /* a serial from 1 */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v8_entry(&e);
	e.has_dir_sha256 = 0;
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v8_entry(&e);
	e.dir_publisher[0] = '\0';
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v8_entry(&e);
	e.dir_expires = e.dir_issued; /* IssuedAt before Expires */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v8_entry(&e);
	assert_int_equal(mla_strcpy(e.message_id, sizeof(e.message_id),
				    "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"), MLA_OK);
	assert_int_equal(ser_only(&e), MLA_ERR_ARG); /* names no message */
	v8_entry(&e);
	e.event = MLA_AUDIT_CONFIG_RELOADED; /* the directory fields on another event */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v8_entry(&e);
	e.has_envelope_sha256 = 1; /* no envelope digest */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	/* spellings a reader refuses */
	assert_int_equal(parse_edited(v8_text, "directory-serial 42", "directory-serial 042"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "directory-serial 42", "directory-serial -"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "directory-publisher ES", "directory-publisher es"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "2026-12-04T10:00:00Z", "2026-12-04T10:00:00.000Z"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "2026-12-11T10:00:00Z", "2026-02-31T10:00:00Z"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "directory-sha256 2021", "directory-sha256 2O21"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, DIGEST "\n", DIGEST "\nextra 1\n"), MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v8_text, "directory-expires 2026-12-11T10:00:00Z",
				      "directory-expires 2026-12-04T09:00:00Z"),
			 MLA_ERR_HEADER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_which_version),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
