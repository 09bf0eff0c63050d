/* The earlier seals of messages sealed again (SPEC 13 Time, Re-sealing; SPEC 15 format 3):
 * for each exported `resealed` entry one seal, its envelope as `envelope <id>.<n>` and the
 * refusal that replaced it as `receipt <id>.<n>`, right after the message's own record. */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "mlagw/codec.h"

mla_err export_remember_seal(struct export_ctx *x, const char *id)
{
	void *p;

	/* entries come in seq order, a message's reseals usually together: look at the last */
	for (size_t i = x->nsealed; i > 0 && i + 8 > x->nsealed; i--)
		if (strcmp(x->sealed[i - 1].id, id) == 0) {
			x->sealed[i - 1].n++;
			return MLA_OK;
		}
	if ((p = mla_grow(x->sealed, &x->capsealed, x->nsealed, sizeof(*x->sealed))) == NULL)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->sealed = p;
	memcpy(x->sealed[x->nsealed].id, id, MLA_UUID_LEN + 1);
	x->sealed[x->nsealed++].n = 1;
	return MLA_OK;
}

static int cmp_sealed(const void *a, const void *b)
{
	return strcmp(((const struct export_sealed *)a)->id, ((const struct export_sealed *)b)->id);
}

/* Sorted once, with a message's counts merged (its reseals may lie far apart in the log). */
static void sort_sealed(struct export_ctx *x)
{
	size_t n = 0;

	qsort(x->sealed, x->nsealed, sizeof(*x->sealed), cmp_sealed);
	for (size_t i = 0; i < x->nsealed; i++) {
		if (n > 0 && strcmp(x->sealed[n - 1].id, x->sealed[i].id) == 0)
			x->sealed[n - 1].n += x->sealed[i].n;
		else
			x->sealed[n++] = x->sealed[i];
	}
	x->nsealed = n;
	x->sealed_sorted = 1;
}

/* bsearch's key is a message id string. */
static int cmp_sealed_key(const void *key, const void *elem)
{
	return strcmp(key, ((const struct export_sealed *)elem)->id);
}

struct seal_add {
	struct export_ctx *x;
	mla_bundle_type t;
	const char *id;
	unsigned upto; /* seals the exported entries name */
};

static mla_err seal_row(const mla_audit_source_seal *row, void *arg)
{
	struct seal_add *a = arg;
	struct export_ctx *x = a->x;
	char name[MLA_BUNDLE_NAME_MAX + 1];
	int env = a->t == MLA_BUNDLE_ENVELOPE;
	mla_err r;

	if (row->seal == 0 || row->seal > a->upto)
		return MLA_OK; /* its resealed entry lies beyond the latest checkpoint */
	mla_require(mla_snprintf(name, sizeof(name), "%s.%u", a->id, row->seal) == MLA_OK);
	r = export_put(x, a->t, name, env ? row->envelope : row->receipt,
		       env ? row->envelope_len : row->receipt_len);
	if (r == MLA_OK) {
		x->seal_records++;
		(*(env ? &x->res->envelopes : &x->res->receipts))++;
	}
	return r;
}

mla_err export_seal_records(struct export_ctx *x, const char *id, mla_bundle_type t)
{
	const mla_audit_source *s = x->src;
	const struct export_sealed *e;
	mla_diag d = {MLA_OK, ""};
	struct seal_add a = {x, t, id, 0};

	if (x->nsealed == 0 || s->seals == NULL)
		return MLA_OK;
	if (!x->sealed_sorted)
		sort_sealed(x);
	if ((e = bsearch(id, x->sealed, x->nsealed, sizeof(*x->sealed), cmp_sealed_key)) == NULL)
		return MLA_OK;
	a.upto = e->n;
	return export_source_done(x, s->seals(s->ctx, id, seal_row, &a, &d), &d);
}
