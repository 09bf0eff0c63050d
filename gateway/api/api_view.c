/* JSON views of the local API: a message summary (sent or received), its history, list
 * filters from the query string and paged lists. Metadata only, never a document. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mlagw/codec.h"
#include "api_server.h"
#include "mlagw/json.h"
#include "submit/submit.h"

#define API_LIST_DEFAULT 100
#define API_LIST_MAX 500

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

static const char *state_name(int state)
{
	return state == 6 ? "received" : msg_state_name((msg_state)state);
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
						"state", state_name(w->state), "created",
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
	*out = o;
	o = NULL;
	r = MLA_OK;
out:
	json_decref(o);
	return r;
}

static int in_list(const char *v, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

static int parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	char z = 0;
	int n = 0;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 || n != 20 || z != 'Z')
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000;
	return 1;
}

static int parse_count(const char *s, size_t max, size_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max)
		return 0;
	*out = (size_t)v;
	return 1;
}

static int state_parse(const char *v, int *state)
{
	for (int i = 0; i <= 6; i++)
		if (strcmp(v, state_name(i)) == 0) {
			*state = i;
			return 1;
		}
	return 0;
}

static const char *const list_params[] = {"case_id", "peer", "kind", "action", "priority",
					  "state", "since", "until", "limit", "cursor", NULL};
static const char *const inbox_params[] = {"case_id", "peer", "kind", "action", "priority",
					   "unanswered", "since", "until", "limit", "cursor", NULL};

int api_list_filter(struct api_req *r, struct store_api_filter *f, int inbox)
{
	const char *v, *bad = NULL;
	mla_priority p;

	memset(f, 0, sizeof(*f));
	f->priority = f->state = -1;
	f->limit = API_LIST_DEFAULT;
	f->direction = inbox ? "in" : "out";
	if (!api_query_only(r, inbox ? inbox_params : list_params))
		return 0;
	f->case_id = api_query(r, "case_id");
	f->peer = api_query(r, "peer");
	if ((f->kind = api_query(r, "kind")) != NULL && !in_list(f->kind, mla_kinds))
		bad = "kind";
	if ((f->action = api_query(r, "action")) != NULL && !in_list(f->action, mla_actions))
		bad = "action";
	if ((v = api_query(r, "priority")) != NULL) {
		if (mla_priority_parse(v, &p) != MLA_OK)
			bad = "priority";
		f->priority = (int)p;
	}
	if ((v = api_query(r, "state")) != NULL && !state_parse(v, &f->state))
		bad = "state";
	if ((v = api_query(r, "unanswered")) != NULL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			bad = "unanswered";
		f->unanswered = strcmp(v, "true") == 0;
	}
	if ((v = api_query(r, "since")) != NULL && !parse_time(v, &f->since_ms))
		bad = "since";
	if ((v = api_query(r, "until")) != NULL && !parse_time(v, &f->until_ms))
		bad = "until";
	if ((v = api_query(r, "limit")) != NULL && (!parse_count(v, API_LIST_MAX, &f->limit) ||
						    f->limit == 0))
		bad = "limit";
	if ((v = api_query(r, "cursor")) != NULL && !parse_count(v, (size_t)1 << 40, &f->offset))
		bad = "cursor";
	if (bad != NULL) {
		api_reply_error(r, 400, "bad-field", "invalid query parameter value", bad);
		return 0;
	}
	if (r->decision == API_ALLOW_OWN)
		f->own = r->actor;
	return 1;
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
		(void)snprintf(next, sizeof(next), "%zu", f->offset + n);
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
