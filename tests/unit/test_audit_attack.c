/* Attacks on the streaming bundle verifier (SPEC 15 "Reading a bundle in bounded memory"):
 * mla_audit_verify reads a bundle FILE several times (the index, the first read of the
 * entries, the second), and decides on one read what it checks on another.
 *
 * The bundle file is served by a FILE of fopencookie that gives other bytes on its first
 * reads than on its later ones: what a file that changes between passes does (a network or
 * FUSE file system its author controls, or a file rewritten while it is verified). The
 * library's fopen is wrapped (-Wl,--wrap=fopen64: fopen under _FILE_OFFSET_BITS=64; see
 * tests/unit/meson.build) so that mla_audit_verify opens such a FILE for HOSTILE_PATH. */
#define _GNU_SOURCE /* fopencookie */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"

#define HOSTILE_PATH "/hostile/bundle.mab"
#define M1 "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"
#define CASE_OF_M1 "ES-T/2026.0000" /* tb_entry: the case of an entry at seq 0 */
#define CASE_OTHER "ES-T/2026.0009" /* as long, so every offset stays */

FILE *__real_fopen64(const char *path, const char *mode);
FILE *__wrap_fopen64(const char *path, const char *mode);

/* The bytes the hostile FILE serves: early until `sweeps_early` backward seeks were made,
 * then late. Both of one length. */
struct twofaced {
	const mla_buf *early, *late;
	off_t pos;
	unsigned sweeps, sweeps_early;
};

static struct twofaced served;

static ssize_t tf_read(void *cookie, char *buf, size_t n)
{
	struct twofaced *t = cookie;
	const mla_buf *b = t->sweeps < t->sweeps_early ? t->early : t->late;
	size_t left = (size_t)t->pos < b->len ? b->len - (size_t)t->pos : 0;

	if (n > left)
		n = left;
	memcpy(buf, b->data + t->pos, n);
	t->pos += (off_t)n;
	return (ssize_t)n;
}

static int tf_seek(void *cookie, off64_t *off, int whence)
{
	struct twofaced *t = cookie;
	off_t to = whence == SEEK_SET ? *off
		   : whence == SEEK_CUR ? t->pos + *off
					: (off_t)t->late->len + *off;

	if (to < 0)
		return -1;
	if (to < t->pos)
		t->sweeps++; /* reading again from further back: the next pass */
	t->pos = to;
	*off = to;
	return 0;
}

FILE *__wrap_fopen64(const char *path, const char *mode)
{
	cookie_io_functions_t io = {tf_read, NULL, tf_seek, NULL};

	if (strcmp(path, HOSTILE_PATH) != 0)
		return __real_fopen64(path, mode);
	served.pos = 0;
	served.sweeps = 0;
	return fopencookie(&served, mode, io);
}

static char trust_dir[64];
static struct tb_state es;
static mla_audit_trust *trust;
static int64_t t0;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-tatk-XXXXXX"),
			 MLA_OK);
	t0 = (int64_t)time(NULL) * 1000 - 60000;
	if (mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    tb_state_make("ES", trust_dir, &es) != 0)
		return -1;
	return mla_audit_trust_load(trust_dir, &trust, NULL) == MLA_OK ? 0 : -1;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	mla_audit_trust_free(trust);
	tb_state_free(&es);
	assert_int_equal(mla_snprintf(p, sizeof(p), "%s/ES.crt", trust_dir), MLA_OK);
	(void)unlink(p);
	(void)rmdir(trust_dir);
	return 0;
}

/* ES's log: message M1 submitted (case CASE_OF_M1, naming an envelope), a reload; one
 * checkpoint over both; filtered on CASE_OF_M1 and without M1's envelope. Its bytes into out
 * (the honest bundle: M1's envelope is owed and missing). */
static void build_filtered(mla_buf *out)
{
	static const uint8_t env_sha[32] = {1, 2, 3};
	struct tb_bundle b;
	mla_audit_entry e[2];
	const uint64_t cp = 2;

	tb_entry(&e[0], 0, t0, MLA_AUDIT_SUBMITTED, M1, "ES", "CO", env_sha, NULL);
	tb_entry(&e[1], 1, t0 + 10, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_string_equal(e[0].case_id, CASE_OF_M1);
	assert_int_equal(tb_build(&b, &es, e, 2, &cp, 1, NULL), 0);
	assert_int_equal(tb_manifest(&b, "ES", CASE_OF_M1), 0);
	assert_int_equal(tb_write(&b, out), 0);
	tb_free(&b);
}

/* The same bytes with entry 0's case line naming CASE_OTHER. */
static void other_case(const mla_buf *in, mla_buf *out)
{
	static const char from[] = "\ncase " CASE_OF_M1 "\n", to[] = "\ncase " CASE_OTHER "\n";
	uint8_t *p;

	mla_buf_init(out, MLA_BUNDLE_MAX);
	assert_int_equal(mla_buf_append(out, in->data, in->len), MLA_OK);
	p = memmem(out->data, out->len, from, strlen(from));
	assert_non_null(p);
	memcpy(p, to, strlen(to));
}

static mla_audit_result *verify_path(void)
{
	mla_audit_input in = {"hostile.mab", NULL, 0, HOSTILE_PATH};
	mla_audit_result *r = NULL;

	assert_int_equal(mla_audit_verify(&in, 1, trust, &r, NULL), MLA_OK);
	assert_non_null(r);
	return r;
}

/* Served honestly (the same bytes on every read), the bundle fails: M1 is selected by the
 * filter and its envelope is missing. The control for the test below. */
static void test_honest_file_fails(void **state)
{
	mla_buf real;
	mla_audit_result *r;

	(void)state;
	build_filtered(&real);
	served = (struct twofaced){&real, &real, 0, 0, 0};
	r = verify_path();
	for (size_t i = 0; i < r->bundles[0].nfailures; i++)
		print_message("honest: %s\n", r->bundles[0].failures[i].message);
	assert_true(r->failures > 0);
	assert_true(tv_count(r, 0, MLA_AUDIT_R_MISSING) > 0);
	mla_audit_result_free(r);
	mla_buf_free(&real);
}

/* The file shows entry 0 under another case while the index and the first read of the
 * entries (which finds the messages the filter selects) read it, and the real entries from
 * the second read on (which hashes them into the checkpoint's root: they verify). The
 * selection is made on bytes that are never verified, so M1 -- of the filtered case, its
 * entries in the verified log -- is not selected, its envelope is not owed, and the bundle
 * "verifies" with M1 hidden. The verifier must notice the entries changed between its reads
 * (a failure), as it does for a record whose header moved. */
static void test_entries_change_between_passes(void **state)
{
	mla_buf real, early;
	mla_audit_result *r;

	(void)state;
	build_filtered(&real);
	other_case(&real, &early);
	/* whichever read the file changes at (the index, the first or second read of the
	 * entries, a record read again), the bundle must not verify */
	for (unsigned at = 1; at <= 8; at++) {
		served = (struct twofaced){&early, &real, 0, 0, at};
		r = verify_path();
		if (r->failures == 0)
			fail_msg("changed after %u reads: a bundle whose selected message M1 has no "
				 "envelope verified", at);
		mla_audit_result_free(r);
	}
	mla_buf_free(&real);
	mla_buf_free(&early);
}

/* ES's log of four entries naming no message, checkpoints 2 and 4 (and their consistency
 * proof), unfiltered: it verifies. Its bytes into out. */
static void build_log(mla_buf *out)
{
	struct tb_bundle b;
	mla_audit_entry e[4];
	const uint64_t cps[] = {2, 4};

	for (uint64_t i = 0; i < 4; i++)
		tb_entry(&e[i], i, t0 + (int64_t)i, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL,
			 NULL);
	assert_int_equal(tb_build(&b, &es, e, 4, cps, 2, NULL), 0);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	assert_int_equal(tb_write(&b, out), 0);
	tb_free(&b);
}

/* In out (a copy of a bundle), the byte `back` bytes before the end of the data of the record
 * whose header line starts with head changed (to another of the same class). */
static void change_byte(mla_buf *out, const char *head, size_t back)
{
	uint8_t *p, *nl;
	size_t len = 0;

	p = memmem(out->data, out->len, head, strlen(head));
	assert_non_null(p);
	nl = memchr(p, '\n', out->len - (size_t)(p - out->data));
	assert_non_null(nl);
	assert_int_equal(sscanf((const char *)p + strlen(head), "%zu", &len), 1);
	p = nl + 1 + len - back;
	*p = *p == 'A' ? 'B' : *p == 'a' ? 'b' : *p == '0' ? '1' : 'A';
}

/* The same bytes with a character of checkpoint 4's signature changed, and one of the
 * consistency proof between 2 and 4 (so that the verifier's last read, the proofs', sees the
 * change too, wherever the file starts to show it). */
static void forged_signature(const mla_buf *in, mla_buf *out)
{
	mla_buf_init(out, MLA_BUNDLE_MAX);
	assert_int_equal(mla_buf_append(out, in->data, in->len), MLA_OK);
	change_byte(out, "checkpoint 4 ", 10); /* inside the signature line's base64 */
	change_byte(out, "proof c.2.4 ", 10);  /* inside its (only) hex line */
}

/* The verifier reads the checkpoints more than once (SPEC 15 "Verifier memory": step 3 opens
 * each, step 6 reads them again for their cosignatures and heads, keeping nothing of them in
 * between but a row). A file that shows the signed checkpoint to step 3 and other bytes to
 * step 6 would have heads handed out of bytes no signature covers: the checkpoints' digests
 * of the two reads must agree, whichever read the file changes at. Also the regression of
 * the verifier's memory per checkpoint (issue 12): the reads that replaced the arrays are
 * the ones attacked here. */
static void test_checkpoints_change_between_reads(void **state)
{
	mla_buf real, forged;
	mla_audit_result *r;
	int region_caught = 0;
	unsigned reads;

	(void)state;
	build_log(&real);
	forged_signature(&real, &forged);
	served = (struct twofaced){&real, &real, 0, 0, 0};
	r = verify_path();
	assert_int_equal(r->failures, 0); /* the control: honest bytes verify */
	reads = served.sweeps;		  /* reads from further back after the first */
	assert_true(reads >= 4);
	mla_audit_result_free(r);
	served = (struct twofaced){&forged, &forged, 0, 0, 0};
	r = verify_path();
	assert_true(tv_count(r, 0, MLA_AUDIT_R_CHECKPOINT_SIG) > 0); /* the forgery is seen */
	mla_audit_result_free(r);
	for (unsigned at = 1; at <= reads; at++) { /* later, the forged bytes are never read */
		served = (struct twofaced){&real, &forged, 0, 0, at};
		r = verify_path();
		if (r->failures == 0)
			fail_msg("changed after %u reads: a checkpoint no signature covers passed", at);
		for (size_t i = 0; i < r->bundles[0].nfailures; i++)
			region_caught |= strstr(r->bundles[0].failures[i].message,
						"records changed between two reads") != NULL;
		mla_audit_result_free(r);
	}
	assert_true(region_caught); /* some switch is seen only by the digests */
	mla_buf_free(&real);
	mla_buf_free(&forged);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_honest_file_fails),
		cmocka_unit_test(test_entries_change_between_passes),
		cmocka_unit_test(test_checkpoints_change_between_reads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
