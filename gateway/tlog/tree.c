/* The daemon's audit tree (see checkpoint.h): only its right edge in memory (the roots of the
 * complete subtrees of the current size, at most 64 hashes), every older hash read from the
 * store's persisted ones (store_tree.c) through one code path, merkle_nodes.h, for roots at
 * past sizes, inclusion and consistency proofs. docs/internals/audit-tree.md. */
#include "checkpoint.h"
#include "mlagw/merkle_nodes.h"
#include "tlog_internal.h"

static mla_err node(unsigned level, uint64_t idx, uint8_t out[MLA_MERKLE_HASH_LEN], void *arg)
{
	struct gw *g = arg;

	return store_tree_node(g->store, level, idx, out, NULL);
}

mla_err gw_tree_load(struct gw *g, uint64_t size)
{
	mla_err r = mla_merkle_nodes_compact(node, g, size, &g->tlog->edge);

	g->tlog->tree_ready = r == MLA_OK;
	return r;
}

mla_err gw_tree_sync(struct gw *g)
{
	/* a rolled-back group, or leaves not appended here: the edge read back from the store */
	if (g->tlog->edge.size != g->tlog->audit_next || !g->tlog->tree_ready)
		return gw_tree_load(g, g->tlog->audit_next);
	return MLA_OK;
}

void gw_tree_append(struct gw *g, const uint8_t leaf[32])
{
	if (!g->tlog->tree_ready)
		return;
	/* the tree follows the store: on any doubt, read it back from there */
	if (g->tlog->edge.size + 1 != g->tlog->audit_next ||
	    mla_merkle_compact_append(&g->tlog->edge, leaf) != MLA_OK)
		(void)gw_tree_load(g, g->tlog->audit_next);
}

uint64_t gw_tree_size(const struct gw *g)
{
	return g->tlog->tree_ready ? g->tlog->edge.size : 0;
}

mla_err gw_tree_root(const struct gw *g, uint64_t size, uint8_t out[MLA_MERKLE_HASH_LEN])
{
	if (!g->tlog->tree_ready || size > g->tlog->edge.size)
		return MLA_ERR_ARG;
	if (size == g->tlog->edge.size)
		return mla_merkle_compact_root(&g->tlog->edge, out);
	return mla_merkle_nodes_root(node, (void *)g, size, out);
}

mla_err gw_tree_leaf(const struct gw *g, uint64_t seq, uint8_t out[MLA_MERKLE_HASH_LEN])
{
	if (!g->tlog->tree_ready || seq >= g->tlog->edge.size)
		return MLA_ERR_ARG;
	return node(0, seq, out, (void *)g);
}

mla_err gw_tree_inclusion_proof(const struct gw *g, uint64_t seq, uint64_t size,
				mla_merkle_proof *proof)
{
	if (!g->tlog->tree_ready || size > g->tlog->edge.size)
		return MLA_ERR_ARG;
	return mla_merkle_nodes_inclusion_proof(node, (void *)g, seq, size, proof);
}

mla_err gw_tree_consistency_proof(const struct gw *g, uint64_t from, uint64_t to,
				  mla_merkle_proof *proof)
{
	if (!g->tlog->tree_ready || to > g->tlog->edge.size)
		return MLA_ERR_ARG;
	return mla_merkle_nodes_consistency_proof(node, (void *)g, from, to, proof);
}
