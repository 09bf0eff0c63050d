/* cmocka helpers over mla_audit_verify for the tests of test_audit_verify_*.c: verify test
 * bundles (audit_testbundle.h) with a trust set, and find a failure of one refusal class in
 * a bundle's structured result. */
#ifndef MLAGW_TESTS_AUDIT_TESTVERIFY_H
#define MLAGW_TESTS_AUDIT_TESTVERIFY_H

#include "audit_testbundle.h"
#include "mlagw/audit.h"

/* The n bundles written and verified together (names "b0.mab", "b1.mab", ...); the checks ran
 * (MLA_OK) and the result holds n bundles. */
mla_audit_result *tv_verify(const mla_audit_trust *trust, const struct tb_bundle *const *b,
			    size_t n);
/* Bundle i's first failure of class why; it must be of family check and name record t/rec. */
const mla_audit_failure *tv_expect(const mla_audit_result *r, size_t i, mla_audit_refusal why,
				   mla_audit_check check, mla_bundle_type t, const char *rec);
/* Bundle i's failures of class why. */
size_t tv_count(const mla_audit_result *r, size_t i, mla_audit_refusal why);
/* Replaces record t/name's bytes with those of record from of bundle src. */
void tv_copy(struct tb_bundle *b, mla_bundle_type t, const char *name, struct tb_bundle *src,
	     mla_bundle_type from_t, const char *from);

#endif
