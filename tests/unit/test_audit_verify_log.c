/* mla_audit_verify's refusal classes of the log itself, of witnessing and of the split-view
 * check across bundles, and reconciliation's no-state: each test builds ES's bundle (and for
 * witnessing CO's) in memory with audit_testbundle.c, alters one thing, and asserts the
 * failure's class, check family and record (and, where the fault has no consequence in a
 * later check, that it is the only failure). The messages' classes: test_audit_verify_msgs.c.
 *
 * MLA_AUDIT_R_TREE_CONSISTENCY has no test: it cannot be reached from any bundle.
 * verify_tree (protocol/audit/verify_log.c) checks consistency only between two checkpoints
 * whose signed roots it has just recomputed from the bundle's own entries (a root that
 * differs is MLA_AUDIT_R_TREE_ROOT and the checkpoint is skipped), and only for sizes
 * 1 <= m < n <= the entries (verify_checkpoints refuses size 0 and non-ascending sizes as
 * MLA_AUDIT_R_CHECKPOINT_NAME; a size beyond the entries is MLA_AUDIT_R_TREE_SHORT). Both roots
 * are then roots of one tree, and the consistency proof it takes from that tree verifies
 * (RFC 9162 2.1.4; test_merkle.c checks every m < n). The class stays as a defence should the
 * Merkle code ever disagree with itself. */
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
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/pem.h"

#define M1 "6f0c2a4e-8b1d-4c3a-9e5f-7a6b8c9d0e1f"
#define M2 "0b0e4f5e-3d5c-4c2a-9a7e-1f2d3c4b5a69"

static char trust_dir[64], other_dir[64];
static struct tb_state es, co, fr; /* fr's root is not in trust_dir */
static mla_audit_trust *trust;
static int64_t t0;
static const uint64_t cps24[] = {2, 4}, cps4[] = {4}, cps234[] = {2, 3, 4}, cps3[] = {3};

static int setup(void **state)
{
	(void)state;
	assert_int_equal(mla_strcpy(trust_dir, sizeof(trust_dir), "/tmp/mlagw-tavl-XXXXXX"),
			 MLA_OK);
	assert_int_equal(mla_strcpy(other_dir, sizeof(other_dir), "/tmp/mlagw-tavl-XXXXXX"),
			 MLA_OK);
	t0 = (int64_t)time(NULL) * 1000 - 60000;
	if (mla_crypto_init(NULL) != MLA_OK || mkdtemp(trust_dir) == NULL ||
	    mkdtemp(other_dir) == NULL || tb_state_make("ES", trust_dir, &es) != 0 ||
	    tb_state_make("CO", trust_dir, &co) != 0 || tb_state_make("FR", other_dir, &fr) != 0)
		return -1;
	return mla_audit_trust_load(trust_dir, &trust, NULL) == MLA_OK ? 0 : -1;
}

static void rm_file(const char *dir, const char *name)
{
	char p[128];

	assert_int_equal(mla_snprintf(p, sizeof(p), "%s/%s", dir, name), MLA_OK);
	(void)unlink(p);
}

static int teardown(void **state)
{
	(void)state;
	mla_audit_trust_free(trust);
	tb_state_free(&es);
	tb_state_free(&co);
	tb_state_free(&fr);
	rm_file(trust_dir, "ES.crt");
	rm_file(trust_dir, "CO.crt");
	rm_file(other_dir, "FR.crt");
	(void)rmdir(trust_dir);
	(void)rmdir(other_dir);
	return 0;
}

/* ES's log: a reload, two messages sent to CO, a reload (no envelope held: none is needed
 * for the log's checks, and a sent entry that names no envelope-sha256 owes none). */
static size_t es_entries(mla_audit_entry *e)
{
	tb_entry(&e[0], 0, t0, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	tb_entry(&e[1], 1, t0 + 1000, MLA_AUDIT_SENT, M1, "ES", "CO", NULL, NULL);
	tb_entry(&e[2], 2, t0 + 2000, MLA_AUDIT_SENT, M2, "ES", "CO", NULL, NULL);
	tb_entry(&e[3], 3, t0 + 3000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL, NULL, NULL);
	return 4;
}

/* CO's log: three reloads. */
static size_t co_entries(mla_audit_entry *e)
{
	for (size_t i = 0; i < 3; i++)
		tb_entry(&e[i], i, t0 + 500 + (int64_t)i, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL,
			 NULL, NULL, NULL);
	return 3;
}

/* ES's bundle with checkpoints cps[0..n), cosigned by peer when given. */
static void build_es(struct tb_bundle *b, const uint64_t *cps, size_t n,
		     const struct tb_state *peer)
{
	mla_audit_entry e[8];
	size_t ne = es_entries(e);

	assert_int_equal(tb_build(b, &es, e, ne, cps, n, peer), 0);
}

/* CO's bundle (checkpoint 3, cosigned by ES, ES's certificate as its peer's). */
static void build_co(struct tb_bundle *b)
{
	mla_audit_entry e[8];
	size_t ne = co_entries(e);

	assert_int_equal(tb_build(b, &co, e, ne, cps3, 1, &es), 0);
}

static mla_audit_result *verify1(const struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {b};

	return tv_verify(trust, bs, 1);
}

static mla_audit_result *verify2(const struct tb_bundle *a, const struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {a, b};

	return tv_verify(trust, bs, 2);
}

/* ---- checkpoints: MLA_AUDIT_R_CHECKPOINT_NAME ---- */

/* Checkpoint "4" replaced by a note of ES's key whose origin is CO's log. */
static void foreign_origin(struct tb_bundle *b)
{
	mla_checkpoint cp;
	char *note = NULL;
	size_t len = 0;

	memset(&cp, 0, sizeof(cp));
	assert_int_equal(mla_strcpy(cp.origin, sizeof(cp.origin), "mlagw.co/audit"), MLA_OK);
	cp.size = 4;
	assert_int_equal(mla_checkpoint_sign(&cp, "mlagw.es/audit", es.audit_priv, &note, &len,
					     NULL),
			 MLA_OK);
	assert_int_equal(tb_set(b, MLA_BUNDLE_CHECKPOINT, "4", note, len), 0);
	free(note);
}

static void test_checkpoint_name(void **state)
{
	static const struct {
		const char *what, *rec;
	} cases[] = {
		{"size", "5"},	     /* checkpoint 4 in a record named 5 */
		{"origin", "4"},     /* signed by ES's key for another log's origin */
		{"ascending", "2"},  /* checkpoint 2 after checkpoint 4 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tb_bundle b;
		mla_audit_result *r;
		const mla_audit_failure *f;

		if (i == 2) {
			build_es(&b, cps24, 2, NULL);
			tv_copy(&b, MLA_BUNDLE_CHECKPOINT, "2x", &b, MLA_BUNDLE_CHECKPOINT, "2");
			tb_remove(&b, MLA_BUNDLE_CHECKPOINT, "2");
			tv_copy(&b, MLA_BUNDLE_CHECKPOINT, "2", &b, MLA_BUNDLE_CHECKPOINT, "2x");
			tb_remove(&b, MLA_BUNDLE_CHECKPOINT, "2x");
			/* a proof between them would name a refused checkpoint: none */
			tb_remove(&b, MLA_BUNDLE_PROOF, "c.2.4");
			assert_string_equal(b.rec[b.n - 1].name, "2"); /* last: after 4 */
		} else {
			build_es(&b, cps4, 1, NULL);
			if (i == 0) {
				tv_copy(&b, MLA_BUNDLE_CHECKPOINT, "5", &b, MLA_BUNDLE_CHECKPOINT,
					"4");
				tb_remove(&b, MLA_BUNDLE_CHECKPOINT, "4");
			} else {
				foreign_origin(&b);
			}
		}
		assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
		r = verify1(&b);
		f = tv_expect(r, 0, MLA_AUDIT_R_CHECKPOINT_NAME, MLA_AUDIT_CHECK_CHECKPOINTS,
			      MLA_BUNDLE_CHECKPOINT, cases[i].rec);
		assert_non_null(strstr(f->message, "not the record's name, the bundle's log, or "
					       "not ascending"));
		if (i == 1)
			assert_non_null(strstr(f->message, "origin mlagw.co/audit"));
		/* a refused checkpoint is left out of the tree, witness and proof checks */
		assert_int_equal(r->failures, 1);
		mla_audit_result_free(r);
		tb_free(&b);
	}
}

/* ---- witness: MLA_AUDIT_R_PEER_CERT, MLA_AUDIT_R_WITNESSED ---- */

static void pem_of(X509 *c, mla_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_non_null(bio);
	mla_buf_init(out, 1 << 16);
	assert_int_equal(PEM_write_bio_X509(bio, c), 1);
	n = BIO_get_mem_data(bio, &p);
	assert_true(n > 0);
	assert_int_equal(mla_buf_append(out, p, (size_t)n), MLA_OK);
	BIO_free(bio);
}

/* "peer.<st>.<first 16 hex digits of c's fingerprint>" */
static void peer_name(X509 *c, const char *st, char *name, size_t size)
{
	char fp[65];

	assert_int_equal(mla_cert_fingerprint(c, fp), MLA_OK);
	assert_int_equal(mla_snprintf(name, size, "peer.%s.%.16s", st, fp), MLA_OK);
}

static void test_peer_cert(void **state)
{
	static const struct {
		const char *why;
		int cert;	/* 0 CO's, 1 FR's, 2 no certificate */
		const char *st; /* the State its name gives */
		int fp;		/* its name ends in its fingerprint */
	} cases[] = {
		{"no root of FR in", 1, "FR", 1}, /* FR's root is not in the trust set */
		{"the name does not end in the first 8 bytes", 0, "CO", 0},
		{"its subject State is not the one of its name", 0, "ES", 1},
		{"not one PEM certificate", 2, "CO", 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tb_bundle b;
		mla_audit_result *r;
		const mla_audit_failure *f;
		X509 *c = cases[i].cert == 1 ? fr.audit_cert : co.audit_cert;
		char name[MLA_BUNDLE_NAME_MAX + 1];
		mla_buf pem;

		build_es(&b, cps24, 2, NULL);
		if (cases[i].fp)
			peer_name(c, cases[i].st, name, sizeof(name));
		else
			assert_int_equal(mla_snprintf(name, sizeof(name), "peer.%s.%016d",
						      cases[i].st, 0),
					 MLA_OK);
		if (cases[i].cert == 2) {
			mla_buf_init(&pem, 64);
			assert_int_equal(mla_buf_append_str(&pem, "not a certificate\n"), MLA_OK);
		} else {
			pem_of(c, &pem);
		}
		assert_int_equal(tb_set(&b, MLA_BUNDLE_CERTIFICATE, name, pem.data, pem.len), 0);
		mla_buf_free(&pem);
		assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
		r = verify1(&b);
		f = tv_expect(r, 0, MLA_AUDIT_R_PEER_CERT, MLA_AUDIT_CHECK_WITNESS,
			      MLA_BUNDLE_CERTIFICATE, name);
		assert_non_null(strstr(f->message, cases[i].why));
		/* no checkpoint carries a line of that peer: nothing else is refused */
		assert_int_equal(r->failures, 1);
		assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_WITNESS], 0);
		mla_audit_result_free(r);
		tb_free(&b);
	}
}

/* ES's bundle (checkpoints cosigned by CO, CO's certificate) holding as witnessed "name" CO's
 * checkpoint 3, cosigned by ES when cosigned. */
static void es_witnessing(struct tb_bundle *b, const char *name, int cosigned)
{
	struct tb_bundle cob;
	mla_audit_entry e[8];
	size_t ne = co_entries(e);

	build_es(b, cps24, 2, &co);
	assert_int_equal(tb_build(&cob, &co, e, ne, cps3, 1, cosigned ? &es : NULL), 0);
	tv_copy(b, MLA_BUNDLE_WITNESSED, name, &cob, MLA_BUNDLE_CHECKPOINT, "3");
	assert_int_equal(tb_manifest(b, "ES", NULL), 0);
	tb_free(&cob);
}

static void test_witnessed(void **state)
{
	static const struct {
		const char *name, *why;
		int cosigned;
	} cases[] = {
		{"CO.2", "the checkpoint is not the one its name says (log and size)", 1},
		{"CO.3", "not signed by that peer's audit key and cosigned by this gateway", 0},
		/* no certificate of MX: only ES's cosignature line verifies */
		{"MX.3", "not signed by that peer's audit key and cosigned by this gateway", 1},
	};
	struct tb_bundle b;
	mla_audit_result *r;
	const mla_audit_bundle_result *x;

	(void)state;
	/* what a gateway exports: accepted, a head cosigned by ES */
	es_witnessing(&b, "CO.3", 1);
	r = verify1(&b);
	x = &r->bundles[0];
	assert_int_equal(r->failures, 0);
	assert_int_equal(x->ok[MLA_AUDIT_CHECK_WITNESS], 2); /* CO's certificate, CO.3 */
	assert_int_equal(x->nheads, 3);
	assert_string_equal(tv_head(0, 2)->origin, "mlagw.co/audit");
	assert_int_equal(tv_head(0, 2)->size, 3);
	assert_string_equal(tv_head(0, 2)->witness, "ES");
	mla_audit_result_free(r);
	tb_free(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const mla_audit_failure *f;

		es_witnessing(&b, cases[i].name, cases[i].cosigned);
		r = verify1(&b);
		f = tv_expect(r, 0, MLA_AUDIT_R_WITNESSED, MLA_AUDIT_CHECK_WITNESS,
			      MLA_BUNDLE_WITNESSED, cases[i].name);
		assert_non_null(strstr(f->message, cases[i].why));
		assert_int_equal(r->failures, 1);
		assert_int_equal(r->bundles[0].nheads, 2); /* ES's own checkpoints only */
		mla_audit_result_free(r);
		tb_free(&b);
	}
}

/* ---- proofs: MLA_AUDIT_R_PROOF_FORM, MLA_AUDIT_R_PROOF_CHECKPOINT ---- */

/* A proof record name added to (or, when it exists, replacing) ES's bundle with the bytes
 * of proof from; cut bytes cut from its end. */
struct proof_case {
	const uint64_t *cps;
	size_t ncps;
	const char *name, *from;
	size_t cut;
	const char *why;
};

static void proof_case(const struct proof_case *c, mla_audit_refusal want, size_t nfail)
{
	struct tb_bundle b;
	struct tb_rec *p;
	mla_audit_result *r;
	const mla_audit_failure *f;

	build_es(&b, c->cps, c->ncps, NULL);
	if (strcmp(c->name, c->from) != 0)
		tv_copy(&b, MLA_BUNDLE_PROOF, c->name, &b, MLA_BUNDLE_PROOF, c->from);
	p = tb_find(&b, MLA_BUNDLE_PROOF, c->name);
	p->data.len -= c->cut;
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = verify1(&b);
	f = tv_expect(r, 0, want, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_PROOF, c->name);
	assert_non_null(strstr(f->message, c->why));
	assert_int_equal(r->failures, nfail);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_proof_form(void **state)
{
	static const char form[] = "not c.<m>.<n> or i.<seq>.<n> with hex hash lines";
	static const struct proof_case cases[] = {
		{cps24, 2, "x.2.4", "c.2.4", 0, form},	/* neither c. nor i. */
		{cps24, 2, "c.2", "c.2.4", 0, form},	/* one number */
		{cps24, 2, "c.2.04", "c.2.4", 0, form}, /* not a canonical decimal */
		{cps24, 2, "c.2.4", "c.2.4", 1, form},	/* its last line has no newline */
	};

	(void)state;
	for (size_t i = 0; i < 3; i++)
		proof_case(&cases[i], MLA_AUDIT_R_PROOF_FORM, 1);
	/* the only proof of 2 and 4 refused: they have none */
	proof_case(&cases[3], MLA_AUDIT_R_PROOF_FORM, 2);
}

static void test_proof_checkpoint(void **state)
{
	static const struct proof_case cases[] = {
		/* no checkpoint of size 5 */
		{cps24, 2, "c.2.5", "c.2.4", 0, "no verified checkpoint of size 5"},
		/* an entry the bundle does not hold */
		{cps24, 2, "i.9.4", "c.2.4", 0, "not of an entry of the bundle in the latest"},
		/* in checkpoint 2, not the latest */
		{cps24, 2, "i.0.2", "c.2.4", 0, "not of an entry of the bundle in the latest"},
	};

	struct tb_bundle b;
	struct tb_rec *p;
	mla_audit_result *r;
	const mla_audit_failure *f;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		proof_case(&cases[i], MLA_AUDIT_R_PROOF_CHECKPOINT, 1);
	/* checkpoint 3 lies between 2 and 4: c.2.3 renamed c.2.4 where it stands (proofs keep
	 * export's order), so the pair 2, 3 also lacks its proof */
	build_es(&b, cps234, 3, NULL);
	assert_non_null(p = tb_find(&b, MLA_BUNDLE_PROOF, "c.2.3"));
	assert_int_equal(mla_strcpy(p->name, sizeof(p->name), "c.2.4"), MLA_OK);
	assert_int_equal(tb_manifest(&b, "ES", NULL), 0);
	r = verify1(&b);
	f = tv_expect(r, 0, MLA_AUDIT_R_PROOF_CHECKPOINT, MLA_AUDIT_CHECK_PROOFS, MLA_BUNDLE_PROOF,
		      "c.2.4");
	assert_non_null(strstr(f->message, "2 and 4 are not consecutive checkpoints"));
	assert_int_equal(r->failures, 2);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* ---- split views across bundles: MLA_AUDIT_R_SPLIT_LOG, MLA_AUDIT_R_SPLIT_WITNESS ---- */

/* CO's bundle witnessing ES's checkpoint 3 of ES's log (real) or of another history: ES's
 * bundle has no checkpoint 3, so only the root of its entries at 3 can contradict it. */
static void test_split_log(void **state)
{
	(void)state;
	for (int real = 1; real >= 0; real--) {
		struct tb_bundle a, b, alt;
		mla_audit_entry e[8];
		size_t ne = es_entries(e);
		mla_audit_result *r;

		build_es(&a, cps24, 2, NULL);
		if (!real)
			e[1].time_ms += 500;
		assert_int_equal(tb_build(&alt, &es, e, ne, cps3, 1, &co), 0);
		build_co(&b);
		tv_copy(&b, MLA_BUNDLE_WITNESSED, "ES.3", &alt, MLA_BUNDLE_CHECKPOINT, "3");
		assert_int_equal(tb_manifest(&b, "CO", NULL), 0);
		r = verify2(&a, &b);
		assert_int_equal(r->bundles[0].nfailures, 0); /* each verifies alone */
		assert_int_equal(r->bundles[1].nfailures, 0);
		if (real) {
			assert_int_equal(r->failures, 0);
			assert_true(r->split_compared > 0);
		} else {
			assert_int_equal(r->nsplits, 1);
			assert_int_equal(r->failures, 1);
			assert_int_equal(r->splits[0].kind, MLA_AUDIT_R_SPLIT_LOG);
			assert_string_equal(r->splits[0].origin, "mlagw.es/audit");
			assert_int_equal(r->splits[0].size, 3);
			assert_int_equal(r->splits[0].bundle[0], 1); /* the head's: CO's */
			assert_int_equal(r->splits[0].bundle[1], 0); /* the log's: ES's */
			assert_non_null(strstr(r->splits[0].message, "the log exported in b0.mab"));
		}
		mla_audit_result_free(r);
		tb_free(&a);
		tb_free(&b);
		tb_free(&alt);
	}
}

/* ES's checkpoints 2 and 4 are cosigned by CO; CO's bundle holds ES.4 and, but for the
 * fault, ES.2. */
static void test_split_witness(void **state)
{
	(void)state;
	for (int whole = 1; whole >= 0; whole--) {
		struct tb_bundle a, b;
		mla_audit_result *r;

		build_es(&a, cps24, 2, &co);
		build_co(&b);
		if (whole)
			tv_copy(&b, MLA_BUNDLE_WITNESSED, "ES.2", &a, MLA_BUNDLE_CHECKPOINT, "2");
		tv_copy(&b, MLA_BUNDLE_WITNESSED, "ES.4", &a, MLA_BUNDLE_CHECKPOINT, "4");
		assert_int_equal(tb_manifest(&b, "CO", NULL), 0);
		r = verify2(&a, &b);
		assert_int_equal(r->bundles[0].nfailures, 0);
		assert_int_equal(r->bundles[1].nfailures, 0);
		assert_string_equal(tv_head(0, 0)->cosigners, "CO");
		if (whole) {
			assert_int_equal(r->failures, 0);
		} else {
			assert_int_equal(r->nsplits, 1);
			assert_int_equal(r->failures, 1);
			assert_int_equal(r->splits[0].kind, MLA_AUDIT_R_SPLIT_WITNESS);
			assert_string_equal(r->splits[0].origin, "mlagw.es/audit");
			assert_int_equal(r->splits[0].size, 2);
			assert_int_equal(r->splits[0].bundle[0], 0); /* the log's: ES's */
			assert_int_equal(r->splits[0].bundle[1], 1); /* the witness's: CO's */
			assert_non_null(strstr(r->splits[0].message, "witnessed head missing"));
		}
		mla_audit_result_free(r);
		tb_free(&a);
		tb_free(&b);
	}
}

/* ---- reconciliation: MLA_AUDIT_R_NO_STATE ---- */

/* Without a trust set only the manifest is read: one naming no State is refused as such
 * (with a trust set the same bundle does not verify: MLA_AUDIT_R_UNVERIFIED). */
static void test_no_state(void **state)
{
	struct tb_bundle b;
	mla_buf d;
	mla_audit_input in;
	mla_audit_side *s = NULL, *good = NULL;
	mla_audit_reconciliation *rc = NULL;
	mla_diag dg = {MLA_OK, ""};

	(void)state;
	build_es(&b, cps24, 2, NULL);
	assert_int_equal(tb_write(&b, &d), 0);
	in = (mla_audit_input){"good.mab", d.data, d.len, NULL};
	assert_int_equal(mla_audit_side_load(&in, NULL, &good, NULL), MLA_OK);
	mla_buf_free(&d);
	assert_int_equal(tb_manifest(&b, "E1", NULL), 0); /* not two upper-case letters */
	assert_int_equal(tb_write(&b, &d), 0);
	in = (mla_audit_input){"nostate.mab", d.data, d.len, NULL};
	assert_int_equal(mla_audit_side_load(&in, NULL, &s, &dg), MLA_ERR_HEADER);
	assert_non_null(s);
	assert_int_equal(s->refusal, MLA_AUDIT_R_NO_STATE);
	assert_string_equal(s->name, "nostate.mab");
	assert_string_equal(s->state, "");
	assert_int_equal(s->nentries, 0);
	assert_null(s->verified);
	assert_string_equal(dg.msg, "nostate.mab: the manifest names no State");
	assert_string_equal(mla_audit_refusal_name(s->refusal), "no-state");
	assert_int_equal(mla_audit_reconcile(good, s, &rc, NULL), MLA_ERR_ARG);
	assert_null(rc);
	mla_audit_side_free(s);
	mla_audit_side_free(good);
	mla_buf_free(&d);
	tb_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checkpoint_name),
		cmocka_unit_test(test_peer_cert),
		cmocka_unit_test(test_witnessed),
		cmocka_unit_test(test_proof_form),
		cmocka_unit_test(test_proof_checkpoint),
		cmocka_unit_test(test_split_log),
		cmocka_unit_test(test_split_witness),
		cmocka_unit_test(test_no_state),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
