/* Unit tests of the store's read-only reader (gateway/store/store_reader*.c): reading a store
 * while it is written (one snapshot until refresh, nothing written by the reader), the schema
 * version from the store's record, a newer or foreign file refused, audit ranges and their
 * bounds, messages, history, alerts and checkpoints as the writer stored them. */
#define _XOPEN_SOURCE 700 /* nftw(), to remove the temporary directories */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "mlagw/codec.h"
#include "store/store.h"
#include "store/store_fault.h"
#include "store/store_reader.h"

struct fx {
	char dir[64];
	char path[128];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	assert_int_equal(mla_snprintf(f->dir, sizeof(f->dir), "/tmp/mlagw-test-reader-XXXXXX"), MLA_OK);
	if (mkdtemp(f->dir) == NULL)
		return -1;
	assert_int_equal(mla_snprintf(f->path, sizeof(f->path), "%s/gw.db", f->dir), MLA_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static gw_store *open_ok(const struct fx *f)
{
	gw_store *s = NULL;
	mla_diag d = {MLA_OK, ""};

	if (access(f->path, F_OK) != 0 && store_init(f->path, &d) != MLA_OK)
		fail_msg("store_init: %s", d.msg); /* the first open of a test creates its store */
	if (store_open(f->path, &s, &d) != MLA_OK)
		fail_msg("store_open: %s", d.msg);
	return s;
}

static store_reader *reader_ok(const struct fx *f)
{
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	if (store_reader_open(f->path, &r, &d) != MLA_OK)
		fail_msg("store_reader_open: %s", d.msg);
	return r;
}

/* Appends entries from .. to-1: entry "entry <seq>\n", leaf all bytes seq. */
static void append(gw_store *s, uint64_t from, uint64_t to)
{
	mla_diag d = {MLA_OK, ""};
	char e[32];
	uint8_t leaf[32];

	for (uint64_t i = from; i < to; i++) {
		int n = snprintf(e, sizeof(e), "entry %llu\n", (unsigned long long)i);
		memset(leaf, (int)i, sizeof(leaf));
		if (store_audit_append(s, i, (const uint8_t *)e, (size_t)n, leaf, &d) != MLA_OK)
			fail_msg("store_audit_append: %s", d.msg);
	}
}

/* What an audit iteration saw; stops with MLA_ERR_ARG after stop_after rows (0: never). */
struct seen {
	size_t n, stop_after;
	uint64_t seq[32];
	int bad;
};

static mla_err audit_fn(const struct store_audit_row *row, void *arg)
{
	struct seen *s = arg;
	char want[32];
	int n = snprintf(want, sizeof(want), "entry %llu\n", (unsigned long long)row->seq);

	if (row->len != (size_t)n || memcmp(row->entry, want, row->len) != 0 ||
	    row->leaf == NULL || row->leaf[0] != (uint8_t)row->seq || s->n >= 32)
		s->bad++;
	else
		s->seq[s->n++] = row->seq;
	return s->stop_after != 0 && s->n == s->stop_after ? MLA_ERR_ARG : MLA_OK;
}

static struct seen audit_range(store_reader *r, uint64_t from, uint64_t to)
{
	struct seen s;
	mla_diag d = {MLA_OK, ""};

	memset(&s, 0, sizeof(s));
	if (store_reader_audit(r, from, to, audit_fn, &s, &d) != MLA_OK)
		fail_msg("store_reader_audit: %s", d.msg);
	assert_int_equal(s.bad, 0);
	return s;
}

static off_t file_size(const char *path, const char *suffix)
{
	char p[160];
	struct stat st;

	assert_int_equal(mla_snprintf(p, sizeof(p), "%s%s", path, suffix), MLA_OK);
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* A reader of a store being written sees one snapshot until refresh, writes nothing, and
 * never sees what an open group commit has not committed. */
static void test_read_while_writing(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_diag d = {MLA_OK, ""};
	store_reader *r;
	off_t db, wal;

	append(s, 0, 5);
	r = reader_ok(f);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 5);
	append(s, 5, 8);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 5); /* the snapshot of the open */
	assert_int_equal(store_reader_refresh(r, &d), MLA_OK);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 8);
	assert_int_equal(store_begin(s, &d), MLA_OK);
	append(s, 8, 10);
	assert_int_equal(store_reader_refresh(r, &d), MLA_OK);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 8); /* not committed yet */
	assert_int_equal(store_commit(s, &d), MLA_OK);
	assert_int_equal(store_reader_refresh(r, &d), MLA_OK);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 10);
	store_reader_close(r);
	store_close(s);
	/* a reader alone writes neither the database nor its write-ahead log (SQLite may leave
	 * an empty -wal beside it, as any reader of a WAL database does) */
	db = file_size(f->path, "");
	wal = file_size(f->path, "-wal");
	r = reader_ok(f);
	assert_int_equal(audit_range(r, 0, UINT64_MAX).n, 10);
	store_reader_close(r);
	assert_int_equal(file_size(f->path, ""), db);
	assert_true(file_size(f->path, "-wal") <= (wal > 0 ? wal : 0));
}

/* The version comes from the store's record; parts a version lacks read as empty. */
static void test_schema_version(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	struct store_counts c;
	mla_diag d = {MLA_OK, ""};
	char origin[16];
	store_reader *r;

	append(s, 0, 2);
	store_close(s);
	r = reader_ok(f);
	assert_int_equal(store_reader_version(r), STORE_SCHEMA_VERSION);
	assert_int_equal(store_reader_origin(r, origin, sizeof(origin), &d), MLA_ERR_NOT_FOUND);
	store_reader_close(r);
	assert_int_equal(store_fault_make_v1(f->path, &d), MLA_OK);
	r = reader_ok(f);
	assert_int_equal(store_reader_version(r), 1);
	assert_int_equal(store_reader_counts(r, &c, &d), MLA_OK); /* no witnessing table: 0 */
	assert_int_equal(c.audit, 2);
	assert_int_equal(c.witnessed, 0);
	assert_int_equal(c.peer_certs, 0);
	store_reader_close(r);
}

/* A store newer than this code is refused by name and version; so is a foreign file. */
static void test_refuses_newer_and_foreign(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	char other[160];
	FILE *fp;

	store_close(s);
	assert_int_equal(store_fault_set_version(f->path, STORE_SCHEMA_VERSION + 1, &d), MLA_OK);
	assert_int_equal(store_reader_open(f->path, &r, &d), MLA_ERR_STORE);
	assert_null(r);
	assert_non_null(strstr(d.msg, f->path));
	assert_non_null(strstr(d.msg, "schema version 15, newer than this mlagw's 14"));
	assert_int_equal(mla_snprintf(other, sizeof(other), "%s/empty.db", f->dir), MLA_OK);
	assert_non_null(fp = fopen(other, "w"));
	(void)fclose(fp);
	assert_int_equal(store_reader_open(other, &r, &d), MLA_ERR_STORE);
	assert_non_null(strstr(d.msg, "no mlagw store"));
	assert_int_equal(mla_snprintf(other, sizeof(other), "%s/missing.db", f->dir), MLA_OK);
	assert_int_equal(store_reader_open(other, &r, &d), MLA_ERR_STORE);
	assert_int_equal(file_size(other, ""), -1); /* read-only: never created */
}

/* from <= seq < to, in order; bounds past the end or empty; a stop; a gap is skipped. */
static void test_audit_bounds(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_diag d = {MLA_OK, ""};
	struct seen got;
	store_reader *r;

	append(s, 0, 10);
	store_close(s);
	r = reader_ok(f);
	got = audit_range(r, 2, 5);
	assert_int_equal(got.n, 3);
	assert_int_equal(got.seq[0], 2);
	assert_int_equal(got.seq[2], 4);
	assert_int_equal(audit_range(r, 5, 5).n, 0);
	assert_int_equal(audit_range(r, 7, 3).n, 0);
	assert_int_equal(audit_range(r, 8, UINT64_MAX).n, 2);
	assert_int_equal(audit_range(r, 10, UINT64_MAX).n, 0);
	assert_int_equal(audit_range(r, UINT64_MAX - 1, UINT64_MAX).n, 0);
	memset(&got, 0, sizeof(got));
	got.stop_after = 3;
	assert_int_equal(store_reader_audit(r, 0, UINT64_MAX, audit_fn, &got, &d), MLA_ERR_ARG);
	assert_int_equal(got.n, 3);
	store_reader_close(r);
	assert_int_equal(store_fault_delete_entry(f->path, 4, &d), MLA_OK);
	r = reader_ok(f);
	got = audit_range(r, 0, UINT64_MAX);
	assert_int_equal(got.n, 9);
	assert_int_equal(got.seq[4], 5); /* as stored: the gap is for the verifier to name */
	store_reader_close(r);
}

static mla_err keep_bytes(const uint8_t *p, size_t n, void *arg)
{
	mla_buf *b = arg;

	return mla_buf_append(b, p, n);
}

static mla_err count_history(const struct store_history_row *row, void *arg)
{
	size_t *n = arg;

	if (strcmp(row->direction, "out") == 0)
		(*n)++;
	return MLA_OK;
}

static mla_err count_alert(const struct store_alert_row *row, void *arg)
{
	size_t *n = arg;

	*n += strcmp(row->kind, "duplicate-id") == 0 && row->message_id != NULL;
	return MLA_OK;
}

static mla_err check_cp(const struct store_checkpoint_row *row, void *arg)
{
	uint64_t *last = arg;

	if (row->size <= *last || row->len != 5 || memcmp(row->note, "note\n", 5) != 0)
		return MLA_ERR_STORE;
	*last = row->size;
	return MLA_OK;
}

static void put_message(gw_store *s, struct out_msg *m)
{
	static const uint8_t env[] = "<Envelope/>";
	mla_diag d = {MLA_OK, ""};

	memset(m, 0, sizeof(*m));
	assert_int_equal(mla_snprintf(m->message_id, sizeof(m->message_id), "00000000-0000-4000-8000-000000000001"), MLA_OK);
	assert_int_equal(mla_snprintf(m->to_state, sizeof(m->to_state), "CO"), MLA_OK);
	m->deadline_ms = 1000;
	if (store_outbox_put(s, m, env, sizeof(env) - 1, &d) != MLA_OK ||
	    store_outbox_set_state(s, m->message_id, MSG_SENDING, 0, NULL, &d) != MLA_OK ||
	    store_outbox_receipt(s, m->message_id, MSG_DELIVERED, (const uint8_t *)"<R/>", 4,
				 NULL, &d) != MLA_OK ||
	    store_alert(s, "duplicate-id", m->message_id, "x", &d) != MLA_OK ||
	    store_checkpoint_put(s, 1, "note\n", 5, 1, &d) != MLA_OK ||
	    store_checkpoint_put(s, 2, "note\n", 5, 2, &d) != MLA_OK)
		fail_msg("store: %s", d.msg);
}

/* A message's bytes, history and alerts, and the checkpoints, as the writer stored them. */
static void test_messages_and_log(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);
	mla_diag d = {MLA_OK, ""};
	struct out_msg m;
	size_t hist = 0, alerts = 0;
	uint64_t last = 0;
	char origin[16];
	store_reader *r;
	mla_buf b;

	append(s, 0, 2);
	put_message(s, &m);
	store_close(s);
	r = reader_ok(f);
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(store_reader_envelope(r, m.message_id, keep_bytes, &b, &d), MLA_OK);
	assert_int_equal(b.len, 11);
	assert_memory_equal(b.data, "<Envelope/>", 11);
	mla_buf_free(&b);
	mla_buf_init(&b, 1 << 20);
	assert_int_equal(store_reader_receipt(r, m.message_id, keep_bytes, &b, &d), MLA_OK);
	assert_int_equal(b.len, 4);
	mla_buf_free(&b);
	assert_int_equal(store_reader_receipt(r, "no-such-id", keep_bytes, &b, &d),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(store_reader_history(r, m.message_id, count_history, &hist, &d), MLA_OK);
	assert_int_equal(hist, 3); /* queued, sending, delivered */
	assert_int_equal(store_reader_alerts(r, count_alert, &alerts, &d), MLA_OK);
	assert_int_equal(alerts, 1);
	assert_int_equal(store_reader_checkpoints(r, check_cp, &last, &d), MLA_OK);
	assert_int_equal(last, 2);
	assert_int_equal(store_reader_origin(r, origin, sizeof(origin), &d), MLA_OK);
	assert_string_equal(origin, "note"); /* the first line of the latest note */
	assert_int_equal(store_reader_origin(r, origin, 4, &d), MLA_ERR_STORE); /* no room */
	store_reader_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_read_while_writing),
		T(test_schema_version),
		T(test_refuses_newer_and_foreign),
		T(test_audit_bounds),
		T(test_messages_and_log),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
