/* Unit tests of the store's life (gateway/store/store.c, store_lifecycle.c): creation only
 * by store_init, reopening, schema upgrades and newer versions refused, file mode, the
 * clean-stop mark, a lost write-ahead log refused until the loss is accepted, and the copy
 * taken before a schema upgrade. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store.h"
#include "store/store_fault.h"
#include "store/store_reader.h"
#include "store_fx.h"

static void test_create_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(1, "FR", 0, 1000, 1000), got;
	gw_store *s = open_ok(f);

	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	put_ok(s, &m);
	store_close(s);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	assert_string_equal(got.case_id, "case-1");
	assert_string_equal(got.to_state, "FR");
	assert_int_equal(got.state, MSG_QUEUED);
	assert_int_equal(got.created_ms, 1000);
	assert_memory_equal(got.digest, m.digest, 32);
	store_close(s);
	pragma_is(f->path, "journal_mode", "wal");
}

/* A store comes only from store_init: a missing, empty or foreign file is refused, never
 * silently made a new empty store, and init never writes over an existing file. */
static void test_only_init_creates(void **state)
{
	struct fx *f = *state;
	gw_store *s = NULL;
	mla_diag d = {MLA_OK, ""};
	struct stat st;
	int fd;

	assert_int_equal(store_open(f->path, &s, &d), MLA_ERR_NOT_FOUND);
	assert_non_null(strstr(d.msg, "does not exist"));
	assert_non_null(strstr(d.msg, "mlagw store init"));
	assert_int_not_equal(stat(f->path, &st), 0); /* nothing created by the refusal */

	fd = open(f->path, O_CREAT | O_WRONLY, 0600); /* a store truncated to nothing */
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(store_open(f->path, &s, &d), MLA_ERR_STORE);
	assert_non_null(strstr(d.msg, "is empty"));
	assert_int_equal(store_init(f->path, &d), MLA_ERR_EXISTS);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, 0); /* left as found */

	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(store_init(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(store_init(f->path, &d), MLA_ERR_EXISTS);
	assert_non_null(strstr(d.msg, "already exists"));
	assert_int_equal(store_open(f->path, &s, &d), MLA_OK);
	store_close(s);
}

/* An unclean stop leaves its write-ahead log (no close but the clean one deletes it): a store
 * marked unclean without one has lost it, and is refused until the operator accepts the loss. */
static void test_lost_wal_refused(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(1, "FR", 0, 1000, 1000);
	gw_store *s = open_ok(f);
	mla_diag d = {MLA_OK, ""};
	char wal[160], shm[160];

	put_ok(s, &m);
	store_close(s); /* no clean mark: as after a crash */
	assert_int_equal(mla_snprintf(wal, sizeof(wal), "%s-wal", f->path), MLA_OK);
	assert_int_equal(mla_snprintf(shm, sizeof(shm), "%s-shm", f->path), MLA_OK);
	assert_int_equal(access(wal, F_OK), 0); /* kept */
	assert_int_equal(store_accept_loss(f->path, 1000, &d), MLA_ERR_ARG); /* nothing lost */
	assert_int_equal(unlink(wal), 0);
	(void)unlink(shm);
	s = NULL;
	assert_int_equal(store_open(f->path, &s, &d), MLA_ERR_STORE);
	assert_null(s);
	assert_non_null(strstr(d.msg, "without its write-ahead log"));
	assert_int_equal(store_accept_loss(f->path, 1000, &d), MLA_OK);
	s = open_ok(f);
	assert_false(store_unclean(s));
	store_close(s);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(store_mark_clean(s, &d), MLA_OK);
	store_close(s);
	assert_int_equal(store_fault_set_version(f->path, STORE_SCHEMA_VERSION + 1, &d), MLA_OK);
	s = NULL;
	assert_int_equal(store_open(f->path, &s, &d), MLA_ERR_STORE);
	assert_null(s);
	assert_non_null(strstr(d.msg, "schema version 15"));
}

/* A version 1 file (before witnessing) is brought to the current version, its data kept. */
static void test_v1_upgraded(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(1, "FR", 0, 1000, 1000), got;
	gw_store *s = open_ok(f);

	put_ok(s, &m);
	store_close(s);
	assert_int_equal(store_fault_make_v1(f->path, NULL), MLA_OK);
	assert_int_equal(schema_version(f->path), 1);
	s = open_ok(f);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal((int64_t)counts_of(f->path).witnessed, 0);
	assert_int_equal(store_outbox_get(s, m.message_id, &got, NULL), MLA_OK);
	store_close(s);
}

static void test_file_mode_0600(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char wal[160];
	gw_store *s;
	mode_t old = umask(0);

	s = open_ok(f);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(mla_snprintf(wal, sizeof(wal), "%s-wal", f->path), MLA_OK);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	store_close(s);
	/* an existing file with a wider mode is tightened */
	assert_int_equal(chmod(f->path, 0644), 0);
	s = open_ok(f);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	store_close(s);
}

/* The clean-stop mark: a store closed without store_mark_clean is unclean at the next open
 * (checked, and still readable); after store_mark_clean it is clean. */
static void test_unclean_mark(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);

	assert_false(store_unclean(s)); /* a new file */
	store_close(s);
	s = open_ok(f);
	assert_true(store_unclean(s)); /* closed without the mark: taken for a crash */
	store_close(s);
	s = open_ok(f); /* it kept its write-ahead log: still unclean, not refused */
	assert_true(store_unclean(s));
	assert_int_equal(store_mark_clean(s, NULL), MLA_OK);
	store_close(s);
	s = open_ok(f);
	assert_false(store_unclean(s));
	store_close(s);
}

/* Files in dir whose name holds part. */
static int files_with(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, part) != NULL;
	(void)closedir(d);
	return n;
}

/* An older schema is upgraded only after a copy of the store as it was: beside it, named
 * with the old version, mode 0600, holding the old schema and the messages; a current store
 * is not copied again, and a new store is never copied. */
static void test_upgrade_backup(void **state)
{
	struct fx *f = *state;
	struct out_msg m = make_out(1, "FR", 0, 1000, 1000);
	gw_store *s = open_ok(f);
	char prefix[160];
	const char *bak;
	struct stat st;
	int from = -1;

	assert_null(store_upgraded(s, &from));
	assert_int_equal(from, 0);
	put_ok(s, &m);
	assert_int_equal(store_mark_clean(s, NULL), MLA_OK);
	store_close(s);
	assert_int_equal(files_with(f->dir, ".bak"), 0);
	assert_int_equal(store_fault_make_v13(f->path, NULL), MLA_OK);
	s = open_ok(f);
	bak = store_upgraded(s, &from);
	assert_non_null(bak);
	assert_int_equal(from, 13);
	assert_int_equal(mla_snprintf(prefix, sizeof(prefix), "%s.schema-13-", f->path), MLA_OK);
	assert_int_equal(strncmp(bak, prefix, strlen(prefix)), 0);
	assert_int_equal(stat(bak, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(schema_version(bak), 13);
	assert_int_equal((int64_t)counts_of(bak).outbox, 1);
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	assert_int_equal(files_with(f->dir, ".tmp"), 0);
	store_close(s);
	s = open_ok(f);
	assert_null(store_upgraded(s, &from));
	store_close(s);
	assert_int_equal(files_with(f->dir, ".bak"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_create_reopen_keeps_data),
		T(test_only_init_creates),
		T(test_lost_wal_refused),
		T(test_newer_schema_refused),
		T(test_v1_upgraded),
		T(test_file_mode_0600),
		T(test_unclean_mark),
		T(test_upgrade_backup),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
