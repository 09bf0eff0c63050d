/* Cases as JSON for the local socket and API (SPEC 16.8, 16.9): each case's state, last
 * step, pending step, receipt time and deadlines, and one case's history of steps. Metadata
 * only. */
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"

static void put_time(json_t *o, const char *name, int64_t ms)
{
	char at[21];

	if (ms <= 0)
		return;
	mla_time_format((time_t)(ms / 1000), at);
	(void)json_object_set_new(o, name, json_string(at));
}

static json_t *case_json(const struct store_life_case *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "case_id",
			      c->key.case_id, "requesting", c->key.state, "peer", c->key.peer,
			      "side", mla_life_side_name((mla_life_side)c->side), "state",
			      mla_life_state_name(c->track.state), "last_step", c->track.last,
			      "pending", c->track.pending, "pending_action", c->pending_action);
	char allowed[512];

	if (o == NULL)
		return NULL;
	mla_life_allowed_text(c->track.state, (mla_life_side)c->side, allowed, sizeof(allowed));
	(void)json_object_set_new(o, "allowed", json_string(allowed));
	(void)json_object_set_new(o, "received_ms", json_integer((json_int_t)c->received_ms));
	put_time(o, "received", c->received_ms);
	return o;
}

struct list_ctx {
	json_t *items;
	const char *case_id; /* NULL: every case */
	const char *only;    /* set: only the cases this State requested */
	gw_store *st;
	const struct cases_view *view;
};

static void put_time_ms(json_t *o, const char *name, const char *name_ms, int64_t ms)
{
	char at[MLA_TIME_MS_LEN];

	mla_time_ms_format(ms, at);
	(void)json_object_set_new(o, name, json_string(at));
	(void)json_object_set_new(o, name_ms, json_integer((json_int_t)ms));
}

const char *cases_deadline_state_name(mla_deadline_state s)
{
	return s == MLA_DEADLINE_OVERDUE ? "overdue" : s == MLA_DEADLINE_DUE_SOON ? "due-soon"
										   : "not-due";
}

static json_t *deadline_json(const struct cases_deadline_one *d)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:I}", "deadline",
			      d->which == STORE_DEADLINE_WISHED ? "wished" : "legal", "rule",
			      cases_deadline_name(d->which), "state",
			      cases_deadline_state_name(d->clock.state), "fraction",
			      (json_int_t)d->clock.permille, "paused", d->paused, "extended",
			      d->extended, "fired",
			      (json_int_t)d->fired_pct);

	if (o != NULL)
		put_time_ms(o, "due", "due_ms", d->clock.due_ms);
	return o;
}

/* The case's deadline members (SPEC 16.9), when its request gave deadline facts. */
static mla_err add_deadlines(json_t *o, const struct cases_deadlines *dl)
{
	json_t *a;

	if (!dl->set)
		return MLA_OK;
	if ((a = json_array()) == NULL || json_object_set_new(o, "deadlines", a) != 0)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < dl->n; i++)
		if (json_array_append_new(a, deadline_json(&dl->d[i])) != 0)
			return MLA_ERR_NOMEM;
	if (json_object_set_new(o, "kind", json_string(dl->rec.facts.kind)) != 0 ||
	    json_object_set_new(o, "priority", json_string(cases_priority_name(dl->priority))) !=
		    0 ||
	    json_object_set_new(o, "paused", json_boolean(dl->paused)) != 0)
		return MLA_ERR_NOMEM;
	if (dl->n == 0)
		return MLA_OK;
	put_time_ms(o, "due", "due_ms", dl->due_ms);
	return json_object_set_new(o, "deadline_state",
				   json_string(cases_deadline_state_name(dl->state))) == 0 ?
		       MLA_OK : MLA_ERR_NOMEM;
}

static mla_err add_row(const struct store_life_row *w, void *arg)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:I}", "seq", (json_int_t)w->seq,
			      "message_id", w->message_id, "action", w->action, "by",
			      mla_life_side_name((mla_life_side)w->by), "from",
			      mla_life_state_name(w->from), "to", mla_life_state_name(w->to),
			      "at_ms", (json_int_t)w->at_ms);

	if (o == NULL)
		return MLA_ERR_NOMEM;
	put_time(o, "at", w->at_ms);
	/* what the step's document says for the deadlines (SPEC 16.9) */
	if (w->rule >= 0 && w->rule < MLA_DEADLINE_RULE_N)
		(void)json_object_set_new(o, "rule", json_string(mla_deadline_rule_name(
						      (mla_deadline_rule_id)w->rule)));
	if (w->recorded_ms != MLA_DEADLINE_NO_TIME)
		put_time_ms(o, "recorded", "recorded_ms", w->recorded_ms);
	return json_array_append_new((json_t *)arg, o) == 0 ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err add_case(const struct store_life_case *c, void *arg)
{
	struct list_ctx *l = arg;
	json_t *o;

	if ((l->case_id != NULL && strcmp(l->case_id, c->key.case_id) != 0) ||
	    (l->only != NULL && strcmp(l->only, c->key.state) != 0))
		return MLA_OK;
	if ((o = case_json(c)) == NULL || json_array_append_new(l->items, o) != 0)
		return MLA_ERR_NOMEM;
	return MLA_OK;
}

static void key_of(const json_t *o, struct store_life_key *k)
{
	memset(k, 0, sizeof(*k));
	(void)mla_snprintf_cut(k->state, sizeof(k->state), "%s",
			       json_string_value(json_object_get(o, "requesting")));
	(void)mla_snprintf_cut(k->case_id, sizeof(k->case_id), "%s",
			       json_string_value(json_object_get(o, "case_id")));
	(void)mla_snprintf_cut(k->peer, sizeof(k->peer), "%s",
			       json_string_value(json_object_get(o, "peer")));
}

/* The history of every case listed (after the list: the list's statement is done). */
static mla_err add_histories(struct list_ctx *l, mla_diag *diag)
{
	size_t i;
	json_t *o;
	mla_err r = MLA_OK;

	json_array_foreach(l->items, i, o) {
		struct store_life_key k;
		json_t *h = json_array();

		key_of(o, &k);
		if (h == NULL || json_object_set_new(o, "steps", h) != 0)
			return MLA_ERR_NOMEM;
		if ((r = store_life_history(l->st, &k, add_row, h, diag)) != MLA_OK)
			return r;
	}
	return r;
}

/* The deadlines of every case listed at the view's moment (after the list, as above). */
static mla_err add_all_deadlines(struct list_ctx *l, mla_diag *diag)
{
	struct cases_deadlines dl;
	struct store_life_case c;
	size_t i;
	json_t *o;
	mla_err r = MLA_OK;
	int found = 0;

	json_array_foreach(l->items, i, o) {
		struct store_life_key k;

		key_of(o, &k);
		if ((r = store_life_get(l->st, &k, &c, &found, diag)) != MLA_OK)
			return r;
		if (!found)
			continue;
		if ((r = cases_deadlines_at(l->st, l->view->rules, &c, l->view->now_ms, &dl,
					    diag)) != MLA_OK ||
		    (r = add_deadlines(o, &dl)) != MLA_OK)
			return r;
	}
	return r;
}

mla_err cases_items(gw_store *st, const char *case_id, const char *only_state,
		    const struct cases_view *view, json_t **out, mla_diag *diag)
{
	struct list_ctx l = {json_array(), case_id, only_state, st, view};
	mla_err r;

	*out = NULL;
	if (l.items == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if ((r = store_life_list(st, add_case, &l, diag)) == MLA_OK && case_id != NULL)
		r = add_histories(&l, diag);
	if (r == MLA_OK && view != NULL && view->rules != NULL)
		r = add_all_deadlines(&l, diag);
	if (r == MLA_OK) {
		*out = l.items;
		l.items = NULL;
	}
	json_decref(l.items);
	return r;
}

mla_err cases_json(gw_store *st, const char *case_id, const struct cases_view *view,
		   mla_buf *out, mla_diag *diag)
{
	json_t *items = NULL;
	mla_err r;

	if ((r = cases_items(st, case_id, NULL, view, &items, diag)) == MLA_OK &&
	    case_id != NULL && json_array_size(items) == 0)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "no case %s in the lifecycle", case_id);
	if (r == MLA_OK)
		r = mla_json_dump(json_pack("{s:O, s:I}", "items", items, "now_ms",
					    (json_int_t)(view != NULL ? view->now_ms : 0)), out);
	json_decref(items);
	return r;
}
