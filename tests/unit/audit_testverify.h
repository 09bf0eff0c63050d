/* cmocka helpers over mla_audit_verify for the tests of test_audit_verify_*.c: verify test
 * bundles (audit_testbundle.h) with a trust set, and find a failure of one refusal class in
 * a bundle's structured result. */
#ifndef MLAGW_TESTS_AUDIT_TESTVERIFY_H
#define MLAGW_TESTS_AUDIT_TESTVERIFY_H

#include "audit_testbundle.h"
#include "mlagw/audit.h"
#include "mlagw/receipt.h"

/* The n bundles written and verified together (names "b0.mab", "b1.mab", ...); the checks ran
 * (MLA_OK) and the result holds n bundles. */
mla_audit_result *tv_verify(const mla_audit_trust *trust, const struct tb_bundle *const *b,
			    size_t n);
/* Head i of bundle of the last tv_verify, in the order verification handed them out. */
const mla_audit_head *tv_head(size_t bundle, size_t i);
/* Bundle i's first failure of class why; it must be of family check and name record t/rec. */
const mla_audit_failure *tv_expect(const mla_audit_result *r, size_t i, mla_audit_refusal why,
				   mla_audit_check check, mla_bundle_type t, const char *rec);
/* Bundle i's failures of class why. */
size_t tv_count(const mla_audit_result *r, size_t i, mla_audit_refusal why);
/* Replaces record t/name's bytes with those of record from of bundle src. */
void tv_copy(struct tb_bundle *b, mla_bundle_type t, const char *name, struct tb_bundle *src,
	     mla_bundle_type from_t, const char *from);

/* The 64 lower-case hex digits of the SHA-256 of p: a crl or ocsp record's name. */
void tv_sha_name(const uint8_t *p, size_t n, char hex[65]);
/* A format 6 log of st of three entries, its last a minute ago, holding n records of type
 * (crl or ocsp: docs, lens, names, in ascending name), verified with trust (format 2 when n
 * is 0). */
mla_audit_result *tv_verify_revoc(const mla_audit_trust *trust, const struct tb_state *st,
				  mla_bundle_type type, const uint8_t *const *docs,
				  const size_t *len, const char *const *names, size_t n);

/* r (tv_verify_revoc's) fails only for the audit key revoked before the last entry its
 * checkpoint covers (`revoked`, naming serial, revocation time and entry 2), with one
 * verified record of revocation evidence. */
void tv_expect_audit_revoked(const mla_audit_result *r);

/* A temporary trust directory for mla_audit_verify: made by tv_trust_dir (tb_state_make may
 * write into it), then the roots of states written there (again) and the trust set loaded
 * by tv_trust_load; tv_trust_close frees it and removes what was written. */
#define TV_TRUST_MAX 4
struct tv_trust {
	char dir[64];
	mla_audit_trust *trust;
	char states[TV_TRUST_MAX][3];
	size_t n;
};
void tv_trust_dir(struct tv_trust *t);
void tv_trust_load(struct tv_trust *t, const struct tb_state *const *states, size_t n);
void tv_trust_close(struct tv_trust *t);
/* The set-up most verify tests share: tv_trust_dir, one State ES made there (tb_state_make)
 * and its root trusted; 0, or -1 if ES could not be made. tv_trust_es_end undoes both. */
int tv_trust_es(struct tv_trust *t, struct tb_state *es);
void tv_trust_es_end(struct tv_trust *t, struct tb_state *es);
/* tv_trust_dir, then ES and CO loaded from the `mlagw pki init` PKI in pki_dir (the unit test
 * fixture's) and their roots trusted. */
void tv_trust_pki(struct tv_trust *t, const char *pki_dir, struct tb_state *es,
		  struct tb_state *co);

/* A receipt of id over digest by receiver (sender ES), signed by signer: accepted, or
 * refused with error; its bytes into out (initialised here) and their SHA-256 into sha. */
void tv_receipt(const char *id, const uint8_t digest[32], const char *receiver,
		mla_outcome outcome, mla_err error, const mla_signer *signer,
		const mla_limits *limits, mla_buf *out, uint8_t sha[32]);

#endif
