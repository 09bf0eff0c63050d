/* The export's records about messages (SPEC section 15): the proofs, an RFC 6962 consistency
 * proof between each two consecutive checkpoints and, in a filtered bundle, an inclusion proof
 * of each entry of a selected message in the latest checkpoint (one lower-case hex hash per
 * line), then the envelopes and receipts of the selected messages. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "export_internal.h"
#include "mlagw/codec.h"
#include "mlagw/merkle_nodes.h"

static mla_err add_proof(struct export_ctx *x, const char *name, const mla_merkle_proof *p)
{
	char body[MLA_MERKLE_PROOF_MAX * 65 + 1];
	size_t n = 0;
	mla_err r;

	/* p->len <= MLA_MERKLE_PROOF_MAX: body holds every line and the last NUL */
	for (size_t i = 0; i < p->len; i++) {
		mla_require(mla_hex_encode(p->hash[i], MLA_MERKLE_HASH_LEN, body + n,
					   sizeof(body) - n) == MLA_OK);
		n += 2 * MLA_MERKLE_HASH_LEN;
		body[n++] = '\n';
	}
	if ((r = export_put(x, MLA_BUNDLE_PROOF, name, body, n)) == MLA_OK)
		x->res->proofs++;
	return r;
}

static mla_err proof_failed(struct export_ctx *x, const char *name)
{
	return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_INTERNAL,
			   "proof %s cannot be computed", name);
}

/* Where the proofs come from: the source's kept tree, or a tree of the exported leaves. */
struct prover {
	struct export_ctx *x;
	mla_merkle_tree *t;
	mla_diag d;
};

static mla_err source_node(unsigned level, uint64_t idx, uint8_t out[MLA_MERKLE_HASH_LEN],
			   void *arg)
{
	struct prover *p = arg;
	const mla_audit_source *s = p->x->src;

	return s->node(s->ctx, level, idx, out, &p->d);
}

static mla_err consistency(struct prover *p, uint64_t m, uint64_t n, mla_merkle_proof *out)
{
	return p->t != NULL ? mla_merkle_tree_consistency_proof(p->t, m, n, out)
			    : mla_merkle_nodes_consistency_proof(source_node, p, m, n, out);
}

static mla_err inclusion(struct prover *p, uint64_t i, uint64_t n, mla_merkle_proof *out)
{
	return p->t != NULL ? mla_merkle_tree_inclusion_proof(p->t, i, n, out)
			    : mla_merkle_nodes_inclusion_proof(source_node, p, i, n, out);
}

/* One checkpoint of the read for consistency proofs: "c.<m>.<n>" from the one before. */
struct pair_walk {
	struct prover *pv;
	uint64_t prev;
	mla_err r;
};

static mla_err pair_row(const mla_audit_source_note *row, void *arg)
{
	struct pair_walk *w = arg;
	mla_merkle_proof p;
	char name[64];

	if (row->size > w->pv->x->last_size)
		return MLA_OK; /* not in the bundle (the notes' read refused it already) */
	if (w->prev > 0) {
		mla_require(mla_snprintf(name, sizeof(name), "c.%llu.%llu",
					 (unsigned long long)w->prev,
					 (unsigned long long)row->size) == MLA_OK); /* <= 43 */
		w->r = consistency(w->pv, w->prev, row->size, &p) != MLA_OK
			       ? proof_failed(w->pv->x, name)
			       : add_proof(w->pv->x, name, &p);
	}
	w->prev = row->size;
	return w->r;
}

/* "c.<m>.<n>" for each two consecutive checkpoints (a third read of them: their sizes are
 * not held), then "i.<seq>.<last size>" for each seq of x->incl (a filtered export). */
static mla_err tree_proofs(struct prover *pv)
{
	struct export_ctx *x = pv->x;
	const mla_audit_source *s = x->src;
	struct pair_walk w = {pv, 0, MLA_OK};
	mla_diag d = {MLA_OK, ""};
	uint64_t nincl = x->have_incl ? x->incl.total : 0, seq = 0;
	mla_merkle_proof p;
	char name[64];
	mla_err r;

	if ((r = export_source_done(x, s->checkpoints(s->ctx, pair_row, &w, &d), &d)) != MLA_OK)
		return r;
	for (uint64_t i = 0; i < nincl && r == MLA_OK; i++) {
		if ((r = export_named_seq(x, i, &seq)) != MLA_OK)
			break;
		mla_require(mla_snprintf(name, sizeof(name), "i.%llu.%llu", (unsigned long long)seq,
					 (unsigned long long)x->last_size) == MLA_OK); /* <= 43 */
		r = inclusion(pv, seq, x->last_size, &p) != MLA_OK ? proof_failed(x, name)
								   : add_proof(x, name, &p);
	}
	return r;
}

static mla_err write_proofs(struct export_ctx *x)
{
	uint64_t nleaves = x->res->entries;
	struct prover pv = {x, NULL, {MLA_OK, ""}};
	mla_err r = MLA_OK;

	if (nleaves == 0 || (x->res->checkpoints < 2 && (!x->have_incl || x->incl.total == 0)))
		return MLA_OK; /* nothing to prove: no tree to build (1M leaves cost seconds) */
	if (x->src->node != NULL) /* O(log^2 n) node reads a proof, no leaf in memory */
		return tree_proofs(&pv);
	if (mla_merkle_tree_new(nleaves, &pv.t) != MLA_OK)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM,
				   "no memory for the tree of %llu entries",
				   (unsigned long long)nleaves);
	for (uint64_t i = 0; i < nleaves && r == MLA_OK; i++)
		if (mla_merkle_tree_append(pv.t, x->leaves[i]) != MLA_OK)
			r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_INTERNAL,
					"the tree of the entries cannot be built");
	if (r == MLA_OK)
		r = tree_proofs(&pv);
	mla_merkle_tree_free(pv.t);
	return r;
}

/* The proofs, after the witnessed heads: between consecutive checkpoints, and in a filtered
 * bundle of each entry of a selected message (export_second_read sorted their seqs). */
static mla_err export_proofs(struct export_ctx *x)
{
	if (x->res->entries != x->last_size || x->leaf_missing) { /* no tree to prove from */
		x->res->warnings |= MLA_AUDIT_EXPORT_W_NO_PROOFS;
		return MLA_OK;
	}
	return write_proofs(x);
}

struct blob_add {
	struct export_ctx *x;
	mla_bundle_type t;
	const struct export_group *g;
	int added;
};

/* A receipt no exported entry names is left out: stored once its delivered entry was
 * committed, which may be after the latest checkpoint (a live or crashed gateway); in the
 * bundle it would name no entry and fail verification (SPEC section 15, receipts). */
static mla_err blob_row(const uint8_t *p, size_t n, void *arg)
{
	struct blob_add *b = arg;
	int named = 1;
	mla_err r;

	if (b->t == MLA_BUNDLE_RECEIPT &&
	    ((r = export_receipt_named(b->x, b->g, p, n, &named)) != MLA_OK || !named))
		return named ? r : MLA_OK;
	b->added = 1;
	return export_put(b->x, b->t, b->g->id, p, n);
}

/* The envelope or receipt of id as a record of type t, when the source has one. */
static mla_err export_blob(struct export_ctx *x, const struct export_group *g,
			   mla_bundle_type t, size_t *count)
{
	struct blob_add b = {x, t, g, 0};
	const char *id = g->id;
	mla_diag d = {MLA_OK, ""};
	const mla_audit_source *s = x->src;
	mla_err e = t == MLA_BUNDLE_ENVELOPE ? s->envelope(s->ctx, id, blob_row, &b, &d)
					     : s->receipt(s->ctx, id, blob_row, &b, &d);

	if (e == MLA_ERR_NOT_FOUND && x->err == MLA_OK)
		return MLA_OK;
	if (e == MLA_OK && b.added)
		(*count)++;
	return export_source_done(x, e, &d);
}

/* The record of type t (envelope or receipt) of each selected message, in id order, each
 * followed by its earlier seals: one pass over the sorted rows. */
static mla_err export_blobs(struct export_ctx *x, mla_bundle_type t, size_t *count)
{
	struct export_group g;
	mla_err r = MLA_OK;

	for (uint64_t at = 0; at < x->msgs.total && r == MLA_OK; at = g.end)
		if ((r = export_group(x, at, &g)) == MLA_OK && g.selected &&
		    (r = export_blob(x, &g, t, count)) == MLA_OK)
			r = export_seal_records(x, g.id, t);
	return r;
}

mla_err export_messages(struct export_ctx *x)
{
	mla_err r;

	if ((r = export_proofs(x)) != MLA_OK ||
	    (r = export_blobs(x, MLA_BUNDLE_ENVELOPE, &x->res->envelopes)) != MLA_OK)
		return r;
	return export_blobs(x, MLA_BUNDLE_RECEIPT, &x->res->receipts);
}
