/* RFC 6962 roots and proofs computed from the roots of complete subtrees that the caller
 * keeps elsewhere (the gateway's store): the same results as the functions of merkle.h over
 * the leaves, for any past size, in O(log n) node reads for a root and O(log^2 n) for a
 * proof, with O(1) memory. A complete subtree is named by its height (level, 0 for a leaf)
 * and its index at that height: it covers leaves idx << level .. ((idx + 1) << level) - 1. */
#ifndef MLAGW_MERKLE_NODES_H
#define MLAGW_MERKLE_NODES_H

#include <stdint.h>

#include "mlagw/merkle.h"

/* Writes the root of the complete subtree (level, idx) to out; any error is passed on. */
typedef mla_err (*mla_merkle_node_fn)(unsigned level, uint64_t idx,
				      uint8_t out[MLA_MERKLE_HASH_LEN], void *arg);

/* MTH(D[0:size]); the empty root when size is 0. */
mla_err mla_merkle_nodes_root(mla_merkle_node_fn fn, void *arg, uint64_t size,
			      uint8_t out[MLA_MERKLE_HASH_LEN]);
/* PATH(index, D[0:size]); index < size, else MLA_ERR_ARG. */
mla_err mla_merkle_nodes_inclusion_proof(mla_merkle_node_fn fn, void *arg, uint64_t index,
					 uint64_t size, mla_merkle_proof *proof);
/* PROOF(size1, D[0:size2]); size1 <= size2, else MLA_ERR_ARG; empty when size1 is 0 or
 * size1 == size2. */
mla_err mla_merkle_nodes_consistency_proof(mla_merkle_node_fn fn, void *arg, uint64_t size1,
					   uint64_t size2, mla_merkle_proof *proof);
/* The compact range of size (the right edge: one complete subtree root per set bit of size),
 * so that mla_merkle_compact_append can go on from there. */
mla_err mla_merkle_nodes_compact(mla_merkle_node_fn fn, void *arg, uint64_t size,
				 mla_merkle_compact *c);

#endif
