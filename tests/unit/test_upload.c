/* The local API's uploads (gateway/submit/upload.c, SPEC 17.14): ids bound to their owner;
 * chunks appended only at the held size, within the caps and the free-space reserve, the
 * last one declaring the total and completing the upload; a second writer refused while one
 * holds the file; nothing of a refused chunk kept; removal and expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "submit/upload.h"

static char tmp[256], db[300];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "%s/mlagw-upload-XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(db, sizeof db, "%s/store.db", tmp);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static struct upload_chunk chunk(uint64_t off, const char *data, int last)
{
	struct upload_chunk c = {off, (const uint8_t *)data, strlen(data), last,
				 off + strlen(data), 1000, 0};
	return c;
}

static mla_err append(const char *id, struct upload_chunk c, struct upload_state *st,
		      enum upload_refusal *why)
{
	mla_diag d = {MLA_OK, ""};

	return upload_append(db, id, &c, st, why, &d);
}

static void test_owner(void **state)
{
	char a[UPLOAD_ID_LEN + 1], b[UPLOAD_ID_LEN + 1];
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(upload_create(db, "authority:es-1", a, &d), MLA_OK);
	assert_int_equal(upload_create(db, "authority:es-1", b, &d), MLA_OK);
	assert_true(upload_id_ok(a) && strcmp(a, b) != 0);
	assert_memory_equal(a + 16, b + 16, 16); /* the owner's half */
	assert_true(upload_owned_by(a, "authority:es-1"));
	assert_false(upload_owned_by(a, "authority:es-2"));
	assert_false(upload_id_ok("../../etc/passwd"));
	assert_false(upload_id_ok("0123456789ABCDEF0123456789abcdef"));
	assert_false(upload_id_ok("0123456789abcdef0123456789abcde"));
}

static void test_chunks(void **state)
{
	char id[UPLOAD_ID_LEN + 1], path[UPLOAD_PATH_MAX], buf[32];
	struct upload_state st;
	enum upload_refusal why;
	mla_diag d = {MLA_OK, ""};
	struct upload_chunk c;
	FILE *f;

	(void)state;
	assert_int_equal(upload_create(db, "agency:x", id, &d), MLA_OK);
	assert_int_equal(append(id, chunk(0, "hello ", 0), &st, &why), MLA_OK);
	assert_true(st.received == 6 && !st.complete);
	/* not at the held size: refused, the state says where to go on */
	assert_int_equal(append(id, chunk(0, "hello ", 0), &st, &why), MLA_ERR_ARG);
	assert_true(why == UPLOAD_OFFSET && st.received == 6);
	assert_int_equal(append(id, chunk(7, "x", 0), &st, &why), MLA_ERR_ARG);
	/* beyond max_bytes (1000 here) */
	c = chunk(6, "world", 0);
	c.max_bytes = 10;
	assert_int_equal(append(id, c, &st, &why), MLA_ERR_TOO_LARGE);
	assert_int_equal(why, UPLOAD_TOO_LARGE);
	/* the free-space reserve */
	c = chunk(6, "world", 0);
	c.min_free = UINT64_MAX / 2;
	assert_int_equal(append(id, c, &st, &why), MLA_ERR_IO);
	assert_int_equal(why, UPLOAD_NO_SPACE);
	/* a total that is not the chunk's end */
	c = chunk(6, "world", 1);
	c.total = 99;
	assert_int_equal(append(id, c, &st, &why), MLA_ERR_ARG);
	assert_int_equal(why, UPLOAD_BAD_TOTAL);
	assert_int_equal(upload_stat(db, id, &st, &d), MLA_OK);
	assert_true(st.received == 6 && !st.complete); /* nothing of the refused ones kept */
	assert_int_equal(upload_complete_path(db, id, path, sizeof path, &d), MLA_ERR_NOT_FOUND);
	assert_int_equal(append(id, chunk(6, "world", 1), &st, &why), MLA_OK);
	assert_true(st.received == 11 && st.complete);
	assert_int_equal(append(id, chunk(11, "!", 1), &st, &why), MLA_ERR_EXISTS);
	assert_int_equal(why, UPLOAD_DONE);
	assert_int_equal(upload_complete_path(db, id, path, sizeof path, &d), MLA_OK);
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fread(buf, 1, sizeof buf, f), 11);
	fclose(f);
	assert_memory_equal(buf, "hello world", 11);
}

/* An empty file: "bytes STAR/0", no body. */
static void test_empty(void **state)
{
	char id[UPLOAD_ID_LEN + 1];
	struct upload_state st;
	enum upload_refusal why;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(upload_create(db, "agency:x", id, &d), MLA_OK);
	assert_int_equal(append(id, chunk(0, "", 1), &st, &why), MLA_OK);
	assert_true(st.received == 0 && st.complete);
}

/* One writer at a time: a chunk while another holds the file is refused. */
static void test_busy(void **state)
{
	char id[UPLOAD_ID_LEN + 1], path[UPLOAD_PATH_MAX];
	struct upload_state st;
	enum upload_refusal why;
	mla_diag d = {MLA_OK, ""};
	int fd;

	(void)state;
	assert_int_equal(upload_create(db, "agency:x", id, &d), MLA_OK);
	snprintf(path, sizeof path, "%s/uploads/%s.part", tmp, id);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(append(id, chunk(0, "abc", 0), &st, &why), MLA_ERR_EXISTS);
	assert_int_equal(why, UPLOAD_BUSY);
	close(fd);
	assert_int_equal(append(id, chunk(0, "abc", 0), &st, &why), MLA_OK);
}

static void test_remove_expire(void **state)
{
	char a[UPLOAD_ID_LEN + 1], b[UPLOAD_ID_LEN + 1];
	struct upload_state st;
	enum upload_refusal why;
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	(void)state;
	assert_int_equal(upload_create(db, "agency:y", a, &d), MLA_OK);
	assert_int_equal(upload_create(db, "agency:y", b, &d), MLA_OK);
	assert_int_equal(append(b, chunk(0, "done", 1), &st, &why), MLA_OK);
	assert_int_equal(upload_remove(db, a, &d), MLA_OK);
	assert_int_equal(upload_stat(db, a, &st, &d), MLA_ERR_NOT_FOUND);
	assert_int_equal(upload_remove(db, a, &d), MLA_OK); /* gone already: fine */
	assert_int_equal(upload_expire(db, 0, &n, &d), MLA_OK); /* nothing that old */
	assert_int_equal(n, 0);
	assert_int_equal(upload_expire(db, INT64_MAX, &n, &d), MLA_OK); /* everything */
	assert_true(n >= 1);
	assert_int_equal(upload_stat(db, b, &st, &d), MLA_ERR_NOT_FOUND);
}

/* An upload whose chunk is being written (its file locked) is never expired under it: the
 * chunk's 200 would otherwise go with bytes written to a removed file. Expired once free. */
static void test_expire_spares_a_chunk_in_progress(void **state)
{
	char id[UPLOAD_ID_LEN + 1], path[UPLOAD_PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	struct upload_state st;
	size_t n = 9;
	int fd;

	(void)state;
	assert_int_equal(upload_create(db, "agency:v", id, &d), MLA_OK);
	snprintf(path, sizeof path, "%s/uploads/%s.part", tmp, id);
	assert_true((fd = open(path, O_WRONLY)) >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0); /* a chunk being written */
	assert_int_equal(upload_expire(db, INT64_MAX, &n, &d), MLA_OK);
	assert_int_equal(n, 0);
	assert_int_equal(upload_stat(db, id, &st, &d), MLA_OK);
	close(fd);
	assert_int_equal(upload_expire(db, INT64_MAX, &n, &d), MLA_OK);
	assert_int_equal(n, 1);
	assert_int_equal(upload_stat(db, id, &st, &d), MLA_ERR_NOT_FOUND);
}

/* The uploads left to an owner are counted (its own only, expired ones not). */
static void test_expire_count(void **state)
{
	char a[UPLOAD_ID_LEN + 1], b[UPLOAD_ID_LEN + 1], c[UPLOAD_ID_LEN + 1];
	mla_diag d = {MLA_OK, ""};
	size_t n = 9, owned = 9;

	(void)state;
	assert_int_equal(upload_expire_count(db, 0, "agency:z", &n, &owned, &d), MLA_OK);
	assert_true(n == 0 && owned == 0);
	assert_int_equal(upload_create(db, "agency:z", a, &d), MLA_OK);
	assert_int_equal(upload_create(db, "agency:z", b, &d), MLA_OK);
	assert_int_equal(upload_create(db, "authority:w", c, &d), MLA_OK);
	assert_int_equal(upload_expire_count(db, 0, "agency:z", &n, &owned, &d), MLA_OK);
	assert_true(n == 0 && owned == 2);
	assert_int_equal(upload_expire_count(db, 0, "authority:w", &n, &owned, &d), MLA_OK);
	assert_true(n == 0 && owned == 1);
	assert_int_equal(upload_remove(db, a, &d), MLA_OK);
	assert_int_equal(upload_expire_count(db, 0, "agency:z", &n, &owned, &d), MLA_OK);
	assert_true(n == 0 && owned == 1);
	/* expired: removed, and no longer counted */
	assert_int_equal(upload_expire_count(db, INT64_MAX, "agency:z", &n, &owned, &d), MLA_OK);
	assert_true(n == 2 && owned == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expire_spares_a_chunk_in_progress, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
