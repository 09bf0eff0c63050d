/* Unit tests of the RFC 6962 Merkle tree (protocol/merkle.c): the published test vectors,
 * every proof of every tree up to 64 leaves against independently computed roots, refusal
 * of tampered proofs, incremental roots against batch roots, proofs at 2^20 leaves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "mlagw/merkle.h"

#define HLEN MLA_MERKLE_HASH_LEN

/* ---- helpers: hex, and an independent brute-force MTH straight from RFC 6962 2.1 ---- */

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	assert_true(strlen(s) % 2 == 0 && n <= max);
	for (size_t i = 0; i < n; i++) {
		unsigned int v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void hash_of(const char *hex, uint8_t out[HLEN])
{
	assert_int_equal(unhex(hex, out, HLEN), HLEN);
}

static void sha256_parts(uint8_t prefix, const uint8_t *a, size_t alen, const uint8_t *b,
			 size_t blen, uint8_t out[HLEN])
{
	uint8_t buf[1 + 2 * HLEN + 64];

	assert_true(alen + blen <= sizeof(buf) - 1);
	buf[0] = prefix;
	if (alen > 0)
		memcpy(buf + 1, a, alen);
	if (blen > 0)
		memcpy(buf + 1 + alen, b, blen);
	assert_int_equal(EVP_Digest(buf, 1 + alen + blen, out, NULL, EVP_sha256(), NULL), 1);
}

/* MTH(D[0:n]) by the definition: empty hash, leaf hash, or split at the largest power of two
 * smaller than n. */
static void brute_mth(uint8_t (*leaves)[HLEN], size_t n, uint8_t out[HLEN])
{
	uint8_t l[HLEN], r[HLEN];
	size_t k = 1;

	if (n == 0) {
		assert_int_equal(EVP_Digest("", 0, out, NULL, EVP_sha256(), NULL), 1);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], HLEN);
		return;
	}
	while (k * 2 < n)
		k *= 2;
	brute_mth(leaves, k, l);
	brute_mth(leaves + k, n - k, r);
	sha256_parts(0x01, l, HLEN, r, HLEN, out);
}

/* Deterministic distinct leaf hashes for the big tests (not hashed: the tree does not care). */
static uint8_t (*make_leaves(size_t n))[HLEN]
{
	uint8_t (*l)[HLEN] = calloc(n, HLEN);

	assert_non_null(l);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = i * UINT64_C(0x9e3779b97f4a7c15) + 1;
		for (int j = 0; j < 4; j++)
			memcpy(l[i] + 8 * j, &v, 8), v ^= v << 13, v ^= v >> 7, v ^= v << 17;
	}
	return l;
}

/* ---- the certificate-transparency test vectors ----
 * From github.com/transparency-dev/merkle (formerly google/certificate-transparency-go and
 * the C++ certificate-transparency merkle_tree_test.cc): testonly/constants.go (LeafInputs,
 * RootHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs; there leaf
 * numbers count from 1, here indices count from 0). */

static const char *const vec_leaves[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const vec_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vec_proof {
	uint64_t a, b; /* inclusion: leaf index, tree size; consistency: size1, size2 */
	const char *hash[4];
};

static const struct vec_proof vec_inclusion[] = {
	{0, 1, {NULL}},
	{0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4", NULL}},
	{5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", NULL}},
	{2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", NULL}},
	{1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", NULL}},
};

static const struct vec_proof vec_consistency[] = {
	{1, 1, {NULL}},
	{1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4", NULL}},
	{6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", NULL}},
	{2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", NULL}},
	{6, 7, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", NULL}},
};

static uint8_t vec_leaf_hashes[8][HLEN];

static void load_vec_leaves(void)
{
	for (int i = 0; i < 8; i++) {
		uint8_t data[16];
		size_t n = unhex(vec_leaves[i], data, sizeof(data));
		assert_int_equal(mla_merkle_leaf_hash(n > 0 ? data : NULL, n, vec_leaf_hashes[i]),
				 MLA_OK);
	}
}

static void expect_proof(const mla_merkle_proof *p, const char *const *hex)
{
	size_t n = 0;
	uint8_t h[HLEN];

	while (n < 4 && hex[n] != NULL)
		n++;
	assert_int_equal(p->len, n);
	for (size_t i = 0; i < n; i++) {
		hash_of(hex[i], h);
		assert_memory_equal(p->hash[i], h, HLEN);
	}
}

static void test_vector_leaf_hashes(void **state)
{
	uint8_t want[HLEN], got[HLEN];

	(void)state;
	load_vec_leaves();
	/* leaf 0 is the empty entry: SHA-256(0x00), the size-1 root */
	hash_of(vec_roots[1], want);
	assert_memory_equal(vec_leaf_hashes[0], want, HLEN);
	/* the node hash of the first two leaves is the size-2 root */
	assert_int_equal(mla_merkle_node_hash(vec_leaf_hashes[0], vec_leaf_hashes[1], got), MLA_OK);
	hash_of(vec_roots[2], want);
	assert_memory_equal(got, want, HLEN);
}

/* One hasher reused across the RFC 6962 leaves gives each the one-shot leaf hash. */
static void test_hasher_reuse(void **state)
{
	mla_merkle_hasher *h = NULL;
	uint8_t got[HLEN];

	(void)state;
	load_vec_leaves();
	assert_int_equal(mla_merkle_hasher_new(&h), MLA_OK);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 8; i++) {
			uint8_t data[16];
			size_t n = unhex(vec_leaves[i], data, sizeof(data));
			assert_int_equal(mla_merkle_hasher_leaf(h, n > 0 ? data : NULL, n, got),
					 MLA_OK);
			assert_memory_equal(got, vec_leaf_hashes[i], HLEN);
		}
	mla_merkle_hasher_free(h);
	mla_merkle_hasher_free(NULL);
}

static void test_vector_roots(void **state)
{
	mla_merkle_compact c;
	mla_merkle_tree *t = NULL;
	uint8_t want[HLEN], got[HLEN];

	(void)state;
	load_vec_leaves();
	mla_merkle_compact_init(&c);
	assert_int_equal(mla_merkle_tree_new(8, &t), MLA_OK);
	for (size_t n = 0; n <= 8; n++) {
		hash_of(vec_roots[n], want);
		assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(n > 0 ? vec_leaf_hashes : NULL), n, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		assert_int_equal(mla_merkle_compact_root(&c, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		assert_int_equal(mla_merkle_tree_root(t, n, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		if (n < 8) {
			assert_int_equal(mla_merkle_compact_append(&c, vec_leaf_hashes[n]), MLA_OK);
			assert_int_equal(mla_merkle_tree_append(t, vec_leaf_hashes[n]), MLA_OK);
		}
	}
	assert_int_equal(mla_merkle_tree_append(t, vec_leaf_hashes[0]), MLA_ERR_TOO_LARGE);
	assert_int_equal(mla_merkle_empty_root(got), MLA_OK);
	hash_of(vec_roots[0], want);
	assert_memory_equal(got, want, HLEN);
	mla_merkle_tree_free(t);
}

static void test_vector_inclusion(void **state)
{
	mla_merkle_tree *t = NULL;
	mla_merkle_proof p;
	uint8_t root[HLEN];

	(void)state;
	load_vec_leaves();
	assert_int_equal(mla_merkle_tree_new(8, &t), MLA_OK);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mla_merkle_tree_append(t, vec_leaf_hashes[i]), MLA_OK);
	for (size_t v = 0; v < sizeof(vec_inclusion) / sizeof(vec_inclusion[0]); v++) {
		const struct vec_proof *e = &vec_inclusion[v];
		assert_int_equal(mla_merkle_inclusion_proof(MLA_MERKLE_LEAVES(vec_leaf_hashes), e->b, e->a, &p), MLA_OK);
		expect_proof(&p, e->hash);
		assert_int_equal(mla_merkle_tree_inclusion_proof(t, e->a, e->b, &p), MLA_OK);
		expect_proof(&p, e->hash);
		hash_of(vec_roots[e->b], root);
		assert_int_equal(mla_merkle_inclusion_verify(e->a, e->b, vec_leaf_hashes[e->a], &p, root),
				 MLA_OK);
	}
	mla_merkle_tree_free(t);
}

static void test_vector_consistency(void **state)
{
	mla_merkle_tree *t = NULL;
	mla_merkle_proof p;
	uint8_t r1[HLEN], r2[HLEN];

	(void)state;
	load_vec_leaves();
	assert_int_equal(mla_merkle_tree_new(8, &t), MLA_OK);
	for (int i = 0; i < 8; i++)
		assert_int_equal(mla_merkle_tree_append(t, vec_leaf_hashes[i]), MLA_OK);
	for (size_t v = 0; v < sizeof(vec_consistency) / sizeof(vec_consistency[0]); v++) {
		const struct vec_proof *e = &vec_consistency[v];
		assert_int_equal(mla_merkle_consistency_proof(MLA_MERKLE_LEAVES(vec_leaf_hashes), e->b, e->a, &p), MLA_OK);
		expect_proof(&p, e->hash);
		assert_int_equal(mla_merkle_tree_consistency_proof(t, e->a, e->b, &p), MLA_OK);
		expect_proof(&p, e->hash);
		hash_of(vec_roots[e->a], r1);
		hash_of(vec_roots[e->b], r2);
		assert_int_equal(mla_merkle_consistency_verify(e->a, e->b, r1, r2, &p), MLA_OK);
	}
	mla_merkle_tree_free(t);
}

/* ---- every proof of every tree up to 64 leaves, and tampered variants ---- */

#define SMALL_MAX 64

struct small_fixture {
	uint8_t (*leaves)[HLEN];
	uint8_t roots[SMALL_MAX + 1][HLEN];
	mla_merkle_tree *tree;
};

static int small_setup(void **state)
{
	struct small_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->leaves = calloc(SMALL_MAX, HLEN);
	if (f->leaves == NULL || mla_merkle_tree_new(SMALL_MAX, &f->tree) != MLA_OK)
		return -1;
	for (size_t i = 0; i < SMALL_MAX; i++) {
		uint8_t data[8];
		for (int j = 0; j < 8; j++)
			data[j] = (uint8_t)(i * 31 + (size_t)j);
		sha256_parts(0x00, data, (i % 8) + 1, NULL, 0, f->leaves[i]);
		if (mla_merkle_tree_append(f->tree, f->leaves[i]) != MLA_OK)
			return -1;
	}
	for (size_t n = 0; n <= SMALL_MAX; n++)
		brute_mth(f->leaves, n, f->roots[n]);
	*state = f;
	return 0;
}

static int small_teardown(void **state)
{
	struct small_fixture *f = *state;

	mla_merkle_tree_free(f->tree);
	free(f->leaves);
	free(f);
	return 0;
}

static void inclusion_refused(uint64_t index, uint64_t size, const uint8_t leaf[HLEN],
			      const mla_merkle_proof *p, const uint8_t root[HLEN], int line)
{
	if (mla_merkle_inclusion_verify(index, size, leaf, p, root) == MLA_OK)
		fail_msg("tampered inclusion proof accepted: index %llu size %llu (line %d)",
			 (unsigned long long)index, (unsigned long long)size, line);
}
#define expect_inclusion_refused(...) inclusion_refused(__VA_ARGS__, __LINE__)

static void tamper_inclusion(const struct small_fixture *f, uint64_t m, uint64_t n,
			     const mla_merkle_proof *good)
{
	mla_merkle_proof p;
	const uint8_t *leaf = f->leaves[m], *root = f->roots[n];

	/* any flipped byte of any proof hash */
	for (size_t i = 0; i < good->len; i++)
		for (size_t b = 0; b < HLEN; b++) {
			p = *good;
			p.hash[i][b] ^= 0x01;
			expect_inclusion_refused(m, n, leaf, &p, root);
		}
	/* wrong index, wrong size */
	if (m > 0)
		expect_inclusion_refused(m - 1, n, leaf, good, root);
	if (m + 1 < n)
		expect_inclusion_refused(m + 1, n, leaf, good, root);
	if ((m ^ 2) < n)
		expect_inclusion_refused(m ^ 2, n, leaf, good, root);
	/* not n - 1 or n + 1: a proof does not bind the size on its own (the path of leaf 0 in
	 * a tree of 3, with that root, also verifies as one in a tree of 4 whose last node is
	 * leaf 2's hash, and the other way round); the size comes signed with the root in the
	 * checkpoint. A size with another height is refused. */
	expect_inclusion_refused(m, n * 2, leaf, good, root);
	if (m < n / 2)
		expect_inclusion_refused(m, n / 2, leaf, good, root);
	/* wrong leaf, wrong root */
	expect_inclusion_refused(m, n, f->leaves[(m + 1) % SMALL_MAX], good, root);
	expect_inclusion_refused(m, n, leaf, good, f->roots[n - 1]);
	/* truncated, extended at either end */
	if (good->len > 0) {
		p = *good;
		p.len--;
		expect_inclusion_refused(m, n, leaf, &p, root);
	}
	p = *good;
	memcpy(p.hash[p.len++], root, HLEN);
	expect_inclusion_refused(m, n, leaf, &p, root);
	p = *good;
	memset(p.hash[p.len++], 0, HLEN);
	expect_inclusion_refused(m, n, leaf, &p, root);
	p = *good;
	memmove(p.hash[1], p.hash[0], p.len * HLEN);
	memcpy(p.hash[0], leaf, HLEN);
	p.len++;
	expect_inclusion_refused(m, n, leaf, &p, root);
}

static void test_all_inclusion_proofs(void **state)
{
	struct small_fixture *f = *state;
	mla_merkle_proof p, q;
	uint8_t root[HLEN];

	for (uint64_t n = 1; n <= SMALL_MAX; n++) {
		assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(f->leaves), n, root), MLA_OK);
		assert_memory_equal(root, f->roots[n], HLEN);
		for (uint64_t m = 0; m < n; m++) {
			assert_int_equal(mla_merkle_inclusion_proof(MLA_MERKLE_LEAVES(f->leaves), n, m, &p), MLA_OK);
			assert_int_equal(mla_merkle_tree_inclusion_proof(f->tree, m, n, &q), MLA_OK);
			assert_int_equal(p.len, q.len);
			assert_memory_equal(p.hash, q.hash, p.len * HLEN);
			assert_int_equal(mla_merkle_inclusion_verify(m, n, f->leaves[m], &p, f->roots[n]),
					 MLA_OK);
			tamper_inclusion(f, m, n, &p);
		}
		/* index out of range */
		assert_int_equal(mla_merkle_inclusion_proof(MLA_MERKLE_LEAVES(f->leaves), n, n, &p), MLA_ERR_ARG);
		assert_int_equal(mla_merkle_inclusion_verify(n, n, f->leaves[0], &p, f->roots[n]),
				 MLA_ERR_ARG);
	}
}

static void consistency_refused(uint64_t m, uint64_t n, const uint8_t r1[HLEN],
				const uint8_t r2[HLEN], const mla_merkle_proof *p, int line)
{
	if (mla_merkle_consistency_verify(m, n, r1, r2, p) == MLA_OK)
		fail_msg("tampered consistency proof accepted: %llu -> %llu (line %d)",
			 (unsigned long long)m, (unsigned long long)n, line);
}
#define expect_consistency_refused(...) consistency_refused(__VA_ARGS__, __LINE__)

static void tamper_consistency(const struct small_fixture *f, uint64_t m, uint64_t n,
			       const mla_merkle_proof *good)
{
	mla_merkle_proof p;
	const uint8_t *r1 = f->roots[m], *r2 = f->roots[n];

	for (size_t i = 0; i < good->len; i++)
		for (size_t b = 0; b < HLEN; b++) {
			p = *good;
			p.hash[i][b] ^= 0x10;
			expect_consistency_refused(m, n, r1, r2, &p);
		}
	/* wrong sizes */
	if (m > 1)
		expect_consistency_refused(m - 1, n, r1, r2, good);
	if (m + 1 < n)
		expect_consistency_refused(m + 1, n, r1, r2, good);
	if ((m ^ 2) <= n && (m ^ 2) != 0)
		expect_consistency_refused(m ^ 2, n, r1, r2, good);
	expect_consistency_refused(m, n * 2, r1, r2, good); /* not n +- 1: see tamper_inclusion */
	/* wrong or swapped roots */
	expect_consistency_refused(m, n, r2, r1, good);
	expect_consistency_refused(m, n, f->roots[m - 1], r2, good);
	expect_consistency_refused(m, n, r1, f->roots[n - 1], good);
	/* empty, truncated, extended, prefixed */
	p.len = 0;
	expect_consistency_refused(m, n, r1, r2, &p);
	p = *good;
	p.len--;
	expect_consistency_refused(m, n, r1, r2, &p);
	p = *good;
	memcpy(p.hash[p.len++], r2, HLEN);
	expect_consistency_refused(m, n, r1, r2, &p);
	p = *good;
	memcpy(p.hash[p.len++], r1, HLEN);
	expect_consistency_refused(m, n, r1, r2, &p);
	p = *good;
	memmove(p.hash[1], p.hash[0], p.len * HLEN);
	memcpy(p.hash[0], r1, HLEN);
	p.len++;
	expect_consistency_refused(m, n, r1, r2, &p);
}

static void test_all_consistency_proofs(void **state)
{
	struct small_fixture *f = *state;
	mla_merkle_proof p, q;
	uint8_t zero[HLEN] = {0};

	for (uint64_t n = 0; n <= SMALL_MAX; n++) {
		for (uint64_t m = 0; m <= n; m++) {
			assert_int_equal(mla_merkle_consistency_proof(MLA_MERKLE_LEAVES(f->leaves), n, m, &p), MLA_OK);
			assert_int_equal(mla_merkle_tree_consistency_proof(f->tree, m, n, &q), MLA_OK);
			assert_int_equal(p.len, q.len);
			assert_memory_equal(p.hash, q.hash, p.len * HLEN);
			assert_int_equal(
				mla_merkle_consistency_verify(m, n, f->roots[m], f->roots[n], &p),
				MLA_OK);
			if (m == 0 || m == n) {
				assert_int_equal(p.len, 0);
				/* trivial cases still need the right roots and an empty proof */
				if (m == n && n > 0)
					expect_consistency_refused(m, n, f->roots[m], zero, &p);
				if (m == 0)
					expect_consistency_refused(m, n, zero, f->roots[n], &p);
				memcpy(p.hash[p.len++], f->roots[n], HLEN);
				expect_consistency_refused(m, n, f->roots[m], f->roots[n], &p);
				continue;
			}
			tamper_consistency(f, m, n, &p);
		}
		if (n > 0)
			assert_int_equal(mla_merkle_consistency_proof(MLA_MERKLE_LEAVES(f->leaves), n - 1, n, &p),
					 MLA_ERR_ARG);
	}
	p.len = 0;
	assert_int_equal(mla_merkle_consistency_verify(5, 4, f->roots[5], f->roots[4], &p),
			 MLA_ERR_ARG);
	p.len = MLA_MERKLE_PROOF_MAX + 1;
	assert_int_equal(mla_merkle_consistency_verify(4, 5, f->roots[4], f->roots[5], &p),
			 MLA_ERR_ARG);
	assert_int_equal(mla_merkle_inclusion_verify(0, 5, f->leaves[0], &p, f->roots[5]),
			 MLA_ERR_ARG);
}

/* ---- incremental roots equal batch roots ---- */

static void test_incremental_roots(void **state)
{
	enum { N = 1000 };
	uint8_t (*leaves)[HLEN] = make_leaves(N);
	mla_merkle_compact c;
	mla_merkle_tree *t = NULL;
	uint8_t want[HLEN], got[HLEN];

	(void)state;
	mla_merkle_compact_init(&c);
	assert_int_equal(mla_merkle_tree_new(N, &t), MLA_OK);
	for (size_t n = 0; n <= N; n++) {
		brute_mth(leaves, n, want);
		assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves), n, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		assert_int_equal(mla_merkle_compact_root(&c, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		assert_int_equal(mla_merkle_tree_root(t, n, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
		assert_int_equal(mla_merkle_tree_size(t), n);
		if (n < N) {
			assert_int_equal(mla_merkle_compact_append(&c, leaves[n]), MLA_OK);
			assert_int_equal(mla_merkle_tree_append(t, leaves[n]), MLA_OK);
		}
	}
	/* past sizes from the full tree */
	for (size_t n = 0; n <= N; n += 37) {
		brute_mth(leaves, n, want);
		assert_int_equal(mla_merkle_tree_root(t, n, got), MLA_OK);
		assert_memory_equal(got, want, HLEN);
	}
	assert_int_equal(mla_merkle_tree_root(t, N + 1, got), MLA_ERR_ARG);
	assert_int_equal(mla_merkle_tree_leaf(t, 999, got), MLA_OK);
	assert_memory_equal(got, leaves[999], HLEN);
	assert_int_equal(mla_merkle_tree_leaf(t, N, got), MLA_ERR_ARG);
	mla_merkle_tree_free(t);
	free(leaves);
}

/* ---- a log of 2^20 entries: root without rehashing, proofs well under a millisecond ---- */

/* Truncating forgets the later leaves exactly: appending other leaves after a truncate gives
 * the roots and proofs of a tree that never had the forgotten ones. */
static void test_truncate(void **state)
{
	enum { N = 77 };
	uint8_t (*a)[HLEN] = make_leaves(N), (*b)[HLEN] = make_leaves(N);
	mla_merkle_tree *t = NULL;
	mla_merkle_proof p, q;
	uint8_t root[HLEN], want[HLEN];

	(void)state;
	for (size_t i = 0; i < N; i++)
		b[i][0] ^= 0x5a; /* different leaves for the second try */
	for (size_t cut = 0; cut <= N; cut += 7) {
		assert_int_equal(mla_merkle_tree_new(N, &t), MLA_OK);
		for (size_t i = 0; i < N; i++)
			assert_int_equal(mla_merkle_tree_append(t, a[i]), MLA_OK);
		assert_int_equal(mla_merkle_tree_truncate(t, N + 1), MLA_ERR_ARG);
		assert_int_equal(mla_merkle_tree_truncate(t, cut), MLA_OK);
		assert_int_equal(mla_merkle_tree_size(t), cut);
		for (size_t i = cut; i < N; i++) {
			memcpy(a[i], b[i], HLEN);
			assert_int_equal(mla_merkle_tree_append(t, a[i]), MLA_OK);
		}
		for (size_t n = 1; n <= N; n += 5) {
			assert_int_equal(mla_merkle_tree_root(t, n, root), MLA_OK);
			assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(a), n, want), MLA_OK);
			assert_memory_equal(root, want, HLEN);
			assert_int_equal(mla_merkle_tree_inclusion_proof(t, n - 1, N, &p), MLA_OK);
			assert_int_equal(mla_merkle_inclusion_proof(MLA_MERKLE_LEAVES(a), N, n - 1, &q),
					 MLA_OK);
			assert_int_equal(p.len, q.len);
			assert_memory_equal(p.hash, q.hash, p.len * HLEN);
		}
		mla_merkle_tree_free(t);
		t = NULL;
		free(a);
		a = make_leaves(N);
	}
	free(a);
	free(b);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_million(void **state)
{
	enum { N = 1 << 20, PROOFS = 1000 };
	uint8_t (*leaves)[HLEN] = make_leaves(N);
	mla_merkle_tree *t = NULL;
	mla_merkle_compact c;
	mla_merkle_proof p;
	uint8_t root[HLEN], want[HLEN], old[HLEN];
	double t0, ms;

	(void)state;
	mla_merkle_compact_init(&c);
	assert_int_equal(mla_merkle_tree_new(N + 10, &t), MLA_OK);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(mla_merkle_tree_append(t, leaves[i]), MLA_OK);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(mla_merkle_compact_append(&c, leaves[i]), MLA_OK);
	assert_int_equal(mla_merkle_root(MLA_MERKLE_LEAVES(leaves), N, want), MLA_OK);
	assert_int_equal(mla_merkle_tree_root(t, N, root), MLA_OK);
	assert_memory_equal(root, want, HLEN);
	assert_int_equal(mla_merkle_compact_root(&c, root), MLA_OK);
	assert_memory_equal(root, want, HLEN);
	assert_int_equal(mla_merkle_tree_append(t, leaves[0]), MLA_OK); /* N + 1: uneven tree */
	assert_int_equal(mla_merkle_tree_root(t, N + 1, root), MLA_OK);

	t0 = now_ms();
	for (uint64_t i = 0; i < PROOFS; i++) {
		uint64_t idx = (i * 7919 * 131) % (N + 1);
		assert_int_equal(mla_merkle_tree_inclusion_proof(t, idx, N + 1, &p), MLA_OK);
	}
	ms = (now_ms() - t0) / PROOFS;
	print_message("inclusion proof at %d leaves: %.4f ms\n", N + 1, ms);
	assert_true(ms < 1.0);
	for (uint64_t i = 0; i < 50; i++) {
		uint64_t idx = (i * 104729) % (N + 1);
		uint8_t leaf[HLEN];
		assert_int_equal(mla_merkle_tree_inclusion_proof(t, idx, N + 1, &p), MLA_OK);
		assert_int_equal(mla_merkle_tree_leaf(t, idx, leaf), MLA_OK);
		assert_int_equal(mla_merkle_inclusion_verify(idx, N + 1, leaf, &p, root), MLA_OK);
		/* consistency from a past size */
		assert_int_equal(mla_merkle_tree_root(t, idx + 1, old), MLA_OK);
		assert_int_equal(mla_merkle_tree_consistency_proof(t, idx + 1, N + 1, &p), MLA_OK);
		assert_int_equal(mla_merkle_consistency_verify(idx + 1, N + 1, old, root, &p), MLA_OK);
	}
	mla_merkle_tree_free(t);
	free(leaves);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_leaf_hashes),
		cmocka_unit_test(test_hasher_reuse),
		cmocka_unit_test(test_vector_roots),
		cmocka_unit_test(test_vector_inclusion),
		cmocka_unit_test(test_vector_consistency),
		cmocka_unit_test_setup_teardown(test_all_inclusion_proofs, small_setup, small_teardown),
		cmocka_unit_test_setup_teardown(test_all_consistency_proofs, small_setup,
						small_teardown),
		cmocka_unit_test(test_incremental_roots),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_million),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
