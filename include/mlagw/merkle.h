/* RFC 6962 Merkle tree hashing over SHA-256 for the audit log (protocol/SPEC.md, section 14):
 * leaf and node hashes, roots, inclusion and consistency proofs (generation as in RFC 6962
 * section 2.1, verification with the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2),
 * a fixed-size compact range for streaming roots and a tree of all complete subtrees for
 * fast proofs. Hashes are 32 bytes; sizes and indices are leaf counts, indices from 0. */
#ifndef MLAGW_MERKLE_H
#define MLAGW_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

#define MLA_MERKLE_HASH_LEN 32
/* The most hashes a proof holds: enough for any tree of up to 2^63 leaves. */
#define MLA_MERKLE_PROOF_MAX 64

/* An inclusion or consistency proof: len hashes, in the order of RFC 6962 (bottom up). */
typedef struct mla_merkle_proof {
	size_t len;
	uint8_t hash[MLA_MERKLE_PROOF_MAX][MLA_MERKLE_HASH_LEN];
} mla_merkle_proof;

/* ---- hashing ---- */

/* SHA-256(0x00 || data). data may be NULL when len is 0. Fails only if OpenSSL does
 * (MLA_ERR_INTERNAL). */
mla_err mla_merkle_leaf_hash(const void *data, size_t len, uint8_t out[MLA_MERKLE_HASH_LEN]);
/* SHA-256(0x01 || left || right). out may alias left or right. */
mla_err mla_merkle_node_hash(const uint8_t left[MLA_MERKLE_HASH_LEN],
			     const uint8_t right[MLA_MERKLE_HASH_LEN],
			     uint8_t out[MLA_MERKLE_HASH_LEN]);
/* The root of an empty tree: SHA-256 of the empty string. */
mla_err mla_merkle_empty_root(uint8_t out[MLA_MERKLE_HASH_LEN]);

/* The leaf hash of many inputs through one OpenSSL context (one per hash costs as much as
 * hashing a short entry). Not thread-safe: one hasher per thread. */
typedef struct mla_merkle_hasher mla_merkle_hasher;

mla_err mla_merkle_hasher_new(mla_merkle_hasher **hasherp);
void mla_merkle_hasher_free(mla_merkle_hasher *hasher);
/* mla_merkle_leaf_hash(data, len, out) with the hasher's context. */
mla_err mla_merkle_hasher_leaf(mla_merkle_hasher *hasher, const void *data, size_t len,
			       uint8_t out[MLA_MERKLE_HASH_LEN]);

/* ---- over an array of leaf hashes held by the caller (O(n) hashes each) ---- */

/* C11 does not convert uint8_t (*)[32] to const uint8_t (*)[32] implicitly: pass a mutable
 * array of leaf hashes as MLA_MERKLE_LEAVES(array). */
#define MLA_MERKLE_LEAVES(p) ((const uint8_t (*)[MLA_MERKLE_HASH_LEN])(p))

/* MTH(D[0:n]) of the n leaf hashes (leaves may be NULL when n is 0). */
mla_err mla_merkle_root(const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN], size_t n,
			uint8_t out[MLA_MERKLE_HASH_LEN]);
/* PATH(index, D[0:n]) of RFC 6962 2.1.1. index < n, else MLA_ERR_ARG. Costs about n node
 * hashes: for repeated proofs over a large log, use mla_merkle_tree. */
mla_err mla_merkle_inclusion_proof(const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN], size_t n,
				   size_t index, mla_merkle_proof *proof);
/* PROOF(m, D[0:n]) of RFC 6962 2.1.2 between the trees of the first m and all n leaves;
 * 0 <= m <= n, else MLA_ERR_ARG. Empty when m is 0 or m == n. Costs about n node hashes. */
mla_err mla_merkle_consistency_proof(const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN], size_t n,
				     size_t m, mla_merkle_proof *proof);

/* ---- verification (no tree needed) ---- */

/* MLA_OK when proof shows that leaf is the leaf hash at index in the tree of size leaves
 * whose root is root (RFC 9162 2.1.3.2); MLA_ERR_SIG_INVALID when it does not (wrong proof,
 * index, size, leaf or root), MLA_ERR_ARG when index >= size or the proof is too long. */
mla_err mla_merkle_inclusion_verify(uint64_t index, uint64_t size,
				    const uint8_t leaf[MLA_MERKLE_HASH_LEN],
				    const mla_merkle_proof *proof,
				    const uint8_t root[MLA_MERKLE_HASH_LEN]);
/* MLA_OK when proof shows that the tree of size2 with root2 extends the tree of size1 with
 * root1 (RFC 9162 2.1.4.2). size1 == size2 needs an empty proof and equal roots; size1 == 0
 * needs an empty proof (the empty tree is a prefix of every tree). MLA_ERR_SIG_INVALID when
 * the proof does not verify, MLA_ERR_ARG when size1 > size2. */
mla_err mla_merkle_consistency_verify(uint64_t size1, uint64_t size2,
				      const uint8_t root1[MLA_MERKLE_HASH_LEN],
				      const uint8_t root2[MLA_MERKLE_HASH_LEN],
				      const mla_merkle_proof *proof);

/* ---- compact range: a root over a stream of leaves in O(log n) memory ---- */

/* The roots of the perfect subtrees that make up the tree: hash[k] is the root of the
 * subtree of 2^k leaves when bit k of size is set. No allocation; about 2 KiB. */
typedef struct mla_merkle_compact {
	uint64_t size;
	uint8_t hash[MLA_MERKLE_PROOF_MAX][MLA_MERKLE_HASH_LEN];
} mla_merkle_compact;

void mla_merkle_compact_init(mla_merkle_compact *c);
/* Appends a leaf hash: O(1) amortised, at most 63 node hashes. */
mla_err mla_merkle_compact_append(mla_merkle_compact *c, const uint8_t leaf[MLA_MERKLE_HASH_LEN]);
/* The root of the tree of the c->size leaves appended so far: O(log n). */
/* mla_merkle_compact_append with the hasher's context (a verifier appends millions). */
mla_err mla_merkle_hasher_compact_append(mla_merkle_hasher *hasher, mla_merkle_compact *c,
					 const uint8_t leaf[MLA_MERKLE_HASH_LEN]);
mla_err mla_merkle_compact_root(const mla_merkle_compact *c, uint8_t out[MLA_MERKLE_HASH_LEN]);

/* ---- tree of all complete subtrees: proofs in O(log^2 n) hashes ----
 * Keeps, for every height k, the roots of all complete aligned subtrees of 2^k leaves
 * (level 0 is the leaf hashes themselves): about 2n hashes, 64 MiB for 2^20 leaves.
 * Any subtree of the RFC 6962 recursion is a complete subtree or a complete left part plus
 * a smaller such subtree on the right, so its hash takes O(log n) node hashes, a proof
 * O(log^2 n) (under 100 microseconds at 2^20 leaves). Roots, inclusion and consistency
 * proofs are available for every past size too. Not thread-safe for concurrent appends. */
typedef struct mla_merkle_tree mla_merkle_tree;

/* A new empty tree that refuses to grow beyond max_leaves (MLA_ERR_TOO_LARGE). */
mla_err mla_merkle_tree_new(uint64_t max_leaves, mla_merkle_tree **treep);
void mla_merkle_tree_free(mla_merkle_tree *tree);
uint64_t mla_merkle_tree_size(const mla_merkle_tree *tree);
/* Appends a leaf hash: O(1) amortised node hashes. */
mla_err mla_merkle_tree_append(mla_merkle_tree *tree, const uint8_t leaf[MLA_MERKLE_HASH_LEN]);
/* Shrinks the tree to its first size leaves (size <= current size, else MLA_ERR_ARG), as if
 * the later ones had never been appended: to forget leaves whose entries were rolled back. */
mla_err mla_merkle_tree_truncate(mla_merkle_tree *tree, uint64_t size);
/* The leaf hash at index (< current size). */
mla_err mla_merkle_tree_leaf(const mla_merkle_tree *tree, uint64_t index,
			     uint8_t out[MLA_MERKLE_HASH_LEN]);
/* The root of the tree of the first size leaves (size <= current size): O(log n). */
mla_err mla_merkle_tree_root(const mla_merkle_tree *tree, uint64_t size,
			     uint8_t out[MLA_MERKLE_HASH_LEN]);
/* PATH(index, D[0:size]) for size <= current size. */
mla_err mla_merkle_tree_inclusion_proof(const mla_merkle_tree *tree, uint64_t index,
					uint64_t size, mla_merkle_proof *proof);
/* PROOF(size1, D[0:size2]) for size1 <= size2 <= current size. */
mla_err mla_merkle_tree_consistency_proof(const mla_merkle_tree *tree, uint64_t size1,
					  uint64_t size2, mla_merkle_proof *proof);

#endif
