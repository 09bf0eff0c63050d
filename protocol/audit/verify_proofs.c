/* Audit bundle verification, the bundle's proofs (SPEC section 15, step "proofs"): each consistency
 * proof between two consecutive signed checkpoints and each inclusion proof of an entry in the
 * latest one verifies against the signed roots (RFC 9162 algorithms), independently of the
 * roots recomputed from the entries; every consecutive pair has one, and in a filtered bundle
 * every entry of a selected message has one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

/* One lower-case hex hash per line, at most MLA_MERKLE_PROOF_MAX lines. */
static int parse_proof(const mla_bundle_record *r, mla_merkle_proof *p)
{
	p->len = 0;
	if (r->len % 65 != 0 || r->len / 65 > MLA_MERKLE_PROOF_MAX)
		return 0;
	for (size_t l = 0; l < r->len / 65; l++) {
		const uint8_t *s = r->data + l * 65;
		if (s[64] != '\n')
			return 0;
		if (mla_hex_decode((const char *)s, 64, p->hash[l], 32, NULL) != MLA_OK)
			return 0;
		p->len++;
	}
	return 1;
}

/* "c.<m>.<n>" or "i.<seq>.<n>": the kind and both numbers (canonical decimals). */
static int parse_name(const char *name, char *kind, uint64_t *a, uint64_t *b)
{
	const char *dot;

	*kind = name[0];
	if ((name[0] != 'c' && name[0] != 'i') || name[1] != '.' ||
	    (dot = strchr(name + 2, '.')) == NULL)
		return 0;
	return mla_parse_u64n(name + 2, (size_t)(dot - (name + 2)), 0, UINT64_MAX, a) == MLA_OK &&
	       mla_parse_u64(dot + 1, 0, UINT64_MAX, b) == MLA_OK;
}

/* The row of the verified checkpoint of size n, or -1 (verify_cptab.c's search). */
static long cp_index(struct vctx *v, uint64_t n)
{
	int err = 0;
	long k = cptab_find(&v->cpt, n, &err);

	v->tmp_failed |= err;
	return err ? -1 : k;
}

/* The verified checkpoint after row k, or -1. */
static long next_cp(struct vctx *v, long k)
{
	int err = 0;
	long j = cptab_next(&v->cpt, k, &err);

	v->tmp_failed |= err;
	return j;
}

/* Row k's checkpoint (its root), zero when the file failed (recorded). */
static struct vcp row_at(struct vctx *v, long k)
{
	struct vcp r;

	if (cptab_get(&v->cpt, (size_t)k, &r) != 0) {
		memset(&r, 0, sizeof(r));
		v->tmp_failed = 1;
	}
	return r;
}

static int cmp_seq(const void *key, const void *elem)
{
	uint64_t a = *(const uint64_t *)key, b = ((const struct vleaf *)elem)->seq;

	return a < b ? -1 : a > b;
}

/* The leaf verify_entries kept of entry seq (one an inclusion proof names), or NULL. */
static struct vleaf *leaf_of(const struct vctx *v, uint64_t seq)
{
	struct vleaf *l = v->npleaves ? bsearch(&seq, v->pleaves, v->npleaves,
						sizeof(*v->pleaves), cmp_seq)
				      : NULL;

	return l != NULL && l->have ? l : NULL;
}

static void check_one(struct vctx *v, const mla_bundle_record *r)
{
	struct vleaf *leaf = NULL;
	mla_merkle_proof p;
	struct vcp ra, rb;
	uint64_t a, b;
	long k, k2 = -1;
	char kind;

	if (!parse_name(r->name, &kind, &a, &b) || !parse_proof(r, &p)) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_FORM, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: not c.<m>.<n> or i.<seq>.<n> with hex hash lines",
		      r->name);
	} else if ((k = cp_index(v, b)) < 0) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_CHECKPOINT, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: no verified checkpoint of size %llu", r->name,
		      (unsigned long long)b);
	} else if (kind == 'c' && ((k2 = cp_index(v, a)) < 0 || next_cp(v, k2) != k)) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_CHECKPOINT, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: %llu and %llu are not consecutive checkpoints",
		      r->name, (unsigned long long)a, (unsigned long long)b);
	} else if (kind == 'c' && (ra = row_at(v, k2), rb = row_at(v, k),
				   mla_merkle_consistency_verify(a, b, ra.root, rb.root, &p) != MLA_OK)) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_INVALID, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: does not show checkpoint %llu extends checkpoint "
		      "%llu", r->name, (unsigned long long)b, (unsigned long long)a);
	} else if (kind == 'i' && (k != v->last_cp || a >= v->nentries ||
				   (leaf = leaf_of(v, a)) == NULL)) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_CHECKPOINT, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: not of an entry of the bundle in the latest "
		      "checkpoint", r->name);
	} else if (kind == 'i' && (rb = row_at(v, k),
				   mla_merkle_inclusion_verify(a, b, leaf->leaf, &p, rb.root) != MLA_OK)) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_PROOF_INVALID, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: entry %llu is not in checkpoint %llu by this proof",
		      r->name, (unsigned long long)a, (unsigned long long)b);
	} else {
		if (kind == 'c') {
			ra = row_at(v, k2);
			ra.pair = 1;
			if (cptab_put(&v->cpt, (size_t)k2, &ra) != 0)
				v->tmp_failed = 1;
		} else if (leaf != NULL) /* always, for an i proof that got here */
			leaf->proven = 1;
		v->fam[F_PROOFS].ok++;
	}
}

/* Export's order (export_proofs.c), which the verifier requires: the c proofs by ascending
 * m (then n), then the i proofs by ascending seq (then n), no name twice. Whether r comes
 * after prev (then prev becomes r's key); a name that does not parse is proof-form's. */
static int in_order(struct vctx *v, const mla_bundle_record *r, uint64_t prev[3], int *first)
{
	uint64_t k[3];
	char kind;

	if (!parse_name(r->name, &kind, &k[1], &k[2]))
		return 1;
	k[0] = kind == 'c' ? 0 : 1;
	if (!*first && (k[0] < prev[0] || (k[0] == prev[0] && (k[1] < prev[1] ||
				(k[1] == prev[1] && k[2] <= prev[2]))))) {
		vfail(v, F_PROOFS, MLA_AUDIT_R_ORDER, MLA_BUNDLE_PROOF, r->name,
		      "proof %s: duplicated or out of order (c.<m>.<n> by m, then i.<seq>.<n> by "
		      "seq)", r->name);
		return 0;
	}
	*first = 0;
	memcpy(prev, k, sizeof(k));
	return 1;
}

/* Every pair of consecutive verified checkpoints has its consistency proof (rows in order). */
static void pairs_proven(struct vctx *v)
{
	struct vcp prev, row;
	int have_prev = 0;

	memset(&prev, 0, sizeof(prev));

	for (long k = 0; k <= v->last_cp; k++) {
		if (cptab_get(&v->cpt, (size_t)k, &row) != 0) {
			v->tmp_failed = 1;
			return;
		}
		if (row.size == 0)
			continue;
		if (have_prev && !prev.pair)
			vfailn(v, F_PROOFS, MLA_AUDIT_R_PROOF_MISSING, MLA_BUNDLE_CHECKPOINT,
			       prev.size, "checkpoints %llu and %llu: no consistency proof in the "
			       "bundle", (unsigned long long)prev.size, (unsigned long long)row.size);
		prev = row;
		have_prev = 1;
	}
}

int verify_proofs(struct vctx *v)
{
	uint64_t prev[3] = {0, 0, 0};
	int first = 1;
	struct vregion g;
	mla_bundle_record r;

	if (vregion_open(v, &g, MLA_BUNDLE_PROOF) != 0)
		return -1;
	while (vregion_next(&g, &r) == 1 && !v->tmp_failed)
		if (in_order(v, &r, prev, &first))
			check_one(v, &r);
	if (vregion_close(&g) != 0)
		return -1;
	pairs_proven(v);
	/* a selected message's entries, which verify_entries put in seq order */
	if (v->have_psort && xsort_finish(&v->psort) != 0) {
		v->tmp_failed = 1;
		return -1;
	}
	for (uint64_t i = 0; v->have_psort && v->last_cp >= 0 && i < v->psort.total; i++) {
		const struct prow *p = xsort_row(&v->psort, i);
		const struct vleaf *l;
		uint64_t seq = 0;

		if (p == NULL) {
			v->tmp_failed = 1;
			return -1;
		}
		for (int k = 0; k < 8; k++)
			seq = seq << 8 | p->seq[k];
		if (seq < v->last_cp_size && ((l = leaf_of(v, seq)) == NULL || !l->proven))
			vfailn(v, F_PROOFS, MLA_AUDIT_R_PROOF_MISSING, MLA_BUNDLE_ENTRY, seq,
			       "entry %llu (message %s): no inclusion proof in the bundle",
			       (unsigned long long)seq, p->id);
	}
	return 0;
}
