/* Retrieval notices (SPEC 16.10, protocol/case/notice.c): the document built parses back to
 * the same values, and the parser refuses every other shape, naming what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/notice.h"

#define ID "3f1c2a9e-8b7d-4c6e-9a1b-2c3d4e5f6a7b"

static mla_limits lim;

static mla_err parse_text(const char *text, mla_notice *n, mla_diag *d)
{
	return mla_notice_parse((const uint8_t *)text, strlen(text), &lim, n, d);
}

static void test_round_trip(void **state)
{
	mla_notice in = {MLA_NOTICE_RETRIEVED, ID, INT64_C(1767225600123)}, out;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 4096);
	for (int s = 0; s < 2; s++) {
		in.status = (mla_notice_status)s;
		assert_int_equal(mla_notice_build(&in, &b, &d), MLA_OK);
		assert_true(b.len <= MLA_NOTICE_MAX);
		assert_int_equal(mla_notice_parse(b.data, b.len, &lim, &out, &d), MLA_OK);
		assert_int_equal(out.status, in.status);
		assert_string_equal(out.message_id, ID);
		assert_true(out.at_ms == in.at_ms);
	}
	assert_non_null(strstr((const char *)b.data, "<At>2026-01-01T00:00:00.123Z</At>"));
	mla_buf_free(&b);
	assert_string_equal(mla_notice_action(MLA_NOTICE_NOT_RETRIEVED), "not-retrieved");
	assert_true(mla_notice_is_action("retrieved") && mla_notice_is_action("not-retrieved"));
	assert_false(mla_notice_is_action("received") || mla_notice_is_action(NULL));
}

static void test_build_refuses(void **state)
{
	mla_notice n = {MLA_NOTICE_RETRIEVED, "3F1C2A9E-8B7D-4C6E-9A1B-2C3D4E5F6A7B", 1};
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 4096);
	assert_int_equal(mla_notice_build(&n, &b, &d), MLA_ERR_ARG);
	memcpy(n.message_id, ID, sizeof(ID));
	n.at_ms = -1;
	assert_int_equal(mla_notice_build(&n, &b, &d), MLA_ERR_ARG);
	n.at_ms = 1;
	n.status = (mla_notice_status)2;
	assert_int_equal(mla_notice_build(&n, &b, &d), MLA_ERR_ARG);
	mla_buf_free(&b);
}

#define HEAD "<Retrieval xmlns=\"urn:mlagw:notice:1\" version=\"1\">"
#define GOOD "<Status>retrieved</Status><MessageId>" ID "</MessageId>" \
	     "<At>2026-01-01T00:00:00.000Z</At>"

static void test_parse_refuses(void **state)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"not xml", "well-formed"},
		{"<Retrieval version=\"1\">" GOOD "</Retrieval>", "root"},
		{"<Retrieval xmlns=\"urn:mlagw:notice:2\" version=\"1\">" GOOD "</Retrieval>", "root"},
		{"<Retrieval xmlns=\"urn:mlagw:notice:1\">" GOOD "</Retrieval>", "@version"},
		{"<Retrieval xmlns=\"urn:mlagw:notice:1\" version=\"2\">" GOOD "</Retrieval>",
		 "@version"},
		{"<Retrieval xmlns=\"urn:mlagw:notice:1\" version=\"1\" x=\"y\">" GOOD "</Retrieval>",
		 "@version"},
		{HEAD GOOD "<Reader>someone</Reader></Retrieval>", "exactly"},
		{HEAD GOOD "text</Retrieval>", "exactly"},
		{HEAD "<MessageId>" ID "</MessageId><Status>retrieved</Status>"
		      "<At>2026-01-01T00:00:00.000Z</At></Retrieval>", "Status"},
		{HEAD "<Status>read</Status><MessageId>" ID "</MessageId>"
		      "<At>2026-01-01T00:00:00.000Z</At></Retrieval>", "neither"},
		{HEAD "<Status>retrieved</Status><MessageId>not-a-uuid</MessageId>"
		      "<At>2026-01-01T00:00:00.000Z</At></Retrieval>", "UUID"},
		{HEAD "<Status>retrieved</Status><MessageId>" ID "</MessageId>"
		      "<At>2026-01-01T00:00:00Z</At></Retrieval>", "At"},
		{HEAD "<Status a=\"b\">retrieved</Status><MessageId>" ID "</MessageId>"
		      "<At>2026-01-01T00:00:00.000Z</At></Retrieval>", "Status"},
		{HEAD "<Status><b/></Status><MessageId>" ID "</MessageId>"
		      "<At>2026-01-01T00:00:00.000Z</At></Retrieval>", "Status"},
	};
	mla_notice n;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(parse_text(HEAD GOOD "</Retrieval>", &n, &d), MLA_OK);
	assert_int_equal(parse_text(HEAD "\n  " GOOD "\n</Retrieval>\n", &n, &d), MLA_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.code = MLA_OK;
		d.msg[0] = '\0';
		assert_int_equal(parse_text(bad[i].text, &n, &d), MLA_ERR_SCHEMA);
		if (strstr(d.msg, bad[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, d.msg, bad[i].says);
	}
}

static void test_parse_size(void **state)
{
	char big[MLA_NOTICE_MAX + 64];
	mla_notice n;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, HEAD GOOD "</Retrieval>", strlen(HEAD GOOD "</Retrieval>"));
	assert_int_equal(parse_text(big, &n, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, "more than"));
}

static void test_other_channel(void **state)
{
	mla_other_channel in = {"diplomatic", INT64_C(1767225600000), {0}}, out;
	mla_diag d = {MLA_OK, ""};
	char why[200];
	mla_buf b;

	(void)state;
	for (int i = 0; i < 32; i++)
		in.sha256[i] = (uint8_t)(0xa0 + i);
	mla_buf_init(&b, 4096);
	assert_int_equal(mla_other_channel_build(&in, &b, &d), MLA_OK);
	assert_int_equal(mla_other_channel_parse(b.data, b.len, &lim, &out, &d), MLA_OK);
	assert_string_equal(out.means, "diplomatic");
	assert_true(out.sent_ms == in.sent_ms);
	assert_memory_equal(out.sha256, in.sha256, 32);
	assert_int_equal(mla_other_channel_reason(&out, why, sizeof(why)), MLA_OK);
	assert_string_equal(why, "other-channel means=diplomatic sent-at=2026-01-01T00:00:00.000Z"
			    " document-sha256=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbc"
			    "bdbebf");
	memcpy(in.means, "pigeon", 7);
	assert_int_equal(mla_other_channel_build(&in, &b, &d), MLA_ERR_ARG);
	mla_buf_free(&b);
}

#define OC "<OtherChannel xmlns=\"urn:mlagw:other-channel:1\" version=\"1\">"
#define HEX "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"

static void test_other_channel_refuses(void **state)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{OC "<Means>fax</Means><SentAt>2026-01-01T00:00:00.000Z</SentAt>"
		    "<DocumentSha256>" HEX "</DocumentSha256><Document>x</Document></OtherChannel>",
		 "exactly"},
		{OC "<Means>pigeon</Means><SentAt>2026-01-01T00:00:00.000Z</SentAt>"
		    "<DocumentSha256>" HEX "</DocumentSha256></OtherChannel>", "Means"},
		{OC "<Means>fax</Means><SentAt>yesterday</SentAt>"
		    "<DocumentSha256>" HEX "</DocumentSha256></OtherChannel>", "SentAt"},
		{OC "<Means>fax</Means><SentAt>2026-01-01T00:00:00.000Z</SentAt>"
		    "<DocumentSha256>A0A1</DocumentSha256></OtherChannel>", "DocumentSha256"},
		{OC "<Means>fax</Means><SentAt>2026-01-01T00:00:00.000Z</SentAt>"
		    "<DocumentSha256>" "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
		    "</DocumentSha256></OtherChannel>", "lower-case"},
		{HEAD GOOD "</Retrieval>", "root"},
	};
	mla_other_channel o;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.msg[0] = '\0';
		assert_int_equal(mla_other_channel_parse((const uint8_t *)bad[i].text,
							 strlen(bad[i].text), &lim, &o, &d),
				 MLA_ERR_SCHEMA);
		if (strstr(d.msg, bad[i].says) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, d.msg, bad[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_build_refuses),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_other_channel),
		cmocka_unit_test(test_other_channel_refuses),
	};

	mla_limits_default(&lim);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
