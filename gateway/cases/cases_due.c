/* Only the cases whose deadlines may have changed (see cases.h, cases_due_each): each case's
 * summary in the store (schema 12) says until when its deadlines' states and escalation
 * thresholds hold; a look computes the cases whose time has come and writes their new
 * summaries, so the escalation scan every few seconds and the metrics cost the cases due,
 * not every case. */
#include <stdlib.h>
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"

struct due_list {
	struct store_due *v;
	size_t n, cap;
};

static mla_err collect(const struct store_due *d, void *arg)
{
	struct due_list *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap > 0 ? x->cap * 2 : 64;
		struct store_due *v = realloc(x->v, cap * sizeof(*v));

		if (v == NULL)
			return MLA_ERR_NOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = *d;
	return MLA_OK;
}

/* The rules as text ("production=10d;..."): summaries computed under other rules (a reload
 * changed them) are computed again. */
static mla_err rules_text(const mla_deadline_rules *rules, char *out, size_t cap,
			  mla_diag *diag)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < MLA_DEADLINE_RULE_N; i++) {
		char one[128];

		if (mla_deadline_rule_format(&rules->rule[i], one, sizeof(one)) != MLA_OK ||
		    mla_snprintf(out + used, cap - used, "%s=%s;",
				 mla_deadline_rule_name((mla_deadline_rule_id)i), one) != MLA_OK)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "the deadline rules are too long");
		used += strlen(out + used);
	}
	return MLA_OK;
}

static mla_err prepare(gw_store *st, const mla_deadline_rules *rules, mla_diag *diag)
{
	char text[STORE_META_MAX];
	mla_err r;

	if ((r = rules_text(rules, text, sizeof(text), diag)) != MLA_OK)
		return r;
	return store_due_rules(st, text, diag);
}

/* The summary dl gives c (what store_due keeps). */
static struct store_due summary(const struct store_due *was, const struct cases_deadlines *dl)
{
	struct store_due s = *was;

	s.next_ms = dl->next_ms;
	s.state = dl->set && dl->open && dl->n > 0 ? (int)dl->state : 0;
	s.priority = dl->set ? (int)dl->priority : 0;
	s.fire = dl->set && dl->open && dl->fire;
	return s;
}

static int same(const struct store_due *a, const struct store_due *b)
{
	return a->next_ms == b->next_ms && a->state == b->state && a->priority == b->priority &&
	       a->fire == b->fire;
}

/* The visit of the cases due (fire: and of those with a threshold to fire), rules already
 * checked. */
static mla_err visit(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms, int fire,
		     cases_deadlines_fn fn, void *arg, struct cases_due_scan *scan,
		     mla_diag *diag)
{
	struct due_list x = {NULL, 0, 0};
	struct cases_deadlines dl;
	size_t w = 0;
	mla_err r;

	/* the list's statement is done before each case's own reads */
	if ((r = store_due_list(st, now_ms, fire, collect, &x, diag)) == MLA_ERR_NOMEM)
		r = mla_fail(diag, r, "out of memory listing the cases due");
	for (size_t i = 0; r == MLA_OK && i < x.n; i++) {
		struct store_due now;

		if ((r = cases_deadlines_at(st, rules, &x.v[i].c, now_ms, &dl, diag)) != MLA_OK)
			break;
		scan->read++;
		now = summary(&x.v[i], &dl);
		if (dl.set && dl.open)
			r = fn(&x.v[i].c, &dl, arg);
		if (!same(&now, &x.v[i]))
			x.v[w++] = now; /* i >= w: the entries before i are read already */
	}
	if (r == MLA_OK && w > 0) {
		if (store_due_put(st, x.v, w, &scan->put_diag) == MLA_OK)
			scan->written += w;
		else
			scan->put_failed = 1; /* computed again at the next look: no result lost */
	}
	free(x.v);
	return r;
}

mla_err cases_due_each(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
		       cases_deadlines_fn fn, void *arg, struct cases_due_scan *scan,
		       mla_diag *diag)
{
	struct cases_due_scan none;

	if (scan == NULL)
		scan = &none;
	memset(scan, 0, sizeof(*scan));
	if (prepare(st, rules, &scan->put_diag) != MLA_OK) { /* the store cannot take it: all */
		scan->put_failed = 1;
		return cases_deadlines_each(st, rules, now_ms, fn, arg, diag);
	}
	return visit(st, rules, now_ms, 1, fn, arg, scan, diag);
}

mla_err cases_due_count(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			struct cases_due_counts *out, struct cases_due_scan *scan,
			mla_diag *diag)
{
	struct cases_due_scan none;
	uint64_t held[3][3];
	mla_err r;

	if (scan == NULL)
		scan = &none;
	memset(scan, 0, sizeof(*scan));
	memset(out, 0, sizeof(*out));
	if (prepare(st, rules, &scan->put_diag) != MLA_OK) {
		scan->put_failed = 1;
		return cases_due_count_all(st, rules, now_ms, out, diag);
	}
	/* the summaries that still hold first: the visit then moves the others past now */
	if ((r = store_due_counts(st, now_ms, held, diag)) != MLA_OK)
		return r;
	for (int p = 0; p < 3; p++) {
		out->due[p] = held[MLA_DEADLINE_DUE_SOON][p];
		out->overdue[p] = held[MLA_DEADLINE_OVERDUE][p];
	}
	return visit(st, rules, now_ms, 0, cases_due_count_one, out, scan, diag);
}
