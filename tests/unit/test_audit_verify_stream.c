/* mla_audit_verify as it reads a bundle in passes (SPEC 15 "Reading a bundle in bounded
 * memory"): a format 4 bundle, a bundle read from its file rather than from memory, and the
 * cap on the failures it describes. The other audit verify tests: test_audit_verify*.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"

static struct tv_trust tt;
static struct tb_state es;
static int64_t t0;

static int setup(void **state)
{
	(void)state;
	t0 = (int64_t)time(NULL) * 1000 - 60000;
	if (mla_crypto_init(NULL) != MLA_OK || tv_trust_es(&tt, &es) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_es_end(&tt, &es);
	return 0;
}

/* ES's log: a reload, a message sent, a reload, another reload; checkpoints 2 and 4. */
static void build_es(struct tb_bundle *b)
{
	static const uint64_t cps[] = {2, 4};
	mla_audit_entry e[4];

	tb_entry(&e[0], 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t0 + 1000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[2], 2, t0 + 2000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(b, &es, e, 4, cps, 2, NULL), 0);
}

/* Format 4 (format 3 with raised limits, SPEC 15) verifies like format 2; and a bundle read
 * from its file (the path input mlagw audit verify gives) as from memory. */
static void test_format4_and_file(void **state)
{
	char path[] = "/tmp/mlagw-tav-f4-XXXXXX";
	struct tb_bundle b;
	const struct tb_bundle *bs = &b;
	mla_audit_result *r;
	mla_audit_input in;
	mla_buf d;
	int fd;

	(void)state;
	build_es(&b);
	b.format = 4;
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = tv_verify(tt.trust, &bs, 1);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_TREE], 2);
	mla_audit_result_free(r);
	assert_int_equal(tb_write(&b, &d), 0);
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, d.data, d.len), (ssize_t)d.len);
	close(fd);
	in = (mla_audit_input){"f.mab", NULL, 0, path};
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, NULL), MLA_OK);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].records[MLA_BUNDLE_ENTRY], 4);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_ENTRIES], 4);
	mla_audit_result_free(r);
	unlink(path);
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, NULL), MLA_OK); /* gone */
	assert_int_equal(r->failures, 1);
	assert_non_null(strstr(r->bundles[0].failures[0].message, "cannot read f.mab"));
	mla_audit_result_free(r);
	mla_buf_free(&d);
	tb_free(&b);
}

/* A bundle made to fail at every entry: the failures are counted, and only the first
 * MLA_AUDIT_FAILURES_LISTED described (the auditor's memory does not grow with them). The
 * one entry of a written bundle is replaced by n entries whose times go back. */
static void test_failures_listed(void **state)
{
	const size_t n = MLA_AUDIT_FAILURES_LISTED + 50;
	const uint64_t cp[] = {1};
	mla_audit_entry e;
	struct tb_bundle b;
	mla_buf d, out, one;
	mla_audit_result *r;
	mla_audit_input in;
	const mla_audit_bundle_result *x;
	const char *at, *nl;
	size_t total = 0, len;
	uint64_t len64 = 0;

	(void)state;
	tb_entry(&e, 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(&b, &es, &e, 1, cp, 1, NULL), 0);
	assert_int_equal(tb_write(&b, &d), 0);
	assert_non_null(at = strstr((const char *)d.data, "\nentry 0 "));
	at++;
	assert_non_null(nl = strchr(at, '\n'));
	assert_int_equal(mla_parse_u64n(at + 8, (size_t)(nl - at - 8), 0, 1024, &len64), MLA_OK);
	len = (size_t)len64;
	mla_buf_init(&out, MLA_BUNDLE_MAX);
	mla_buf_init(&one, MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_buf_append(&out, d.data, (size_t)(at - (const char *)d.data)), 0);
	for (size_t i = 0; i < n; i++) { /* every time before the previous one */
		char name[24];

		tb_entry(&e, i, t0 - (int64_t)i, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL,
			 NULL);
		one.len = 0;
		assert_int_equal(mla_audit_entry_serialize(&e, &one, NULL), MLA_OK);
		assert_int_equal(mla_snprintf(name, sizeof(name), "%zu", i), MLA_OK);
		assert_int_equal(mla_bundle_add(&out, MLA_BUNDLE_ENTRY, name, one.data, one.len,
						NULL), MLA_OK);
	}
	at = nl + 1 + len + 1; /* the rest: the checkpoint */
	assert_int_equal(mla_buf_append(&out, at, d.len - (size_t)(at - (const char *)d.data)), 0);
	in = (mla_audit_input){"many.mab", out.data, out.len, NULL};
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, NULL), MLA_OK);
	x = &r->bundles[0];
	for (int k = 0; k < MLA_AUDIT_CHECK_N; k++)
		total += x->failed[k];
	assert_int_equal(x->failed[MLA_AUDIT_CHECK_ENTRIES], n - 1);
	assert_true(total > MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(x->nfailures, MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(x->unlisted, total - MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(r->failures, total);
	assert_int_equal(x->records[MLA_BUNDLE_ENTRY], n);
	mla_audit_result_free(r);
	mla_buf_free(&one);
	mla_buf_free(&out);
	mla_buf_free(&d);
	tb_free(&b);
}

/* Heads handed out, in order; a receiver that stops after the first. */
struct got_heads {
	uint64_t size[4];
	size_t n, stop_after;
};

static mla_err on_head(void *arg, size_t bundle, const mla_audit_head *h)
{
	struct got_heads *g = arg;

	assert_int_equal(bundle, 0);
	assert_string_equal(h->origin, "mlagw.es/audit");
	if (g->n < 4)
		g->size[g->n] = h->size;
	g->n++;
	return g->stop_after != 0 && g->n >= g->stop_after ? MLA_ERR_IO : MLA_OK;
}

/* The verified heads go to a callback as they are verified, not into the result (a log may
 * have a checkpoint per entry: SPEC 15 "Verifier memory"); a receiver that fails stops the
 * verification with its error, and no result. A verifier whose temporary file cannot be
 * made stops likewise (MLA_ERR_IO), without a verdict. */
static void test_heads_out(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r = NULL;
	struct got_heads g;
	mla_audit_input in;
	mla_diag d = {MLA_OK, ""};
	mla_buf data;
	const char *tmp = getenv("TMPDIR");
	char *saved = tmp != NULL ? strdup(tmp) : NULL;

	(void)state;
	build_es(&b);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	assert_int_equal(tb_write(&b, &data), 0);
	in = (mla_audit_input){"h.mab", data.data, data.len, NULL};
	memset(&g, 0, sizeof(g));
	assert_int_equal(mla_audit_verify_heads(&in, 1, tt.trust, on_head, &g, &r, NULL), MLA_OK);
	assert_int_equal(r->failures, 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.size[0], 2);
	assert_int_equal(g.size[1], 4);
	assert_int_equal(r->bundles[0].nheads, 2);
	mla_audit_result_free(r);
	memset(&g, 0, sizeof(g));
	g.stop_after = 1;
	assert_int_equal(mla_audit_verify_heads(&in, 1, tt.trust, on_head, &g, &r, &d),
			 MLA_ERR_IO);
	assert_null(r);
	assert_int_equal(g.n, 1);
	assert_non_null(strstr(d.msg, "stopped by the receiver of its heads"));
	assert_int_equal(setenv("TMPDIR", "/nonexistent-mlagw-tmp", 1), 0);
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, &d), MLA_ERR_IO);
	assert_null(r);
	assert_non_null(strstr(d.msg, "temporary file"));
	if (saved != NULL)
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	else
		assert_int_equal(unsetenv("TMPDIR"), 0);
	free(saved);
	mla_buf_free(&data);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format4_and_file),
		cmocka_unit_test(test_failures_listed),
		cmocka_unit_test(test_heads_out),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
