/* mla_audit_verify and mla_audit_reconcile as library calls: a good bundle's structured
 * result, then one bundle per refusal class (each altered in one way) and the record the
 * failure names; reconciliation that agrees, is one-sided, or names other digests. The other
 * classes: test_audit_verify_log.c (log, witness, proofs, split views, no-state) and
 * test_audit_verify_msgs.c (envelopes, receipts, deliveries). */
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
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"

#define M1 "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"
#define M2 "0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"
#define M3 "7e01a368-7f74-4491-850e-adcf034252eb"

static char trust_dir[64], other_dir[64];
static struct tb_state es, co, fr; /* fr's root is not in trust_dir */
static mla_audit_trust *trust;
static const uint8_t E1[32] = {1}, E2[32] = {2}, R1[32] = {3}, R2[32] = {4};
static int64_t t0;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-tav-XXXXXX"), MLA_OK);
	assert_int_equal(mla_strcpy(other_dir, sizeof(other_dir), "/tmp/mlagw-tav-XXXXXX"), MLA_OK);
	t0 = (int64_t)time(NULL) * 1000 - 60000;
	if (mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    mkdtemp(other_dir) == NULL || tb_state_make("ES", trust_dir, &es) != 0 ||
	    tb_state_make("CO", trust_dir, &co) != 0 || tb_state_make("FR", other_dir, &fr) != 0)
		return -1;
	return mla_audit_trust_load(trust_dir, &trust, NULL) == MLA_OK ? 0 : -1;
}

static void rm_dir(const char *dir, const char *const *names)
{
	char p[128];

	for (; *names != NULL; names++) {
		assert_int_equal(mla_snprintf(p, sizeof(p), "%s/%s", dir, *names), MLA_OK);
		(void)unlink(p);
	}
	(void)rmdir(dir);
}

static int teardown(void **state)
{
	static const char *const t[] = {"ES.crt", "CO.crt", NULL}, *const o[] = {"FR.crt", NULL};

	(void)state;
	mla_audit_trust_free(trust);
	tb_state_free(&es);
	tb_state_free(&co);
	tb_state_free(&fr);
	rm_dir(trust_dir, t);
	rm_dir(other_dir, o);
	return 0;
}

/* ES's log: a reload, two messages sent to CO, a reload; checkpoints 2 and 4. */
static size_t es_entries(mla_audit_entry *e)
{
	tb_entry(&e[0], 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t0 + 1000, MLA_AUDIT_SENT, M1, "ES", "CO", NULL, NULL);
	tb_entry(&e[2], 2, t0 + 2000, MLA_AUDIT_SENT, M2, "ES", "CO", NULL, NULL);
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	return 4;
}

static const uint64_t cps24[] = {2, 4};

/* b written and verified alone (or with a second bundle c). */
/* The heads of bundle 0 the last verify2 was handed (the first few). */
static mla_audit_head heads0[4];
static size_t nheads0;

static mla_err take_head(void *arg, size_t bundle, const mla_audit_head *h)
{
	(void)arg;
	if (bundle == 0 && nheads0 < 4)
		heads0[nheads0] = *h;
	nheads0 += bundle == 0;
	return MLA_OK;
}

static mla_audit_result *verify2(const struct tb_bundle *b, const struct tb_bundle *c)
{
	mla_buf d[2];
	mla_audit_input in[2];
	mla_audit_result *r = NULL;
	size_t n = c != NULL ? 2 : 1;

	assert_int_equal(tb_write(b, &d[0]), 0);
	in[0] = (mla_audit_input){"a.mab", d[0].data, d[0].len, NULL};
	if (c != NULL) {
		assert_int_equal(tb_write(c, &d[1]), 0);
		in[1] = (mla_audit_input){"b.mab", d[1].data, d[1].len, NULL};
	}
	nheads0 = 0;
	assert_int_equal(mla_audit_verify_heads(in, n, trust, take_head, NULL, &r, NULL), MLA_OK);
	for (size_t i = 0; i < n; i++)
		mla_buf_free(&d[i]);
	assert_non_null(r);
	assert_int_equal(r->nbundles, n);
	assert_int_equal(r->bundles[0].nheads, nheads0);
	return r;
}

static mla_audit_result *verify1(const struct tb_bundle *b)
{
	return verify2(b, NULL);
}

/* The bundle's first failure of class why: its family, record type and name. */
static const mla_audit_failure *expect(const mla_audit_result *r, mla_audit_refusal why,
				       mla_audit_check check, mla_bundle_type t, const char *rec)
{
	const mla_audit_bundle_result *b = &r->bundles[0];

	assert_true(r->failures > 0);
	for (size_t i = 0; i < b->nfailures; i++)
		if (b->failures[i].refusal == why) {
			assert_int_equal(b->failures[i].check, check);
			assert_int_equal(b->failures[i].record_type, t);
			assert_string_equal(b->failures[i].record, rec);
			assert_non_null(b->failures[i].message);
			assert_true(b->failed[check] > 0);
			return &b->failures[i];
		}
	fail_msg("no failure of class %s", mla_audit_refusal_name(why));
	return NULL;
}

static void build_es(struct tb_bundle *b, const struct tb_state *peer)
{
	mla_audit_entry e[8];
	size_t n = es_entries(e);

	assert_int_equal(tb_build(b, &es, e, n, cps24, 2, peer), 0);
}

static void test_good(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;
	const mla_audit_bundle_result *x;

	(void)state;
	build_es(&b, &co);
	r = verify1(&b);
	x = &r->bundles[0];
	assert_int_equal(r->failures, 0);
	assert_int_equal(x->nfailures, 0);
	assert_string_equal(x->name, "a.mab");
	assert_string_equal(x->state, "ES");
	assert_int_equal(x->records[MLA_BUNDLE_ENTRY], 4);
	assert_int_equal(x->records[MLA_BUNDLE_CHECKPOINT], 2);
	assert_int_equal(x->records[MLA_BUNDLE_PROOF], 1);
	assert_int_equal(x->records[MLA_BUNDLE_CERTIFICATE], 2);
	assert_int_equal(x->cosignatures, 2); /* CO on both checkpoints */
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_BUNDLE], 1);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_CERTIFICATE], 1);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_CHECKPOINTS], 2);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_ENTRIES], 4);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_TREE], 2);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_WITNESS], 1); /* CO's certificate */
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_PROOFS], 1);
	assert_int_equal(x->nheads, 2);
	assert_string_equal(heads0[1].origin, "mlagw.es/audit");
	assert_int_equal(heads0[1].size, 4);
	assert_string_equal(heads0[1].cosigners, "CO");
	assert_string_equal(mla_audit_check_name(MLA_AUDIT_CHECK_DELIVERED), "delivered");
	assert_null(mla_audit_check_name(MLA_AUDIT_CHECK_N));
	assert_null(mla_audit_refusal_name(MLA_AUDIT_R_N));
	mla_audit_result_free(r);
	tb_free(&b);
}

/* An aggregate (audit entry version 2, count) among version 1 entries verifies. */
static void test_v2_entry(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);

	(void)state;
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_REJECTED, NULL, NULL, NULL, E1, NULL);
	assert_int_equal(mla_strcpy(e[3].error, sizeof(e[3].error), "replay"), MLA_OK);
	assert_int_equal(mla_strcpy(e[3].from, sizeof(e[3].from), "CO"), MLA_OK);
	e[3].count = 499;
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, &co), 0);
	r = verify1(&b);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_ENTRIES], 4);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* An entry naming envelope version 2 values (audit entry version 5, SPEC 14) verifies among
 * earlier versions: the verifier reads each entry by its own first line. */
static void test_v5_entry(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);
	const struct tb_rec *rec;

	(void)state;
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_REJECTED, NULL, NULL, NULL, E1, NULL);
	assert_int_equal(mla_strcpy(e[3].error, sizeof(e[3].error), "replay"), MLA_OK);
	assert_int_equal(mla_strcpy(e[3].from, sizeof(e[3].from), "CO"), MLA_OK);
	assert_int_equal(mla_strcpy(e[3].kind, sizeof(e[3].kind), "production-order"), MLA_OK);
	assert_int_equal(mla_strcpy(e[3].action, sizeof(e[3].action), "postponed"), MLA_OK);
	e[3].count = 2;
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, &co), 0);
	for (size_t i = 0, found = 0; i < b.n; i++) {
		rec = &b.rec[i];
		if (rec->type == MLA_BUNDLE_ENTRY && rec->data.len > 20 &&
		    memcmp(rec->data.data, "mlagw-audit-entry/5\n", 20) == 0)
			found++;
		if (i + 1 == b.n)
			assert_int_equal(found, 1);
	}
	r = verify1(&b);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_ENTRIES], 4);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_arguments(void **state)
{
	mla_audit_result *r = NULL;
	mla_audit_trust *t = NULL;
	mla_diag d = {MLA_OK, ""};
	char empty[] = "/tmp/mlagw-tav-XXXXXX";

	(void)state;
	assert_int_equal(mla_audit_verify(NULL, 0, trust, &r, &d), MLA_ERR_ARG);
	assert_null(r);
	assert_int_equal(mla_audit_trust_load("/nonexistent-mlagw", &t, &d), MLA_ERR_NOT_FOUND);
	assert_null(t);
	assert_non_null(mkdtemp(empty));
	assert_int_equal(mla_audit_trust_load(empty, &t, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "no root certificate (*.crt) in"));
	(void)rmdir(empty);
}

/* A byte of record t/name at offset from its end (negative) or start changed to c. */
static void poke(struct tb_bundle *b, mla_bundle_type t, const char *name, long at, char c)
{
	struct tb_rec *r = tb_find(b, t, name);
	size_t i;

	assert_non_null(r);
	i = at < 0 ? r->data.len - (size_t)-at : (size_t)at;
	r->data.data[i] = (uint8_t)(r->data.data[i] == (uint8_t)c ? c + 1 : c);
}

static void test_checkpoint_signature(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	build_es(&b, NULL);
	poke(&b, MLA_BUNDLE_CHECKPOINT, "2", 20, 'A'); /* in the signed root */
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_CHECKPOINT,
	       "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_altered_entry(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	mla_buf ser;

	(void)state;
	build_es(&b, NULL);
	es_entries(e);
	e[1].case_id[0] ^= 1; /* another case named */
	mla_buf_init(&ser, MLA_AUDIT_ENTRY_MAX);
	assert_int_equal(mla_audit_entry_serialize(&e[1], &ser, NULL), MLA_OK);
	assert_int_equal(tb_set(&b, MLA_BUNDLE_ENTRY, "1", ser.data, ser.len), 0);
	mla_buf_free(&ser);
	r = verify1(&b);
	/* canonical and in place: only the signed roots show it */
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_ENTRIES], 0);
	expect(r, MLA_AUDIT_R_TREE_ROOT, MLA_AUDIT_CHECK_TREE, MLA_BUNDLE_CHECKPOINT, "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_sequence_gap(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	build_es(&b, NULL);
	tb_remove(&b, MLA_BUNDLE_ENTRY, "2");
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_ENTRY_SEQ, MLA_AUDIT_CHECK_ENTRIES, MLA_BUNDLE_ENTRY, "3");
	expect(r, MLA_AUDIT_R_TREE_SHORT, MLA_AUDIT_CHECK_TREE, MLA_BUNDLE_CHECKPOINT, "4");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_time_back(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);
	const mla_audit_failure *f;

	(void)state;
	e[2].time_ms = e[1].time_ms - 1;
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, NULL), 0);
	r = verify1(&b);
	f = expect(r, MLA_AUDIT_R_ENTRY_TIME, MLA_AUDIT_CHECK_ENTRIES, MLA_BUNDLE_ENTRY, "2");
	assert_string_equal(f->message, "entry 2: time goes back from the previous entry");
	assert_int_equal(r->failures, 1); /* signed as it is: nothing else is wrong */
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_missing_envelope_receipt(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);

	(void)state;
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_RECEIVED, M3, "CO", "ES", E1, NULL);
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_MISSING, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE, M3);
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_RECEIPTS], 1);
	assert_int_equal(r->failures, 2);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_delivered_without_receipt(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);

	(void)state;
	/* no envelope-sha256: the entry owes no envelope (step 8), only its receipt */
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_DELIVERED, M1, "ES", "CO", NULL, R1);
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_MISSING, MLA_AUDIT_CHECK_DELIVERED, MLA_BUNDLE_ENTRY, "3");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_filter_selection(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	build_es(&b, NULL);
	assert_int_equal(tb_set(&b, MLA_BUNDLE_ENVELOPE, M1, "<x/>", 4), 0);
	/* the filter selects no message of the log: M1's envelope is not one export wrote */
	assert_int_equal(tb_manifest(&b, "ES", "ES-T/2026.9999"), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_NOT_SELECTED, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE, M1);
	expect(r, MLA_AUDIT_R_ENVELOPE_INVALID, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE, M1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* A filter case longer than any case id is refused, not cut to one that could select. */
static void test_filter_case_too_long(void **state)
{
	char longcase[MLA_CASE_ID_MAX + 2];
	struct tb_bundle b;
	mla_audit_result *r;
	const mla_audit_failure *f;

	(void)state;
	memset(longcase, 'x', sizeof(longcase) - 1);
	longcase[sizeof(longcase) - 1] = '\0';
	build_es(&b, NULL);
	assert_int_equal(tb_manifest(&b, "ES", longcase), 0);
	r = verify1(&b);
	f = expect(r, MLA_AUDIT_R_MANIFEST, MLA_AUDIT_CHECK_BUNDLE, MLA_BUNDLE_MANIFEST,
		   "manifest");
	assert_string_equal(f->message, "manifest: filter case is longer than 64 bytes");
	mla_audit_result_free(r);
	tb_free(&b);
}

/* Checkpoint 4 of another history, validly signed: its root is not the entries'. */
static void test_checkpoint_root(void **state)
{
	struct tb_bundle b, other;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);
	struct tb_rec *cp;

	(void)state;
	build_es(&b, NULL);
	e[3].event = MLA_AUDIT_KEY_CHANGED;
	assert_int_equal(tb_build(&other, &es, e, n, cps24, 2, NULL), 0);
	cp = tb_find(&other, MLA_BUNDLE_CHECKPOINT, "4");
	assert_int_equal(tb_set(&b, MLA_BUNDLE_CHECKPOINT, "4", cp->data.data, cp->data.len), 0);
	r = verify1(&b);
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_CHECKPOINTS], 0);
	expect(r, MLA_AUDIT_R_TREE_ROOT, MLA_AUDIT_CHECK_TREE, MLA_BUNDLE_CHECKPOINT, "4");
	/* the proof from 2 was made for the real 4 */
	expect(r, MLA_AUDIT_R_PROOF_INVALID, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_PROOF, "c.2.4");
	mla_audit_result_free(r);
	tb_free(&b);
	tb_free(&other);
}

static void test_bad_proof(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	build_es(&b, NULL);
	poke(&b, MLA_BUNDLE_PROOF, "c.2.4", 0, '0');
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_PROOF_INVALID, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_PROOF, "c.2.4");
	/* and so checkpoints 2 and 4 have no (valid) proof: nothing else */
	expect(r, MLA_AUDIT_R_PROOF_MISSING, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_CHECKPOINT, "2");
	assert_int_equal(r->failures, 2);
	mla_audit_result_free(r);
	tb_free(&b);
	build_es(&b, NULL);
	tb_remove(&b, MLA_BUNDLE_PROOF, "c.2.4");
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_PROOF_MISSING, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_CHECKPOINT, "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_peer_cosignature(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	build_es(&b, &co);
	poke(&b, MLA_BUNDLE_CHECKPOINT, "4", -30, 'A'); /* in CO's signature */
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_COSIGNATURE, MLA_AUDIT_CHECK_WITNESS, MLA_BUNDLE_CHECKPOINT, "4");
	assert_int_equal(r->bundles[0].failed[MLA_AUDIT_CHECK_CHECKPOINTS], 0);
	mla_audit_result_free(r);
	tb_free(&b);
	/* a valid cosignature by a key the bundle does not certify */
	build_es(&b, &co);
	for (size_t i = 0; i < b.n; i++)
		if (strncmp(b.rec[i].name, "peer.", 5) == 0)
			tb_remove(&b, MLA_BUNDLE_CERTIFICATE, b.rec[i].name);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_UNCERTIFIED, MLA_AUDIT_CHECK_WITNESS, MLA_BUNDLE_CHECKPOINT, "2");
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_certificate(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);

	(void)state;
	assert_int_equal(tb_build(&b, &fr, e, n, cps24, 2, NULL), 0); /* no root of FR */
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_CERT_CHAIN, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_CERTIFICATE,
	       "audit");
	/* no verified key: no checkpoint can be */
	expect(r, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_CHECKPOINT,
	       "2");
	mla_audit_result_free(r);
	tb_free(&b);
	build_es(&b, NULL);
	assert_int_equal(tb_manifest(&b, "CO", NULL), 0); /* ES's certificate, CO's manifest */
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_CERT_STATE, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_CERTIFICATE,
	       "audit");
	mla_audit_result_free(r);
	tb_free(&b);
}

/* The audit certificate with its key's algorithm an OID OpenSSL does not know: it has no
 * public key to give (this crashed the verifier, found by fuzz_audit_verify). */
static void test_undecodable_key(void **state)
{
	static const uint8_t ed25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	struct tb_bundle b;
	mla_audit_result *r;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(es.audit_cert, &der), i;
	X509 *c;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;

	(void)state;
	for (i = 0; i + 5 <= len && memcmp(der + i, ed25519, 5) != 0; i++)
		;
	assert_true(i + 5 <= len);
	der[i + 4] = 0x7f;
	p = der;
	assert_non_null(c = d2i_X509(NULL, &p, len));
	assert_null(X509_get0_pubkey(c));
	assert_int_equal(PEM_write_bio_X509(bio, c), 1);
	n = BIO_get_mem_data(bio, &pem);
	build_es(&b, NULL);
	assert_int_equal(tb_set(&b, MLA_BUNDLE_CERTIFICATE, "audit", pem, (size_t)n), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_CERT_FORM, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_CERTIFICATE,
	       "audit");
	mla_audit_result_free(r);
	tb_free(&b);
	BIO_free(bio);
	X509_free(c);
	OPENSSL_free(der);
}

static void test_manifest_and_coverage(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);
	static const uint64_t cp2[] = {2};

	(void)state;
	build_es(&b, NULL);
	poke(&b, MLA_BUNDLE_MANIFEST, "manifest", -3, '7'); /* checkpoint_sizes [2, 7] */
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_MANIFEST, MLA_AUDIT_CHECK_BUNDLE, MLA_BUNDLE_MANIFEST, "manifest");
	mla_audit_result_free(r);
	tb_free(&b);
	assert_int_equal(tb_build(&b, &es, e, n, cp2, 1, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_TREE_UNCOVERED, MLA_AUDIT_CHECK_TREE, MLA_BUNDLE_ENTRY, "2");
	mla_audit_result_free(r);
	tb_free(&b);
	assert_int_equal(tb_build(&b, &es, e, n, NULL, 0, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_NO_CHECKPOINT, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_TYPE_N, "");
	mla_audit_result_free(r);
	tb_free(&b);
}

/* Two bundles of ES's log with different histories at the same sizes. */
static void test_split_view(void **state)
{
	struct tb_bundle a, b;
	mla_audit_entry e[8];
	mla_audit_result *r;
	size_t n = es_entries(e);

	(void)state;
	build_es(&a, NULL);
	e[1].time_ms += 500;
	assert_int_equal(tb_build(&b, &es, e, n, cps24, 2, NULL), 0);
	r = verify2(&a, &b);
	assert_int_equal(r->bundles[0].nfailures, 0); /* each verifies alone */
	assert_int_equal(r->bundles[1].nfailures, 0);
	assert_true(r->nsplits >= 2);
	assert_int_equal(r->failures, r->nsplits);
	assert_int_equal(r->splits[0].kind, MLA_AUDIT_R_SPLIT_ROOTS);
	assert_string_equal(r->splits[0].origin, "mlagw.es/audit");
	assert_int_equal(r->splits[0].size, 2);
	assert_true(r->splits[0].bundle[0] != r->splits[0].bundle[1]);
	assert_non_null(strstr(r->splits[0].message, "a.mab"));
	mla_audit_result_free(r);
	/* the same history twice agrees */
	r = verify2(&a, &a);
	assert_int_equal(r->failures, 0);
	assert_true(r->split_compared > 0);
	mla_audit_result_free(r);
	tb_free(&a);
	tb_free(&b);
}

/* A container that does not parse: nothing else is judged. */
static void container(const char *tail, size_t cut)
{
	struct tb_bundle b;
	mla_buf d;
	mla_audit_input in;
	mla_audit_result *r = NULL;

	build_es(&b, NULL);
	assert_int_equal(tb_write(&b, &d), 0);
	d.len -= cut;
	if (tail != NULL)
		assert_int_equal(mla_buf_append_str(&d, tail), MLA_OK);
	in = (mla_audit_input){"x.mab", d.data, d.len, NULL};
	assert_int_equal(mla_audit_verify(&in, 1, trust, &r, NULL), MLA_OK);
	assert_int_equal(r->failures, 1);
	assert_int_equal(r->bundles[0].failures[0].refusal, MLA_AUDIT_R_CONTAINER);
	assert_int_equal(r->bundles[0].failures[0].check, MLA_AUDIT_CHECK_BUNDLE);
	assert_int_equal(strncmp(r->bundles[0].failures[0].message, "malformed bundle: ", 18), 0);
	assert_int_equal(r->bundles[0].records[MLA_BUNDLE_ENTRY], 0);
	assert_string_equal(r->bundles[0].state, "");
	mla_audit_result_free(r);
	mla_buf_free(&d);
	tb_free(&b);
}

static void test_container(void **state)
{
	(void)state;
	container("mystery thing 3\nabc\n", 0); /* unknown record type */
	container(NULL, 5);			 /* truncated inside the last record */
}

/* ---- reconciliation ---- */

static mla_audit_side *side(const struct tb_bundle *b, const mla_audit_trust *t, mla_err want)
{
	mla_buf d;
	mla_audit_input in;
	mla_audit_side *s = NULL;

	assert_int_equal(tb_write(b, &d), 0);
	in = (mla_audit_input){"s.mab", d.data, d.len, NULL};
	assert_int_equal(mla_audit_side_load(&in, t, &s, NULL), want);
	mla_buf_free(&d);
	assert_non_null(s);
	return s;
}

/* ES sent and delivered M1 (envelope E1, receipt R1); CO's entries for it from recv[]. */
static void pair(struct tb_bundle *a, struct tb_bundle *b, const mla_audit_entry *recv,
		 size_t nrecv)
{
	mla_audit_entry e[4];
	uint64_t sa = 2, sb = nrecv;

	tb_entry(&e[0], 0, t0, MLA_AUDIT_SENT, M1, "ES", "CO", E1, NULL);
	tb_entry(&e[1], 1, t0 + 10, MLA_AUDIT_DELIVERED, M1, "ES", "CO", E1, R1);
	assert_int_equal(tb_build(a, &es, e, 2, &sa, 1, NULL), 0);
	assert_int_equal(tb_build(b, &co, recv, nrecv, &sb, nrecv ? 1 : 0, NULL), 0);
}

static mla_audit_reconciliation *reconcile(const mla_audit_entry *recv, size_t nrecv)
{
	struct tb_bundle a, b;
	mla_audit_side *sa, *sb;
	mla_audit_reconciliation *rc = NULL;

	pair(&a, &b, recv, nrecv);
	sa = side(&a, NULL, MLA_OK);
	sb = side(&b, NULL, MLA_OK);
	assert_string_equal(sa->state, "ES");
	assert_int_equal(sa->nentries, 2);
	assert_int_equal(mla_audit_reconcile(sa, sb, &rc, NULL), MLA_OK);
	assert_string_equal(rc->directions[0].from, "ES");
	assert_string_equal(rc->directions[0].to, "CO");
	mla_audit_side_free(sa);
	mla_audit_side_free(sb);
	tb_free(&a);
	tb_free(&b);
	return rc;
}

static void test_reconcile_agree(void **state)
{
	mla_audit_entry r[2];
	mla_audit_reconciliation *rc;

	(void)state;
	tb_entry(&r[0], 0, t0 + 5, MLA_AUDIT_RECEIVED, M1, "ES", "CO", E1, NULL);
	tb_entry(&r[1], 1, t0 + 6, MLA_AUDIT_RECEIPT_ISSUED, M1, "ES", "CO", E1, R1);
	rc = reconcile(r, 2);
	assert_int_equal(rc->exchanges, 1);
	assert_int_equal(rc->directions[0].matched, 1);
	assert_int_equal(rc->problem_messages, 0);
	assert_int_equal(rc->nproblems, 0);
	assert_int_equal(rc->nin_flight, 0);
	mla_audit_reconciliation_free(rc);
}

static void test_reconcile_one_sided(void **state)
{
	mla_audit_entry r[1];
	mla_audit_reconciliation *rc;

	(void)state;
	tb_entry(&r[0], 0, t0 + 5, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	rc = reconcile(r, 1);
	assert_int_equal(rc->problem_messages, 1);
	assert_int_equal(rc->nproblems, 1);
	assert_int_equal(rc->problems[0].kind, MLA_AUDIT_ONE_SIDED);
	assert_string_equal(rc->problems[0].message_id, M1);
	assert_string_equal(rc->problems[0].from, "ES");
	assert_int_equal(rc->problems[0].from_seq, 1); /* the delivered entry */
	assert_true(rc->problems[0].to_seq == MLA_AUDIT_NO_SEQ);
	assert_string_equal(mla_audit_mismatch_name(rc->problems[0].kind), "one-sided");
	mla_audit_reconciliation_free(rc);
}

static void test_reconcile_digests(void **state)
{
	mla_audit_entry r[2];
	mla_audit_reconciliation *rc;

	(void)state;
	tb_entry(&r[0], 0, t0 + 5, MLA_AUDIT_RECEIVED, M1, "ES", "CO", E2, NULL);
	tb_entry(&r[1], 1, t0 + 6, MLA_AUDIT_RECEIPT_ISSUED, M1, "ES", "CO", E2, R1);
	rc = reconcile(r, 2);
	assert_int_equal(rc->problem_messages, 1);
	assert_int_equal(rc->problems[0].kind, MLA_AUDIT_ENVELOPE_DIGEST);
	assert_int_equal(rc->problems[0].from_seq, 0);
	assert_int_equal(rc->problems[0].to_seq, 0);
	mla_audit_reconciliation_free(rc);
	tb_entry(&r[0], 0, t0 + 5, MLA_AUDIT_RECEIVED, M1, "ES", "CO", E1, NULL);
	tb_entry(&r[1], 1, t0 + 6, MLA_AUDIT_RECEIPT_ISSUED, M1, "ES", "CO", E1, R2);
	rc = reconcile(r, 2);
	assert_int_equal(rc->nproblems, 1);
	assert_int_equal(rc->problems[0].kind, MLA_AUDIT_RECEIPT_DIGEST);
	assert_int_equal(rc->problems[0].from_seq, 1);
	assert_int_equal(rc->problems[0].to_seq, 1);
	mla_audit_reconciliation_free(rc);
}

static void test_reconcile_sides(void **state)
{
	struct tb_bundle a, b;
	mla_audit_side *sa, *sb;
	mla_audit_reconciliation *rc = NULL;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	build_es(&a, NULL);
	sa = side(&a, trust, MLA_OK); /* verified first */
	assert_non_null(sa->verified);
	assert_int_equal(sa->verified->nfailures, 0);
	assert_int_equal(mla_audit_reconcile(sa, sa, &rc, &d), MLA_ERR_ARG);
	assert_null(rc);
	assert_string_equal(d.msg, "both bundles are State ES's: give two States' bundles");
	poke(&a, MLA_BUNDLE_PROOF, "c.2.4", 0, '0');
	sb = side(&a, trust, MLA_ERR_SIG_INVALID);
	assert_int_equal(sb->refusal, MLA_AUDIT_R_UNVERIFIED);
	assert_int_equal(sb->verified->failures[0].refusal, MLA_AUDIT_R_PROOF_INVALID);
	assert_int_equal(mla_audit_reconcile(sa, sb, &rc, NULL), MLA_ERR_ARG);
	mla_audit_side_free(sb);
	/* without a trust set: the proof is not judged, a garbled entry is skipped */
	assert_int_equal(tb_set(&a, MLA_BUNDLE_ENTRY, "1", "junk", 4), 0);
	sb = side(&a, NULL, MLA_OK);
	assert_int_equal(sb->nentries, 3);
	assert_int_equal(sb->nskipped, 1);
	assert_string_equal(sb->skipped[0].record, "1");
	assert_int_equal(sb->skipped[0].refusal, MLA_AUDIT_R_ENTRY_FORM);
	mla_audit_side_free(sb);
	tb_free(&a);
	build_es(&b, NULL);
	tb_remove(&b, MLA_BUNDLE_CERTIFICATE, "audit"); /* the certificate must be second */
	sb = side(&b, NULL, MLA_ERR_SCHEMA);
	assert_int_equal(sb->refusal, MLA_AUDIT_R_CONTAINER);
	mla_audit_side_free(sb);
	tb_free(&b);
	mla_audit_side_free(sa);
}

/* ---- log epochs (SPEC 14 "Log epochs", 15): entry 0 of epoch 2 links to epoch 1 ---- */

/* ES's epoch 1 head at size n with root (signed by signer's audit key) into e's link. */
static void link_to(mla_audit_entry *e, const struct tb_state *signer, uint64_t n,
		    const uint8_t root[32])
{
	mla_checkpoint cp;
	char *note = NULL;
	const char *sp;
	size_t len = 0, got = 0;

	memset(&cp, 0, sizeof(cp));
	assert_int_equal(mla_strcpy(cp.origin, sizeof(cp.origin), "mlagw.es/audit"), MLA_OK);
	cp.size = n;
	memcpy(cp.root, root, 32);
	assert_int_equal(mla_checkpoint_sign(&cp, cp.origin, signer->audit_priv, &note, &len,
					     NULL), MLA_OK);
	sp = strrchr(note, ' ');
	assert_non_null(sp);
	assert_int_equal(mla_b64_decode(sp + 1, strlen(sp + 1) - 1, e->prev_sig,
					sizeof(e->prev_sig), &got), MLA_OK);
	assert_int_equal(got, sizeof(e->prev_sig));
	free(note);
	e->event = MLA_AUDIT_EPOCH_OPENED;
	e->message_id[0] = e->from[0] = e->to[0] = '\0';
	memcpy(e->actor, "gateway", 8);
	assert_int_equal(mla_strcpy(e->prev_origin, sizeof(e->prev_origin), "mlagw.es/audit"),
			 MLA_OK);
	e->prev_size = n;
	memcpy(e->prev_root, root, 32);
}

/* The root of ES's epoch 1 entries 0..n-1. */
static void es_root(uint64_t n, uint8_t root[32])
{
	mla_audit_entry e[8];
	uint8_t leaves[8][32];
	size_t k = es_entries(e);

	for (size_t i = 0; i < k; i++)
		assert_int_equal(mla_audit_entry_leaf_hash(&e[i], leaves[i], NULL), MLA_OK);
	assert_int_equal(mla_merkle_root((const uint8_t(*)[32])leaves, (size_t)n, root), MLA_OK);
}

/* Epoch 2 of ES: the link, a reload; one checkpoint of 2. */
static void build_epoch2(struct tb_bundle *b, const struct tb_state *signer, uint64_t n,
			 const uint8_t root[32])
{
	static const uint64_t cp2[] = {2};
	mla_audit_entry e[2];

	tb_entry(&e[0], 0, t0 + 5000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	link_to(&e[0], signer, n, root);
	tb_entry(&e[1], 1, t0 + 6000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build_epoch(b, &es, 2, e, 2, cp2, 1, NULL), 0);
}

static void test_epoch_link(void **state)
{
	struct tb_bundle b1, b2;
	mla_audit_result *r;
	uint8_t root[32], other[32] = {9};

	(void)state;
	build_es(&b1, NULL);
	/* beyond the archive (4 entries): verified, 2 entries lost */
	build_epoch2(&b2, &es, 6, other);
	r = verify1(&b2);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->nlinks, 1);
	assert_false(r->links[0].checked); /* no previous bundle given */
	mla_audit_result_free(r);
	r = verify2(&b2, &b1);
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->nlinks, 1);
	assert_true(r->links[0].checked && !r->links[0].failed);
	assert_int_equal(r->links[0].prev, 1);
	assert_int_equal(r->links[0].archived, 4);
	assert_int_equal(r->links[0].lost, 2);
	assert_non_null(strstr(r->links[0].message, "entries 4..5 (2)"));
	mla_audit_result_free(r);
	tb_free(&b2);
	/* within the archive, the archive's root: no loss */
	es_root(3, root);
	build_epoch2(&b2, &es, 3, root);
	r = verify2(&b2, &b1);
	assert_int_equal(r->failures, 0);
	assert_true(r->links[0].checked && r->links[0].lost == 0);
	mla_audit_result_free(r);
	tb_free(&b2);
	/* within the archive, another root: another history */
	build_epoch2(&b2, &es, 3, other);
	r = verify2(&b2, &b1);
	assert_int_equal(r->failures, 1);
	assert_true(r->links[0].failed);
	mla_audit_result_free(r);
	tb_free(&b2);
	/* signed by another key than the archive's */
	build_epoch2(&b2, &co, 6, other);
	r = verify2(&b2, &b1);
	assert_true(r->links[0].failed);
	assert_non_null(strstr(r->links[0].message, "not signed"));
	mla_audit_result_free(r);
	tb_free(&b2);
	tb_free(&b1);
}

static void test_epoch_entry0(void **state)
{
	static const uint64_t cp2[] = {2};
	mla_audit_entry e[2];
	uint8_t root[32] = {0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	/* epoch 2 must open with the link */
	tb_entry(&e[0], 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t0 + 1, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build_epoch(&b, &es, 2, e, 2, cp2, 1, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_EPOCH_LINK, MLA_AUDIT_CHECK_ENTRIES, MLA_BUNDLE_ENTRY, "0");
	mla_audit_result_free(r);
	tb_free(&b);
	/* and only there: a link in epoch 1 */
	link_to(&e[1], &es, 1, root);
	assert_int_equal(tb_build_epoch(&b, &es, 1, e, 2, cp2, 1, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_EPOCH_LINK, MLA_AUDIT_CHECK_ENTRIES, MLA_BUNDLE_ENTRY, "1");
	mla_audit_result_free(r);
	tb_free(&b);
	/* epoch 3 linking to epoch 1 */
	link_to(&e[0], &es, 1, root);
	tb_entry(&e[1], 1, t0 + 1, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	assert_int_equal(tb_build_epoch(&b, &es, 3, e, 2, cp2, 1, NULL), 0);
	r = verify1(&b);
	expect(r, MLA_AUDIT_R_EPOCH_LINK, MLA_AUDIT_CHECK_ENTRIES, MLA_BUNDLE_ENTRY, "0");
	mla_audit_result_free(r);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_v2_entry),
		cmocka_unit_test(test_v5_entry),
		cmocka_unit_test(test_checkpoint_signature),
		cmocka_unit_test(test_altered_entry),
		cmocka_unit_test(test_sequence_gap),
		cmocka_unit_test(test_time_back),
		cmocka_unit_test(test_missing_envelope_receipt),
		cmocka_unit_test(test_delivered_without_receipt),
		cmocka_unit_test(test_filter_selection),
		cmocka_unit_test(test_filter_case_too_long),
		cmocka_unit_test(test_checkpoint_root),
		cmocka_unit_test(test_bad_proof),
		cmocka_unit_test(test_peer_cosignature),
		cmocka_unit_test(test_certificate),
		cmocka_unit_test(test_undecodable_key),
		cmocka_unit_test(test_manifest_and_coverage),
		cmocka_unit_test(test_split_view),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_reconcile_agree),
		cmocka_unit_test(test_reconcile_one_sided),
		cmocka_unit_test(test_reconcile_digests),
		cmocka_unit_test(test_reconcile_sides),
		cmocka_unit_test(test_epoch_link),
		cmocka_unit_test(test_epoch_entry0),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
