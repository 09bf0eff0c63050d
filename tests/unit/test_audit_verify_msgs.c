/* mla_audit_verify's refusal classes of the envelopes, receipts and deliveries a bundle holds:
 * real envelopes (ES -> CO) and receipts (CO's) sealed with the fixture's test PKI, held in
 * ES's (sender's) or CO's (receiver's) bundle built in memory with audit_testbundle.c, whose
 * audit keys are the same PKI's. Each test alters one thing and asserts the failure's class,
 * check family and record, and that it is the only failure unless the verifier's later
 * checks must report a consequence (named where so). The log's classes:
 * test_audit_verify_log.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "fixture.h"
#include "mlagw/audit.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"

/* A message ES sealed for CO and CO's positive receipt of it. */
struct msg {
	char id[MLA_UUID_LEN + 1];
	mla_buf env, rcpt;
	uint8_t env_sha[32], rcpt_sha[32];
};

static void *fx;
static struct fixture *F;
static struct tb_state es, co; /* the fixture's ES and CO: audit keys and roots */
static struct tv_trust tt;
static struct msg A, B; /* A's id sorts before B's */
static int64_t t0;
static const uint8_t OTHER[32] = {0xee}; /* a digest of no record */

static void seal_receipt(const char *id, const uint8_t digest[32], const char *receiver,
			 const mla_signer *signer, mla_outcome outcome, mla_buf *out,
			 uint8_t sha[32])
{
	tv_receipt(id, digest, receiver, outcome, MLA_ERR_SCHEMA, signer, &F->limits, out, sha);
}

static void seal_msg(struct msg *m, unsigned seed)
{
	mla_header h;
	uint8_t doc[512];
	mla_diag d = {MLA_OK, ""};

	fixture_header(&h);
	fixture_document(doc, sizeof(doc), seed);
	if (mla_envelope_seal(&h, doc, sizeof(doc), F->es_signer, F->co_rcpt, &F->limits,
			      &m->env, &d) != MLA_OK)
		fail_msg("seal: %s", d.msg);
	assert_int_equal(mla_strcpy(m->id, sizeof(m->id), h.message_id), MLA_OK);
	SHA256(m->env.data, m->env.len, m->env_sha);
	seal_receipt(m->id, m->env_sha, "CO", F->co_signer, MLA_OUTCOME_ACCEPTED, &m->rcpt,
		     m->rcpt_sha);
}

static int setup(void **state)
{
	struct msg tmp;

	(void)state;
	if (fixture_setup(&fx) != 0)
		return -1;
	F = fx;
	tv_trust_pki(&tt, F->dir, &es, &co);
	seal_msg(&A, 1);
	seal_msg(&B, 2);
	if (strcmp(A.id, B.id) > 0) {
		tmp = A;
		A = B;
		B = tmp;
	}
	t0 = (int64_t)time(NULL) * 1000;
	return 0;
}

static int teardown(void **state)
{

	(void)state;
	tv_trust_close(&tt);
	tb_state_free(&es);
	tb_state_free(&co);
	mla_buf_free(&A.env);
	mla_buf_free(&A.rcpt);
	mla_buf_free(&B.env);
	mla_buf_free(&B.rcpt);
	return fixture_teardown(&fx);
}

/* Entry i of e: event ev of message id (NULL: a reload), ES -> CO unless to says. */
static void ent(mla_audit_entry *e, size_t i, mla_audit_event ev, const char *id,
		const uint8_t *env_sha, const uint8_t *rcpt_sha)
{
	tb_entry(&e[i], i, t0 + (int64_t)i * 10, ev, id, id ? "ES" : NULL, id ? "CO" : NULL,
		 env_sha, rcpt_sha);
}

static void reload(mla_audit_entry *e, size_t i)
{
	ent(e, i, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL);
}

/* State s's bundle of entries e[0..n), one checkpoint covering them all. */
static void log_of(struct tb_bundle *b, const struct tb_state *s, const mla_audit_entry *e,
		   size_t n)
{
	uint64_t cp = n;

	assert_int_equal(tb_build(b, s, e, n, &cp, 1, NULL), 0);
}

/* Record t named id holding data (added in order after the records of its type). */
static void hold(struct tb_bundle *b, mla_bundle_type t, const char *id, const mla_buf *data)
{
	assert_int_equal(tb_set(b, t, id, data->data, data->len), 0);
}

static mla_audit_result *verify_done(struct tb_bundle *b, const char *state)
{
	const struct tb_bundle *bs[] = {b};

	assert_int_equal(tb_manifest(b, state, NULL), 0);
	return tv_verify(tt.trust, bs, 1);
}

/* ES's log of message A (sent, delivered with receipt rcpt_sha) holding A's envelope and
 * receipt; reloads around. */
static void sender(struct tb_bundle *b, const mla_buf *rcpt, const uint8_t *rcpt_sha)
{
	mla_audit_entry e[4];

	reload(e, 0);
	ent(e, 1, MLA_AUDIT_SENT, A.id, A.env_sha, NULL);
	ent(e, 2, MLA_AUDIT_DELIVERED, A.id, A.env_sha, rcpt_sha);
	reload(e, 3);
	log_of(b, &es, e, 4);
	hold(b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	hold(b, MLA_BUNDLE_RECEIPT, A.id, rcpt);
}

/* CO's log of message m: received (envelope env_sha), receipt issued (rcpt_sha, naming
 * envelope issued_env), holding env and rcpt under m's id. */
static void receiver(struct tb_bundle *b, const struct msg *m, const mla_buf *env,
		     const uint8_t *env_sha, const mla_buf *rcpt, const uint8_t *rcpt_sha,
		     const uint8_t *issued_env)
{
	mla_audit_entry e[4];

	reload(e, 0);
	ent(e, 1, MLA_AUDIT_RECEIVED, m->id, env_sha, NULL);
	ent(e, 2, MLA_AUDIT_RECEIPT_ISSUED, m->id, issued_env, rcpt_sha);
	reload(e, 3);
	log_of(b, &co, e, 4);
	hold(b, MLA_BUNDLE_ENVELOPE, m->id, env);
	hold(b, MLA_BUNDLE_RECEIPT, m->id, rcpt);
}

/* The one failure of r is of class why, family check, record t/rec. */
static void only(const mla_audit_result *r, mla_audit_refusal why, mla_audit_check check,
		 mla_bundle_type t, const char *rec)
{
	tv_expect(r, 0, why, check, t, rec);
	assert_int_equal(r->failures, 1);
}

/* Both sides of a good exchange verify: the tests below alter one thing of these. */
static void test_good(void **state)
{
	struct tb_bundle b;
	mla_audit_result *r;
	const mla_audit_bundle_result *x;

	(void)state;
	sender(&b, &A.rcpt, A.rcpt_sha);
	r = verify_done(&b, "ES");
	x = &r->bundles[0];
	assert_int_equal(r->failures, 0);
	assert_int_equal(x->records[MLA_BUNDLE_ENVELOPE], 1);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_ENVELOPES], 1);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_RECEIPTS], 1);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_DELIVERED], 1);
	mla_audit_result_free(r);
	tb_free(&b);
	receiver(&b, &A, &A.env, A.env_sha, &A.rcpt, A.rcpt_sha, A.env_sha);
	r = verify_done(&b, "CO");
	assert_int_equal(r->failures, 0);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_ENVELOPES], 1);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_RECEIPTS], 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* MLA_AUDIT_R_ORDER: ES's log of A and B with B's record before A's. A, out of order, is
 * refused for that alone; B, the first record of its name, is found by its entries and
 * verifies (the verifier joins records and entries by name, SPEC 15 "Verifier memory"). */
static void test_order(void **state)
{
	(void)state;
	for (int t = 0; t < 2; t++) {
		mla_bundle_type ty = t == 0 ? MLA_BUNDLE_ENVELOPE : MLA_BUNDLE_RECEIPT;
		mla_audit_check fam = t == 0 ? MLA_AUDIT_CHECK_ENVELOPES
					     : MLA_AUDIT_CHECK_RECEIPTS;
		struct tb_bundle b;
		mla_audit_entry e[6];
		mla_audit_result *r;
		const mla_audit_failure *f;

		reload(e, 0);
		ent(e, 1, MLA_AUDIT_SENT, A.id, A.env_sha, NULL);
		ent(e, 2, MLA_AUDIT_SENT, B.id, B.env_sha, NULL);
		ent(e, 3, MLA_AUDIT_DELIVERED, A.id, A.env_sha, A.rcpt_sha);
		ent(e, 4, MLA_AUDIT_DELIVERED, B.id, B.env_sha, B.rcpt_sha);
		reload(e, 5);
		log_of(&b, &es, e, 6);
		/* each tb_set adds after the last record of its type */
		hold(&b, MLA_BUNDLE_ENVELOPE, t == 0 ? B.id : A.id, t == 0 ? &B.env : &A.env);
		hold(&b, MLA_BUNDLE_ENVELOPE, t == 0 ? A.id : B.id, t == 0 ? &A.env : &B.env);
		hold(&b, MLA_BUNDLE_RECEIPT, t == 1 ? B.id : A.id, t == 1 ? &B.rcpt : &A.rcpt);
		hold(&b, MLA_BUNDLE_RECEIPT, t == 1 ? A.id : B.id, t == 1 ? &A.rcpt : &B.rcpt);
		r = verify_done(&b, "ES");
		f = tv_expect(r, 0, MLA_AUDIT_R_ORDER, fam, ty, A.id);
		assert_non_null(strstr(f->message, "duplicated or out of order"));
		assert_int_equal(tv_count(r, 0, MLA_AUDIT_R_ORDER), 1);
		assert_int_equal(r->bundles[0].ok[fam], 1); /* B found, A refused */
		mla_audit_result_free(r);
		tb_free(&b);
	}
}

/* Failures found message by message (the verifier joins records and entries by message id,
 * SPEC 15 "Verifier memory") are listed in the steps' order: B's entries come first in the
 * log, A's id first in the sort. Each message's sent entry names another envelope, its
 * receipt another envelope digest: step 8's digest failures by entry (B's, then A's), then its
 * unreferenced envelopes by record (A's, then B's), then step 9's by entry, step 10's by
 * entry. */
static void test_failure_order(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[7];
	mla_audit_result *r;
	const mla_audit_failure *f;
	/* want[i]: class, family, record */
	static const struct {
		mla_audit_refusal why;
		mla_audit_check fam;
		int b_msg; /* the record names B (else A), or the entry's seq when fam is delivered */
	} want[] = {
		{MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_ENVELOPES, 1},
		{MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_ENVELOPES, 0},
		{MLA_AUDIT_R_UNREFERENCED, MLA_AUDIT_CHECK_ENVELOPES, 0},
		{MLA_AUDIT_R_UNREFERENCED, MLA_AUDIT_CHECK_ENVELOPES, 1},
		{MLA_AUDIT_R_DELIVERED, MLA_AUDIT_CHECK_DELIVERED, 3},
		{MLA_AUDIT_R_DELIVERED, MLA_AUDIT_CHECK_DELIVERED, 4},
	};
	char seq[8];

	(void)state;
	reload(e, 0);
	ent(e, 1, MLA_AUDIT_SENT, B.id, OTHER, NULL);
	ent(e, 2, MLA_AUDIT_SENT, A.id, OTHER, NULL);
	ent(e, 3, MLA_AUDIT_DELIVERED, B.id, B.env_sha, B.rcpt_sha);
	ent(e, 4, MLA_AUDIT_DELIVERED, A.id, A.env_sha, A.rcpt_sha);
	e[3].has_envelope_sha256 = 0; /* no digest: B's delivery unproven */
	e[4].has_envelope_sha256 = 0;
	reload(e, 5);
	log_of(&b, &es, e, 6);
	hold(&b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	hold(&b, MLA_BUNDLE_ENVELOPE, B.id, &B.env);
	hold(&b, MLA_BUNDLE_RECEIPT, A.id, &A.rcpt);
	hold(&b, MLA_BUNDLE_RECEIPT, B.id, &B.rcpt);
	r = verify_done(&b, "ES");
	assert_int_equal(r->bundles[0].nfailures, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		f = &r->bundles[0].failures[i];
		assert_int_equal(f->refusal, want[i].why);
		assert_int_equal(f->check, want[i].fam);
		if (want[i].fam == MLA_AUDIT_CHECK_DELIVERED) {
			assert_int_equal(snprintf(seq, sizeof(seq), "%d", want[i].b_msg) > 0, 1);
			assert_string_equal(f->record, seq);
		} else
			assert_string_equal(f->record, want[i].b_msg ? B.id : A.id);
	}
	mla_audit_result_free(r);
	tb_free(&b);
}

/* The message checks' sort on disk cannot be written (a full disk, here a file size limit
 * the checkpoints' small table stays under): the verification stops with an I/O error naming
 * the temporary file, it gives no verdict. Runs of 4 KiB (MLAGW_VERIFY_SORT_MEM, 26 rows)
 * and 50 entries naming A make the sort spill. */
#define SPILL_N 50
static void test_sort_disk_full(void **state)
{
	struct tb_bundle b;
	mla_audit_entry *e = calloc(SPILL_N + 2, sizeof(*e));
	mla_buf data;
	mla_audit_input in;
	mla_audit_result *r = NULL;
	mla_diag d = {MLA_OK, ""};
	struct rlimit old, lim;

	(void)state;
	assert_non_null(e);
	reload(e, 0);
	for (size_t i = 1; i <= SPILL_N; i++)
		ent(e, i, MLA_AUDIT_SENT, A.id, A.env_sha, NULL);
	reload(e, SPILL_N + 1);
	log_of(&b, &es, e, SPILL_N + 2);
	hold(&b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	assert_int_equal(tb_write(&b, &data), 0);
	in = (mla_audit_input){"full.mab", data.data, data.len, NULL};
	assert_int_equal(setenv("MLAGW_VERIFY_SORT_MEM", "4096", 1), 0);
	/* with room: it verifies (A's envelope is named by every entry) */
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, &d), MLA_OK);
	assert_int_equal(r->failures, 0);
	mla_audit_result_free(r);
	r = NULL;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 2048; /* the checkpoint table's 64 bytes fit, a run of rows does not */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(mla_audit_verify(&in, 1, tt.trust, &r, &d), MLA_ERR_IO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_null(r);
	assert_non_null(strstr(d.msg, "temporary file"));
	assert_int_equal(unsetenv("MLAGW_VERIFY_SORT_MEM"), 0);
	mla_buf_free(&data);
	tb_free(&b);
	free(e);
}

/* MLA_AUDIT_R_RECEIPT_INVALID: CO's log holds a receipt "of CO" that ES's key signed: it
 * does not chain to CO's root. The receiver's log has no delivered entry to depend on it. */
static void test_receipt_invalid(void **state)
{
	struct tb_bundle b;
	mla_buf bad;
	uint8_t sha[32];
	mla_audit_result *r;
	const mla_audit_failure *f;

	(void)state;
	seal_receipt(A.id, A.env_sha, "CO", F->es_signer, MLA_OUTCOME_ACCEPTED, &bad, sha);
	receiver(&b, &A, &A.env, A.env_sha, &bad, sha, A.env_sha);
	r = verify_done(&b, "CO");
	f = tv_expect(r, 0, MLA_AUDIT_R_RECEIPT_INVALID, MLA_AUDIT_CHECK_RECEIPTS,
		      MLA_BUNDLE_RECEIPT, A.id);
	assert_non_null(strstr(f->message, "does not verify"));
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
	mla_buf_free(&bad);
}

/* MLA_AUDIT_R_MESSAGE_ID: a valid record of message A under B's name, named by B's entries
 * (so nothing else differs): A's envelope in ES's log, A's receipt in CO's. */
static void test_message_id(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[4];
	mla_audit_result *r;
	const mla_audit_failure *f;

	(void)state;
	reload(e, 0);
	ent(e, 1, MLA_AUDIT_SENT, B.id, A.env_sha, NULL);
	reload(e, 2);
	reload(e, 3);
	log_of(&b, &es, e, 4);
	hold(&b, MLA_BUNDLE_ENVELOPE, B.id, &A.env);
	r = verify_done(&b, "ES");
	f = tv_expect(r, 0, MLA_AUDIT_R_MESSAGE_ID, MLA_AUDIT_CHECK_ENVELOPES,
		      MLA_BUNDLE_ENVELOPE, B.id);
	assert_non_null(strstr(f->message, A.id));
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
	receiver(&b, &B, &B.env, B.env_sha, &A.rcpt, A.rcpt_sha, B.env_sha);
	r = verify_done(&b, "CO");
	f = tv_expect(r, 0, MLA_AUDIT_R_MESSAGE_ID, MLA_AUDIT_CHECK_RECEIPTS, MLA_BUNDLE_RECEIPT,
		      B.id);
	assert_non_null(strstr(f->message, A.id));
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* MLA_AUDIT_R_RECEIPT_MATCH: in CO's log, a valid receipt of A over B's envelope bytes, and
 * one of A signed as ES's (receiver ES, though A was sent to CO). */
static void test_receipt_match(void **state)
{
	static const char *const why[] = {"receipt digest differs from the envelope sent",
					   "receipt signed by ES, message was sent to CO"};

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct tb_bundle b;
		mla_buf bad;
		uint8_t sha[32];
		mla_audit_result *r;
		const mla_audit_failure *f;

		if (i == 0)
			seal_receipt(A.id, B.env_sha, "CO", F->co_signer, MLA_OUTCOME_ACCEPTED,
				     &bad, sha);
		else
			seal_receipt(A.id, A.env_sha, "ES", F->es_signer, MLA_OUTCOME_ACCEPTED,
				     &bad, sha);
		receiver(&b, &A, &A.env, A.env_sha, &bad, sha, A.env_sha);
		r = verify_done(&b, "CO");
		f = tv_expect(r, 0, MLA_AUDIT_R_RECEIPT_MATCH, MLA_AUDIT_CHECK_RECEIPTS,
			      MLA_BUNDLE_RECEIPT, A.id);
		assert_non_null(strstr(f->message, why[i]));
		assert_int_equal(r->failures, 1);
		mla_audit_result_free(r);
		tb_free(&b);
		mla_buf_free(&bad);
	}
}

/* MLA_AUDIT_R_DIGEST in each family that compares a record with the digest an entry names:
 * the envelope (a sent entry names other bytes), the receipt (the receipt-issued entry names
 * another envelope than the receipt's) and the delivery (a second delivered entry names
 * another receipt). Each time another entry names the record rightly, so it is referenced. */
static void test_digest(void **state)
{
	struct tb_bundle b;
	mla_audit_entry e[4];
	mla_audit_result *r;

	(void)state;
	reload(e, 0);
	ent(e, 1, MLA_AUDIT_SENT, A.id, OTHER, NULL);
	ent(e, 2, MLA_AUDIT_DELIVERED, A.id, A.env_sha, A.rcpt_sha);
	reload(e, 3);
	log_of(&b, &es, e, 4);
	hold(&b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	hold(&b, MLA_BUNDLE_RECEIPT, A.id, &A.rcpt);
	r = verify_done(&b, "ES");
	only(r, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_ENVELOPES, MLA_BUNDLE_ENVELOPE, A.id);
	assert_non_null(strstr(r->bundles[0].failures[0].message, "entry 1 (sent)"));
	mla_audit_result_free(r);
	tb_free(&b);

	receiver(&b, &A, &A.env, A.env_sha, &A.rcpt, A.rcpt_sha, OTHER);
	r = verify_done(&b, "CO");
	only(r, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_RECEIPTS, MLA_BUNDLE_RECEIPT, A.id);
	assert_non_null(strstr(r->bundles[0].failures[0].message, "entry 2"));
	mla_audit_result_free(r);
	tb_free(&b);

	ent(e, 1, MLA_AUDIT_SENT, A.id, A.env_sha, NULL);
	ent(e, 3, MLA_AUDIT_DELIVERED, A.id, A.env_sha, OTHER);
	log_of(&b, &es, e, 4);
	hold(&b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	hold(&b, MLA_BUNDLE_RECEIPT, A.id, &A.rcpt);
	r = verify_done(&b, "ES");
	only(r, MLA_AUDIT_R_DIGEST, MLA_AUDIT_CHECK_DELIVERED, MLA_BUNDLE_ENTRY, "3");
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_DELIVERED], 1); /* entry 2 */
	mla_audit_result_free(r);
	tb_free(&b);
}

/* MLA_AUDIT_R_UNREFERENCED: ES's log of A also holds B's envelope, or B's receipt, valid
 * records of a message no entry names. */
static void test_unreferenced(void **state)
{
	(void)state;
	for (int t = 0; t < 2; t++) {
		mla_bundle_type ty = t == 0 ? MLA_BUNDLE_ENVELOPE : MLA_BUNDLE_RECEIPT;
		mla_audit_check fam = t == 0 ? MLA_AUDIT_CHECK_ENVELOPES
					     : MLA_AUDIT_CHECK_RECEIPTS;
		struct tb_bundle b;
		mla_audit_result *r;

		sender(&b, &A.rcpt, A.rcpt_sha);
		hold(&b, ty, B.id, t == 0 ? &B.env : &B.rcpt); /* after A's: in order */
		r = verify_done(&b, "ES");
		only(r, MLA_AUDIT_R_UNREFERENCED, fam, ty, B.id);
		assert_int_equal(r->bundles[0].ok[fam], 1); /* A's */
		mla_audit_result_free(r);
		tb_free(&b);
	}
}

/* MLA_AUDIT_R_DELIVERED: the delivered entry names the receipt the bundle holds, valid and
 * of A's envelope, but it is CO's refusal; or the entry says A went to MX, not CO. */
static void test_delivered(void **state)
{
	struct tb_bundle b;
	mla_buf neg;
	uint8_t sha[32];
	mla_audit_entry e[4];
	mla_audit_result *r;
	const mla_audit_failure *f;

	(void)state;
	seal_receipt(A.id, A.env_sha, "CO", F->co_signer, MLA_OUTCOME_REJECTED, &neg, sha);
	sender(&b, &neg, sha);
	r = verify_done(&b, "ES");
	f = tv_expect(r, 0, MLA_AUDIT_R_DELIVERED, MLA_AUDIT_CHECK_DELIVERED, MLA_BUNDLE_ENTRY,
		      "2");
	assert_non_null(strstr(f->message, "no verified positive receipt of CO"));
	assert_int_equal(r->failures, 1);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_RECEIPTS], 1); /* valid, negative */
	mla_audit_result_free(r);
	tb_free(&b);
	mla_buf_free(&neg);

	reload(e, 0);
	ent(e, 1, MLA_AUDIT_SENT, A.id, A.env_sha, NULL);
	ent(e, 2, MLA_AUDIT_DELIVERED, A.id, A.env_sha, A.rcpt_sha);
	assert_int_equal(mla_strcpy(e[2].to, sizeof(e[2].to), "MX"), MLA_OK);
	reload(e, 3);
	log_of(&b, &es, e, 4);
	hold(&b, MLA_BUNDLE_ENVELOPE, A.id, &A.env);
	hold(&b, MLA_BUNDLE_RECEIPT, A.id, &A.rcpt);
	r = verify_done(&b, "ES");
	f = tv_expect(r, 0, MLA_AUDIT_R_DELIVERED, MLA_AUDIT_CHECK_DELIVERED, MLA_BUNDLE_ENTRY,
		      "2");
	assert_non_null(strstr(f->message, "no verified positive receipt of MX"));
	assert_int_equal(r->failures, 1);
	mla_audit_result_free(r);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_failure_order),
		cmocka_unit_test(test_sort_disk_full),
		cmocka_unit_test(test_receipt_invalid),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_receipt_match),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_unreferenced),
		cmocka_unit_test(test_delivered),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
