/* The folders of reservations never recorded and of sealings cut short, removed at start
 * (gateway/attach/attach_strays.c, SPEC 17.13 Durability of the files): a folder no message
 * of the store holds, with nothing but "<n>.ct.part" regular files (n 1 to 64) or nothing at
 * all, or a sender's with its "<n>.tree" files, complete "<n>.ct" and at least one
 * "<n>.ct.part" (its row is stored only once every file is complete), is removed and reported
 * with its files and bytes; a folder the store holds (a transfer in progress), one with a
 * complete "<n>.ct" and no part file (with or without its trees), a name outside the layout,
 * a link, and a folder not named by a message id are all kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "attach/attach_files.h"
#include "attach/attach_strays.h"
#include "store/store.h"
#include "store/store_reader.h"

#define LEFT "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"	/* parts only: removed */
#define EMPTY "00000000-0000-4000-8000-000000000001"	/* nothing: removed */
#define HELD "00000000-0000-4000-8000-000000000002"	/* a transfer of the store: kept */
#define TREE "00000000-0000-4000-8000-000000000003"	/* a sealing cut short: removed */
#define DONE "00000000-0000-4000-8000-000000000004"	/* a complete file: kept */
#define ODD "00000000-0000-4000-8000-000000000005"	/* "01.ct.part": kept */
#define HIGH "00000000-0000-4000-8000-000000000006"	/* "65.ct.part": kept */
#define LINK "00000000-0000-4000-8000-000000000007"	/* a link named 1.ct.part: kept */
#define SEALED "00000000-0000-4000-8000-000000000008"	/* complete files and trees: kept */
#define TREEODD "00000000-0000-4000-8000-000000000009"	/* a sealing and another file: kept */

static char tmp[256], db[300], root[300];

struct seen {
	int n;
	char ids[8][MLA_UUID_LEN + 1];
	uint64_t files[8], bytes[8];
	int sealing[8];
};

static void put_file(const char *id, const char *name, size_t bytes)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", root, id);
	(void)mkdir(path, 0700);
	if (name == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s/%s", root, id, name);
	assert_non_null(f = fopen(path, "wb"));
	for (size_t i = 0; i < bytes; i++)
		assert_int_equal(fputc(0x5a, f), 0x5a);
	assert_int_equal(fclose(f), 0);
}

static int exists(const char *id)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", root, id);
	return stat(path, &st) == 0;
}

static void record(const struct attach_stray *s, void *arg)
{
	struct seen *seen = arg;

	assert_int_equal(s->err, MLA_OK);
	assert_true(seen->n < 8);
	memcpy(seen->ids[seen->n], s->message_id, sizeof seen->ids[0]);
	seen->files[seen->n] = s->files;
	seen->sealing[seen->n] = s->sealing;
	seen->bytes[seen->n++] = s->bytes;
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof tmp, "%s/mlagw-attach-strays-XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL)
		return -1;
	snprintf(db, sizeof db, "%s/store.db", tmp);
	snprintf(root, sizeof root, "%s/attachments", tmp);
	return mkdir(root, 0700);
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* A transfer in progress from CO, as the receiver records one once its files are reserved. */
static void hold_transfer(void)
{
	static const uint8_t env[] = "<Envelope/>";
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = NULL;

	memset(&t, 0, sizeof t);
	memcpy(t.message_id, HELD, sizeof t.message_id);
	assert_int_equal(store_init(db, &d), MLA_OK);
	memcpy(t.from_state, "CO", 3);
	t.received_ms = 1;
	t.n = 1;
	t.att[0].index = 1;
	t.att[0].size = 16;
	t.att[0].segment_size = 65536;
	t.att[0].segments = 1;
	assert_int_equal(store_open(db, &s, &d), MLA_OK);
	assert_int_equal(store_transfer_in_put(s, &t, env, sizeof env - 1, &d), MLA_OK);
	store_close(s);
}

static void test_only_unrecorded_reservations_go(void **state)
{
	char target[600], path[600];
	struct seen seen;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	hold_transfer();
	put_file(LEFT, "1.ct.part", 100);
	put_file(LEFT, "64.ct.part", 7);
	put_file(EMPTY, NULL, 0);
	put_file(HELD, "1.ct.part", 16);
	put_file(TREE, "1.ct.part", 3);
	put_file(TREE, "1.tree", 32);
	put_file(TREE, "2.ct", 16);
	put_file(TREE, "2.tree", 32);
	put_file(SEALED, "1.ct", 16);
	put_file(SEALED, "1.tree", 32);
	put_file(TREEODD, "1.ct.part", 3);
	put_file(TREEODD, "1.tree", 32);
	put_file(TREEODD, "notes.txt", 1);
	put_file(DONE, "1.ct", 16);
	put_file(ODD, "01.ct.part", 1);
	put_file(HIGH, "65.ct.part", 1);
	put_file("not-a-message", "1.ct.part", 1);
	put_file(LINK, NULL, 0);
	snprintf(target, sizeof target, "%s/%s/1.ct", root, DONE);
	snprintf(path, sizeof path, "%s/%s/1.ct.part", root, LINK);
	assert_int_equal(symlink(target, path), 0);

	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_reader_open(db, &r, &d), MLA_OK);
	assert_int_equal(attach_strays_remove(db, r, record, &seen, &d), MLA_OK);
	store_reader_close(r);

	assert_int_equal(seen.n, 3);
	for (int i = 0; i < 3; i++) {
		int left = strcmp(seen.ids[i], LEFT) == 0, tree = strcmp(seen.ids[i], TREE) == 0;
		assert_true(left || tree || strcmp(seen.ids[i], EMPTY) == 0);
		assert_int_equal(seen.files[i], left ? 2 : tree ? 4 : 0);
		assert_int_equal(seen.bytes[i], left ? 107 : tree ? 83 : 0);
		assert_int_equal(seen.sealing[i], tree);
	}
	assert_false(exists(LEFT));
	assert_false(exists(EMPTY));
	assert_false(exists(TREE));
	assert_true(exists(HELD) && exists(DONE) && exists(ODD) && exists(HIGH) && exists(LINK) &&
		    exists(SEALED) && exists(TREEODD) && exists("not-a-message"));
	assert_true(exists(DONE "/1.ct")); /* the link's target untouched */
}

static void test_no_attachments_folder(void **state)
{
	struct seen seen;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = NULL;

	(void)state;
	assert_int_equal(rmdir(root), 0);
	assert_int_equal(store_init(db, &d), MLA_OK);
	assert_int_equal(store_open(db, &s, &d), MLA_OK);
	store_close(s);
	memset(&seen, 0, sizeof seen);
	assert_int_equal(store_reader_open(db, &r, &d), MLA_OK);
	assert_int_equal(attach_strays_remove(db, r, record, &seen, &d), MLA_OK);
	store_reader_close(r);
	assert_int_equal(seen.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_unrecorded_reservations_go, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_attachments_folder, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
