/* mla_audit_export from a source that is not a store: callbacks over arrays (the records of a
 * test bundle, audit_testbundle.c, whose checkpoints are signed there). The bundle written
 * verifies with mla_audit_verify, a filter adds inclusion proofs, and a source whose entries
 * have a gap gives a bundle without proofs that the verifier refuses, naming the gap. */
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
#include <jansson.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/merkle.h"

#define M1 "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"
#define M2 "0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"

static char trust_dir[64];
static struct tb_state es, co;
static mla_audit_trust *trust;

/* The fake source: the records of a test bundle, an entry left out (skip), and what export
 * asked for. */
struct fake {
	struct tb_bundle b;
	uint64_t skip; /* UINT64_MAX: none */
	uint8_t *cert_der;
	size_t cert_len;
	uint8_t fp[32];
	size_t asked_env, asked_rcpt;
	char last_env[MLA_UUID_LEN + 1], last_rcpt[MLA_UUID_LEN + 1];
};

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-tae-XXXXXX"), MLA_OK);
	if (mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    tb_state_make("ES", trust_dir, &es) != 0 || tb_state_make("CO", trust_dir, &co) != 0)
		return -1;
	return mla_audit_trust_load(trust_dir, &trust, NULL) == MLA_OK ? 0 : -1;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	mla_audit_trust_free(trust);
	tb_state_free(&es);
	tb_state_free(&co);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mla_snprintf(p, sizeof(p), "%s/%s.crt", trust_dir,
					      i == 0 ? "ES" : "CO"), MLA_OK);
		(void)unlink(p);
	}
	(void)rmdir(trust_dir);
	return 0;
}

static mla_err f_meta(void *ctx, mla_audit_source_meta *m, mla_diag *diag)
{
	struct fake *f = ctx;

	(void)diag;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < f->b.n; i++)
		m->checkpoints += f->b.rec[i].type == MLA_BUNDLE_CHECKPOINT;
	mla_require(mla_strcpy(m->state, sizeof(m->state), "ES") == MLA_OK);
	mla_require(mla_strcpy(m->origin, sizeof(m->origin), "mlagw.es/audit") == MLA_OK);
	return MLA_OK;
}

static mla_err f_entries(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			 void *arg, mla_diag *diag)
{
	struct fake *f = ctx;
	uint64_t seq = 0;
	uint8_t leaf[32];
	mla_err r = MLA_OK;

	(void)diag;
	for (size_t i = 0; i < f->b.n && r == MLA_OK; i++) {
		const struct tb_rec *t = &f->b.rec[i];
		mla_audit_source_entry e;

		if (t->type != MLA_BUNDLE_ENTRY)
			continue;
		assert_int_equal(mla_parse_u64(t->name, 0, UINT64_MAX, &seq), MLA_OK);
		if (seq < from || seq >= to || seq == f->skip)
			continue;
		assert_int_equal(mla_merkle_leaf_hash(t->data.data, t->data.len, leaf), MLA_OK);
		e = (mla_audit_source_entry){seq, t->data.data, t->data.len, leaf};
		r = fn(&e, arg);
	}
	return r;
}

static mla_err f_checkpoints(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	struct fake *f = ctx;
	mla_err r = MLA_OK;

	(void)diag;
	for (size_t i = 0; i < f->b.n && r == MLA_OK; i++) {
		const struct tb_rec *t = &f->b.rec[i];
		mla_audit_source_note n = {NULL, 0, (const char *)t->data.data, t->data.len};

		if (t->type != MLA_BUNDLE_CHECKPOINT)
			continue;
		assert_int_equal(mla_parse_u64(t->name, 0, UINT64_MAX, &n.size), MLA_OK);
		r = fn(&n, arg);
	}
	return r;
}

static mla_err f_witnessed(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	(void)ctx;
	(void)fn;
	(void)arg;
	(void)diag;
	return MLA_OK; /* ES cosigned nothing */
}

static mla_err f_peer_certs(void *ctx, mla_audit_cert_fn fn, void *arg, mla_diag *diag)
{
	struct fake *f = ctx;
	mla_audit_source_cert c = {"CO", f->fp, f->cert_der, f->cert_len};

	(void)diag;
	return fn(&c, arg);
}

/* No envelope or receipt is kept: export asks for each selected message once, in order. */
static mla_err f_message(char last[MLA_UUID_LEN + 1], const char *id, size_t *asked)
{
	assert_true(strcmp(last, id) < 0);
	mla_require(mla_strcpy(last, MLA_UUID_LEN + 1, id) == MLA_OK);
	(*asked)++;
	return MLA_ERR_NOT_FOUND;
}

static mla_err f_envelope(void *ctx, const char *id, mla_audit_bytes_fn fn, void *arg,
			  mla_diag *diag)
{
	struct fake *f = ctx;

	(void)fn;
	(void)arg;
	(void)diag;
	return f_message(f->last_env, id, &f->asked_env);
}

static mla_err f_receipt(void *ctx, const char *id, mla_audit_bytes_fn fn, void *arg,
			 mla_diag *diag)
{
	struct fake *f = ctx;

	(void)fn;
	(void)arg;
	(void)diag;
	return f_message(f->last_rcpt, id, &f->asked_rcpt);
}

/* ES's log (a reload, two messages to CO, a reload) with checkpoints 2 and 4 cosigned by CO,
 * as a source; skip: a seq the source does not give. */
static void fake_make(struct fake *f, uint64_t skip, mla_audit_source *src)
{
	static const uint64_t cps[] = {2, 4};
	int64_t t0 = (int64_t)time(NULL) * 1000 - 60000;
	mla_audit_entry e[4];
	uint8_t *p;
	int n;

	memset(f, 0, sizeof(*f));
	f->skip = skip;
	tb_entry(&e[0], 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t0 + 1000, MLA_AUDIT_SENT, M1, "ES", "CO", NULL, NULL);
	tb_entry(&e[2], 2, t0 + 2000, MLA_AUDIT_SENT, M2, "ES", "CO", NULL, NULL);
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build(&f->b, &es, e, 4, cps, 2, &co), 0);
	assert_true((n = i2d_X509(co.audit_cert, NULL)) > 0);
	assert_non_null(f->cert_der = p = malloc((size_t)n));
	assert_int_equal(i2d_X509(co.audit_cert, &p), n);
	f->cert_len = (size_t)n;
	assert_non_null(SHA256(f->cert_der, f->cert_len, f->fp));
	*src = (mla_audit_source){f,	      f_meta,	     f_entries, f_checkpoints,
				  f_witnessed, f_peer_certs, f_envelope, f_receipt, NULL, NULL, NULL, NULL,
				  NULL, NULL, NULL};
}

static void fake_free(struct fake *f)
{
	tb_free(&f->b);
	free(f->cert_der);
}

/* ES's audit certificate as the bundle holds it. */
static const struct tb_rec *audit_pem(struct fake *f)
{
	const struct tb_rec *r = tb_find(&f->b, MLA_BUNDLE_CERTIFICATE, "audit");

	assert_non_null(r);
	return r;
}

/* Exports src into memory and verifies it alone. */
static mla_audit_result *export_verify(struct fake *f, const mla_audit_source *src,
				       const struct mla_audit_filter *filter,
				       mla_audit_export_result *res)
{
	const struct tb_rec *pem = audit_pem(f);
	mla_diag d = {MLA_OK, ""};
	mla_audit_result *r = NULL;
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);
	mla_audit_input in;

	assert_non_null(fp);
	assert_int_equal(mla_audit_export(src, pem->data.data, pem->data.len, filter, fp, res, &d),
			 MLA_OK);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(res->fault, MLA_AUDIT_EXPORT_OK);
	in = (mla_audit_input){"es.mab", (const uint8_t *)data, len, NULL};
	assert_int_equal(mla_audit_verify(&in, 1, trust, &r, NULL), MLA_OK);
	free(data);
	assert_non_null(r);
	return r;
}

static void test_export_verifies(void **state)
{
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	mla_audit_result *r;

	(void)state;
	fake_make(&f, UINT64_MAX, &src);
	r = export_verify(&f, &src, NULL, &res);
	assert_int_equal(r->failures, 0);
	assert_string_equal(r->bundles[0].state, "ES");
	assert_int_equal(r->bundles[0].records[MLA_BUNDLE_ENTRY], 4);
	assert_int_equal(r->bundles[0].cosignatures, 2);
	assert_string_equal(res.state, "ES");
	assert_int_equal(res.entries, 4);
	assert_int_equal(res.checkpoints, 2);
	assert_int_equal(res.covered, 4);
	assert_int_equal(res.peer_certs, 1);
	assert_int_equal(res.witnessed, 0);
	assert_int_equal(res.proofs, 1); /* c.2.4 */
	assert_int_equal(res.envelopes + res.receipts, 0);
	assert_int_equal(res.warnings, 0);
	assert_int_equal(f.asked_env, 2); /* M1 and M2, each once */
	assert_int_equal(f.asked_rcpt, 2);
	mla_audit_result_free(r);
	fake_free(&f);
}

/* The audit certificate file with text before it and a second certificate after it: the
 * bundle holds the first certificate alone, one PEM block as PEM_write writes it, so the
 * verifier's strict reading (SPEC 15 step 2) takes it. */
static void test_export_cert_canonical(void **state)
{
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	mla_diag d = {MLA_OK, ""};
	const struct tb_rec *pem;
	mla_buf file;
	char *data = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&data, &len);
	mla_audit_input in;
	mla_audit_result *r = NULL;
	mla_bundle b;

	(void)state;
	assert_non_null(fp);
	fake_make(&f, UINT64_MAX, &src);
	pem = audit_pem(&f);
	mla_buf_init(&file, 1 << 20);
	assert_int_equal(mla_buf_append(&file, "subject=C=ES\n", 13), MLA_OK);
	assert_int_equal(mla_buf_append(&file, pem->data.data, pem->data.len), MLA_OK);
	assert_int_equal(mla_buf_append(&file, pem->data.data, pem->data.len), MLA_OK);
	assert_int_equal(mla_audit_export(&src, file.data, file.len, NULL, fp, &res, &d), MLA_OK);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(mla_bundle_parse((const uint8_t *)data, len, &b, &d), MLA_OK);
	assert_int_equal(b.rec[1].len, pem->data.len);
	assert_memory_equal(b.rec[1].data, pem->data.data, pem->data.len);
	mla_bundle_free(&b);
	in = (mla_audit_input){"es.mab", (const uint8_t *)data, len, NULL};
	assert_int_equal(mla_audit_verify(&in, 1, trust, &r, NULL), MLA_OK);
	assert_int_equal(r->failures, 0);
	mla_audit_result_free(r);
	free(data);
	mla_buf_free(&file);
	fake_free(&f);
}

/* A case: the entries stay complete, the case's entry gets an inclusion proof. */
static void test_export_filtered(void **state)
{
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	struct mla_audit_filter filter;
	mla_audit_result *r;

	(void)state;
	fake_make(&f, UINT64_MAX, &src);
	assert_true(mla_audit_filter_init(&filter, "ES-T/2026.0001", NULL, NULL));
	r = export_verify(&f, &src, &filter, &res);
	assert_int_equal(r->failures, 0);
	assert_int_equal(res.entries, 4);
	assert_int_equal(res.proofs, 2); /* c.2.4, i.1.4 */
	assert_int_equal(f.asked_env, 1);
	mla_audit_result_free(r);
	fake_free(&f);
}

/* Entry 2 missing: export writes what there is without proofs and says so; the verifier
 * refuses the bundle, naming the gap. */
static void test_export_gap_refused(void **state)
{
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	mla_audit_result *r;
	const mla_audit_bundle_result *b;
	int seq_refused = 0;

	(void)state;
	fake_make(&f, 2, &src);
	r = export_verify(&f, &src, NULL, &res);
	b = &r->bundles[0];
	assert_int_equal(res.entries, 3);
	assert_int_equal(res.covered, 4);
	assert_int_equal(res.proofs, 0);
	assert_true(res.warnings & MLA_AUDIT_EXPORT_W_NO_PROOFS);
	assert_true(r->failures > 0);
	for (size_t i = 0; i < b->nfailures; i++)
		seq_refused |= b->failures[i].refusal == MLA_AUDIT_R_ENTRY_SEQ;
	assert_true(seq_refused);
	mla_audit_result_free(r);
	fake_free(&f);
}

/* No checkpoint yet, and a certificate without a State: refused with the fault named. */
static void test_export_refusals(void **state)
{
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	mla_diag d = {MLA_OK, ""};
	char path[] = "/tmp/mlagw-tae-out-XXXXXX";
	const struct tb_rec *pem;
	int fd;

	(void)state;
	fake_make(&f, UINT64_MAX, &src);
	pem = audit_pem(&f);
	assert_true((fd = mkstemp(path)) >= 0);
	(void)close(fd);
	assert_int_equal(mla_audit_export_file(&src, (const uint8_t *)"x", 1, NULL, path, &res, &d),
			 MLA_ERR_CERT_FILE);
	assert_int_equal(res.fault, MLA_AUDIT_EXPORT_CERTIFICATE);
	tb_remove(&f.b, MLA_BUNDLE_CHECKPOINT, "2");
	tb_remove(&f.b, MLA_BUNDLE_CHECKPOINT, "4");
	assert_int_equal(mla_audit_export_file(&src, pem->data.data, pem->data.len, NULL, path,
					       &res, &d),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(res.fault, MLA_AUDIT_EXPORT_NO_CHECKPOINT);
	(void)unlink(path);
	fake_free(&f);
}

/* A quiet log checkpointed after every entry: more checkpoints than a format 2 or 3 manifest
 * can list (checkpoint_sizes, 1 MiB) make the bundle format 4, whose manifest lists none,
 * with every checkpoint and the consistency proof of each pair (SPEC 15). */
#define DENSE 60000

static mla_err d_meta(void *ctx, mla_audit_source_meta *m, mla_diag *diag)
{
	(void)ctx;
	(void)diag;
	memset(m, 0, sizeof(*m));
	m->entries = m->checkpoints = DENSE;
	mla_require(mla_strcpy(m->state, sizeof(m->state), "ES") == MLA_OK);
	mla_require(mla_strcpy(m->origin, sizeof(m->origin), "mlagw.es/audit") == MLA_OK);
	return MLA_OK;
}

static mla_err d_entries(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			 void *arg, mla_diag *diag)
{
	char text[32];
	uint8_t leaf[32];
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (uint64_t seq = from; seq < to && seq < DENSE && r == MLA_OK; seq++) {
		mla_audit_source_entry e;

		assert_int_equal(mla_snprintf(text, sizeof(text), "entry %llu\n",
					      (unsigned long long)seq), MLA_OK);
		assert_int_equal(mla_merkle_leaf_hash(text, strlen(text), leaf), MLA_OK);
		e = (mla_audit_source_entry){seq, (const uint8_t *)text, strlen(text), leaf};
		r = fn(&e, arg);
	}
	return r;
}

static mla_err d_checkpoints(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (uint64_t size = 1; size <= DENSE && r == MLA_OK; size++) {
		mla_audit_source_note n = {NULL, size, "note\n", 5};
		r = fn(&n, arg);
	}
	return r;
}

static void test_export_many_checkpoints(void **state)
{
	char dir[] = "/tmp/mlagw-tae-dense-XXXXXX", path[64], line[64];
	struct fake f;
	mla_audit_source src;
	mla_audit_export_result res;
	mla_diag d = {MLA_OK, ""};
	mla_bundle b;
	FILE *fp;
	json_t *m;

	(void)state;
	fake_make(&f, UINT64_MAX, &src); /* for its certificates; the log is the dense one */
	src.meta = d_meta;
	src.entries = d_entries;
	src.checkpoints = d_checkpoints;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mla_snprintf(path, sizeof(path), "%s/es.mab", dir), MLA_OK);
	assert_int_equal(mla_audit_export_file(&src, audit_pem(&f)->data.data,
					       audit_pem(&f)->data.len, NULL, path, &res, &d),
			 MLA_OK);
	assert_int_equal(res.checkpoints, DENSE);
	assert_int_equal(res.proofs, DENSE - 1); /* c.<m>.<m+1> for each pair */
	assert_non_null(fp = fopen(path, "rb"));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_string_equal(line, "mlagw-audit-bundle/4\n");
	assert_int_equal(mla_bundle_index(fp, &b, &d), MLA_OK);
	assert_int_equal(b.format, 4);
	assert_int_equal(b.count[MLA_BUNDLE_CHECKPOINT], DENSE);
	assert_int_equal(b.count[MLA_BUNDLE_PROOF], DENSE - 1);
	assert_int_equal(b.count[MLA_BUNDLE_ENTRY], DENSE);
	assert_non_null(m = json_loadb((const char *)b.rec[0].data, b.rec[0].len, 0, NULL));
	assert_null(json_object_get(m, "checkpoint_sizes"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "counts"),
							    "checkpoints")), DENSE);
	json_decref(m);
	mla_bundle_free(&b);
	fclose(fp);
	unlink(path);
	rmdir(dir);
	fake_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_verifies),
		cmocka_unit_test(test_export_filtered),
		cmocka_unit_test(test_export_many_checkpoints),
		cmocka_unit_test(test_export_cert_canonical),
		cmocka_unit_test(test_export_gap_refused),
		cmocka_unit_test(test_export_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
