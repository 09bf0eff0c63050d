/* Unit tests of the audit tree's persisted hashes (gateway/store/store_tree.c): after every
 * append each complete subtree's hash is the one computed from the leaves and roots and
 * proofs read through them are merkle.c's; a group rolled back (and one cut by a close, as a
 * crash) leaves none of its hashes; an upgrade from schema 6 computes them; the start's scan
 * finds a changed, missing or extra hash, and a changed leaf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/merkle_nodes.h"
#include "store/store_fault.h"
#include "store_fx.h"

#define N 300

static uint8_t leaves[N + 64][32];

static void make_leaves(void)
{
	for (unsigned i = 0; i < N + 64; i++) {
		char e[16];
		int n = snprintf(e, sizeof(e), "e%u", i);
		assert_int_equal(mla_merkle_leaf_hash(e, (size_t)n, leaves[i]), MLA_OK);
	}
}

static void append(gw_store *s, uint64_t seq)
{
	char e[16];
	int n = snprintf(e, sizeof(e), "e%llu", (unsigned long long)seq);

	assert_int_equal(store_audit_append(s, seq, (const uint8_t *)e, (size_t)n, leaves[seq],
					    NULL), MLA_OK);
}

static mla_err node(unsigned level, uint64_t idx, uint8_t out[32], void *arg)
{
	return store_tree_node(arg, level, idx, out, NULL);
}

/* Every complete subtree of the first n leaves is stored and right, none beyond; roots and
 * proofs through the store are those over the leaves. */
static void tree_is(gw_store *s, uint64_t n)
{
	uint8_t want[32], got[32];
	mla_merkle_proof p, q;

	for (unsigned k = 0; k < 10; k++) {
		uint64_t idx = 0;
		for (; ((idx + 1) << k) <= n; idx++) {
			assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves[idx << k]),
							 (size_t)1 << k, want), MLA_OK);
			assert_int_equal(store_tree_node(s, k, idx, got, NULL), MLA_OK);
			assert_memory_equal(want, got, 32);
		}
		assert_int_equal(store_tree_node(s, k, idx, got, NULL), MLA_ERR_NOT_FOUND);
	}
	assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves), n, want), MLA_OK);
	assert_int_equal(mla_merkle_nodes_root(node, s, n, got), MLA_OK);
	assert_memory_equal(want, got, 32);
	if (n > 1) {
		assert_int_equal(mla_merkle_consistency_proof(MLA_MERKLE_LEAVES(leaves), n, n / 3,
							      &p), MLA_OK);
		assert_int_equal(mla_merkle_nodes_consistency_proof(node, s, n / 3, n, &q), MLA_OK);
		assert_int_equal(p.len, q.len);
		assert_memory_equal(p.hash, q.hash, p.len * 32);
	}
}

static mla_err entry_ok(uint64_t seq, const uint8_t leaf[32], const void *entry, size_t len,
			void *arg)
{
	(void)entry;
	(void)len;
	(void)arg;
	return memcmp(leaf, leaves[seq], 32) == 0 ? MLA_OK : MLA_ERR_STORE;
}

static void check_ok(gw_store *s, uint64_t n)
{
	mla_merkle_compact edge;
	mla_diag d = {MLA_OK, ""};
	uint8_t want[32], got[32];

	assert_int_equal(store_tree_check(s, entry_ok, NULL, &edge, &d), MLA_OK);
	assert_int_equal(edge.size, n);
	assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves), n, want), MLA_OK);
	assert_int_equal(mla_merkle_compact_root(&edge, got), MLA_OK);
	assert_memory_equal(want, got, 32);
}

static void test_appends(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);

	make_leaves();
	tree_is(s, 0);
	for (uint64_t i = 0; i < N; i++) {
		append(s, i);
		if (i < 70 || i % 37 == 0)
			tree_is(s, i + 1);
	}
	tree_is(s, N);
	check_ok(s, N);
	store_close(s);
}

static void test_rolled_back_group(void **state)
{
	struct fx *f = *state;
	gw_store *s = open_ok(f);

	make_leaves();
	for (uint64_t i = 0; i < 13; i++)
		append(s, i);
	assert_int_equal(store_begin(s, NULL), MLA_OK);
	for (uint64_t i = 13; i < 40; i++)
		append(s, i);
	tree_is(s, 40); /* the open group sees its own hashes */
	assert_int_equal(store_rollback(s), MLA_OK);
	tree_is(s, 13);
	check_ok(s, 13);
	/* a group cut by a close (as a crash would): nothing of it stays */
	assert_int_equal(store_begin(s, NULL), MLA_OK);
	for (uint64_t i = 13; i < 64; i++)
		append(s, i);
	store_close(s);
	s = open_ok(f);
	tree_is(s, 13);
	for (uint64_t i = 13; i < 64; i++)
		append(s, i);
	tree_is(s, 64);
	check_ok(s, 64);
	store_close(s);
}

static void test_upgrade_from_6(void **state)
{
	struct fx *f = *state;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = open_ok(f);

	make_leaves();
	for (uint64_t i = 0; i < 201; i++)
		append(s, i);
	store_close(s);
	assert_int_equal(store_fault_make_v6(f->path, &d), MLA_OK);
	assert_int_equal(schema_version(f->path), 6);
	s = open_ok(f); /* upgrades: the hashes from the stored leaves */
	assert_int_equal(schema_version(f->path), STORE_SCHEMA_VERSION);
	tree_is(s, 201);
	check_ok(s, 201);
	append(s, 201);
	tree_is(s, 202);
	store_close(s);
}

static void check_refused(const struct fx *f, const char *want)
{
	mla_merkle_compact edge;
	mla_diag d = {MLA_OK, ""};
	gw_store *s = open_ok(f);

	assert_int_equal(store_tree_check(s, entry_ok, NULL, &edge, &d), MLA_ERR_STORE);
	if (want != NULL && strstr(d.msg, want) == NULL)
		fail_msg("got \"%s\", want \"%s\"", d.msg, want);
	store_close(s);
}

static void test_damage_found(void **state)
{
	struct fx *f = *state;
	mla_diag d = {MLA_OK, ""};
	uint8_t bad[32] = {1};
	gw_store *s = open_ok(f);

	make_leaves();
	for (uint64_t i = 0; i < 64; i++)
		append(s, i);
	store_close(s);
	/* a changed hash (entries 32..47, level 4) */
	assert_int_equal(store_fault_set_tree_hash(f->path, 47, 4, bad, &d), MLA_OK);
	check_refused(f, "audit tree hash at level 4 index 2 (entries 32..47)");
	assert_int_equal(store_fault_set_tree_hash(f->path, 47, 4, NULL, &d), MLA_OK);
	check_refused(f, "level 4 index 2");
	/* a store whose hashes are all right again, then a changed leaf: the entry's check */
	assert_int_equal(store_fault_make_v6(f->path, &d), MLA_OK);
	s = open_ok(f);
	check_ok(s, 64);
	store_close(s);
	assert_int_equal(store_fault_set_entry(f->path, 5, (const uint8_t *)"x", 1, bad, &d),
			 MLA_OK);
	check_refused(f, NULL);
	/* a hash beyond the log: the entries deleted from the end */
	assert_int_equal(store_fault_set_entry(f->path, 5, (const uint8_t *)"e5", 2, leaves[5],
					       &d), MLA_OK);
	assert_int_equal(store_fault_delete_entry(f->path, 63, &d), MLA_OK);
	check_refused(f, "beyond the log's 63 entries");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rolled_back_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_found, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
