/* Cases as JSON for the local socket and API (SPEC 16.8): each case's state, last step,
 * pending step and receipt time, and one case's history of steps. Metadata only. */
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
};

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

/* The history of every case listed (after the list: the list's statement is done). */
static mla_err add_histories(struct list_ctx *l, mla_diag *diag)
{
	size_t i;
	json_t *o;
	mla_err r = MLA_OK;

	json_array_foreach(l->items, i, o) {
		struct store_life_key k;
		json_t *h = json_array();

		memset(&k, 0, sizeof(k));
		(void)mla_snprintf_cut(k.state, sizeof(k.state), "%s",
				       json_string_value(json_object_get(o, "requesting")));
		(void)mla_snprintf_cut(k.case_id, sizeof(k.case_id), "%s",
				       json_string_value(json_object_get(o, "case_id")));
		(void)mla_snprintf_cut(k.peer, sizeof(k.peer), "%s",
				       json_string_value(json_object_get(o, "peer")));
		if (h == NULL || json_object_set_new(o, "steps", h) != 0)
			return MLA_ERR_NOMEM;
		if ((r = store_life_history(l->st, &k, add_row, h, diag)) != MLA_OK)
			return r;
	}
	return r;
}

mla_err cases_items(gw_store *st, const char *case_id, const char *only_state, json_t **out,
		    mla_diag *diag)
{
	struct list_ctx l = {json_array(), case_id, only_state, st};
	mla_err r;

	*out = NULL;
	if (l.items == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if ((r = store_life_list(st, add_case, &l, diag)) == MLA_OK && case_id != NULL)
		r = add_histories(&l, diag);
	if (r == MLA_OK) {
		*out = l.items;
		l.items = NULL;
	}
	json_decref(l.items);
	return r;
}

mla_err cases_json(gw_store *st, const char *case_id, mla_buf *out, mla_diag *diag)
{
	json_t *items = NULL;
	mla_err r;

	if ((r = cases_items(st, case_id, NULL, &items, diag)) == MLA_OK && case_id != NULL &&
	    json_array_size(items) == 0)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "no case %s in the lifecycle", case_id);
	if (r == MLA_OK)
		r = mla_json_dump(json_pack("{s:O}", "items", items), out);
	json_decref(items);
	return r;
}
