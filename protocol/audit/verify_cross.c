/* Audit bundle verification with several bundles: the split-view check across them. Each bundle's
 * verified heads (its own checkpoints and the peers' checkpoints it cosigned) are pooled; two
 * roots for one log at one size, or a head whose root is not the root of that log's own
 * exported entries at its size, means the log showed different histories to different
 * parties. A head beyond a log's exported entries cannot be judged here and is counted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

struct xhead {
	const mla_audit_head *h;
	size_t bundle;
};

static int cmp_head(const void *a, const void *b)
{
	const mla_audit_head *x = ((const struct xhead *)a)->h, *y = ((const struct xhead *)b)->h;
	int c = strcmp(x->origin, y->origin);

	if (c != 0)
		return c;
	if (x->size != y->size)
		return x->size < y->size ? -1 : 1;
	return memcmp(x->root, y->root, sizeof(x->root));
}

/* Records one split view of kind on log origin at size, between bundles b0 and b1. */
static void cross_fail(struct vcross *x, mla_audit_refusal kind, const char *origin,
		       uint64_t size, size_t b0, size_t b1, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
static void cross_fail(struct vcross *x, mla_audit_refusal kind, const char *origin,
		       uint64_t size, size_t b0, size_t b1, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	mla_audit_split *sp, *p;

	if (x->nsplits >= MLA_AUDIT_FAILURES_LISTED) { /* bundles forged to disagree everywhere */
		x->unlisted++;
		return;
	}
	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a diagnostic: a marked cut is fine */
	va_end(ap);
	if ((p = mla_grow(x->splits, &x->capsplits, x->nsplits, sizeof(*p))) == NULL) {
		x->nomem = 1;
		return;
	}
	x->splits = p;
	sp = &x->splits[x->nsplits];
	memset(sp, 0, sizeof(*sp));
	if ((sp->message = strdup(msg)) == NULL) {
		x->nomem = 1;
		return;
	}
	sp->kind = kind;
	/* a verified head's origin, of the same size */
	mla_require(mla_strcpy(sp->origin, sizeof(sp->origin), origin) == MLA_OK);
	sp->size = size;
	sp->bundle[0] = b0;
	sp->bundle[1] = b1;
	x->nsplits++;
}

static void hex8(const uint8_t *root, char out[17])
{
	mla_require(mla_hex_encode(root, 8, out, 17) == MLA_OK);
}

/* Two roots for one log and size anywhere in the pool. */
static void same_size(struct vcross *x, const struct xhead *hs, size_t n,
		      const char *const *files)
{
	for (size_t i = 1; i < n; i++) {
		const mla_audit_head *a = hs[i - 1].h, *b = hs[i].h;
		char ra[17], rb[17];
		if (strcmp(a->origin, b->origin) != 0 || a->size != b->size)
			continue;
		if (memcmp(a->root, b->root, sizeof(a->root)) == 0) {
			x->compared++;
			continue;
		}
		hex8(a->root, ra);
		hex8(b->root, rb);
		cross_fail(x, MLA_AUDIT_R_SPLIT_ROOTS, a->origin, a->size, hs[i - 1].bundle,
			   hs[i].bundle, "split view: %s has two roots at size %llu: %s… (%s, in "
			   "%s) and %s… (%s, in %s)", a->origin, (unsigned long long)a->size, ra,
			   a->what, files[hs[i - 1].bundle], rb, b->what, files[hs[i].bundle]);
	}
}

/* The heads of log v (from other bundles) against the roots of v's own entries. */
static int against_log(struct vcross *x, const struct vctx *v, size_t self,
		       const struct xhead *hs, size_t n, const char *const *files)
{
	/* the log's own entries are its truth only when they hash to its signed checkpoints */
	int trusted = v->have_key && v->fam[F_CERT].failed == 0 &&
		      v->fam[F_CHECKPOINTS].failed == 0 && v->fam[F_CHECKPOINTS].ok > 0 &&
		      v->fam[F_TREE].failed == 0 && v->fam[F_ENTRIES].failed == 0;
	uint64_t *sizes = calloc(n + 1, sizeof(*sizes));
	uint8_t(*roots)[MLA_MERKLE_HASH_LEN] = calloc(n + 1, sizeof(*roots));
	size_t *at = calloc(n + 1, sizeof(*at)), m = 0;
	int rc = -1;

	if (sizes == NULL || roots == NULL || at == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const mla_audit_head *h = hs[i].h;
		if (hs[i].bundle == self || strcmp(h->origin, v->origin) != 0)
			continue;
		if (!trusted || h->size > v->nentries) {
			x->unchecked++;
			continue;
		}
		at[m] = i;
		sizes[m++] = h->size; /* ascending: the pool is sorted by origin, then size */
	}
	/* the roots at every size in one more read of the log's entries */
	if (m > 0 && audit_roots_at(v, sizes, m, roots) != 0)
		goto out;
	for (size_t k = 0; k < m; k++) {
		const mla_audit_head *h = hs[at[k]].h;
		char rh[17], rl[17];

		if (memcmp(roots[k], h->root, sizeof(roots[k])) == 0) {
			x->compared++;
			continue;
		}
		hex8(h->root, rh);
		hex8(roots[k], rl);
		cross_fail(x, MLA_AUDIT_R_SPLIT_LOG, h->origin, h->size, hs[at[k]].bundle, self,
			   "split view: %s at size %llu has root %s… (%s, in %s), but the log "
			   "exported in %s has root %s… at that size", h->origin,
			   (unsigned long long)h->size, rh, h->what, files[hs[at[k]].bundle],
			   files[self], rl);
	}
	rc = 0;
out:
	free(sizes);
	free(roots);
	free(at);
	return rc;
}

/* Whether bundle w holds a witnessed head of origin at size (*found) or beyond (*later). */
static void witnessed_in(const struct vctx *w, const char *origin, uint64_t size, int *found,
			 int *later)
{
	*found = *later = 0;
	for (size_t i = 0; i < w->nheads; i++) {
		const mla_audit_head *h = &w->heads[i];
		if (h->witness[0] == '\0' || strcmp(h->origin, origin) != 0)
			continue;
		*found |= h->size == size;
		*later |= h->size > size;
	}
}

/* Head h of bundle l, cosigned by State c: in each other bundle of that State (w), found,
 * beyond what it holds (not judged), or left out while later heads are there. */
static void cosigner_recorded(struct vcross *x, const struct vctx *vs, size_t n, size_t l,
			      const mla_audit_head *h, const char *c, const char *const *files)
{
	int found, later, lost = 0;

	/* a witness whose log is in a later epoch lost its store once (SPEC 14, "Log epochs"):
	 * what it cosigned before may have gone with it */
	for (size_t w = 0; w < n; w++)
		lost |= w != l && memcmp(vs[w].state, c, 2) == 0 && vs[w].epoch >= 2;
	for (size_t w = 0; w < n; w++) {
		if (w == l || memcmp(vs[w].state, c, 2) != 0)
			continue;
		witnessed_in(&vs[w], h->origin, h->size, &found, &later);
		if (found)
			x->compared++;
		else if (!later || lost)
			x->unchecked++;
		else
			cross_fail(x, MLA_AUDIT_R_SPLIT_WITNESS, h->origin, h->size, l, w,
				   "witnessed head missing: %.2s cosigned %s at size %llu (in %s), "
				   "but %s holds later heads of that log and not this one", c,
				   h->origin, (unsigned long long)h->size, files[l], files[w]);
	}
}

/* A cosignature on a log's checkpoint says the witness recorded that head: when the witness's
 * bundle holds later heads of that log but not this one, it was left out. */
static void cosigned_recorded(struct vcross *x, const struct vctx *vs, size_t n,
			      const char *const *files)
{
	for (size_t l = 0; l < n; l++)
		for (size_t i = 0; i < vs[l].nheads; i++) {
			const mla_audit_head *h = &vs[l].heads[i];
			for (const char *c = h->cosigners; *c != '\0'; c += 2)
				cosigner_recorded(x, vs, n, l, h, c, files);
		}
}

int audit_cross_check(const struct vctx *vs, const char *const *files, size_t n,
		      struct vcross *x)
{
	struct xhead *hs;
	size_t nh = 0, k = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		nh += vs[i].nheads;
	if ((hs = calloc(nh + 1, sizeof(*hs))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < vs[i].nheads; j++)
			hs[k++] = (struct xhead){&vs[i].heads[j], i};
	qsort(hs, nh, sizeof(*hs), cmp_head);
	same_size(x, hs, nh, files);
	cosigned_recorded(x, vs, n, files);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = against_log(x, &vs[i], i, hs, nh, files);
	free(hs);
	return rc != 0 || x->nomem ? -1 : 0;
}
