/* mla_audit_export joins the messages the entries name with their envelopes and receipts in a
 * sort on disk (SPEC 15 "Export memory"): a fixed log of some 5,000 entries naming 2,400
 * messages out of id order, exported whole and under each filter, gives the same bundle with
 * the default runs and with runs of 4 KiB (MLAGW_VERIFY_SORT_MEM: about 50 rows a run, a
 * hundred runs, two merge levels), and the same bundle as the export that held the ids in
 * memory did: the SHA-256 of each bundle, its audit certificate left out (the test makes a
 * fresh key), was recorded from that code (commit 5f5592c). The source keeps envelopes and
 * receipts for most messages, not all, and some entries name another receipt than the kept
 * one: what the bundle holds of them is the old code's choice, record by record. A sort that
 * cannot write its runs stops the export with an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"

#define NMSG 2400
#define LAG 37		       /* a message's delivered entry comes this many sends later */
#define T0 1767225600000LL     /* 2026-01-01T00:00:00Z; entry seq is at T0 + seq seconds */

static char trust_dir[64];
static struct tb_state es;
static char *pem;
static size_t pem_len;

/* The log: serialized entries in seq order, two checkpoints. */
static struct {
	mla_buf *e;
	size_t n;
	uint64_t cps[2];
} lg;

static void msg_id(size_t i, char out[MLA_UUID_LEN + 1])
{
	/* out of seq order: the sort, not the log, gives the bundle's order */
	mla_require(mla_snprintf(out, MLA_UUID_LEN + 1, "%08x-0000-4000-8000-%012zx",
				 (unsigned)((uint32_t)i * 2654435761u), i) == MLA_OK);
}

static void blob(const char *what, const char *id, char out[96])
{
	mla_require(mla_snprintf(out, 96, "%s of %s", what, id) == MLA_OK);
}

static void blob_sha(const char *what, const char *id, uint8_t sha[32])
{
	char b[96];

	blob(what, id, b);
	SHA256((const uint8_t *)b, strlen(b), sha);
}

static void add_entry(mla_audit_event ev, size_t msg, int with_msg)
{
	char id[MLA_UUID_LEN + 1];
	uint8_t env[32], rcpt[32];
	mla_audit_entry e;
	uint64_t seq = lg.n;

	msg_id(msg, id);
	blob_sha("envelope", id, env);
	/* every fifth message's delivered entry names a receipt other than the kept one */
	blob_sha(msg % 5 == 0 ? "other receipt" : "receipt", id, rcpt);
	tb_entry(&e, seq, T0 + (int64_t)seq * 1000, ev, with_msg ? id : NULL, "ES", "CO",
		 with_msg ? env : NULL, ev == MLA_AUDIT_DELIVERED ? rcpt : NULL);
	mla_buf_init(&lg.e[lg.n], MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_audit_entry_serialize(&e, &lg.e[lg.n], NULL), MLA_OK);
	lg.n++;
}

/* Sent entries, each message's delivered one LAG sends later (a seventh never delivered,
 * every third sent twice), and a reload every hundred entries. */
static void log_make(void)
{
	assert_non_null(lg.e = calloc(3 * NMSG + 100, sizeof(*lg.e)));
	for (size_t i = 0; i < NMSG + LAG; i++) {
		if (lg.n % 100 == 0)
			add_entry(MLA_AUDIT_CONFIG_RELOADED, 0, 0);
		if (i < NMSG)
			add_entry(MLA_AUDIT_SENT, i, 1);
		if (i < NMSG && i % 3 == 0)
			add_entry(MLA_AUDIT_SENT, i, 1);
		if (i >= LAG && (i - LAG) % 7 != 6)
			add_entry(MLA_AUDIT_DELIVERED, i - LAG, 1);
	}
	lg.cps[0] = lg.n / 2;
	lg.cps[1] = lg.n - 5; /* the last entries are beyond the latest checkpoint */
}

static mla_err s_meta(void *ctx, mla_audit_source_meta *m, mla_diag *diag)
{
	(void)ctx;
	(void)diag;
	memset(m, 0, sizeof(*m));
	m->entries = lg.n;
	m->checkpoints = 2;
	mla_require(mla_strcpy(m->state, sizeof(m->state), "ES") == MLA_OK);
	mla_require(mla_strcpy(m->origin, sizeof(m->origin), "mlagw.es/audit") == MLA_OK);
	return MLA_OK;
}

static mla_err s_entries(void *ctx, uint64_t from, uint64_t to, mla_audit_entry_fn fn,
			 void *arg, mla_diag *diag)
{
	uint8_t leaf[32];
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (uint64_t s = from; s < to && s < lg.n && r == MLA_OK; s++) {
		mla_audit_source_entry e = {s, lg.e[s].data, lg.e[s].len, leaf};

		assert_int_equal(mla_merkle_leaf_hash(lg.e[s].data, lg.e[s].len, leaf), MLA_OK);
		r = fn(&e, arg);
	}
	return r;
}

/* Checkpoints of fixed bytes: export copies notes, it does not open them (no key change). */
static mla_err s_checkpoints(void *ctx, mla_audit_note_fn fn, void *arg, mla_diag *diag)
{
	char note[64];
	mla_err r = MLA_OK;

	(void)ctx;
	(void)diag;
	for (size_t i = 0; i < 2 && r == MLA_OK; i++) {
		mla_audit_source_note n = {NULL, lg.cps[i], note, 0};

		mla_require(mla_snprintf(note, sizeof(note), "mlagw.es/audit\n%llu\nroot\n",
					 (unsigned long long)lg.cps[i]) == MLA_OK);
		n.len = strlen(note);
		r = fn(&n, arg);
	}
	return r;
}

/* What the source keeps of message id: none for every m-th message. */
static mla_err kept(const char *what, unsigned m, const char *id, mla_audit_bytes_fn fn,
		    void *arg)
{
	size_t i = 0;
	char b[96];

	for (const char *h = id + 24; *h != '\0'; h++) /* msg_id's last group, lower-case hex */
		i = i * 16 + (size_t)(*h <= '9' ? *h - '0' : *h - 'a' + 10);
	if (i % m == 0)
		return MLA_ERR_NOT_FOUND;
	blob(what, id, b);
	return fn((const uint8_t *)b, strlen(b), arg);
}

static mla_err s_envelope(void *ctx, const char *id, mla_audit_bytes_fn fn, void *arg,
			  mla_diag *diag)
{
	(void)ctx;
	(void)diag;
	return kept("envelope", 11, id, fn, arg);
}

static mla_err s_receipt(void *ctx, const char *id, mla_audit_bytes_fn fn, void *arg,
			 mla_diag *diag)
{
	(void)ctx;
	(void)diag;
	return kept("receipt", 13, id, fn, arg);
}

static const mla_audit_source src = {NULL,	  s_meta,     s_entries, s_checkpoints,
				     tb_src_no_notes,	  tb_src_no_certs, s_envelope, s_receipt,
				     NULL,	  NULL,	      NULL, NULL, NULL, NULL, NULL};

static int setup(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	(void)state;
	mla_require(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-taes-XXXXXX") == MLA_OK);
	if (bio == NULL || mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    tb_state_make("ES", trust_dir, &es) != 0 || PEM_write_bio_X509(bio, es.audit_cert) != 1 ||
	    (n = BIO_get_mem_data(bio, &p)) <= 0 || (pem = malloc((size_t)n)) == NULL)
		return -1;
	memcpy(pem, p, (size_t)n);
	pem_len = (size_t)n;
	BIO_free(bio);
	log_make();
	return 0;
}

static int teardown(void **state)
{
	char p[128];

	(void)state;
	tb_state_free(&es);
	free(pem);
	for (size_t i = 0; i < lg.n; i++)
		mla_buf_free(&lg.e[i]);
	free(lg.e);
	mla_require(mla_snprintf(p, sizeof(p), "%s/ES.crt", trust_dir) == MLA_OK);
	(void)unlink(p);
	(void)rmdir(trust_dir);
	return 0;
}

/* The bundle of filter f (NULL: none), with runs of sort_mem bytes (NULL: the default). */
static char *export(const struct mla_audit_filter *f, const char *sort_mem, size_t *len,
		    mla_audit_export_result *res)
{
	mla_diag d = {MLA_OK, ""};
	char *data = NULL;
	FILE *fp = open_memstream(&data, len);

	assert_non_null(fp);
	if (sort_mem != NULL)
		assert_int_equal(setenv("MLAGW_VERIFY_SORT_MEM", sort_mem, 1), 0);
	assert_int_equal(mla_audit_export(&src, (const uint8_t *)pem, pem_len, f, fp, res, &d),
			 MLA_OK);
	(void)unsetenv("MLAGW_VERIFY_SORT_MEM");
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(res->fault, MLA_AUDIT_EXPORT_OK);
	return data;
}

/* SHA-256 hex of the bundle without its audit certificate record (a fresh key a run: its
 * header's length too). */
static void digest_without_cert(const char *b, size_t len, char hex[65])
{
	size_t at = 0, head, cut;
	uint8_t sha[32];
	char *rest;

	while (at + pem_len <= len && memcmp(b + at, pem, pem_len) != 0)
		at++;
	assert_true(at + pem_len <= len && at > 0 && b[at - 1] == '\n');
	for (head = at - 1; head > 0 && b[head - 1] != '\n'; head--)
		;
	cut = at + pem_len - head;
	assert_non_null(rest = malloc(len - cut + 1));
	memcpy(rest, b, head);
	memcpy(rest + head, b + head + cut, len - head - cut);
	SHA256((const uint8_t *)rest, len - cut, sha);
	free(rest);
	assert_int_equal(mla_hex_encode(sha, 32, hex, 65), MLA_OK);
}

struct variant {
	const char *case_id, *from, *to;
	int null_filter;
	size_t envelopes, receipts, proofs;
	const char *golden; /* digest_without_cert of the export before the sort (5f5592c) */
};

static const struct variant variants[] = {
	{NULL, NULL, NULL, 1, 2181, 1516, 1,
	 "462967f93e475f80274ce68bcea66c948e5c2955604fa405751ccb67de5c2b39"},
	{NULL, NULL, NULL, 0, 2181, 1516, 1,
	 "462967f93e475f80274ce68bcea66c948e5c2955604fa405751ccb67de5c2b39"},
	{"ES-T/2026.0001", NULL, NULL, 0, 1405, 1039, 3628,
	 "e744d6241d3a785c4bfbd268e21f29ec9d15be88e24ed7ca6d290fc13adafa91"},
	{NULL, "2026-01-01T00:20:00Z", "2026-01-01T00:40:00Z", 0, 524, 368, 1269,
	 "7686063a31fe2fcec851b0012a96193d703e50fc6253cb78947d31bb1c65bf4e"},
	{"ES-T/2026.0002", "2026-01-01T00:30:00Z", "2026-01-01", 0, 924, 664, 2368,
	 "83c4ef58f1170ebdafb024969828c54b64b6eff8bdad3c8a20dcec644ddc377d"},
	{"ES-T/2026.9999", NULL, NULL, 0, 0, 0, 1,
	 "411ff3c2e3647ec5b7dfce890b6ac513261b35bd00d4b78808cc82f52cd0829a"},
};

/* Each variant: the same bytes with runs of 4 KiB as with the default runs, and as before. */
static void test_export_sorted_same(void **state)
{
	int bad = 0;

	(void)state;
	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		const struct variant *t = &variants[v];
		struct mla_audit_filter f;
		mla_audit_export_result r1, r2;
		size_t n1 = 0, n2 = 0;
		char *b1, *b2, hex[65];

		assert_true(mla_audit_filter_init(&f, t->case_id, t->from, t->to));
		b1 = export(t->null_filter ? NULL : &f, NULL, &n1, &r1);
		b2 = export(t->null_filter ? NULL : &f, "4096", &n2, &r2);
		assert_int_equal(n1, n2);
		assert_memory_equal(b1, b2, n1);
		assert_int_equal(r1.entries, lg.cps[1]);
		assert_int_equal(r1.envelopes, t->envelopes);
		assert_int_equal(r1.receipts, t->receipts);
		assert_int_equal(r1.proofs, t->proofs);
		digest_without_cert(b1, n1, hex);
		printf("variant %zu: %zu bytes, %zu envelopes, %zu receipts, %zu proofs, %s\n", v,
		       n1, r1.envelopes, r1.receipts, r1.proofs, hex);
		bad |= strcmp(hex, t->golden) != 0;
		free(b1);
		free(b2);
	}
	assert_false(bad);
}

/* A sort that cannot spill (TMPDIR absent; the bundle's own temporary file is beside it)
 * stops the export with an error and leaves no bundle, rather than one missing messages. */
static void test_export_sort_unwritable(void **state)
{
	const char *keep = getenv("TMPDIR");
	char saved[4096] = "", out[128];
	mla_audit_export_result res;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	if (keep != NULL)
		assert_int_equal(mla_strcpy(saved, sizeof(saved), keep), MLA_OK);
	assert_int_equal(mla_snprintf(out, sizeof(out), "%s/es.mab", trust_dir), MLA_OK);
	assert_int_equal(setenv("TMPDIR", "/nonexistent/mlagw-test", 1), 0);
	assert_int_equal(setenv("MLAGW_VERIFY_SORT_MEM", "4096", 1), 0);
	assert_int_equal(mla_audit_export_file(&src, (const uint8_t *)pem, pem_len, NULL, out, &res,
					       &d),
			 MLA_ERR_IO);
	(void)unsetenv("MLAGW_VERIFY_SORT_MEM");
	if (keep != NULL)
		assert_int_equal(setenv("TMPDIR", saved, 1), 0);
	else
		(void)unsetenv("TMPDIR");
	assert_int_equal(res.fault, MLA_AUDIT_EXPORT_BUNDLE);
	assert_non_null(strstr(d.msg, "cannot sort the messages"));
	assert_int_equal(access(out, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_sorted_same),
		cmocka_unit_test(test_export_sort_unwritable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
