/* mla_audit_verify on a log whose audit key changed (SPEC 14 "Audit key changes", SPEC 15
 * format 3): entries 0..5 with audit-key-changed at seq 2 naming key 2's certificate;
 * checkpoints 2 and 3 signed by key 1 (3 covers the change), 5 and 6 by key 2; certificates
 * `audit` (key 1) and `audit.2`. Each test alters one thing; and certificates are judged at
 * the times the log records, not at the audit's. */
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
#include <openssl/sha.h>

#include "audit_testbundle.h"
#include "audit_testverify.h"
#include "mlagw/audit.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"

#define DAY 86400

static struct tv_trust tt;
static struct tb_state es;	 /* key 1: valid from a day ago for 30 days */
static struct tb_state es2, old, old2; /* key 2 (valid now); keys expired 30 and 10 days ago */
static time_t now;

/* Another audit key of ES, issued by its root, valid [from, to]. */
static void other_key(struct tb_state *s, time_t from, time_t to)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(mla_strcpy(s->state, sizeof(s->state), "ES"), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_ED25519, 0, &s->audit_key, NULL), MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_AUDIT, "ES", "test audit 2", s->audit_key, es.root,
				       es.root_key, from, to, NULL, &s->audit_cert, NULL), MLA_OK);
	assert_int_equal(mla_privkey_from_evp(s->audit_key, &s->audit_priv, NULL), MLA_OK);
}

static int setup(void **state)
{
	const struct tb_state *roots[] = {&es};

	(void)state;
	now = time(NULL);
	tv_trust_dir(&tt);
	assert_int_equal(tb_state_make("ES", tt.dir, &es), 0);
	/* a root valid for a year back, as a State's root is, so old entries can be judged */
	X509_free(es.root);
	X509_free(es.audit_cert);
	assert_int_equal(mla_pki_issue(MLA_ROLE_ROOT, "ES", "test root", es.root_key, NULL, NULL,
				       now - 365 * DAY, now + 365 * DAY, NULL, &es.root, NULL),
			 MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_AUDIT, "ES", "test audit", es.audit_key, es.root,
				       es.root_key, now - DAY, now + 30 * DAY, NULL, &es.audit_cert,
				       NULL), MLA_OK);
	other_key(&es2, now - DAY, now + 30 * DAY);
	other_key(&old, now - 90 * DAY, now - 30 * DAY);
	other_key(&old2, now - 60 * DAY, now - 10 * DAY);
	tv_trust_load(&tt, roots, 1); /* the new root over the one tb_state_make wrote */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tv_trust_close(&tt);
	tb_state_free(&es);
	tb_state_free(&es2);
	tb_state_free(&old);
	tb_state_free(&old2);
	return 0;
}

static void cert_sha(X509 *c, uint8_t sha[32])
{
	unsigned char *der = NULL;
	int n = i2d_X509(c, &der);

	assert_true(n > 0);
	SHA256(der, (size_t)n, sha);
	OPENSSL_free(der);
}

/* Re-signs checkpoint record size of b with s's key (same origin, size and root). */
static void resign(struct tb_bundle *b, const struct tb_state *from, const struct tb_state *s,
		   uint64_t size)
{
	char name[24], *note = NULL;
	struct tb_rec *r;
	mla_note_verifier v;
	mla_checkpoint cp;
	size_t len = 0;

	assert_int_equal(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)size),
			 MLA_OK);
	assert_non_null(r = tb_find(b, MLA_BUNDLE_CHECKPOINT, name));
	assert_int_equal(mla_note_verifier_from_key("mlagw.es/audit", X509_get0_pubkey(
								      from->audit_cert), &v, NULL),
			 MLA_OK);
	assert_int_equal(mla_checkpoint_open((const char *)r->data.data, r->data.len, &v, 1, &cp,
					     NULL, NULL), MLA_OK);
	assert_int_equal(mla_checkpoint_sign(&cp, cp.origin, s->audit_priv, &note, &len, NULL),
			 MLA_OK);
	assert_int_equal(tb_set(b, MLA_BUNDLE_CHECKPOINT, name, note, len), 0);
	free(note);
}

/* What a test changes of the good bundle. */
struct variant {
	const struct tb_state *first; /* key 1 (default es) */
	const struct tb_state *second; /* key 2 (default es2) */
	int64_t t0;		      /* the entries' first time (default now) */
	int wrong_sha;		      /* the change names another certificate */
	int no_later_cert;	      /* audit.2 left out */
	const struct tb_state *k3, *k5; /* the signers of checkpoints 3 and 5 (default 1 and 2) */
};

static mla_audit_result *verify_variant(const struct variant *x, struct tb_bundle *b)
{
	const struct tb_bundle *bs[] = {b};
	const struct tb_state *k1 = x->first != NULL ? x->first : &es;
	const struct tb_state *k2 = x->second != NULL ? x->second : &es2;
	int64_t t0 = x->t0 != 0 ? x->t0 : (int64_t)now * 1000;
	uint64_t cps[] = {2, 3, 5, 6};
	mla_audit_entry e[6];

	for (size_t i = 0; i < 6; i++)
		tb_entry(&e[i], i, t0 + (int64_t)i * 1000, MLA_AUDIT_CONFIG_RELOADED, NULL, NULL, NULL,
			 NULL, NULL);
	e[2].event = MLA_AUDIT_AUDIT_KEY_CHANGED;
	e[2].has_audit_cert_sha256 = 1;
	cert_sha(k2->audit_cert, e[2].audit_cert_sha256);
	if (x->wrong_sha)
		e[2].audit_cert_sha256[0] ^= 1;
	assert_int_equal(tb_build(b, k1, e, 6, cps, 4, NULL), 0);
	b->format = 3;
	if (!x->no_later_cert)
		assert_int_equal(tb_add_cert(b, "audit.2", k2->audit_cert), 0);
	resign(b, k1, x->k5 != NULL ? x->k5 : k2, 5);
	resign(b, k1, k2, 6);
	if (x->k3 != NULL)
		resign(b, k1, x->k3, 3);
	assert_int_equal(tb_manifest(b, "ES", NULL), 0);
	return tv_verify(tt.trust, bs, 1);
}

static void expect(const struct variant *x, mla_audit_refusal why, mla_audit_check fam,
		   mla_bundle_type t, const char *rec)
{
	struct tb_bundle b;
	mla_audit_result *r = verify_variant(x, &b);

	tv_expect(r, 0, why, fam, t, rec);
	mla_audit_result_free(r);
	tb_free(&b);
}

static void test_good(void **state)
{
	struct variant x = {0};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	if (r->failures != 0)
		fail_msg("good bundle: %s", r->bundles[0].failures[0].message);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_CHECKPOINTS], 4);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_CERTIFICATE], 2);
	mla_audit_result_free(r);
	tb_free(&b);
}

/* After the covering checkpoint, the old key no longer signs. */
static void test_old_key_after_change(void **state)
{
	struct variant x = {.k5 = &es};

	(void)state;
	expect(&x, MLA_AUDIT_R_KEY_CHANGE, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_CHECKPOINT, "5");
}

/* The checkpoint covering the change must be signed by the key it replaces. */
static void test_new_key_too_early(void **state)
{
	struct variant x = {.k3 = &es2};

	(void)state;
	expect(&x, MLA_AUDIT_R_KEY_CHANGE, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_CHECKPOINT, "3");
}

static void test_change_names_other_cert(void **state)
{
	struct variant x = {.wrong_sha = 1};

	(void)state;
	expect(&x, MLA_AUDIT_R_KEY_CHANGE, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_ENTRY, "2");
}

/* Without audit.2 the later checkpoints verify under no key of the bundle. */
static void test_later_cert_missing(void **state)
{
	struct variant x = {.no_later_cert = 1};

	(void)state;
	expect(&x, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_AUDIT_CHECK_CHECKPOINTS, MLA_BUNDLE_CHECKPOINT,
	       "5");
}

/* Both keys' certificates have expired (30 and 10 days ago) but were valid when their keys
 * signed (40 days ago): the archived log still verifies; a log dated after key 1's expiry
 * does not. */
static void test_judged_at_time_of_record(void **state)
{
	struct variant x = {.first = &old, .second = &old2,
			    .t0 = ((int64_t)now - 40 * DAY) * 1000};
	struct tb_bundle b;
	mla_audit_result *r;

	(void)state;
	r = verify_variant(&x, &b);
	if (r->failures != 0)
		fail_msg("archived bundle: %s", r->bundles[0].failures[0].message);
	mla_audit_result_free(r);
	tb_free(&b);
	x.t0 = ((int64_t)now - 20 * DAY) * 1000;
	expect(&x, MLA_AUDIT_R_CERT_CHAIN, MLA_AUDIT_CHECK_CERTIFICATE, MLA_BUNDLE_CERTIFICATE,
	       "audit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_old_key_after_change),
		cmocka_unit_test(test_new_key_too_early),
		cmocka_unit_test(test_change_names_other_cert),
		cmocka_unit_test(test_later_cert_missing),
		cmocka_unit_test(test_judged_at_time_of_record),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
