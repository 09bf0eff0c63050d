/* Shared by the audit entry version tests: see audit_entry_fx.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_entry_fx.h"
#include "mlagw/codec.h"

void put(char *dst, size_t size, const char *v)
{
	memset(dst, 0, size);
	assert_int_equal(mla_strcpy(dst, size, v), MLA_OK);
}

mla_err ser(const mla_audit_entry *e, mla_buf *b)
{
	mla_diag d = {0};

	mla_buf_init(b, MLA_AUDIT_ENTRY_MAX);
	return mla_audit_entry_serialize(e, b, &d);
}

mla_err ser_only(const mla_audit_entry *e)
{
	mla_buf b;
	mla_err r = ser(e, &b);

	mla_buf_free(&b);
	return r;
}

mla_err parse_text(const char *t)
{
	mla_audit_entry e;
	mla_diag d = {0};

	return mla_audit_entry_parse((const uint8_t *)t, strlen(t), &e, &d);
}

mla_err parse_edited(const char *text, const char *from, const char *to)
{
	char buf[MLA_AUDIT_ENTRY_MAX + 1];
	const char *at = strstr(text, from);
	mla_audit_entry e;
	mla_diag d = {0};
	size_t n;

	if (at == NULL)
		fail_msg("'%s' not in the text", from);
	n = (size_t)snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, to,
			     at + strlen(from));
	assert_true(n < sizeof(buf));
	return mla_audit_entry_parse((const uint8_t *)buf, n, &e, &d);
}

void roundtrip(const mla_audit_entry *e, int version)
{
	char magic[32];
	mla_audit_entry back;
	mla_diag d = {0};
	mla_buf b;

	assert_int_equal(ser(e, &b), MLA_OK);
	assert_true(b.len <= MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(snprintf(magic, sizeof(magic), "mlagw-audit-entry/%d\n", version), 20);
	if (memcmp(b.data, magic, 20) != 0)
		fail_msg("not version %d:\n%.*s", version, (int)b.len, (const char *)b.data);
	if (mla_audit_entry_parse(b.data, b.len, &back, &d) != MLA_OK)
		fail_msg("parse: %s\n%.*s", d.msg, (int)b.len, (const char *)b.data);
	assert_int_equal(memcmp(&back, e, sizeof(*e)), 0);
	mla_buf_free(&b);
}

void check_vector(const mla_audit_entry *e, const char *text, size_t len, const char *leaf_hex)
{
	mla_audit_entry back;
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	char hex[2 * MLA_MERKLE_HASH_LEN + 1];
	mla_diag d = {0};
	mla_buf b;

	assert_int_equal(ser(e, &b), MLA_OK);
	if (b.len != strlen(text) || memcmp(b.data, text, b.len) != 0)
		fail_msg("bytes differ:\n%.*s", (int)b.len, (const char *)b.data);
	assert_int_equal(b.len, len);
	if (mla_audit_entry_parse(b.data, b.len, &back, &d) != MLA_OK)
		fail_msg("parse: %s", d.msg);
	assert_int_equal(memcmp(&back, e, sizeof(*e)), 0);
	mla_buf_free(&b);
	if (leaf_hex == NULL)
		return;
	assert_int_equal(mla_audit_entry_leaf_hash(e, leaf, &d), MLA_OK);
	assert_int_equal(mla_hex_encode(leaf, sizeof(leaf), hex, sizeof(hex)), MLA_OK);
	assert_string_equal(hex, leaf_hex);
}
