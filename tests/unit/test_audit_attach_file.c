/* The check of an attachment file beside an audit bundle (mla_audit_attach_check_file, SPEC 15
 * "Attachment files beside a bundle"): with no key, a sealed file verifies against its entry;
 * a flipped byte, a cut, a byte too many, an absent file are refused, each named; the
 * sender's tree file beside locates the altered segment, a false one locates nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlagw/attach.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"

static const char MSG[] = "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f";
#define SEG 65536u

/* Seals plain bytes into path; the signed entry into *e. */
static void seal_file(const char *path, size_t plain, mla_attach_entry *e)
{
	uint8_t secret[MLA_ATTACH_SECRET_LEN], sha[32];
	mla_attach_sealer *sl = NULL;
	mla_diag d = {MLA_OK, ""};
	uint64_t n, ct_size;
	uint8_t *pt = calloc(1, plain + 1), *ct = malloc(SEG + MLA_ATTACH_TAG_LEN);
	size_t off = 0, len;
	FILE *f = fopen(path, "wb");

	assert_non_null(pt);
	assert_non_null(ct);
	assert_non_null(f);
	for (size_t i = 0; i < plain; i++)
		pt[i] = (uint8_t)(i * 13u);
	assert_int_equal(mla_attach_secret_new(secret), MLA_OK);
	assert_int_equal(mla_attach_geometry(plain, SEG, &n, &ct_size), MLA_OK);
	assert_int_equal(mla_attach_sealer_new(secret, MSG, 2, SEG, MLA_ATTACH_DEFAULT_MAX_BYTES,
					       &sl, &d), MLA_OK);
	for (uint64_t k = 0; k < n; k++) {
		size_t take = plain - off < SEG ? plain - off : SEG;
		assert_int_equal(mla_attach_sealer_segment(sl, pt + off, take, k + 1 == n, ct, &len,
							   &d), MLA_OK);
		assert_int_equal(fwrite(ct, 1, len, f), len);
		off += take;
	}
	assert_int_equal(mla_attach_sealer_finish(sl, e, sha, &d), MLA_OK);
	mla_attach_sealer_free(sl);
	assert_int_equal(fclose(f), 0);
	free(pt);
	free(ct);
}

static void flip(const char *path, long at)
{
	FILE *f = fopen(path, "r+b");
	int c;

	assert_non_null(f);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseek(f, at, SEEK_SET), 0);
	assert_int_not_equal(fputc(c ^ 1, f), EOF);
	assert_int_equal(fclose(f), 0);
}

static void expect(const char *path, const mla_attach_entry *e, mla_err want, const char *words)
{
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_audit_attach_check_file(path, e, MSG, &d), want);
	if (words != NULL) {
		if (strstr(d.msg, words) == NULL || strstr(d.msg, MSG) == NULL)
			fail_msg("message %s lacks %s", d.msg, words);
	}
}

/* The tree file beside path: the leaf hashes of its segments as they are now (level 0 of the
 * sender's tree, which is all the verifier reads of it). */
static void write_leaves(const char *path, const mla_attach_entry *e, const char *tree)
{
	uint8_t *buf = malloc(SEG + MLA_ATTACH_TAG_LEN), leaf[32];
	FILE *f = fopen(path, "rb"), *t = fopen(tree, "wb");

	assert_non_null(buf);
	assert_non_null(f);
	assert_non_null(t);
	for (uint64_t k = 0; k < e->segments; k++) {
		size_t len = (size_t)mla_attach_segment_ct_len(e, k);
		assert_int_equal(fread(buf, 1, len, f), len);
		assert_int_equal(mla_merkle_leaf_hash(buf, len, leaf), MLA_OK);
		assert_int_equal(fwrite(leaf, 1, 32, t), 32);
	}
	fclose(f);
	assert_int_equal(fclose(t), 0);
	free(buf);
}

static void test_locate_with_tree(void **state)
{
	char path[] = "/tmp/mlagw-attfile-XXXXXX.ct", tree[64];
	int fd = mkstemps(path, 3);
	mla_attach_entry e;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(mla_snprintf(tree, sizeof tree, "%.*s.tree", (int)strlen(path) - 3, path),
			 MLA_OK);
	seal_file(path, 3 * SEG + 123, &e);
	write_leaves(path, &e, tree);
	flip(path, (long)(2 * (SEG + 16) + 5));
	expect(path, &e, MLA_ERR_SIG_INVALID, "attachment 2: segment 2 is not the one signed "
	       "(1 of its 4 segments differ");
	flip(path, (long)(3 * (SEG + 16) + 1));
	expect(path, &e, MLA_ERR_SIG_INVALID, "segment 2 is not the one signed (2 of its 4");
	/* a tree whose leaves are not the signed ones locates nothing */
	write_leaves(path, &e, tree);
	expect(path, &e, MLA_ERR_SIG_INVALID, "segments 0 to 3 do not have the signed");
	assert_int_equal(unlink(tree), 0);
	assert_int_equal(unlink(path), 0);
}

static void test_check_file(void **state)
{
	char path[] = "/tmp/mlagw-attfile-XXXXXX";
	int fd = mkstemp(path);
	mla_attach_entry e;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	seal_file(path, 3 * SEG + 123, &e);
	assert_int_equal(e.segments, 4);
	expect(path, &e, MLA_OK, NULL);
	flip(path, (long)(2 * (SEG + 16) + 5)); /* a byte of segment 2 */
	expect(path, &e, MLA_ERR_SIG_INVALID, "attachment 2: segments 0 to 3 do not have");
	flip(path, (long)(2 * (SEG + 16) + 5));
	expect(path, &e, MLA_OK, NULL);
	assert_int_equal(truncate(path, (off_t)(SEG + 16 + 9)), 0);
	expect(path, &e, MLA_ERR_SIG_INVALID, "truncated in segment 1 of 4");
	seal_file(path, 10, &e);
	assert_int_equal(truncate(path, (off_t)e.size + 1), 0);
	expect(path, &e, MLA_ERR_SIG_INVALID, "bytes after its last segment");
	seal_file(path, 0, &e); /* an empty file: one tag */
	assert_int_equal(e.size, 16);
	expect(path, &e, MLA_OK, NULL);
	assert_int_equal(unlink(path), 0);
	expect(path, &e, MLA_ERR_NOT_FOUND, "cannot open");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_file),
		cmocka_unit_test(test_locate_with_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
