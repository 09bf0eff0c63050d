/* JSON views of the local API: a message summary (sent or received), its history, and paged
 * lists (their filters are parsed in api_parse.c). Metadata only, never a document. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mlagw/codec.h"
#include "api_server.h"
#include "mlagw/json.h"
#include "cases/cases.h"
#include "submit/submit.h"

int api_is_uuid(const char *s)
{
	size_t n = strlen(s);

	if (n != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* One row; in_reply_to, submitted_by and last_error only when set. */
static json_t *row_object(const struct store_api_row *w)
{
	char created[21], received[21];
	json_t *o;

	mla_time_format((time_t)(w->created_ms / 1000), created);
	mla_time_format((time_t)(w->received_ms / 1000), received);
	o = json_pack("{s:s, s:s, s:s}", "message_id", w->message_id, "direction",
		      w->incoming ? "in" : "out", "case_id", w->case_id);
	if (mla_json_set_opt(o, "in_reply_to", w->in_reply_to) != 0 ||
	    json_object_update_new(o, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "peer", w->peer,
						"kind", w->kind, "action", w->action, "priority",
						mla_priority_name((mla_priority)w->priority),
						"state", api_state_name(w->state), "created",
						created)) != 0 ||
	    mla_json_set_opt(o, "submitted_by", w->submitted_by) != 0 ||
	    mla_json_set_opt(o, "last_error", w->last_error) != 0 ||
	    json_object_set_new(o, w->incoming ? "received" : "attempts",
				w->incoming ? json_string(received) :
					      json_integer((json_int_t)w->attempts)) != 0) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

mla_err api_row_json(struct gw *g, const struct store_api_row *w, int with_history,
		     json_t **out, mla_diag *d)
{
	json_t *o = row_object(w), *hist = NULL;
	mla_err r = MLA_ERR_ARG;

	if (o == NULL)
		goto out;
	if (with_history && ((r = status_history_json(g, w->message_id, &hist, d)) != MLA_OK ||
			     (r = json_object_set_new(o, "history", hist) == 0 ? MLA_OK :
										  MLA_ERR_ARG) != MLA_OK))
		goto out;
	if (strcmp(w->action, "request") == 0 &&
	    (r = cases_retrieval_json(g->store, w->message_id, o, d)) != MLA_OK)
		goto out;
	if (with_history && !w->incoming && w->state == (int)MSG_SENDING)
		status_progress_json(g, w->message_id, o); /* attachments (SPEC 17.13) */
	if (with_history && !w->incoming && w->state == (int)MSG_REJECTED &&
	    (r = status_receipt_problems(g, w->message_id, o, d)) != MLA_OK)
		goto out;
	*out = o;
	o = NULL;
	r = MLA_OK;
out:
	json_decref(o);
	return r;
}

int api_list_filter(struct api_req *r, struct store_api_filter *f, int inbox)
{
	struct api_perr e;

	if (api_parse_list_filter(&r->query, inbox, f, &e) != MLA_OK) {
		api_reply_perr(r, &e);
		return 0;
	}
	return api_own_filter(r, f);
}

struct list_ctx {
	struct gw *g;
	json_t *items;
	int with_history;
	mla_diag *d;
};

static mla_err add_row(const struct store_api_row *row, void *arg)
{
	struct list_ctx *l = arg;
	json_t *o = NULL;
	mla_err r;

	if ((r = api_row_json(l->g, row, l->with_history, &o, l->d)) != MLA_OK)
		return r;
	return json_array_append_new(l->items, o) == 0 ? MLA_OK : MLA_ERR_NOMEM;
}

/* A case's lifecycle beside its messages (SPEC 16.8): its record on this side, for each
 * other State; a caller limited to its own cases sees only this State's case of that id. */
static mla_err case_lifecycle(struct api_req *r, const struct store_api_filter *f, json_t *o,
			      mla_diag *d)
{
	struct cases_view v = {&r->g->snap->cfg.deadlines.rules, gw_now_ms()};
	json_t *items = NULL;
	mla_err e;

	if ((e = cases_items(r->g->store, f->case_id, f->own_state, &v, &items, d)) != MLA_OK)
		return e;
	return json_object_set_new(o, "lifecycle", items) == 0 ? MLA_OK : MLA_ERR_NOMEM;
}

void api_list_reply(struct api_req *r, struct store_api_filter *f, int with_history)
{
	mla_diag d = {MLA_OK, ""};
	struct list_ctx l = {r->g, json_array(), with_history, &d};
	int is_case = with_history && f->case_id != NULL;
	json_t *o = NULL;
	char next[24];
	size_t n = 0;
	mla_buf b;
	mla_err e;

	mla_buf_init(&b, (size_t)64 << 20);
	if ((e = l.items != NULL ? MLA_OK : MLA_ERR_NOMEM) == MLA_OK &&
	    (e = store_api_select(r->g->store, f, add_row, &l, &n, &d)) == MLA_OK) {
		/* a case: {"case_id", "messages"}; a list: {"items"[, "next_cursor"]} */
		o = is_case ? json_pack("{s:s, s:O}", "case_id", f->case_id, "messages", l.items) :
			      json_pack("{s:O}", "items", l.items);
		if (o != NULL && is_case)
			e = case_lifecycle(r, f, o, &d);
		mla_require(mla_snprintf(next, sizeof(next), "%zu", f->offset + n) == MLA_OK);
		if (o != NULL && f->limit > 0 && n == f->limit &&
		    json_object_set_new(o, "next_cursor", json_string(next)) != 0)
			e = MLA_ERR_NOMEM;
		if (e == MLA_OK)
			e = mla_json_dump(json_incref(o), &b);
	}
	if (e == MLA_OK && n == 0 && is_case)
		api_reply_error(r, 404, "not-found", "no message in that case", "case_id");
	else
		api_reply_built(r, 200, e, &b, &d);
	json_decref(o);
	json_decref(l.items);
	mla_buf_free(&b);
}
