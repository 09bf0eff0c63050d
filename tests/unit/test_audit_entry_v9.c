/* Audit entry version 9 (protocol/SPEC.md 14): version 7's lines, for the one event
 * directory-refused (a fetched directory refused, SPEC 18.6): the error says why, the from
 * the peer whose advertisement prompted the fetch, the reason how it came; nothing of the
 * document. Its golden vector; the event is only ever version 9 and version 9 holds only it;
 * the field rules. */
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

static const char v9_text[] =
	"mlagw-audit-entry/9\n"
	"seq 10\n"
	"time 2026-12-04T10:06:00.500Z\n"
	"event directory-refused\n"
	"message -\n"
	"case -\n"
	"kind -\n"
	"action -\n"
	"from CO\n"
	"to -\n"
	"actor gateway\n"
	"envelope-sha256 -\n"
	"receipt-sha256 -\n"
	"error sig-invalid\n"
	"reason peer CO\n"
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
	"attachment -\n";

static void v9_entry(mla_audit_entry *e)
{
	mla_audit_entry_init(e);
	e->seq = 10;
	e->time_ms = INT64_C(1796378760500); /* 2026-12-04T10:06:00.500Z */
	e->event = MLA_AUDIT_DIRECTORY_REFUSED;
	assert_int_equal(mla_strcpy(e->actor, sizeof(e->actor), "gateway"), MLA_OK);
	assert_int_equal(mla_strcpy(e->from, sizeof(e->from), "CO"), MLA_OK);
	assert_int_equal(mla_strcpy(e->error, sizeof(e->error), "sig-invalid"), MLA_OK);
	assert_int_equal(mla_strcpy(e->reason, sizeof(e->reason), "peer CO"), MLA_OK);
}

static void test_vector(void **state)
{
	mla_audit_entry e;

	(void)state;
	v9_entry(&e);
	check_vector(&e, v9_text, strlen(v9_text), NULL);
	assert_string_equal(mla_audit_event_name(MLA_AUDIT_DIRECTORY_REFUSED),
			    "directory-refused");
}

/* The event only as version 9, version 9 only for it; the error required, no message, no
 * digests, no directory lines. */
static void test_rules(void **state)
{
	mla_audit_entry e;

	(void)state;
	assert_int_equal(parse_edited(v9_text, "mlagw-audit-entry/9", "mlagw-audit-entry/7"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v9_text, "event directory-refused", "event config-reloaded"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v9_text, "error sig-invalid", "error no-such-error"),
			 MLA_ERR_HEADER);
	assert_int_equal(parse_edited(v9_text, "attachment -\n",
				      "attachment -\ndirectory-serial 1\n"),
			 MLA_ERR_HEADER);
	v9_entry(&e);
	e.error[0] = '\0'; /* why is required */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v9_entry(&e);
	assert_int_equal(mla_strcpy(e.message_id, sizeof(e.message_id),
				    "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"), MLA_OK);
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v9_entry(&e);
	e.has_envelope_sha256 = 1;
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
	v9_entry(&e);
	e.dir_serial = 3; /* the directory lines are directory-adopted's */
	assert_int_equal(ser_only(&e), MLA_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
