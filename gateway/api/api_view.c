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

static mla_err opt_string(mla_buf *b, const char *key, const char *v)
{
	mla_err r;

	if (v == NULL || v[0] == '\0')
		return MLA_OK;
	if ((r = mla_buf_printf(b, ",\"%s\":", key)) != MLA_OK)
		return r;
	return mla_json_string(b, v);
}

mla_err api_row_json(struct gw *g, const struct store_api_row *w, int with_history, mla_buf *b,
		     mla_diag *d)
{
	char created[21], received[21];
	mla_err r;

	mla_time_format((time_t)(w->created_ms / 1000), created);
	mla_time_format((time_t)(w->received_ms / 1000), received);
	if ((r = mla_buf_printf(b, "{\"message_id\":\"%s\",\"direction\":\"%s\",\"case_id\":",
				w->message_id, w->incoming ? "in" : "out")) != MLA_OK ||
	    (r = mla_json_string(b, w->case_id)) != MLA_OK ||
	    (r = opt_string(b, "in_reply_to", w->in_reply_to)) != MLA_OK ||
	    (r = mla_buf_printf(b, ",\"peer\":\"%s\",\"kind\":\"%s\",\"action\":\"%s\","
				   "\"priority\":\"%s\",\"state\":\"%s\",\"created\":\"%s\"",
				w->peer, w->kind, w->action,
				mla_priority_name((mla_priority)w->priority), state_name(w->state),
				created)) != MLA_OK ||
	    (r = opt_string(b, "submitted_by", w->submitted_by)) != MLA_OK ||
	    (r = opt_string(b, "last_error", w->last_error)) != MLA_OK)
		return r;
	if (w->incoming && (r = mla_buf_printf(b, ",\"received\":\"%s\"", received)) != MLA_OK)
		return r;
	if (!w->incoming && (r = mla_buf_printf(b, ",\"attempts\":%u", w->attempts)) != MLA_OK)
		return r;
	if (with_history && ((r = mla_buf_append_str(b, ",\"history\":")) != MLA_OK ||
			     (r = status_history_json(g, w->message_id, b, d)) != MLA_OK))
		return r;
	return mla_buf_append_str(b, "}");
}

static int in_list(const char *v, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

/* A real UTC date and time in the seconds form (2026-02-31 is refused, not carried). */
static int parse_time(const char *s, int64_t *ms)
{
	time_t t = mla_time_parse(s);

	if (t < 0)
		return 0;
	*ms = (int64_t)t * 1000;
	return 1;
}

static int parse_count(const char *s, size_t min, size_t max, size_t *out)
{
	uint64_t v;

	if (mla_parse_u64(s, min, max, &v) != MLA_OK)
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
	const char *v, *bad = NULL, *why = NULL;
	char msg[64];
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
	if ((v = api_query(r, "since")) != NULL && !parse_time(v, &f->since_ms)) {
		bad = "since";
		why = "since is not a real UTC time YYYY-MM-DDThh:mm:ssZ";
	}
	if ((v = api_query(r, "until")) != NULL && !parse_time(v, &f->until_ms)) {
		bad = "until";
		why = "until is not a real UTC time YYYY-MM-DDThh:mm:ssZ";
	}
	if ((v = api_query(r, "limit")) != NULL && !parse_count(v, 1, API_LIST_MAX, &f->limit))
		bad = "limit";
	if ((v = api_query(r, "cursor")) != NULL &&
	    !parse_count(v, 0, (size_t)1 << 40, &f->offset))
		bad = "cursor";
	if (bad != NULL) {
		/* the message names the parameter too: clients often show only the message */
		if (why == NULL && mla_snprintf(msg, sizeof(msg), "invalid value for query "
						"parameter %s", bad) == MLA_OK)
			why = msg;
		api_reply_error(r, 400, "bad-field", why != NULL ? why : "invalid query parameter",
				bad);
		return 0;
	}
	if (r->decision == API_ALLOW_OWN)
		f->own = r->actor;
	return 1;
}

struct list_ctx {
	struct gw *g;
	mla_buf *b;
	int with_history;
	size_t n;
	mla_diag *d;
};

static mla_err add_row(const struct store_api_row *row, void *arg)
{
	struct list_ctx *l = arg;
	mla_err r;

	if (l->n++ > 0 && (r = mla_buf_append_str(l->b, ",")) != MLA_OK)
		return r;
	return api_row_json(l->g, row, l->with_history, l->b, l->d);
}

void api_list_reply(struct api_req *r, struct store_api_filter *f, int with_history)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	struct list_ctx l = {r->g, &b, with_history, 0, &d};
	size_t n = 0;
	mla_err e;

	mla_buf_init(&b, (size_t)64 << 20);
	if (with_history && f->case_id != NULL) /* a case: {"case_id", "messages"} */
		e = mla_buf_append_str(&b, "{\"case_id\":") == MLA_OK &&
				    mla_json_string(&b, f->case_id) == MLA_OK ?
			    mla_buf_append_str(&b, ",\"messages\":[") : MLA_ERR_NOMEM;
	else
		e = mla_buf_append_str(&b, "{\"items\":[");
	if (e == MLA_OK &&
	    (e = store_api_select(r->g->store, f, add_row, &l, &n, &d)) == MLA_OK &&
	    (e = mla_buf_append_str(&b, "]")) == MLA_OK && f->limit > 0 && n == f->limit)
		e = mla_buf_printf(&b, ",\"next_cursor\":\"%zu\"", f->offset + n);
	if (e == MLA_OK)
		e = mla_buf_append_str(&b, "}\n");
	if (e == MLA_OK && n == 0 && with_history && f->case_id != NULL)
		api_reply_error(r, 404, "not-found", "no message in that case", "case_id");
	else if (e == MLA_OK)
		api_reply_json(r, 200, &b);
	else
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
	mla_buf_free(&b);
}
