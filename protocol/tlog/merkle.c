/* RFC 6962 Merkle trees over SHA-256 (protocol/SPEC.md, section 14): hashing, proof generation
 * (RFC 6962 2.1.1 and 2.1.2) over a caller's leaf array, over the tree of complete subtrees, or
 * over complete-subtree roots the caller keeps elsewhere (merkle_nodes.h), one walk for all,
 * proof verification (RFC 9162 2.1.3.2 and 2.1.4.2) and the compact range. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mlagw/merkle.h"
#include "mlagw/merkle_nodes.h"

#define HLEN MLA_MERKLE_HASH_LEN
#define PREFIX_LEAF 0x00
#define PREFIX_NODE 0x01

/* ---- SHA-256 through one fetched EVP_MD and a context reused across hashes ---- */

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

typedef struct hasher {
	EVP_MD_CTX *ctx;
} hasher;

static mla_err hasher_init(hasher *h)
{
	h->ctx = NULL;
	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		return MLA_ERR_INTERNAL;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		return MLA_ERR_NOMEM;
	return MLA_OK;
}

static void hasher_done(hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

/* SHA-256(prefix || a || b); b may be NULL. out may alias a or b. */
static mla_err hash3(hasher *h, uint8_t prefix, const void *a, size_t alen, const void *b,
		     size_t blen, uint8_t out[HLEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_DigestInit_ex2(h->ctx, sha256_md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, &prefix, 1) != 1 ||
	    (alen > 0 && EVP_DigestUpdate(h->ctx, a, alen) != 1) ||
	    (b != NULL && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != HLEN)
		return MLA_ERR_INTERNAL;
	memcpy(out, md, HLEN);
	return MLA_OK;
}

static mla_err node(hasher *h, const uint8_t l[HLEN], const uint8_t r[HLEN], uint8_t out[HLEN])
{
	return hash3(h, PREFIX_NODE, l, HLEN, r, HLEN, out);
}

mla_err mla_merkle_leaf_hash(const void *data, size_t len, uint8_t out[HLEN])
{
	hasher h;
	mla_err r;

	if ((r = hasher_init(&h)) == MLA_OK)
		r = hash3(&h, PREFIX_LEAF, data, len, NULL, 0, out);
	hasher_done(&h);
	return r;
}

/* A context kept across leaf hashes: making one per hash costs about as much as hashing a
 * short entry, and a verifier hashes a million of them. */
struct mla_merkle_hasher {
	hasher h;
};

mla_err mla_merkle_hasher_new(mla_merkle_hasher **hp)
{
	mla_merkle_hasher *m;
	mla_err r;

	*hp = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = hasher_init(&m->h)) != MLA_OK) {
		mla_merkle_hasher_free(m);
		return r;
	}
	*hp = m;
	return MLA_OK;
}

void mla_merkle_hasher_free(mla_merkle_hasher *m)
{
	if (m == NULL)
		return;
	hasher_done(&m->h);
	free(m);
}

mla_err mla_merkle_hasher_leaf(mla_merkle_hasher *m, const void *data, size_t len,
			       uint8_t out[HLEN])
{
	return hash3(&m->h, PREFIX_LEAF, data, len, NULL, 0, out);
}

mla_err mla_merkle_node_hash(const uint8_t left[HLEN], const uint8_t right[HLEN],
			     uint8_t out[HLEN])
{
	hasher h;
	mla_err r;

	if ((r = hasher_init(&h)) == MLA_OK)
		r = node(&h, left, right, out);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_empty_root(uint8_t out[HLEN])
{
	unsigned int len = 0;

	if (pthread_once(&sha256_once, sha256_fetch) != 0 || sha256_md == NULL)
		return MLA_ERR_INTERNAL;
	if (EVP_Digest("", 0, out, &len, sha256_md, NULL) != 1 || len != HLEN)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

/* ---- subtree hashes, from a leaf array or from the tree of complete subtrees ---- */

struct level {
	uint8_t (*h)[HLEN];
	size_t len;
	size_t cap;
};

struct mla_merkle_tree {
	uint64_t size;
	uint64_t max;
	hasher h;
	struct level lv[MLA_MERKLE_PROOF_MAX];
};

/* Where subtree hashes come from: exactly one of leaves, tree and fn is set (fn: the roots of
 * complete subtrees kept by the caller, merkle_nodes.h). */
typedef struct source {
	hasher *h;
	const uint8_t (*leaves)[HLEN];
	const mla_merkle_tree *tree;
	mla_merkle_node_fn fn;
	void *arg;
} source;

/* The largest power of two smaller than n (n >= 2): the split point of RFC 6962. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

static int is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* MTH(D[begin:end]) for end > begin. Every range met by the RFC 6962 recursion starts at a
 * multiple of its split point, so a range of 2^k leaves is the complete subtree
 * begin >> k at height k of the tree. */
static mla_err subtree_hash(const source *s, uint64_t begin, uint64_t end, uint8_t out[HLEN])
{
	uint64_t n = end - begin, k;
	uint8_t left[HLEN], right[HLEN];
	mla_err r;

	if (s->tree != NULL && is_pow2(n)) {
		int height = __builtin_ctzll(n);
		memcpy(out, s->tree->lv[height].h[begin >> height], HLEN);
		return MLA_OK;
	}
	if (s->fn != NULL && is_pow2(n)) {
		unsigned height = (unsigned)__builtin_ctzll(n);
		return s->fn(height, begin >> height, out, s->arg);
	}
	if (n == 1) {
		memcpy(out, s->leaves[begin], HLEN);
		return MLA_OK;
	}
	k = split_point(n);
	if ((r = subtree_hash(s, begin, begin + k, left)) != MLA_OK ||
	    (r = subtree_hash(s, begin + k, end, right)) != MLA_OK)
		return r;
	return node(s->h, left, right, out);
}

static void reverse(mla_merkle_proof *p)
{
	uint8_t t[HLEN];

	for (size_t i = 0, j = p->len; i + 1 < j; i++, j--) {
		memcpy(t, p->hash[i], HLEN);
		memcpy(p->hash[i], p->hash[j - 1], HLEN);
		memcpy(p->hash[j - 1], t, HLEN);
	}
}

/* PATH(index, D[0:size]), walking down from the root and reversing at the end. */
static mla_err inclusion(const source *s, uint64_t index, uint64_t size, mla_merkle_proof *p)
{
	uint64_t begin = 0, end = size;
	mla_err r;

	p->len = 0;
	while (end - begin > 1) {
		uint64_t k = split_point(end - begin);
		if (p->len == MLA_MERKLE_PROOF_MAX)
			return MLA_ERR_TOO_LARGE;
		if (index < begin + k) {
			r = subtree_hash(s, begin + k, end, p->hash[p->len]);
			end = begin + k;
		} else {
			r = subtree_hash(s, begin, begin + k, p->hash[p->len]);
			begin += k;
		}
		if (r != MLA_OK)
			return r;
		p->len++;
	}
	reverse(p);
	return MLA_OK;
}

/* PROOF(m, D[0:size]) = SUBPROOF(m, D[0:size], true), walking down and reversing. */
static mla_err consistency(const source *s, uint64_t m, uint64_t size, mla_merkle_proof *p)
{
	uint64_t begin = 0, end = size;
	int complete = 1; /* the b of SUBPROOF: D[begin:m] is the whole old tree */
	mla_err r;

	p->len = 0;
	if (m == 0 || m == size)
		return MLA_OK;
	for (;;) {
		if (m == end && complete)
			break;
		if (p->len == MLA_MERKLE_PROOF_MAX)
			return MLA_ERR_TOO_LARGE;
		if (m == end) {
			if ((r = subtree_hash(s, begin, end, p->hash[p->len++])) != MLA_OK)
				return r;
			break;
		}
		uint64_t k = split_point(end - begin);
		if (m <= begin + k) {
			r = subtree_hash(s, begin + k, end, p->hash[p->len]);
			end = begin + k;
		} else {
			r = subtree_hash(s, begin, begin + k, p->hash[p->len]);
			begin += k;
			complete = 0;
		}
		if (r != MLA_OK)
			return r;
		p->len++;
	}
	reverse(p);
	return MLA_OK;
}

/* ---- over the caller's leaf array ---- */

mla_err mla_merkle_root(const uint8_t (*leaves)[HLEN], size_t n, uint8_t out[HLEN])
{
	hasher h;
	source s = {&h, leaves, NULL, NULL, NULL};
	mla_err r;

	if (n == 0)
		return mla_merkle_empty_root(out);
	if (leaves == NULL)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = subtree_hash(&s, 0, n, out);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_inclusion_proof(const uint8_t (*leaves)[HLEN], size_t n, size_t index,
				   mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, leaves, NULL, NULL, NULL};
	mla_err r;

	proof->len = 0;
	if (leaves == NULL || index >= n)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = inclusion(&s, index, n, proof);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_consistency_proof(const uint8_t (*leaves)[HLEN], size_t n, size_t m,
				     mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, leaves, NULL, NULL, NULL};
	mla_err r;

	proof->len = 0;
	if (m > n || (n > 0 && leaves == NULL))
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = consistency(&s, m, n, proof);
	hasher_done(&h);
	return r;
}

/* ---- verification, RFC 9162 ---- */

static void shift_while_even(uint64_t *fn, uint64_t *sn)
{
	while (*fn != 0 && (*fn & 1) == 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

/* Step 4 of RFC 9162 2.1.3.2: the root recomputed from the leaf hash and the path. */
static mla_err inclusion_root(hasher *h, uint64_t index, uint64_t size, const uint8_t leaf[HLEN],
			      const mla_merkle_proof *p, uint8_t out[HLEN])
{
	uint64_t fn = index, sn = size - 1;
	mla_err r;

	memcpy(out, leaf, HLEN);
	for (size_t i = 0; i < p->len; i++) {
		if (sn == 0)
			return MLA_ERR_SIG_INVALID; /* proof too long */
		if ((fn & 1) != 0 || fn == sn) {
			if ((r = node(h, p->hash[i], out, out)) != MLA_OK)
				return r;
			if ((fn & 1) == 0)
				shift_while_even(&fn, &sn);
		} else if ((r = node(h, out, p->hash[i], out)) != MLA_OK) {
			return r;
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 ? MLA_OK : MLA_ERR_SIG_INVALID; /* proof too short */
}

mla_err mla_merkle_inclusion_verify(uint64_t index, uint64_t size, const uint8_t leaf[HLEN],
				    const mla_merkle_proof *proof, const uint8_t root[HLEN])
{
	hasher h;
	uint8_t got[HLEN];
	mla_err r;

	if (index >= size || proof->len > MLA_MERKLE_PROOF_MAX)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK &&
	    (r = inclusion_root(&h, index, size, leaf, proof, got)) == MLA_OK &&
	    memcmp(got, root, HLEN) != 0)
		r = MLA_ERR_SIG_INVALID;
	hasher_done(&h);
	return r;
}

/* Steps 2 to 7 of RFC 9162 2.1.4.2 for 0 < size1 < size2 and a non-empty proof. */
static mla_err consistency_check(hasher *h, uint64_t size1, uint64_t size2,
				 const uint8_t root1[HLEN], const uint8_t root2[HLEN],
				 const mla_merkle_proof *p)
{
	uint64_t fn = size1 - 1, sn = size2 - 1;
	uint8_t fr[HLEN], sr[HLEN];
	size_t i = 0;
	mla_err r;

	/* the path starts with root1 when the old tree is a complete subtree */
	memcpy(fr, is_pow2(size1) ? root1 : p->hash[i++], HLEN);
	memcpy(sr, fr, HLEN);
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < p->len; i++) {
		if (sn == 0)
			return MLA_ERR_SIG_INVALID;
		if ((fn & 1) != 0 || fn == sn) {
			if ((r = node(h, p->hash[i], fr, fr)) != MLA_OK ||
			    (r = node(h, p->hash[i], sr, sr)) != MLA_OK)
				return r;
			if ((fn & 1) == 0)
				shift_while_even(&fn, &sn);
		} else if ((r = node(h, sr, p->hash[i], sr)) != MLA_OK) {
			return r;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root1, HLEN) != 0 || memcmp(sr, root2, HLEN) != 0)
		return MLA_ERR_SIG_INVALID;
	return MLA_OK;
}

mla_err mla_merkle_consistency_verify(uint64_t size1, uint64_t size2, const uint8_t root1[HLEN],
				      const uint8_t root2[HLEN], const mla_merkle_proof *proof)
{
	hasher h;
	uint8_t empty[HLEN];
	mla_err r;

	if (size1 > size2 || proof->len > MLA_MERKLE_PROOF_MAX)
		return MLA_ERR_ARG;
	if (size1 == size2)
		return proof->len == 0 && memcmp(root1, root2, HLEN) == 0 ? MLA_OK
									  : MLA_ERR_SIG_INVALID;
	if (size1 == 0) {
		if ((r = mla_merkle_empty_root(empty)) != MLA_OK)
			return r;
		return proof->len == 0 && memcmp(root1, empty, HLEN) == 0 ? MLA_OK
									  : MLA_ERR_SIG_INVALID;
	}
	if (proof->len == 0)
		return MLA_ERR_SIG_INVALID;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = consistency_check(&h, size1, size2, root1, root2, proof);
	hasher_done(&h);
	return r;
}

/* ---- compact range ---- */

void mla_merkle_compact_init(mla_merkle_compact *c)
{
	memset(c, 0, sizeof(*c));
}

/* Appends leaf to c with h's context. */
static mla_err compact_append(hasher *h, mla_merkle_compact *c, const uint8_t leaf[HLEN])
{
	uint8_t carry[HLEN];
	int k = 0;
	mla_err r;

	if (c->size == UINT64_MAX)
		return MLA_ERR_TOO_LARGE;
	memcpy(carry, leaf, HLEN);
	for (; ((c->size >> k) & 1) != 0; k++)
		if ((r = node(h, c->hash[k], carry, carry)) != MLA_OK)
			return r;
	memcpy(c->hash[k], carry, HLEN);
	c->size++;
	return MLA_OK;
}

mla_err mla_merkle_compact_append(mla_merkle_compact *c, const uint8_t leaf[HLEN])
{
	hasher h;
	mla_err r;

	if ((r = hasher_init(&h)) == MLA_OK)
		r = compact_append(&h, c, leaf);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_hasher_compact_append(mla_merkle_hasher *m, mla_merkle_compact *c,
					 const uint8_t leaf[HLEN])
{
	return compact_append(&m->h, c, leaf);
}

mla_err mla_merkle_compact_root(const mla_merkle_compact *c, uint8_t out[HLEN])
{
	hasher h;
	int k;
	mla_err r;

	if (c->size == 0)
		return mla_merkle_empty_root(out);
	if ((r = hasher_init(&h)) != MLA_OK)
		goto out;
	k = __builtin_ctzll(c->size);
	memcpy(out, c->hash[k], HLEN);
	for (k++; k < 64; k++)
		if (((c->size >> k) & 1) != 0 && (r = node(&h, c->hash[k], out, out)) != MLA_OK)
			goto out;
	r = MLA_OK;
out:
	hasher_done(&h);
	return r;
}

/* ---- tree of complete subtrees ---- */

mla_err mla_merkle_tree_new(uint64_t max_leaves, mla_merkle_tree **treep)
{
	mla_merkle_tree *t;
	mla_err r;

	*treep = NULL;
	if (max_leaves == 0 || max_leaves > (UINT64_C(1) << 62) ||
	    max_leaves > SIZE_MAX / (2 * HLEN))
		return MLA_ERR_ARG;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = hasher_init(&t->h)) != MLA_OK) {
		mla_merkle_tree_free(t);
		return r;
	}
	t->max = max_leaves;
	*treep = t;
	return MLA_OK;
}

void mla_merkle_tree_free(mla_merkle_tree *tree)
{
	if (tree == NULL)
		return;
	for (int k = 0; k < MLA_MERKLE_PROOF_MAX; k++)
		free(tree->lv[k].h);
	hasher_done(&tree->h);
	free(tree);
}

uint64_t mla_merkle_tree_size(const mla_merkle_tree *tree)
{
	return tree->size;
}

static mla_err level_reserve(struct level *l, uint64_t max_len)
{
	size_t cap;
	void *p;

	if (l->len < l->cap)
		return MLA_OK;
	mla_require(l->len < max_len); /* append refuses a leaf beyond the tree's bound */
	cap = l->cap == 0 ? 64 : l->cap * 2;
	if (cap > max_len)
		cap = (size_t)max_len;
	if ((p = realloc(l->h, cap * HLEN)) == NULL)
		return MLA_ERR_NOMEM;
	l->h = p;
	l->cap = cap;
	return MLA_OK;
}

/* Appends a leaf: the new complete subtrees are hashed first and room made on every level
 * they go to, so a failure leaves the tree as it was. */
mla_err mla_merkle_tree_append(mla_merkle_tree *t, const uint8_t leaf[HLEN])
{
	uint8_t add[MLA_MERKLE_PROOF_MAX][HLEN];
	uint64_t idx = t->size;
	int k = 0;
	mla_err r;

	if (t->size >= t->max)
		return MLA_ERR_TOO_LARGE;
	memcpy(add[0], leaf, HLEN);
	for (; (idx & 1) != 0; idx >>= 1, k++)
		if ((r = node(&t->h, t->lv[k].h[idx - 1], add[k], add[k + 1])) != MLA_OK)
			return r;
	for (int j = 0; j <= k; j++)
		if ((r = level_reserve(&t->lv[j], t->max >> j)) != MLA_OK)
			return r;
	for (int j = 0; j <= k; j++)
		memcpy(t->lv[j].h[t->lv[j].len++], add[j], HLEN);
	t->size++;
	return MLA_OK;
}

/* Level k holds the complete subtrees of 2^k leaves: size >> k of them in the first size. */
mla_err mla_merkle_tree_truncate(mla_merkle_tree *t, uint64_t size)
{
	if (size > t->size)
		return MLA_ERR_ARG;
	for (int k = 0; k < MLA_MERKLE_PROOF_MAX; k++)
		t->lv[k].len = (size_t)(size >> k);
	t->size = size;
	return MLA_OK;
}

mla_err mla_merkle_tree_leaf(const mla_merkle_tree *tree, uint64_t index, uint8_t out[HLEN])
{
	if (index >= tree->size)
		return MLA_ERR_ARG;
	memcpy(out, tree->lv[0].h[index], HLEN);
	return MLA_OK;
}

mla_err mla_merkle_tree_root(const mla_merkle_tree *tree, uint64_t size, uint8_t out[HLEN])
{
	hasher h;
	source s = {&h, NULL, tree, NULL, NULL};
	mla_err r;

	if (size > tree->size)
		return MLA_ERR_ARG;
	if (size == 0)
		return mla_merkle_empty_root(out);
	if ((r = hasher_init(&h)) == MLA_OK)
		r = subtree_hash(&s, 0, size, out);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_tree_inclusion_proof(const mla_merkle_tree *tree, uint64_t index,
					uint64_t size, mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, NULL, tree, NULL, NULL};
	mla_err r;

	proof->len = 0;
	if (size > tree->size || index >= size)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = inclusion(&s, index, size, proof);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_tree_consistency_proof(const mla_merkle_tree *tree, uint64_t size1,
					  uint64_t size2, mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, NULL, tree, NULL, NULL};
	mla_err r;

	proof->len = 0;
	if (size2 > tree->size || size1 > size2)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = consistency(&s, size1, size2, proof);
	hasher_done(&h);
	return r;
}

/* ---- over complete-subtree roots the caller keeps (merkle_nodes.h) ---- */

mla_err mla_merkle_nodes_root(mla_merkle_node_fn fn, void *arg, uint64_t size, uint8_t out[HLEN])
{
	hasher h;
	source s = {&h, NULL, NULL, fn, arg};
	mla_err r;

	if (size == 0)
		return mla_merkle_empty_root(out);
	if ((r = hasher_init(&h)) == MLA_OK)
		r = subtree_hash(&s, 0, size, out);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_nodes_inclusion_proof(mla_merkle_node_fn fn, void *arg, uint64_t index,
					 uint64_t size, mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, NULL, NULL, fn, arg};
	mla_err r;

	proof->len = 0;
	if (index >= size)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = inclusion(&s, index, size, proof);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_nodes_consistency_proof(mla_merkle_node_fn fn, void *arg, uint64_t size1,
					   uint64_t size2, mla_merkle_proof *proof)
{
	hasher h;
	source s = {&h, NULL, NULL, fn, arg};
	mla_err r;

	proof->len = 0;
	if (size1 > size2)
		return MLA_ERR_ARG;
	if ((r = hasher_init(&h)) == MLA_OK)
		r = consistency(&s, size1, size2, proof);
	hasher_done(&h);
	return r;
}

mla_err mla_merkle_nodes_compact(mla_merkle_node_fn fn, void *arg, uint64_t size,
				 mla_merkle_compact *c)
{
	mla_err r;

	mla_merkle_compact_init(c);
	for (unsigned k = 0; k < 64; k++)
		if (((size >> k) & 1) != 0 && (r = fn(k, (size >> k) - 1, c->hash[k], arg)) != MLA_OK)
			return r;
	c->size = size;
	return MLA_OK;
}
