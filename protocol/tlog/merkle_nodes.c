/* Roots and proofs from stored complete-subtree roots (see merkle_nodes.h): the walks of
 * RFC 6962 2.1.1 and 2.1.2 from the root down, where every range they meet is a complete
 * subtree read through the caller's function or a complete left part and a smaller range on
 * its right. */
#include <string.h>

#include "mlagw/merkle_nodes.h"

#define HLEN MLA_MERKLE_HASH_LEN

struct src {
	mla_merkle_node_fn fn;
	void *arg;
};

/* The largest power of two smaller than n (n >= 2): the split point of RFC 6962. */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (63 - __builtin_clzll(n - 1));
}

/* MTH(D[begin:end]) for end > begin, begin a multiple of the split point of the range (true
 * of every range of the RFC 6962 recursion): a complete subtree read as it is, otherwise its
 * complete left part hashed with the rest (at most 64 levels deep). */
static mla_err range_hash(const struct src *s, uint64_t begin, uint64_t end, uint8_t out[HLEN])
{
	uint64_t n = end - begin, k;
	uint8_t left[HLEN], right[HLEN];
	mla_err r;

	if ((n & (n - 1)) == 0) {
		unsigned level = (unsigned)__builtin_ctzll(n);
		return s->fn(level, begin >> level, out, s->arg);
	}
	k = split_point(n);
	if ((r = range_hash(s, begin, begin + k, left)) != MLA_OK ||
	    (r = range_hash(s, begin + k, end, right)) != MLA_OK)
		return r;
	return mla_merkle_node_hash(left, right, out);
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

mla_err mla_merkle_nodes_root(mla_merkle_node_fn fn, void *arg, uint64_t size, uint8_t out[HLEN])
{
	struct src s = {fn, arg};

	if (size == 0)
		return mla_merkle_empty_root(out);
	return range_hash(&s, 0, size, out);
}

mla_err mla_merkle_nodes_inclusion_proof(mla_merkle_node_fn fn, void *arg, uint64_t index,
					 uint64_t size, mla_merkle_proof *p)
{
	struct src s = {fn, arg};
	uint64_t begin = 0, end = size;
	mla_err r;

	p->len = 0;
	if (index >= size)
		return MLA_ERR_ARG;
	while (end - begin > 1) {
		uint64_t k = split_point(end - begin);
		if (p->len == MLA_MERKLE_PROOF_MAX)
			return MLA_ERR_TOO_LARGE;
		if (index < begin + k) {
			r = range_hash(&s, begin + k, end, p->hash[p->len]);
			end = begin + k;
		} else {
			r = range_hash(&s, begin, begin + k, p->hash[p->len]);
			begin += k;
		}
		if (r != MLA_OK)
			return r;
		p->len++;
	}
	reverse(p);
	return MLA_OK;
}

mla_err mla_merkle_nodes_consistency_proof(mla_merkle_node_fn fn, void *arg, uint64_t m,
					   uint64_t size, mla_merkle_proof *p)
{
	struct src s = {fn, arg};
	uint64_t begin = 0, end = size;
	int complete = 1; /* the b of SUBPROOF: D[begin:m] is the whole old tree */
	mla_err r;

	p->len = 0;
	if (m > size)
		return MLA_ERR_ARG;
	if (m == 0 || m == size)
		return MLA_OK;
	for (;;) {
		if (m == end && complete)
			break;
		if (p->len == MLA_MERKLE_PROOF_MAX)
			return MLA_ERR_TOO_LARGE;
		if (m == end) {
			if ((r = range_hash(&s, begin, end, p->hash[p->len++])) != MLA_OK)
				return r;
			break;
		}
		uint64_t k = split_point(end - begin);
		if (m <= begin + k) {
			r = range_hash(&s, begin + k, end, p->hash[p->len]);
			end = begin + k;
		} else {
			r = range_hash(&s, begin, begin + k, p->hash[p->len]);
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
