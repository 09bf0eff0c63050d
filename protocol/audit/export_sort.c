/* The export's messages in a sort on disk (SPEC 15 "Export memory"): each entry that names a
 * message becomes a fixed-size row (the id, the seq, whether the filter selects it, the
 * receipt it names) sorted by id then seq in the verifier's external merge sort
 * (verify_xsort.c, runs of audit_sort_mem bytes); a filtered export sorts the ids it selects
 * first and reads the entries again for their rows. A message's rows are then consecutive: one
 * pass over them gives the selected messages in id order (their envelopes, then their
 * receipts) and, in a filtered bundle, the seqs of their entries, sorted again for the
 * inclusion proofs. Nothing kept grows with the log. */
#include <stddef.h>
#include <string.h>

#include <openssl/sha.h>

#include "export_internal.h"
#include "verify_internal.h"

static mla_err sort_failed(struct export_ctx *x)
{
	return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
			   "cannot sort the messages in a temporary file");
}

mla_err export_sort_open(struct export_ctx *x)
{
	size_t mem = audit_sort_mem();

	if (xsort_init(&x->msgs, sizeof(struct export_mrow), EXPORT_MROW_KEY, mem) != 0)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->have_msgs = 1;
	if (x->filtered && xsort_init(&x->sel, MLA_UUID_LEN + 1, MLA_UUID_LEN + 1, mem) != 0)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->have_sel = x->filtered;
	return MLA_OK;
}

/* Whether the filter selects e (an audit key change names no message: were one to, it would
 * select nothing). */
static int selects(const struct export_ctx *x, const mla_audit_entry *e)
{
	return e->event != MLA_AUDIT_AUDIT_KEY_CHANGED &&
	       (x->filter == NULL || mla_audit_filter_selects(x->filter, e));
}

mla_err export_sort_entry(struct export_ctx *x, const mla_audit_entry *e, uint64_t seq,
			  int first)
{
	struct export_mrow r;

	memset(&r, 0, sizeof(r)); /* the id's tail is zeros: memcmp orders ids as strcmp does */
	memcpy(r.id, e->message_id, strnlen(e->message_id, MLA_UUID_LEN));
	if (first && x->filtered) /* the ids it selects; their rows at the second read */
		return !selects(x, e) || xsort_put(&x->sel, r.id) == 0 ? MLA_OK : sort_failed(x);
	xsort_put_be64(r.seq, seq);
	r.flags = (uint8_t)((selects(x, e) ? EXPORT_MROW_SELECTED : 0) |
			    (e->event == MLA_AUDIT_AUDIT_KEY_CHANGED ? EXPORT_MROW_KEY_CHANGE : 0));
	if (e->has_receipt_sha256) {
		r.flags |= EXPORT_MROW_RECEIPT;
		memcpy(r.sha, e->receipt_sha256, sizeof(r.sha));
	}
	return xsort_put(&x->msgs, &r) == 0 ? MLA_OK : sort_failed(x);
}

mla_err export_group(struct export_ctx *x, uint64_t at, struct export_group *g)
{
	const struct export_mrow *r;

	memset(g, 0, sizeof(*g));
	g->first = at;
	for (g->end = at; g->end < x->msgs.total; g->end++) {
		if ((r = xsort_row(&x->msgs, g->end)) == NULL)
			return sort_failed(x);
		if (g->end > at && memcmp(r->id, g->id, sizeof(r->id)) != 0)
			break;
		if (g->end == at)
			memcpy(g->id, r->id, sizeof(g->id));
		g->selected |= (r->flags & EXPORT_MROW_SELECTED) != 0;
	}
	return MLA_OK;
}

/* Whether an entry of g names the receipt of digest sha: in a filtered bundle any entry of
 * the message, else those the first read counted (not an audit key change). */
static mla_err group_names(struct export_ctx *x, const struct export_group *g,
			   const uint8_t sha[32], int *named)
{
	const struct export_mrow *r;

	*named = 0;
	for (uint64_t i = g->first; i < g->end && !*named; i++) {
		if ((r = xsort_row(&x->msgs, i)) == NULL)
			return sort_failed(x);
		*named = (r->flags & EXPORT_MROW_RECEIPT) != 0 &&
			 (x->filtered || (r->flags & EXPORT_MROW_KEY_CHANGE) == 0) &&
			 memcmp(r->sha, sha, sizeof(r->sha)) == 0;
	}
	return MLA_OK;
}

mla_err export_receipt_named(struct export_ctx *x, const struct export_group *g,
			     const uint8_t *p, size_t n, int *named)
{
	uint8_t sha[32];

	SHA256(p, n, sha);
	return group_names(x, g, sha, named);
}

/* The seqs of the rows of the selected messages into x->incl. */
static mla_err sort_named(struct export_ctx *x)
{
	struct export_group g;
	const struct export_mrow *r;
	mla_err e;

	if (xsort_init(&x->incl, 8, 8, audit_sort_mem()) != 0)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->have_incl = 1;
	for (uint64_t at = 0; at < x->msgs.total; at = g.end) {
		if ((e = export_group(x, at, &g)) != MLA_OK)
			return e;
		for (uint64_t i = g.first; g.selected && i < g.end; i++)
			if ((r = xsort_row(&x->msgs, i)) == NULL || xsort_put(&x->incl, r->seq) != 0)
				return sort_failed(x);
	}
	return xsort_finish(&x->incl) == 0 ? MLA_OK : sort_failed(x);
}

/* Whether id (NUL-padded) is among the selected ids: a binary search while they fit one run
 * in memory; else every row goes to the sort (the rows' flags still select). */
static int maybe_selected(struct export_ctx *x, const char *id)
{
	uint64_t lo = 0, hi = x->sel.total;

	if (!x->sel.in_mem)
		return 1;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int c = memcmp(xsort_row(&x->sel, mid), id, MLA_UUID_LEN + 1);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* The second read of a filtered export: the rows of the entries of the messages it selects
 * (so that an export that selects few messages of a long log sorts only theirs). */
static mla_err named_row(const mla_audit_source_entry *row, void *arg)
{
	struct export_ctx *x = arg;
	char id[MLA_UUID_LEN + 1];
	mla_audit_entry e;

	if (mla_audit_entry_parse(row->entry, row->len, &e, NULL) != MLA_OK ||
	    e.message_id[0] == '\0')
		return MLA_OK;
	memset(id, 0, sizeof(id));
	memcpy(id, e.message_id, strnlen(e.message_id, MLA_UUID_LEN));
	return maybe_selected(x, id) ? export_sort_entry(x, &e, row->seq, 0) : MLA_OK;
}

mla_err export_second_read(struct export_ctx *x)
{
	const mla_audit_source *s = x->src;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (x->filtered) {
		if (xsort_finish(&x->sel) != 0)
			return sort_failed(x);
		if (x->sel.total > 0 &&
		    (r = export_source_done(x, s->entries(s->ctx, 0, x->last_size, named_row, x,
							  &d),
					    &d)) != MLA_OK)
			return r;
		xsort_free(&x->sel);
		x->have_sel = 0;
	}
	if (xsort_finish(&x->msgs) != 0)
		return sort_failed(x);
	return x->filtered ? sort_named(x) : MLA_OK;
}

mla_err export_named_seq(struct export_ctx *x, uint64_t i, uint64_t *seq)
{
	const uint8_t *p = xsort_row(&x->incl, i);

	if (p == NULL)
		return sort_failed(x);
	*seq = xsort_get_be64(p);
	return MLA_OK;
}

void export_sort_free(struct export_ctx *x)
{
	if (x->have_msgs)
		xsort_free(&x->msgs);
	if (x->have_sel)
		xsort_free(&x->sel);
	if (x->have_incl)
		xsort_free(&x->incl);
}
