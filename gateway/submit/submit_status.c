/* Status of one message (sent or received) and the gateway's health, as JSON on the local
 * socket. Metadata only: never a document. */
#include <string.h>

#include <stdlib.h>

#include "core/crypto_set.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "mlagw/receipt.h"
#include "cases/cases.h"
#include "relay/relay.h"
#include "submit.h"

struct history_ctx {
	json_t *list;
	mla_err r;
};

static void add_history(const char *state, int64_t at_ms, const char *detail, void *arg)
{
	struct history_ctx *h = arg;
	json_t *o;
	char at[21];

	if (h->r != MLA_OK)
		return;
	mla_time_format((time_t)(at_ms / 1000), at);
	o = json_pack("{s:s, s:s, s:I}", "state", state, "at", at, "at_ms", (json_int_t)at_ms);
	if (mla_json_set_opt(o, "detail", detail) != 0 || json_array_append_new(h->list, o) != 0)
		h->r = MLA_ERR_ARG;
}

mla_err status_history_json(struct gw *g, const char *id, json_t **out, mla_diag *d)
{
	struct history_ctx h = {json_array(), MLA_OK};
	mla_err r;

	if (h.list == NULL)
		return MLA_ERR_NOMEM;
	if ((r = store_history(g->store, id, add_history, &h, d)) == MLA_OK && (r = h.r) == MLA_OK) {
		*out = h.list;
		h.list = NULL;
	}
	json_decref(h.list);
	return r;
}

static json_t *problems_array(const mla_receipt_problems *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n; i++) {
		const mla_receipt_problem *q = &p->list[i];
		json_t *o = json_pack("{s:s, s:s}", "path", q->path, "code", q->code);

		if (o == NULL || mla_json_set_opt(o, "detail", q->detail) != 0 ||
		    json_array_append_new(a, o) != 0) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	if (a != NULL && p->count > p->n &&
	    json_array_append_new(a, json_pack("{s:I}", "more", (json_int_t)(p->count - p->n))) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static void note_rejected_at(const char *state, int64_t at_ms, const char *detail, void *arg)
{
	(void)detail;
	if (strcmp(state, "rejected") == 0)
		*(int64_t *)arg = at_ms;
}

mla_err status_receipt_problems(struct gw *g, const char *id, json_t *o, mla_diag *d)
{
	mla_receipt_problems *p = NULL;
	mla_diag vd = {MLA_OK, ""};
	mla_limits lim = g->snap->cfg.limits;
	int64_t rejected_ms = 0;
	mla_receipt r;
	mla_buf rc;
	json_t *a;
	mla_err e;

	if ((e = store_outbox_receipt_get(g->store, id, &rc, d)) != MLA_OK)
		return e == MLA_ERR_NOT_FOUND ? MLA_OK : e;
	/* checked as of when it was recorded, so that a signer expired since still shows */
	if ((e = store_history(g->store, id, note_rejected_at, &rejected_ms, d)) != MLA_OK) {
		mla_buf_free(&rc);
		return e;
	}
	lim.verify_time = (time_t)(rejected_ms / 1000);
	mla_require(g->crypto != NULL); /* loaded at start; a reload swaps in only a loaded set */
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		e = MLA_ERR_NOMEM;
		goto out;
	}
	/* verified when it was stored; read again through the verifier, the one reader of
	 * receipts (one that does not verify, its root no longer trusted, shows no problems) */
	e = MLA_OK;
	if (mla_receipt_verify_problems(rc.data, rc.len, g->crypto->trust, &lim, &r, p, &vd) !=
		    MLA_OK || p->n == 0)
		goto out;
	if ((a = problems_array(p)) == NULL || json_object_set_new(o, "problems", a) != 0)
		e = MLA_ERR_NOMEM;
out:
	free(p);
	mla_buf_free(&rc);
	return e;
}

void status_progress_json(struct gw *g, const char *id, json_t *o)
{
	struct relay_progress p;

	if (o == NULL || !relay_transfer_progress(g, id, &p))
		return;
	(void)json_object_set_new(o, "progress",
				  json_pack("{s:I, s:I, s:I, s:I}", "segments_done",
					    (json_int_t)p.segments_done, "segments_total",
					    (json_int_t)p.segments_total, "bytes_done",
					    (json_int_t)p.bytes_done, "bytes_total",
					    (json_int_t)p.bytes_total));
}

static json_t *outbox_json(const struct out_msg *m)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "message_id",
			 m->message_id, "direction", "out", "to", m->to_state, "case_id",
			 m->case_id, "kind", m->kind, "action", m->action, "priority",
			 mla_priority_name((mla_priority)m->priority), "state",
			 msg_state_name(m->state), "attempts", (json_int_t)m->attempts,
			 "last_error", m->last_error);
}

/* The message, sent (outbox) or received (inbox), with its history; NOT_FOUND if neither. */
static mla_err message_json(struct gw *g, const char *id, mla_buf *b, mla_diag *d)
{
	struct out_msg m;
	uint8_t digest[32];
	mla_buf receipt;
	json_t *o = NULL, *hist = NULL;
	int found = 0;
	mla_err r;

	if ((r = store_outbox_get(g->store, id, &m, d)) == MLA_OK) {
		o = outbox_json(&m);
		if (m.state == MSG_SENDING)
			status_progress_json(g, id, o);
		if (o != NULL && m.state == MSG_REJECTED)
			r = status_receipt_problems(g, id, o, d);
	} else if (r == MLA_ERR_NOT_FOUND &&
		   (r = store_inbox_lookup(g->store, id, &found, digest, &receipt, d)) == MLA_OK) {
		mla_buf_free(&receipt);
		r = found ? MLA_OK : MLA_ERR_NOT_FOUND;
		if (found)
			o = json_pack("{s:s, s:s, s:s}", "message_id", id, "direction", "in",
				      "state", "received");
	}
	if (r == MLA_OK)
		r = cases_retrieval_json(g->store, id, o, d);
	if (r == MLA_OK && (r = status_history_json(g, id, &hist, d)) == MLA_OK)
		r = json_object_set_new(o, "history", hist) == 0 ? mla_json_dump(json_incref(o), b) :
								  MLA_ERR_ARG;
	json_decref(o);
	return r;
}

static int is_message_id(const char *id)
{
	size_t n = strlen(id);

	if (n != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-'))
			return 0;
	return 1;
}

void submit_status(struct gw *g, struct evhttp_request *req, const char *id)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	mla_err r;

	if (!is_message_id(id)) {
			submit_reply_error(req, 400, "Bad Request", MLA_ERR_ARG,
						  "message id must be a lower-case UUID", "id");
			return;
	}
	mla_buf_init(&b, 1 << 20);
	r = message_json(g, id, &b, &d);
	if (r == MLA_OK)
		submit_reply_json(req, 200, "OK", &b);
	else if (r == MLA_ERR_NOT_FOUND)
		submit_reply_error(req, 404, "Not Found", r, "no message with that id", "id");
	else
		submit_reply_error(req, 500, "Internal Server Error", r, mla_diag_message(&d), NULL);
	mla_buf_free(&b);
}

/* The store's part of the socket's health: {"status"[, "reason"]}. */
static json_t *store_health_json(const struct store_health *h)
{
	return h->failing ? json_pack("{s:s, s:s}", "status", "failing", "reason", h->reason) :
			    json_pack("{s:s}", "status", "ok");
}

void submit_health(struct gw *g, struct evhttp_request *req)
{
	uint64_t counts[6] = {0}, acc = 0, rej = 0;
	mla_diag d = {MLA_OK, ""};
	struct store_health sh;
	mla_buf b;

	mla_buf_init(&b, 4096);
	gw_store_watch(g, &sh);
	if (store_outbox_counts(g->store, counts, &d) != MLA_OK ||
	    store_inbox_count(g->store, &acc, &rej, &d) != MLA_OK ||
	    mla_json_dump(json_pack("{s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I}, s:I, s:I, s:o}",
				    "state", g->snap->cfg.state, "status",
				    g->stopping ? "stopping" : gw_store_damage(g) != NULL ?
				    "store-damaged" : sh.failing ? "failing" :
				    g->hold != NULL ? "held" : "ok",
				    "outbox", "queued",
				    (json_int_t)counts[0], "sending", (json_int_t)counts[1],
				    "awaiting-receipt", (json_int_t)counts[2], "delivered",
				    (json_int_t)counts[3], "rejected", (json_int_t)counts[4],
				    "failed", (json_int_t)counts[5], "inbox", "received",
				    (json_int_t)acc, "workers_pending",
				    (json_int_t)gw_pool_pending(g->pool), "relay_in_flight",
				    (json_int_t)relay_in_flight(g), "store", store_health_json(&sh)),
			  &b) != MLA_OK) {
		submit_reply_error(req, 500, "Internal Server Error", MLA_ERR_STORE,
				   mla_diag_message(&d), NULL);
	} else {
		/* held: not ready for work (the start learning the peers' heads, or a fork) */
		submit_reply_json(req, g->hold != NULL ? 503 : 200,
				  g->hold != NULL ? "Service Unavailable" : "OK", &b);
	}
	mla_buf_free(&b);
}

void submit_cases(struct gw *g, struct evhttp_request *req, const char *id)
{
	struct cases_view v = {&g->snap->cfg.deadlines.rules, gw_now_ms()};
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, 16 << 20);
	if (id != NULL && (id[0] == '\0' || strlen(id) > MLA_CASE_ID_MAX))
		submit_reply_error(req, 400, "Bad Request", MLA_ERR_ARG, "bad case id", NULL);
	else if ((r = cases_json(g->store, id, &v, &b, &d)) == MLA_ERR_NOT_FOUND)
		submit_reply_error(req, 404, "Not Found", r, mla_diag_message(&d), NULL);
	else if (r != MLA_OK)
		submit_reply_error(req, 500, "Internal Server Error", r, mla_diag_message(&d), NULL);
	else
		submit_reply_json(req, 200, "OK", &b);
	mla_buf_free(&b);
}
