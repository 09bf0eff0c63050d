/* cmocka helpers over mla_audit_verify (see audit_testverify.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "audit_testverify.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"

#define TV_MAX 4

/* The heads the last tv_verify was handed (mla_audit_verify_heads). */
#define TV_HEADS_MAX 64
static struct {
	mla_audit_head h[TV_HEADS_MAX];
	size_t bundle[TV_HEADS_MAX];
	size_t n;
} heads;

static mla_err collect_head(void *arg, size_t bundle, const mla_audit_head *h)
{
	(void)arg;
	assert_true(heads.n < TV_HEADS_MAX);
	heads.h[heads.n] = *h;
	heads.bundle[heads.n++] = bundle;
	return MLA_OK;
}

const mla_audit_head *tv_head(size_t bundle, size_t i)
{
	for (size_t k = 0; k < heads.n; k++)
		if (heads.bundle[k] == bundle && i-- == 0)
			return &heads.h[k];
	fail_msg("bundle %zu has no head %zu", bundle, i);
	return NULL;
}

mla_audit_result *tv_verify(const mla_audit_trust *trust, const struct tb_bundle *const *b,
			    size_t n)
{
	mla_buf d[TV_MAX];
	mla_audit_input in[TV_MAX];
	char names[TV_MAX][16];
	mla_audit_result *r = NULL;

	assert_true(n > 0 && n <= TV_MAX);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tb_write(b[i], &d[i]), 0);
		assert_int_equal(mla_snprintf(names[i], sizeof(names[i]), "b%zu.mab", i), MLA_OK);
		in[i] = (mla_audit_input){names[i], d[i].data, d[i].len, NULL};
	}
	heads.n = 0;
	assert_int_equal(mla_audit_verify_heads(in, n, trust, collect_head, NULL, &r, NULL), MLA_OK);
	for (size_t i = 0; i < n; i++)
		mla_buf_free(&d[i]);
	assert_non_null(r);
	assert_int_equal(r->nbundles, n);
	for (size_t i = 0, k = 0; i < n; i++, k = 0) { /* each bundle's count is what it handed */
		for (size_t j = 0; j < heads.n; j++)
			k += heads.bundle[j] == i;
		assert_int_equal(r->bundles[i].nheads, k);
	}
	return r;
}

const mla_audit_failure *tv_expect(const mla_audit_result *r, size_t i, mla_audit_refusal why,
				   mla_audit_check check, mla_bundle_type t, const char *rec)
{
	const mla_audit_bundle_result *b = &r->bundles[i];

	assert_true(r->failures > 0);
	for (size_t k = 0; k < b->nfailures; k++)
		if (b->failures[k].refusal == why) {
			assert_int_equal(b->failures[k].check, check);
			assert_int_equal(b->failures[k].record_type, t);
			assert_string_equal(b->failures[k].record, rec);
			assert_non_null(b->failures[k].message);
			assert_true(b->failed[check] > 0);
			return &b->failures[k];
		}
	fail_msg("bundle %zu: no failure of class %s", i, mla_audit_refusal_name(why));
	return NULL;
}

size_t tv_count(const mla_audit_result *r, size_t i, mla_audit_refusal why)
{
	size_t n = 0;

	for (size_t k = 0; k < r->bundles[i].nfailures; k++)
		n += r->bundles[i].failures[k].refusal == why;
	return n;
}

void tv_copy(struct tb_bundle *b, mla_bundle_type t, const char *name, struct tb_bundle *src,
	     mla_bundle_type from_t, const char *from)
{
	struct tb_rec *r = tb_find(src, from_t, from);

	assert_non_null(r);
	assert_int_equal(tb_set(b, t, name, r->data.data, r->data.len), 0);
}

void tv_trust_dir(struct tv_trust *t)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(mla_strcpy(t->dir, sizeof(t->dir), "/tmp/mlagw-tv-XXXXXX"), MLA_OK);
	assert_non_null(mkdtemp(t->dir));
}

void tv_trust_load(struct tv_trust *t, const struct tb_state *const *states, size_t n)
{
	char p[128];

	assert_true(n <= TV_TRUST_MAX);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(mla_snprintf(p, sizeof(p), "%s/%s.crt", t->dir, states[i]->state),
				 MLA_OK);
		assert_int_equal(mla_pem_write_cert(p, states[i]->root, 1, NULL), MLA_OK);
		memcpy(t->states[t->n++], states[i]->state, 3);
	}
	assert_int_equal(mla_audit_trust_load(t->dir, &t->trust, NULL), MLA_OK);
}

void tv_trust_close(struct tv_trust *t)
{
	char p[128];

	mla_audit_trust_free(t->trust);
	for (size_t i = 0; i < t->n; i++)
		if (mla_snprintf(p, sizeof(p), "%s/%s.crt", t->dir, t->states[i]) == MLA_OK)
			(void)unlink(p);
	(void)rmdir(t->dir);
	memset(t, 0, sizeof(*t));
}

int tv_trust_es(struct tv_trust *t, struct tb_state *es)
{
	const struct tb_state *roots[] = {es};

	tv_trust_dir(t);
	if (tb_state_make("ES", t->dir, es) != 0)
		return -1;
	tv_trust_load(t, roots, 1);
	return 0;
}

void tv_trust_es_end(struct tv_trust *t, struct tb_state *es)
{
	tv_trust_close(t);
	tb_state_free(es);
}

void tv_trust_pki(struct tv_trust *t, const char *pki_dir, struct tb_state *es,
		  struct tb_state *co)
{
	const struct tb_state *roots[] = {es, co};

	tv_trust_dir(t);
	assert_int_equal(tb_state_load("ES", pki_dir, es), 0);
	assert_int_equal(tb_state_load("CO", pki_dir, co), 0);
	tv_trust_load(t, roots, 2);
}

void tv_receipt(const char *id, const uint8_t digest[32], const char *receiver,
		mla_outcome outcome, mla_err error, const mla_signer *signer,
		const mla_limits *limits, mla_buf *out, uint8_t sha[32])
{
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_receipt_init(&r), MLA_OK);
	assert_int_equal(mla_strcpy(r.message_id, sizeof(r.message_id), id), MLA_OK);
	memcpy(r.envelope_digest, digest, 32);
	assert_int_equal(mla_strcpy(r.receiver_state, sizeof(r.receiver_state), receiver),
			 MLA_OK);
	assert_int_equal(mla_strcpy(r.sender_state, sizeof(r.sender_state), "ES"), MLA_OK);
	r.outcome = outcome;
	if (outcome == MLA_OUTCOME_REJECTED) {
		r.error = error;
		assert_int_equal(mla_strcpy(r.error_message, sizeof(r.error_message),
					    mla_strerror(error)), MLA_OK);
	}
	if (mla_receipt_seal(&r, signer, limits, out, &d) != MLA_OK)
		fail_msg("receipt seal: %s", d.msg);
	SHA256(out->data, out->len, sha);
}

void tv_sha_name(const uint8_t *p, size_t n, char hex[65])
{
	uint8_t sha[32];

	SHA256(p, n, sha);
	assert_int_equal(mla_hex_encode(sha, 32, hex, 65), MLA_OK);
}

mla_audit_result *tv_verify_revoc(const mla_audit_trust *trust, const struct tb_state *st,
				  mla_bundle_type type, const uint8_t *const *docs,
				  const size_t *len, const char *const *names, size_t n)
{
	const struct tb_bundle *bp[1];
	static struct tb_bundle b;
	mla_audit_entry e[3];
	const uint64_t cps[] = {3};
	int64_t t = (int64_t)time(NULL) * 1000 - 60000;
	mla_audit_result *r;

	for (uint64_t i = 0; i < 3; i++)
		tb_entry(&e[i], i, t - 2000 + (int64_t)i * 1000, MLA_AUDIT_CONFIG_RELOADED, NULL,
			 NULL, NULL, NULL, NULL);
	memset(&b, 0, sizeof(b));
	assert_int_equal(tb_build(&b, st, e, 3, cps, 1, NULL), 0);
	b.format = n > 0 ? 6 : 2;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tb_set(&b, type, names[i], docs[i], len[i]), 0);
	assert_int_equal(tb_manifest(&b, st->state, NULL), 0);
	bp[0] = &b;
	r = tv_verify(trust, bp, 1);
	tb_free(&b);
	return r;
}

void tv_expect_audit_revoked(const mla_audit_result *r)
{
	const mla_audit_failure *f = tv_expect(r, 0, MLA_AUDIT_R_REVOKED,
					       MLA_AUDIT_CHECK_REVOCATION, MLA_BUNDLE_CERTIFICATE,
					       "audit");

	assert_non_null(strstr(f->message, "serial "));
	assert_non_null(strstr(f->message, "revoked at "));
	assert_non_null(strstr(f->message, "entry 2"));
	assert_int_equal(r->failures, 1);
	assert_int_equal(r->bundles[0].ok[MLA_AUDIT_CHECK_REVOCATION], 1);
}
