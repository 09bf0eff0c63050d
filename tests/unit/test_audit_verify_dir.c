/* mla_audit_verify's step 12 (SPEC 15, family directories): a log whose directory-adopted
 * entries (version 8) name directory documents. A serial going back along the log, a
 * document that does not verify, one whose bytes are not its name (altered), one no entry
 * names, and an entry whose document the bundle lacks are each named; a format 2 bundle of
 * such a log holds no document, so each entry is `missing`; a directory record outside
 * format 5 refuses the container. (The verifying documents: tests/integration, gw-directory-
 * audit, with real signed directories.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"

static struct tv_trust tt;
static struct tb_state es;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(tv_trust_es(&tt, &es), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_es_end(&tt, &es);
	return 0;
}

static void adopted(mla_audit_entry *e, uint64_t seq, int64_t t_ms, uint64_t serial,
		    const uint8_t sha[32])
{
	mla_audit_entry_init(e);
	e->seq = seq;
	e->time_ms = t_ms;
	e->event = MLA_AUDIT_DIRECTORY_ADOPTED;
	assert_int_equal(mla_strcpy(e->actor, sizeof(e->actor), "gateway"), MLA_OK);
	assert_int_equal(mla_strcpy(e->dir_publisher, sizeof(e->dir_publisher), "ES"), MLA_OK);
	e->dir_serial = serial;
	e->dir_issued = t_ms / 1000 - 3600;
	e->dir_expires = t_ms / 1000 + 86400;
	e->has_dir_sha256 = 1;
	memcpy(e->dir_sha256, sha, 32);
}

/* Entries: 0 config-reloaded, 1 serial 2 naming doc_a, 2 serial 1 (back) naming sha_b. */
static void log_of(mla_audit_entry e[3], const uint8_t sha_a[32], const uint8_t sha_b[32])
{
	int64_t t = (int64_t)time(NULL) * 1000 - 60000;

	tb_entry(&e[0], 0, t, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	adopted(&e[1], 1, t + 1000, 2, sha_a);
	adopted(&e[2], 2, t + 2000, 1, sha_b);
}

static void hex_of(const uint8_t sha[32], char hex[65])
{
	assert_int_equal(mla_hex_encode(sha, 32, hex, 65), MLA_OK);
}

static void test_findings(void **state)
{
	static const char doc_a[] = "<dir:Directory>not signed</dir:Directory>";
	static const char stray[] = "a document no entry names";
	static const char altered[] = "bytes under another digest's name";
	uint8_t sha_a[32], sha_b[32], sha_s[32], sha_x[32];
	char ha[65], hs[65], hx[65];
	const char *names[3];
	const char *bytes[3];
	const struct tb_bundle *bp[1];
	struct tb_bundle b = {0};
	mla_audit_entry e[3];
	const uint64_t cps[] = {3};
	mla_audit_result *r;

	(void)state;
	SHA256((const uint8_t *)doc_a, strlen(doc_a), sha_a);
	SHA256((const uint8_t *)stray, strlen(stray), sha_s);
	memset(sha_b, 0x42, sizeof(sha_b));
	memset(sha_x, 0x07, sizeof(sha_x));
	hex_of(sha_a, ha);
	hex_of(sha_s, hs);
	hex_of(sha_x, hx);
	log_of(e, sha_a, sha_b);
	assert_int_equal(tb_build(&b, &es, e, 3, cps, 1, NULL), 0);
	b.format = 5; /* tb_build starts a bundle afresh */
	/* the three records in ascending name */
	names[0] = ha, bytes[0] = doc_a;
	names[1] = hs, bytes[1] = stray;
	names[2] = hx, bytes[2] = altered;
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			if (strcmp(names[j], names[i]) < 0) {
				const char *t = names[i], *u = bytes[i];
				names[i] = names[j], bytes[i] = bytes[j];
				names[j] = t, bytes[j] = u;
			}
	for (int i = 0; i < 3; i++)
		assert_int_equal(tb_set(&b, MLA_BUNDLE_DIRECTORY, names[i], bytes[i],
					strlen(bytes[i])), 0);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	bp[0] = &b;
	r = tv_verify(tt.trust, bp, 1);
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_DIRECTORY), 2); /* back; a does not verify */
	tv_expect(r, 0, MLA_AUDIT_R_DIRECTORY, MLA_AUDIT_CHECK_DIRECTORIES, MLA_BUNDLE_ENTRY, "2");
	tv_expect(r, 0, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_DIRECTORIES, MLA_BUNDLE_DIRECTORY, hx);
	tv_expect(r, 0, MLA_AUDIT_R_UNREFERENCED, MLA_AUDIT_CHECK_DIRECTORIES,
		  MLA_BUNDLE_DIRECTORY, hs);
	tv_expect(r, 0, MLA_AUDIT_R_MISSING, MLA_AUDIT_CHECK_DIRECTORIES, MLA_BUNDLE_ENTRY, "2");
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_DIRECTORIES], 5);
	assert_int_equal(r->bundles[0].ndirectories, 2);
	assert_int_equal(r->failures, 5); /* nothing else */
	/* the one in force a second after entry 1: serial 2, whose document did not verify */
	{
		const mla_audit_dir_adopted *d = mla_audit_directory_at(
			r->bundles[0].directories, 2, r->bundles[0].directories[0].time_ms + 999);

		assert_non_null(d);
		assert_true(d->serial == 2 && d->held && !d->verified);
		assert_null(mla_audit_directory_at(r->bundles[0].directories, 2,
						   r->bundles[0].directories[0].time_ms - 1));
	}
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_format2_missing(void **state)
{
	uint8_t sha_a[32], sha_b[32];
	const struct tb_bundle *bp[1];
	struct tb_bundle b = {0};
	mla_audit_entry e[3];
	const uint64_t cps[] = {3};
	mla_audit_result *r;
	mla_buf out;

	(void)state;
	memset(sha_a, 0x11, sizeof(sha_a));
	memset(sha_b, 0x22, sizeof(sha_b));
	log_of(e, sha_a, sha_b);
	e[2].dir_serial = 3; /* forward: only the documents are missing */
	assert_int_equal(tb_build(&b, &es, e, 3, cps, 1, NULL), 0);
	bp[0] = &b;
	r = tv_verify(tt.trust, bp, 1);
	assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_MISSING), 2);
	assert_int_equal(r->failures, 2);
	mla_audit_result_free(r);
	/* a directory record in format 2 refuses the container */
	assert_int_equal(tb_set(&b, MLA_BUNDLE_DIRECTORY,
				"1111111111111111111111111111111111111111111111111111111111111111",
				"d", 1), 0);
	assert_int_equal(tb_write(&b, &out), 0);
	{
		mla_bundle bd;
		mla_diag d = {MLA_OK, ""};

		assert_int_equal(mla_bundle_parse(out.data, out.len, &bd, &d), MLA_ERR_SCHEMA);
		assert_non_null(strstr(d.msg, "directory records are format 5"));
	}
	mla_buf_free(&out);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_findings),
		cmocka_unit_test(test_format2_missing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
