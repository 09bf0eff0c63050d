/* listCases (docs/api/openapi.yaml): the cases with a running deadline, in the order of lists
 * and queues (protocol/SPEC.md 16.9: crisis, urgent, then by due time), each as getCase shows
 * its lifecycle; an authority limited to its own cases sees only its own. */
#include <stdlib.h>
#include <string.h>

#include "api_server.h"
#include "cases/cases.h"
#include "core/clock.h"
#include "mlagw/json.h"

struct ranked {
	mla_deadline_rank rank; /* first: mla_deadline_rank_cmp reads it */
	json_t *item;
};

static int ranked_cmp(const void *a, const void *b)
{
	return mla_deadline_rank_cmp(&((const struct ranked *)a)->rank,
				     &((const struct ranked *)b)->rank);
}

static mla_deadline_priority priority_of(const json_t *o)
{
	const char *p = json_string_value(json_object_get(o, "priority"));

	return p == NULL ? MLA_DEADLINE_NORMAL : strcmp(p, "crisis") == 0 ? MLA_DEADLINE_CRISIS
			 : strcmp(p, "urgent") == 0 ? MLA_DEADLINE_URGENT : MLA_DEADLINE_NORMAL;
}

/* 1 when the listed case o stays: it has a due time, is past it when overdue is asked, and
 * is the caller's own when it is limited to its own; -1 when the answer was sent. */
static int kept(struct api_req *r, const json_t *o, int overdue)
{
	const char *st = json_string_value(json_object_get(o, "deadline_state"));

	if (!json_is_integer(json_object_get(o, "due_ms")) ||
	    (overdue && (st == NULL || strcmp(st, "overdue") != 0)))
		return 0;
	return api_own_case(r, json_string_value(json_object_get(o, "case_id")));
}

/* The kept items of all, ranked, into a new array (NULL: out of memory; *sent when a refusal
 * was answered). */
static json_t *rank_items(struct api_req *r, json_t *all, int overdue, int *sent)
{
	struct ranked *v = calloc(json_array_size(all) + 1, sizeof(*v));
	json_t *out = json_array(), *o;
	size_t i, n = 0;
	int k;

	*sent = 0;
	if (v == NULL || out == NULL)
		goto fail;
	json_array_foreach(all, i, o) {
		if ((k = kept(r, o, overdue)) < 0) {
			*sent = 1;
			goto fail;
		}
		if (k == 0)
			continue;
		v[n].rank = (mla_deadline_rank){priority_of(o),
						(int64_t)json_integer_value(json_object_get(o, "due_ms")),
						json_string_value(json_object_get(o, "case_id"))};
		v[n++].item = o;
	}
	qsort(v, n, sizeof(*v), ranked_cmp);
	for (i = 0; i < n; i++)
		if (json_array_append(out, v[i].item) != 0)
			goto fail;
	free(v);
	return out;
fail:
	free(v);
	json_decref(out);
	return NULL;
}

void api_list_cases(struct api_req *r)
{
	static const char *const only[] = {"deadline", NULL};
	struct cases_view v = {&r->g->snap->cfg.deadlines.rules, gw_now_ms()};
	const char *which, *own = NULL;
	json_t *all = NULL, *items = NULL;
	mla_diag d = {MLA_OK, ""};
	int sent = 0;
	mla_buf b;
	mla_err e;

	if (!api_query_only(r, only))
		return;
	which = api_query(r, "deadline");
	if (which != NULL && strcmp(which, "due") != 0 && strcmp(which, "overdue") != 0) {
		api_reply_error(r, 400, "bad-field", "deadline must be due or overdue", "deadline");
		return;
	}
	if (r->decision == API_ALLOW_OWN) /* never a peer's case */
		own = r->g->snap->cfg.state;
	mla_buf_init(&b, (size_t)64 << 20);
	if ((e = cases_items(r->g->store, NULL, own, &v, &all, &d)) == MLA_OK &&
	    (items = rank_items(r, all, which != NULL && strcmp(which, "overdue") == 0,
				&sent)) == NULL && !sent)
		e = mla_fail(&d, MLA_ERR_NOMEM, "out of memory");
	if (e == MLA_OK && !sent)
		e = mla_json_dump(json_pack("{s:O, s:I}", "items", items, "now_ms",
					    (json_int_t)v.now_ms), &b);
	if (!sent)
		api_reply_built(r, 200, e, &b, &d);
	json_decref(items);
	json_decref(all);
	mla_buf_free(&b);
}
