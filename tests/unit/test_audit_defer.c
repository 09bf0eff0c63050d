/* The audit verifier's deferred failures (protocol/audit/verify.c, vdefer_*; SPEC 15
 * "Verifier memory"): failures found out of the steps' order are listed in it, after those
 * found before, with the list's cap of MLA_AUDIT_FAILURES_LISTED keeping the first ones by
 * place and counting every one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verify_internal.h"

/* n failures listed the ordinary way (not deferred), numbered "pre <i>". */
static void listed(struct vctx *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vfail(v, F_BUNDLE, MLA_AUDIT_R_MANIFEST, MLA_BUNDLE_TYPE_N, "", "pre %zu", i);
}

/* A deferred failure at place (phase, a, b), its message naming the place and k, its number
 * among those at that place. */
static void at(struct vctx *v, unsigned phase, uint64_t a, uint64_t b, unsigned k)
{
	vdefer_at(v, phase, a, b, 0);
	for (unsigned i = 0; i <= k; i++)
		vfail(v, F_ENVELOPES, MLA_AUDIT_R_DIGEST, MLA_BUNDLE_ENVELOPE, "x",
		      "p%u a%llu b%llu #%u", phase, (unsigned long long)a, (unsigned long long)b, i);
}

static void test_sorted_after_listed(void **state)
{
	struct vctx v;

	(void)state;
	audit_vctx_init(&v, NULL, NULL, NULL);
	listed(&v, 2);
	vdefer_begin(&v);
	at(&v, 3, 1, 0, 0);
	at(&v, 1, 9, 0, 2); /* three failures at one place: in the order found */
	at(&v, 1, 2, 5, 0);
	at(&v, 1, 2, 4, 0);
	assert_int_equal(v.nfailures, 2); /* deferred: not listed yet */
	assert_int_equal(vdefer_end(&v), 0);
	assert_int_equal(v.nfailures, 8);
	assert_string_equal(v.failures[0].message, "pre 0");
	assert_string_equal(v.failures[1].message, "pre 1");
	assert_string_equal(v.failures[2].message, "p1 a2 b4 #0");
	assert_string_equal(v.failures[3].message, "p1 a2 b5 #0");
	assert_string_equal(v.failures[4].message, "p1 a9 b0 #0");
	assert_string_equal(v.failures[5].message, "p1 a9 b0 #1");
	assert_string_equal(v.failures[6].message, "p1 a9 b0 #2");
	assert_string_equal(v.failures[7].message, "p3 a1 b0 #0");
	assert_int_equal(v.fam[F_ENVELOPES].failed, 6);
	assert_int_equal(v.unlisted, 0);
	listed(&v, 1); /* after the deferral: listed at once again */
	assert_string_equal(v.failures[8].message, "pre 0");
	audit_vctx_free(&v);
}

/* More failures than the list has room for, found last-first: the first ones by place are
 * kept, in order, the others counted. */
static void test_capped(void **state)
{
	struct vctx v;
	char want[64];
	const size_t before = MLA_AUDIT_FAILURES_LISTED - 10, n = 100;

	(void)state;
	audit_vctx_init(&v, NULL, NULL, NULL);
	listed(&v, before);
	vdefer_begin(&v);
	for (size_t i = n; i > 0; i--)
		at(&v, 2, i - 1, 0, 0);
	assert_int_equal(vdefer_end(&v), 0);
	assert_int_equal(v.nfailures, MLA_AUDIT_FAILURES_LISTED);
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(snprintf(want, sizeof(want), "p2 a%zu b0 #0", i) > 0, 1);
		assert_string_equal(v.failures[before + i].message, want);
	}
	assert_int_equal(v.unlisted, n - 10);
	assert_int_equal(v.fam[F_ENVELOPES].failed, n);
	audit_vctx_free(&v);
}

/* No room left at all: every deferred failure is counted, none listed. */
static void test_no_room(void **state)
{
	struct vctx v;

	(void)state;
	audit_vctx_init(&v, NULL, NULL, NULL);
	listed(&v, MLA_AUDIT_FAILURES_LISTED + 3);
	assert_int_equal(v.unlisted, 3);
	vdefer_begin(&v);
	at(&v, 1, 1, 1, 4);
	assert_int_equal(vdefer_end(&v), 0);
	assert_int_equal(v.nfailures, MLA_AUDIT_FAILURES_LISTED);
	assert_int_equal(v.unlisted, 8);
	assert_int_equal(v.fam[F_ENVELOPES].failed, 5);
	audit_vctx_free(&v);
}

/* Stopped while deferring (the temporary file failed): what was deferred is freed. */
static void test_stopped(void **state)
{
	struct vctx v;

	(void)state;
	audit_vctx_init(&v, NULL, NULL, NULL);
	vdefer_begin(&v);
	at(&v, 1, 1, 1, 3);
	audit_vctx_free(&v); /* ASan's leak check: nothing left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_after_listed),
		cmocka_unit_test(test_capped),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_stopped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
