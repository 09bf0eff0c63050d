/* Unit tests of roots and proofs from stored complete-subtree roots (protocol/tlog/
 * merkle_nodes.c) against the in-memory results of merkle.c (its tree of all subtrees; the
 * roots also against mla_merkle_root straight over the leaves): every root,
 * every inclusion proof and every consistency proof of every size 1..300, random pairs up to
 * 5000 leaves, the compact range of each size, and a node that is not there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mlagw/merkle_nodes.h"

#define HLEN MLA_MERKLE_HASH_LEN
#define SMALL 300
#define LARGE 5000
#define LEVELS 14 /* 2^13 > LARGE */

/* Every complete subtree root of LARGE leaves, level by level, as the store keeps them; the
 * getter refuses any node beyond the size a call may read (set in limit). */
struct nodes {
	uint8_t (*lv[LEVELS])[HLEN];
	uint64_t n[LEVELS];
	uint64_t limit;
	uint64_t reads;
};

static struct nodes nodes;
static mla_merkle_tree *tree; /* merkle.c's in-memory tree of the same leaves: the reference */

static uint64_t rnd_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static mla_err get(unsigned level, uint64_t idx, uint8_t out[HLEN], void *arg)
{
	struct nodes *t = arg;

	if (level >= LEVELS || idx >= t->n[level] || ((idx + 1) << level) > t->limit)
		return MLA_ERR_NOT_FOUND;
	t->reads++;
	memcpy(out, t->lv[level][idx], HLEN);
	return MLA_OK;
}

static int setup(void **state)
{
	(void)state;
	for (unsigned k = 0; k < LEVELS; k++) {
		nodes.n[k] = LARGE >> k;
		if ((nodes.lv[k] = calloc(nodes.n[k] + 1, HLEN)) == NULL)
			return -1;
	}
	for (uint64_t i = 0; i < LARGE; i++) {
		uint64_t v = rnd();
		if (mla_merkle_leaf_hash(&v, sizeof(v), nodes.lv[0][i]) != MLA_OK)
			return -1;
	}
	if (mla_merkle_tree_new(LARGE, &tree) != MLA_OK)
		return -1;
	for (uint64_t i = 0; i < LARGE; i++)
		if (mla_merkle_tree_append(tree, nodes.lv[0][i]) != MLA_OK)
			return -1;
	for (unsigned k = 1; k < LEVELS; k++)
		for (uint64_t i = 0; i < nodes.n[k]; i++)
			if (mla_merkle_node_hash(nodes.lv[k - 1][2 * i], nodes.lv[k - 1][2 * i + 1],
						 nodes.lv[k][i]) != MLA_OK)
				return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	mla_merkle_tree_free(tree);
	for (unsigned k = 0; k < LEVELS; k++)
		free(nodes.lv[k]);
	return 0;
}

#define LEAVES MLA_MERKLE_LEAVES(nodes.lv[0])

static void check_root(uint64_t n)
{
	uint8_t want[HLEN], got[HLEN];
	mla_merkle_compact c, d;

	nodes.limit = n;
	assert_int_equal(mla_merkle_root(LEAVES, n, want), MLA_OK);
	assert_int_equal(mla_merkle_nodes_root(get, &nodes, n, got), MLA_OK);
	assert_memory_equal(want, got, HLEN);
	/* the right edge: as appending every leaf makes it, and the same root */
	assert_int_equal(mla_merkle_nodes_compact(get, &nodes, n, &c), MLA_OK);
	mla_merkle_compact_init(&d);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(mla_merkle_compact_append(&d, nodes.lv[0][i]), MLA_OK);
	assert_int_equal(c.size, n);
	for (unsigned k = 0; k < 64; k++) /* appending leaves old hashes in the clear bits */
		if (((n >> k) & 1) != 0)
			assert_memory_equal(c.hash[k], d.hash[k], HLEN);
	assert_int_equal(mla_merkle_compact_root(&c, got), MLA_OK);
	assert_memory_equal(want, got, HLEN);
}

static void check_inclusion(uint64_t idx, uint64_t n)
{
	mla_merkle_proof want, got;
	uint8_t root[HLEN];

	nodes.limit = n;
	assert_int_equal(mla_merkle_tree_inclusion_proof(tree, idx, n, &want), MLA_OK);
	assert_int_equal(mla_merkle_nodes_inclusion_proof(get, &nodes, idx, n, &got), MLA_OK);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.hash, want.hash, want.len * HLEN);
	assert_int_equal(mla_merkle_tree_root(tree, n, root), MLA_OK);
	assert_int_equal(mla_merkle_inclusion_verify(idx, n, nodes.lv[0][idx], &got, root), MLA_OK);
}

static void check_consistency(uint64_t m, uint64_t n)
{
	mla_merkle_proof want, got;
	uint8_t r1[HLEN], r2[HLEN];

	nodes.limit = n;
	assert_int_equal(mla_merkle_tree_consistency_proof(tree, m, n, &want), MLA_OK);
	assert_int_equal(mla_merkle_nodes_consistency_proof(get, &nodes, m, n, &got), MLA_OK);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.hash, want.hash, want.len * HLEN);
	assert_int_equal(mla_merkle_tree_root(tree, m, r1), MLA_OK);
	assert_int_equal(mla_merkle_tree_root(tree, n, r2), MLA_OK);
	assert_int_equal(mla_merkle_consistency_verify(m, n, r1, r2, &got), MLA_OK);
}

static void test_every_small_size(void **state)
{
	(void)state;
	for (uint64_t n = 0; n <= SMALL; n++)
		check_root(n);
	for (uint64_t n = 1; n <= SMALL; n++)
		for (uint64_t i = 0; i < n; i++)
			check_inclusion(i, n);
	for (uint64_t n = 1; n <= SMALL; n++)
		for (uint64_t m = 0; m <= n; m++)
			check_consistency(m, n);
}

static void test_random_pairs(void **state)
{
	(void)state;
	for (int i = 0; i < 2000; i++) {
		uint64_t n = 1 + rnd() % LARGE, m = rnd() % (n + 1);
		check_consistency(m, n);
		check_inclusion(rnd() % n, n);
		if (i % 100 == 0)
			check_root(n);
	}
	check_root(LARGE);
	check_consistency(LARGE - 1, LARGE);
	check_consistency(1, LARGE);
	check_inclusion(LARGE - 1, LARGE);
}

/* O(log n) reads for a root and the edge, O(log^2 n) for a proof. */
static void test_cost(void **state)
{
	mla_merkle_proof p;
	uint8_t root[HLEN];

	(void)state;
	nodes.limit = LARGE;
	nodes.reads = 0;
	assert_int_equal(mla_merkle_nodes_root(get, &nodes, LARGE, root), MLA_OK);
	assert_true(nodes.reads <= LEVELS);
	nodes.reads = 0;
	assert_int_equal(mla_merkle_nodes_consistency_proof(get, &nodes, 1234, LARGE - 3, &p),
			 MLA_OK);
	assert_true(nodes.reads <= LEVELS * LEVELS);
}

/* A node the getter lacks is an error passed on, never a wrong proof; bad arguments too. */
static void test_refusals(void **state)
{
	mla_merkle_proof p;
	uint8_t root[HLEN];
	mla_merkle_compact c;

	(void)state;
	nodes.limit = 100;
	assert_int_equal(mla_merkle_nodes_root(get, &nodes, 101, root), MLA_ERR_NOT_FOUND);
	assert_int_equal(mla_merkle_nodes_inclusion_proof(get, &nodes, 5, 200, &p),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(mla_merkle_nodes_consistency_proof(get, &nodes, 5, 200, &p),
			 MLA_ERR_NOT_FOUND);
	assert_int_equal(mla_merkle_nodes_compact(get, &nodes, 101, &c), MLA_ERR_NOT_FOUND);
	assert_int_equal(mla_merkle_nodes_inclusion_proof(get, &nodes, 10, 10, &p), MLA_ERR_ARG);
	assert_int_equal(mla_merkle_nodes_consistency_proof(get, &nodes, 11, 10, &p), MLA_ERR_ARG);
	assert_int_equal(mla_merkle_nodes_root(get, &nodes, 0, root), MLA_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_small_size),
		cmocka_unit_test(test_random_pairs),
		cmocka_unit_test(test_cost),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
