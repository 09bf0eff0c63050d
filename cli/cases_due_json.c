/* The rows of `mlagw cases --due` / `--overdue` from the gateway's case list (the socket's
 * GET /local/v1/cases, SPEC 16.9 "deadlines"): one row per case with a due time, its legal
 * deadline the one falling due first. */
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "cases_due.h"

static mla_deadline_state state_of(const char *s)
{
	if (s != NULL && strcmp(s, "overdue") == 0)
		return MLA_DEADLINE_OVERDUE;
	if (s != NULL && strcmp(s, "due-soon") == 0)
		return MLA_DEADLINE_DUE_SOON;
	return MLA_DEADLINE_NOT_DUE;
}

static mla_deadline_priority priority_of(const char *s)
{
	if (s != NULL && strcmp(s, "crisis") == 0)
		return MLA_DEADLINE_CRISIS;
	if (s != NULL && strcmp(s, "urgent") == 0)
		return MLA_DEADLINE_URGENT;
	return MLA_DEADLINE_NORMAL;
}

static void clock_of(const json_t *d, mla_deadline_clock *c)
{
	c->set = 1;
	c->due_ms = (int64_t)json_integer_value(json_object_get(d, "due_ms"));
	c->permille = (int64_t)json_integer_value(json_object_get(d, "fraction"));
	c->state = state_of(json_string_value(json_object_get(d, "state")));
}

static const char *str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v != NULL ? v : dflt;
}

/* One case into r; 0 when it has no due time (no row). */
static int row_of(const json_t *c, struct cases_due_row *r)
{
	const json_t *d;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_integer(json_object_get(c, "due_ms")))
		return 0;
	(void)mla_snprintf_cut(r->case_id, sizeof(r->case_id), "%s", str_or(c, "case_id", "-"));
	(void)mla_snprintf_cut(r->peer, sizeof(r->peer), "%s", str_or(c, "peer", "-"));
	(void)mla_snprintf_cut(r->kind, sizeof(r->kind), "%s", str_or(c, "kind", "-"));
	r->priority = priority_of(json_string_value(json_object_get(c, "priority")));
	r->dl.due_ms = (int64_t)json_integer_value(json_object_get(c, "due_ms"));
	r->dl.state = state_of(json_string_value(json_object_get(c, "deadline_state")));
	r->dl.paused = json_is_true(json_object_get(c, "paused"));
	json_array_foreach(json_object_get(c, "deadlines"), i, d) {
		int wished = strcmp(str_or(d, "deadline", ""), "wished") == 0;
		mla_deadline_clock k;

		memset(&k, 0, sizeof(k));
		clock_of(d, &k);
		if (wished) {
			r->dl.wished = k;
		} else if (!r->dl.legal.set || k.due_ms < r->dl.legal.due_ms) {
			r->dl.legal = k;
			(void)mla_snprintf_cut(r->rule, sizeof(r->rule), "%s", str_or(d, "rule", "-"));
		}
	}
	return 1;
}

mla_err cases_due_rows(const json_t *items, struct cases_due_row **rows, size_t *n)
{
	size_t i, m = 0, cap = json_array_size(items);
	struct cases_due_row *out;
	const json_t *c;

	*rows = NULL;
	*n = 0;
	if ((out = calloc(cap > 0 ? cap : 1, sizeof(*out))) == NULL)
		return MLA_ERR_NOMEM;
	json_array_foreach(items, i, c)
		m += (size_t)row_of(c, &out[m]);
	*rows = out;
	*n = m;
	return MLA_OK;
}
