/* Unit tests of the audit bundle container (protocol/bundle.c, SPEC section 15): round trip,
 * and the strict parser's refusals (format line, header, length, order, truncation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/bundle.h"
#include "mlagw/codec.h"

static mla_buf sample(void)
{
	mla_buf b;

	mla_buf_init(&b, 1 << 20);
	assert_int_equal(mla_bundle_begin(&b), MLA_OK);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_MANIFEST, "manifest", "{}", 2, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CERTIFICATE, "audit", "PEM\n", 4, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "0", "e\n0", 3, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "1", "", 0, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CHECKPOINT, "2", "cp", 2, NULL), 0);
	return b;
}

/* The bytes p as a stream, for the one-pass reader. */
static FILE *stream_of(const void *p, size_t n)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fflush(f), 0);
	return f;
}

/* Both readers refuse s, each naming what. */
static void expect_refused(const char *s, const char *what)
{
	mla_bundle bd;
	mla_diag d = {MLA_OK, ""};
	FILE *f = stream_of(s, strlen(s));

	assert_int_equal(mla_bundle_parse((const uint8_t *)s, strlen(s), &bd, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, what));
	assert_null(bd.rec);
	d.msg[0] = '\0';
	assert_int_equal(mla_bundle_index(f, &bd, &d), MLA_ERR_SCHEMA);
	assert_non_null(strstr(d.msg, what));
	assert_null(bd.rec);
	fclose(f);
}

static void test_round_trip(void **state)
{
	mla_buf b = sample();
	mla_bundle bd;

	(void)state;
	assert_int_equal(mla_bundle_parse(b.data, b.len, &bd, NULL), MLA_OK);
	assert_int_equal(bd.n, 5);
	assert_int_equal(bd.rec[2].type, MLA_BUNDLE_ENTRY);
	assert_string_equal(bd.rec[2].name, "0");
	assert_int_equal(bd.rec[2].len, 3);
	assert_memory_equal(bd.rec[2].data, "e\n0", 3);
	assert_int_equal(bd.rec[3].len, 0);
	assert_string_equal(bd.rec[4].name, "2");
	size_t ends[5];
	for (size_t i = 0; i < 5; i++)
		ends[i] = (size_t)(bd.rec[i].data - b.data) + bd.rec[i].len + 1;
	mla_bundle_free(&bd);
	/* every truncation inside a record is refused; one at a record boundary after the
	 * certificate is a shorter bundle (the verifier checks the manifest's counts) */
	for (size_t n = 0; n < b.len; n++) {
		int boundary = n == ends[1] || n == ends[2] || n == ends[3];
		mla_err r = mla_bundle_parse(b.data, n, &bd, NULL);

		assert_int_equal(r == MLA_OK, boundary);
		mla_bundle_free(&bd);
	}
	mla_buf_free(&b);
}

static void test_refusals(void **state)
{
	const char *m = "mlagw-audit-bundle/2\nmanifest manifest 2\n{}\ncertificate audit 1\nC\n";

	(void)state;
	expect_refused("mlagw-audit-bundle/1\n", "not an audit bundle"); /* before witnessing */
	expect_refused("mlagw-audit-bundle/2\n", "no manifest");
	expect_refused("mlagw-audit-bundle/2\ncertificate audit 1\nC\n", "missing manifest");
	expect_refused("mlagw-audit-bundle/2\nmanifest manifest 2\n{}\n", "no certificate");
	char buf[512];
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 01\nx\n", m), MLA_OK);
	expect_refused(buf, "canonical decimal");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 9000\nx\n", m), MLA_OK);
	expect_refused(buf, "limit");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1\nxy\n", m), MLA_OK);
	expect_refused(buf, "newline");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 5\nx\n", m), MLA_OK);
	expect_refused(buf, "truncated");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry a/b 1\nx\n", m), MLA_OK);
	expect_refused(buf, "bad name");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sblob 0 1\nx\n", m), MLA_OK);
	expect_refused(buf, "unknown record type");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1 2\nx\n", m), MLA_OK);
	expect_refused(buf, "header line");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%scheckpoint 1 1\nx\nentry 0 1\nx\n", m),
			MLA_OK);
	expect_refused(buf, "out of order");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%smanifest manifest 2\n{}\n", m), MLA_OK);
	expect_refused(buf, "a second manifest");
	assert_int_equal(mla_snprintf(buf, sizeof(buf), "%sentry 0 1\nx", m), MLA_OK);
	expect_refused(buf, "truncated");
}

static void test_add_refusals(void **state)
{
	mla_buf b;

	(void)state;
	mla_buf_init(&b, 64);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "a b", "x", 1, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENTRY, "0", "x", 9000, NULL), MLA_ERR_ARG);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_MANIFEST, "m", "0123456789012345678901234"
					"567890123456789012345678901234567890123456789", 70, NULL),
			 MLA_ERR_TOO_LARGE);
	assert_int_equal(b.len, 0);
	mla_buf_free(&b);
}

/* The index holds what the parse does but the streamed types (entries, checkpoints, witnessed
 * heads, proofs: counted, read by a cursor), with the data of the manifest and certificates
 * only; mla_bundle_load reads the others. */
static void test_index(void **state)
{
	mla_buf b = sample(), got;
	mla_bundle bd;
	mla_bundle_cursor c;
	mla_bundle_record r, env;
	FILE *f;

	(void)state;
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_ENVELOPE, "m1", "<E/>", 4, NULL), MLA_OK);
	f = stream_of(b.data, b.len);
	assert_int_equal(mla_bundle_index(f, &bd, NULL), MLA_OK);
	assert_int_equal(bd.format, 2);
	assert_int_equal(bd.n, 2); /* manifest, certificate: no slot per checkpoint or envelope */
	assert_int_equal(bd.count[MLA_BUNDLE_ENTRY], 2);
	assert_int_equal(bd.count[MLA_BUNDLE_CHECKPOINT], 1);
	assert_int_equal(bd.count[MLA_BUNDLE_ENVELOPE], 1);
	assert_memory_equal(bd.rec[1].data, "PEM\n", 4);
	/* an envelope: its header by a cursor, its bytes read when checked */
	mla_bundle_cursor_init_type(&c, f, &bd, MLA_BUNDLE_ENVELOPE);
	assert_int_equal(mla_bundle_cursor_next(&c, &env, NULL), MLA_OK);
	assert_null(env.data);
	assert_string_equal(env.name, "m1");
	mla_buf_init(&got, 64);
	assert_int_equal(mla_bundle_load(f, &env, &got, NULL), MLA_OK);
	assert_int_equal(got.len, 4);
	assert_memory_equal(got.data, "<E/>", 4);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_ERR_NOT_FOUND);
	/* the checkpoints by their own cursor; none of a type the bundle lacks */
	mla_bundle_cursor_init_type(&c, f, &bd, MLA_BUNDLE_CHECKPOINT);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_OK);
	assert_int_equal(r.type, MLA_BUNDLE_CHECKPOINT);
	assert_string_equal(r.name, "2");
	assert_int_equal(r.len, 2);
	assert_memory_equal(r.data, "cp", 2);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_ERR_NOT_FOUND);
	mla_bundle_cursor_init_type(&c, f, &bd, MLA_BUNDLE_PROOF);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_ERR_NOT_FOUND);
	mla_bundle_cursor_init(&c, f, &bd);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_OK);
	assert_string_equal(r.name, "0");
	assert_memory_equal(r.data, "e\n0", 3);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_OK);
	assert_int_equal(r.len, 0);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_ERR_NOT_FOUND);
	/* the file changed under the index: said, not misread */
	assert_int_equal(fseek(f, (long)env.offset, SEEK_SET), 0);
	assert_int_equal(fputs("receipt", f) >= 0, 1);
	assert_int_equal(fflush(f), 0);
	assert_int_equal(mla_bundle_load(f, &env, &got, NULL), MLA_ERR_SCHEMA);
	/* and under a cursor: the checkpoint's header line overwritten */
	assert_int_equal(fseek(f, (long)bd.at[MLA_BUNDLE_CHECKPOINT], SEEK_SET), 0);
	assert_int_equal(fputs("envelope", f) >= 0, 1);
	assert_int_equal(fflush(f), 0);
	mla_bundle_cursor_init_type(&c, f, &bd, MLA_BUNDLE_CHECKPOINT);
	assert_int_equal(mla_bundle_cursor_next(&c, &r, NULL), MLA_ERR_SCHEMA);
	mla_buf_free(&got);
	mla_bundle_free(&bd);
	fclose(f);
	mla_buf_free(&b);
}

/* n empty entry records after a manifest and a certificate, under format line magic. */
static FILE *many_entries(const char *magic, uint64_t n)
{
	FILE *f = tmpfile();

	assert_non_null(f);
	fputs(magic, f);
	fputs("manifest manifest 2\n{}\ncertificate audit 1\nC\n", f);
	for (uint64_t i = 0; i < n; i++)
		fprintf(f, "entry %llu 0\n\n", (unsigned long long)i);
	assert_int_equal(fflush(f), 0);
	return f;
}

/* Formats 2 and 3 hold at most 4,000,000 records, format 4 more (SPEC 15). */
static void test_format4_limits(void **state)
{
	const uint64_t over = MLA_BUNDLE_RECORDS_MAX - 1; /* + manifest + certificate */
	mla_diag d = {MLA_OK, ""};
	mla_bundle bd;
	FILE *f;

	(void)state;
	f = many_entries(MLA_BUNDLE_MAGIC, over - 1);
	assert_int_equal(mla_bundle_index(f, &bd, &d), MLA_OK); /* exactly the limit */
	assert_int_equal(bd.count[MLA_BUNDLE_ENTRY], over - 1);
	mla_bundle_free(&bd);
	fclose(f);
	f = many_entries(MLA_BUNDLE_MAGIC3, over);
	assert_int_equal(mla_bundle_index(f, &bd, &d), MLA_ERR_TOO_LARGE);
	assert_non_null(strstr(d.msg, "more than 4000000 records"));
	fclose(f);
	f = many_entries(MLA_BUNDLE_MAGIC4, over);
	assert_int_equal(mla_bundle_index(f, &bd, &d), MLA_OK);
	assert_int_equal(bd.format, 4);
	assert_int_equal(bd.count[MLA_BUNDLE_ENTRY], over);
	mla_bundle_free(&bd);
	fclose(f);
}

static void test_format4_written(void **state)
{
	mla_buf b;
	mla_bundle bd;

	(void)state;
	mla_buf_init(&b, 1 << 10);
	assert_int_equal(mla_bundle_begin_format(&b, 4), MLA_OK);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_MANIFEST, "manifest", "{}", 2, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CERTIFICATE, "audit", "C", 1, NULL), 0);
	assert_int_equal(mla_bundle_add(&b, MLA_BUNDLE_CERTIFICATE, "audit.2", "C", 1, NULL), 0);
	assert_int_equal(mla_bundle_parse(b.data, b.len, &bd, NULL), MLA_OK);
	assert_int_equal(bd.format, 4); /* and it holds what format 3 holds */
	mla_bundle_free(&bd);
	assert_int_equal(mla_bundle_begin_format(&b, 7), MLA_ERR_ARG);
	mla_buf_free(&b);
	expect_refused("mlagw-audit-bundle/7\n", "not an audit bundle");
}

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define HEAD5 "mlagw-audit-bundle/5\nmanifest manifest 2\n{}\ncertificate audit 1\nC\n"

/* Format 5: directory records, last, named by a SHA-256 in ascending order; the index keeps
 * where each lies (not its bytes) and mla_bundle_load reads it; no other format has them. */
static void test_format5_directories(void **state)
{
	const char ok[] = HEAD5 "receipt r 1\nR\ndirectory " H1 " 2\nD1\ndirectory " H2 " 2\nD2\n";
	mla_bundle bd;
	mla_buf doc;
	FILE *f = stream_of(ok, strlen(ok));

	(void)state;
	assert_int_equal(mla_bundle_parse((const uint8_t *)ok, strlen(ok), &bd, NULL), MLA_OK);
	assert_int_equal(bd.format, 5);
	assert_int_equal(bd.count[MLA_BUNDLE_DIRECTORY], 2);
	mla_bundle_free(&bd);
	assert_int_equal(mla_bundle_index(f, &bd, NULL), MLA_OK);
	assert_int_equal(bd.n, 4); /* manifest, audit, the two directories; the receipt streamed */
	assert_int_equal(bd.rec[3].type, MLA_BUNDLE_DIRECTORY);
	assert_null(bd.rec[3].data);
	mla_buf_init(&doc, 16);
	assert_int_equal(mla_bundle_load(f, &bd.rec[3], &doc, NULL), MLA_OK);
	assert_int_equal(doc.len, 2);
	assert_memory_equal(doc.data, "D2", 2);
	mla_buf_free(&doc);
	mla_bundle_free(&bd);
	fclose(f);
	expect_refused("mlagw-audit-bundle/4\nmanifest manifest 2\n{}\ncertificate audit 1\nC\n"
		       "directory " H1 " 1\nD\n", "directory records are format 5");
	expect_refused(HEAD5 "directory " H2 " 1\nD\ndirectory " H1 " 1\nD\n",
		       "ascending order");
	expect_refused(HEAD5 "directory " H1 " 1\nD\ndirectory " H1 " 1\nD\n",
		       "ascending order");
	expect_refused(HEAD5 "directory abc 1\nD\n", "not named by a SHA-256");
	expect_refused(HEAD5 "directory " H1 " 1\nD\nreceipt r 1\nR\n", "out of order");
}

#define HEAD6 "mlagw-audit-bundle/6\nmanifest manifest 2\n{}\ncertificate audit 1\nC\n"

/* Format 6: crl records, last (after the directories), named by a SHA-256 in ascending
 * order, indexed like directories; formats 2 to 5 refuse them. */
static void test_format6_crls(void **state)
{
	const char ok[] = HEAD6 "directory " H1 " 2\nD1\ncrl " H1 " 2\nC1\ncrl " H2 " 2\nC2\n";
	mla_bundle bd;

	(void)state;
	assert_int_equal(mla_bundle_parse((const uint8_t *)ok, strlen(ok), &bd, NULL), MLA_OK);
	assert_int_equal(bd.format, 6);
	assert_int_equal(bd.count[MLA_BUNDLE_CRL], 2);
	assert_int_equal(bd.rec[4].type, MLA_BUNDLE_CRL);
	mla_bundle_free(&bd);
	assert_string_equal(mla_bundle_type_name(MLA_BUNDLE_CRL), "crl");
	assert_int_equal(mla_bundle_type_max(MLA_BUNDLE_CRL), (size_t)4 << 20);
	expect_refused(HEAD5 "crl " H1 " 1\nC\n", "crl records are format 6");
	expect_refused(HEAD6 "crl " H2 " 1\nC\ncrl " H1 " 1\nC\n", "ascending order");
	expect_refused(HEAD6 "crl " H1 " 1\nC\ncrl " H1 " 1\nC\n", "ascending order");
	expect_refused(HEAD6 "crl ABC 1\nC\n", "not named by a SHA-256");
	expect_refused(HEAD6 "crl " H1 " 1\nC\ndirectory " H2 " 1\nD\n", "out of order");
}

/* Format 6: ocsp records, last (after the CRLs), named and ordered like them; formats 2 to 5
 * refuse them, and a crl after an ocsp record is out of order. */
static void test_format6_ocsp(void **state)
{
	const char ok[] = HEAD6 "crl " H1 " 2\nC1\nocsp " H1 " 2\nO1\nocsp " H2 " 2\nO2\n";
	mla_bundle bd;

	(void)state;
	assert_int_equal(mla_bundle_parse((const uint8_t *)ok, strlen(ok), &bd, NULL), MLA_OK);
	assert_int_equal(bd.count[MLA_BUNDLE_CRL], 1);
	assert_int_equal(bd.count[MLA_BUNDLE_OCSP], 2);
	assert_int_equal(bd.rec[4].type, MLA_BUNDLE_OCSP);
	mla_bundle_free(&bd);
	assert_string_equal(mla_bundle_type_name(MLA_BUNDLE_OCSP), "ocsp");
	assert_int_equal(mla_bundle_type_max(MLA_BUNDLE_OCSP), (size_t)64 << 10);
	expect_refused(HEAD5 "ocsp " H1 " 1\nO\n", "ocsp records are format 6");
	expect_refused(HEAD6 "ocsp " H2 " 1\nO\nocsp " H1 " 1\nO\n", "ascending order");
	expect_refused(HEAD6 "ocsp abc 1\nO\n", "not named by a SHA-256");
	expect_refused(HEAD6 "ocsp " H1 " 1\nO\ncrl " H2 " 1\nC\n", "out of order");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_add_refusals),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_format4_limits),
		cmocka_unit_test(test_format4_written),
		cmocka_unit_test(test_format5_directories),
		cmocka_unit_test(test_format6_crls),
		cmocka_unit_test(test_format6_ocsp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
