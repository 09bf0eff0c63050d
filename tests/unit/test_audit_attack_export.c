/* Attack review of mla_audit_export (protocol/audit/export.c): a log with many checkpoints.
 *
 * The manifest lists every checkpoint's size (`checkpoint_sizes`, SPEC 15) and is one record
 * of at most 1 MiB (mla_bundle_type_max). A gateway signs a checkpoint every
 * `checkpoint_interval` (default 2 s) while its log grows: a steadily busy gateway signs
 * 43,200 a day, and some 75,000 checkpoints of sizes in the millions (about 14 bytes each
 * in the manifest as export writes it: 1,680,404 bytes for 120,000) fill it. From then on the log cannot be exported at all, filtered or
 * not: format 4 raised the bundle's limits to 10^10 records and 16 TiB but left the
 * manifest's 1 MiB, which the checkpoint list outgrows long before.
 *
 * The source here is synthetic (callbacks): N entries, a checkpoint at every size from
 * BASE + 1 (BASE entries before the first), notes that are not signed (export copies them;
 * the failure comes before anything is verified). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "audit_testbundle.h"

#include "mlagw/audit.h"
#include "mlagw/bundle.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"

#define BASE 10000000u	 /* entries before the first checkpoint: an 8-digit log */
#define NCPS 120000u	 /* checkpoints: under three days at the default interval */

static uint64_t ncps; /* the source's checkpoints: NCPS, or fewer for the control */
#define ENTRY "e"
#define NOTE "mlagw.es/audit\n1\nAAAA\n\n- not signed\n"

static uint8_t leaf[32];

static mla_err s_meta(void *ctx, mla_audit_source_meta *m, mla_diag *diag)
{
	(void)ctx;
	(void)diag;
	memset(m, 0, sizeof(*m));
	mla_require(mla_strcpy(m->state, sizeof(m->state), "ES") == MLA_OK);
	mla_require(mla_strcpy(m->origin, sizeof(m->origin), "mlagw.es/audit") == MLA_OK);
	m->entries = BASE + ncps;
	m->checkpoints = ncps;
	return MLA_OK;
}

static mla_err s_entries(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			 void *arg, mla_diag *diag)
{
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (uint64_t s = from; s < to && r == MLA_OK; s++) {
		mla_audit_source_entry e = {s, (const uint8_t *)ENTRY, strlen(ENTRY), leaf};
		r = fn(&e, arg);
	}
	return r;
}

static mla_err s_checkpoints(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (uint64_t i = 1; i <= ncps && r == MLA_OK; i++) {
		mla_audit_source_note n = {NULL, BASE + i, NOTE, strlen(NOTE)};
		r = fn(&n, arg);
	}
	return r;
}

static mla_err s_no_blob(void *ctx, const char *id, mla_audit_bytes_fn fn, void *arg,
			 mla_diag *diag)
{
	(void)ctx;
	(void)id;
	(void)fn;
	(void)arg;
	(void)diag;
	return MLA_ERR_NOT_FOUND;
}

/* The subtree roots: every node the same (the proofs' values do not matter here). */
static mla_err s_node(void *ctx, unsigned level, uint64_t idx, uint8_t out[32], mla_diag *diag)
{
	(void)ctx;
	(void)level;
	(void)idx;
	(void)diag;
	memcpy(out, leaf, 32);
	return MLA_OK;
}

/* Exports the synthetic log of ncps checkpoints to /dev/null. */
static mla_err export_log(mla_diag *d)
{
	mla_audit_source src = {NULL,	   s_meta,   s_entries, s_checkpoints, tb_src_no_notes, tb_src_no_certs,
				s_no_blob, s_no_blob, NULL,	 NULL,	       s_node, NULL, NULL, NULL, NULL};
	mla_audit_export_result res;
	FILE *out = fopen("/dev/null", "wb");
	char dir[64], crt[96];
	struct tb_state es;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long pem_len;
	mla_err r;

	assert_non_null(out);
	assert_non_null(bio);
	/* ES's audit certificate, made here (its root written to a temporary directory) */
	assert_int_equal(mla_strcpy(dir, sizeof(dir), "/tmp/mlagw-taex-XXXXXX"), MLA_OK);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mla_crypto_init(NULL), MLA_OK);
	assert_int_equal(tb_state_make("ES", dir, &es), 0);
	assert_int_equal(PEM_write_bio_X509(bio, es.audit_cert), 1);
	assert_true((pem_len = BIO_get_mem_data(bio, &pem)) > 0);
	r = mla_audit_export(&src, (const uint8_t *)pem, (size_t)pem_len, NULL, out, &res, d);
	fclose(out);
	BIO_free(bio);
	tb_state_free(&es);
	assert_int_equal(mla_snprintf(crt, sizeof(crt), "%s/ES.crt", dir), MLA_OK);
	(void)unlink(crt);
	(void)rmdir(dir);
	return r;
}

/* The control: 1,000 checkpoints export (the synthetic source is good). */
static void test_few_checkpoints_export(void **state)
{
	mla_diag d = {MLA_OK, ""};

	(void)state;
	ncps = 1000;
	if (export_log(&d) != MLA_OK)
		fail_msg("export of the control log failed: %s", d.msg);
}

/* A log of 10,120,000 entries with 120,000 checkpoints exports: every record of its bundle is
 * within its limit but the manifest, whose checkpoint list outgrew 1 MiB. */
static void test_many_checkpoints_export(void **state)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	(void)state;
	ncps = NCPS;
	if ((r = export_log(&d)) != MLA_OK)
		fail_msg("export of a log with %u checkpoints failed (%s): %s", NCPS, mla_errname(r),
			 d.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_few_checkpoints_export),
		cmocka_unit_test(test_many_checkpoints_export),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
