/* The store tests' shared fixture (store_fx.h). */
#define _XOPEN_SOURCE 700 /* nftw(), to remove the temporary directories */
#include <ftw.h>
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

#include "mlagw/codec.h"
#include "store/store_fault.h"
#include "store_fx.h"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int  setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int n;

	if (f == NULL)
		return -1;
	n = snprintf(f->dir, sizeof(f->dir), "/tmp/mlagw-test-store-XXXXXX");
	if (n < 0 || (size_t)n >= sizeof(f->dir) || mkdtemp(f->dir) == NULL)
		return -1;
	n = snprintf(f->path, sizeof(f->path), "%s/gw.db", f->dir);
	if (n < 0 || (size_t)n >= sizeof(f->path))
		return -1;
	*state = f;
	return 0;
}

int  teardown(void **state)
{
	struct fx *f = *state;

	(void)nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

gw_store *open_ok(const struct fx *f)
{
	gw_store *s = NULL;
	mla_diag d = {MLA_OK, ""};

	if (access(f->path, F_OK) != 0 && store_init(f->path, &d) != MLA_OK)
		fail_msg("store_init: %s", d.msg); /* the first open of a test creates its store */
	if (store_open(f->path, &s, &d) != MLA_OK)
		fail_msg("store_open: %s", d.msg);
	return s;
}

void  make_id(char *id, size_t len, unsigned n)
{
	int k = snprintf(id, len, "00000000-0000-4000-8000-%012u", n);
	assert_true(k == MLA_UUID_LEN);
}

struct out_msg  make_out(unsigned n, const char *to, int prio, int64_t created,
			       int64_t next)
{
	struct out_msg m;

	memset(&m, 0, sizeof(m));
	make_id(m.message_id, sizeof(m.message_id), n);
	assert_int_equal(mla_snprintf(m.case_id, sizeof(m.case_id), "case-%u", n), MLA_OK);
	assert_int_equal(mla_snprintf(m.to_state, sizeof(m.to_state), "%s", to), MLA_OK);
	assert_int_equal(mla_snprintf(m.kind, sizeof(m.kind), "mla-request"), MLA_OK);
	assert_int_equal(mla_snprintf(m.action, sizeof(m.action), "request"), MLA_OK);
	m.priority = prio;
	m.created_ms = created;
	m.next_attempt_ms = next;
	m.deadline_ms = created + 86400000;
	memset(m.digest, (int)(n & 0xff), sizeof(m.digest));
	return m;
}

const uint8_t env_bytes[45] = "<Envelope>ENVELOPE-CONTENT-SECRET</Envelope>";

void  put_ok(gw_store *s, const struct out_msg *m)
{
	mla_diag d = {MLA_OK, ""};

	if (store_outbox_put(s, m, env_bytes, sizeof(env_bytes), &d) != MLA_OK)
		fail_msg("store_outbox_put: %s", d.msg);
}

/* The schema version, read back through the read-only reader. */
int  schema_version(const char *path)
{
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	int v;

	if (store_reader_open(path, &r, &d) != MLA_OK)
		fail_msg("store_reader_open: %s", d.msg);
	v = store_reader_version(r);
	store_reader_close(r);
	return v;
}

/* Rows per part, through the reader (which fails on a missing table of the version). */
struct store_counts  counts_of(const char *path)
{
	struct store_counts c;
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	if (store_reader_open(path, &r, &d) != MLA_OK || store_reader_counts(r, &c, &d) != MLA_OK)
		fail_msg("store reader: %s", d.msg);
	store_reader_close(r);
	return c;
}

/* An SQLite setting of the file (test-only access, store_fault.h). */
void  pragma_is(const char *path, const char *name, const char *want)
{
	mla_diag d = {MLA_OK, ""};
	char v[64];

	if (store_fault_pragma(path, name, v, sizeof(v), &d) != MLA_OK)
		fail_msg("store_fault_pragma: %s", d.msg);
	assert_string_equal(v, want);
}

