/* The attachment files beside the store (gateway/attach, SPEC 17.13): paths only from a
 * lower-case UUID and an index 1-64; the folder made, a part file completed by rename and
 * the folder removed; the sender's tree file giving the RFC 6962 root and, for every leaf of
 * trees of 1 to 70 leaves and of one tree larger than a read chunk, the same inclusion proof
 * as mla_merkle_inclusion_proof over the leaves in memory (so every proof verifies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "attach/attach_files.h"

#define ID "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"

static char tmp[256];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "%s/mlagw-attach-files-XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_paths_refuse_non_uuid(void **state)
{
	char out[ATTACH_PATH_MAX], db[300];
	const char *bad[] = {"", "../../etc/passwd", "6F0C2A4E-8B1D-4C3A-9E5F-7A6B8C9D0E1F",
			     ID "x", "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1", "6f0c2a4e/8b1d-4c3a-9e5f-7a6b8c9d0e1f"};
	mla_diag d = {0};

	(void)state;
	snprintf(db, sizeof db, "%s/store.db", tmp);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(attach_dir_path(db, bad[i], out, sizeof out, &d), MLA_ERR_ARG);
	assert_int_equal(attach_file_path(db, ID, 0, ATTACH_CT, out, sizeof out, &d), MLA_ERR_ARG);
	assert_int_equal(attach_file_path(db, ID, 65, ATTACH_CT, out, sizeof out, &d), MLA_ERR_ARG);
	assert_int_equal(attach_file_path(db, ID, 7, ATTACH_CT_PART, out, sizeof out, &d), MLA_OK);
	assert_string_equal(strrchr(out, '/'), "/7.ct.part");
	assert_non_null(strstr(out, "/attachments/" ID "/"));
	assert_int_equal(attach_file_path("store.db", ID, 1, ATTACH_TREE, out, sizeof out, &d), MLA_OK);
	assert_string_equal(out, "./attachments/" ID "/1.tree");
	assert_int_equal(attach_dir_path(db, ID, out, 20, &d), MLA_ERR_TOO_LARGE);
	/* the names of a message's folder, and no others */
	assert_int_equal(attach_file_kind("1.ct"), ATTACH_CT);
	assert_int_equal(attach_file_kind("64.ct.part"), ATTACH_CT_PART);
	assert_int_equal(attach_file_kind("7.tree"), ATTACH_TREE);
	assert_int_equal(attach_file_kind("01.ct"), -1);
	assert_int_equal(attach_file_kind("65.ct"), -1);
	assert_int_equal(attach_file_kind("0.ct"), -1);
	assert_int_equal(attach_file_kind("1.ct.partx"), -1);
	assert_int_equal(attach_file_kind("1ct"), -1);
	assert_int_equal(attach_file_kind(".ct"), -1);
}

static void test_make_complete_remove(void **state)
{
	char db[300], part[ATTACH_PATH_MAX], done[ATTACH_PATH_MAX], dir[ATTACH_PATH_MAX];
	struct stat st;
	mla_diag d = {0};
	FILE *f;

	(void)state;
	snprintf(db, sizeof db, "%s/store.db", tmp);
	assert_int_equal(attach_dir_make(db, ID, &d), MLA_OK);
	assert_int_equal(attach_dir_make(db, ID, &d), MLA_OK); /* again: already there */
	assert_int_equal(attach_dir_path(db, ID, dir, sizeof dir, &d), MLA_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* completing an attachment that has no part file fails, naming it */
	assert_int_equal(attach_file_complete(db, ID, 2, &d), MLA_ERR_IO);
	assert_non_null(strstr(mla_diag_message(&d), "attachment 2"));
	assert_int_equal(attach_file_path(db, ID, 2, ATTACH_CT_PART, part, sizeof part, &d), MLA_OK);
	assert_int_equal(attach_file_path(db, ID, 2, ATTACH_CT, done, sizeof done, &d), MLA_OK);
	assert_non_null(f = fopen(part, "w"));
	assert_int_equal(fputs("segments", f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(attach_file_complete(db, ID, 2, &d), MLA_OK);
	assert_int_equal(stat(part, &st), -1);
	assert_int_equal(stat(done, &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(attach_dir_remove(db, ID, &d), MLA_OK);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(attach_dir_remove(db, ID, &d), MLA_OK); /* gone already */
}

/* Leaf hashes of n made-up segments, written as level 0 of a tree file; the tree built. */
static void check_tree(size_t n)
{
	char path[300];
	uint8_t (*leaves)[MLA_MERKLE_HASH_LEN] = malloc(n * MLA_MERKLE_HASH_LEN);
	uint8_t root[MLA_MERKLE_HASH_LEN], want[MLA_MERKLE_HASH_LEN];
	mla_merkle_proof got, ref;
	struct stat st;
	mla_diag d = {0};
	int fd;

	assert_non_null(leaves);
	for (size_t i = 0; i < n; i++) {
		uint8_t seg[16];
		memset(seg, (int)(i * 7 + n), sizeof seg);
		memcpy(seg, &i, sizeof i);
		assert_int_equal(mla_merkle_leaf_hash(seg, sizeof seg, leaves[i]), MLA_OK);
	}
	snprintf(path, sizeof path, "%s/t%zu.tree", tmp, n);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, leaves, n * MLA_MERKLE_HASH_LEN), (ssize_t)(n * MLA_MERKLE_HASH_LEN));
	assert_int_equal(attach_tree_build(path, n, root, &d), MLA_OK);
	assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves), n, want), MLA_OK);
	assert_memory_equal(root, want, sizeof root);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, attach_tree_bytes(n));
	for (size_t k = 0; k < n; k += n > 100 ? 97 : 1) {
		assert_int_equal(attach_tree_proof(fd, n, k, &got, &d), MLA_OK);
		assert_int_equal(mla_merkle_inclusion_proof(MLA_MERKLE_LEAVES(leaves), n, k, &ref), MLA_OK);
		assert_int_equal(got.len, ref.len);
		assert_memory_equal(got.hash, ref.hash, ref.len * MLA_MERKLE_HASH_LEN);
		assert_int_equal(mla_merkle_inclusion_verify(k, n, leaves[k], &got, root), MLA_OK);
	}
	assert_int_equal(attach_tree_proof(fd, n, n, &got, &d), MLA_ERR_ARG);
	close(fd);
	free(leaves);
}

static void test_tree_small(void **state)
{
	(void)state;
	for (size_t n = 1; n <= 70; n++)
		check_tree(n);
}

static void test_tree_larger_than_a_chunk(void **state)
{
	(void)state;
	check_tree(2048 * 2 + 3); /* levels read in several chunks, an odd tail */
	check_tree(8192);
}

static void test_tree_refusals(void **state)
{
	char path[300];
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_diag d = {0};
	int fd;

	(void)state;
	snprintf(path, sizeof path, "%s/short.tree", tmp);
	assert_int_equal(attach_tree_build(path, 4, root, &d), MLA_ERR_IO); /* no file */
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123456789abcdef", 32), 32);
	close(fd);
	assert_int_equal(attach_tree_build(path, 3, root, &d), MLA_ERR_IO); /* 1 of 3 leaves */
	assert_int_equal(attach_tree_build(path, 0, root, &d), MLA_ERR_ARG);
	assert_int_equal(attach_tree_bytes(1), 32);
	assert_int_equal(attach_tree_bytes(3), (3 + 2 + 1) * 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_refuse_non_uuid),
		cmocka_unit_test(test_make_complete_remove),
		cmocka_unit_test(test_tree_small),
		cmocka_unit_test(test_tree_larger_than_a_chunk),
		cmocka_unit_test(test_tree_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
