/* Status of one message (sent or received) and the gateway's health, as JSON on the local
 * socket. Metadata only: never a document. */
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "relay/relay.h"
#include "submit.h"

struct history_ctx {
	mla_buf *b;
	int n;
	mla_err r;
};

static void add_history(const char *state, int64_t at_ms, const char *detail, void *arg)
{
	struct history_ctx *h = arg;
	char at[21];

	if (h->r != MLA_OK)
		return;
	mla_time_format((time_t)(at_ms / 1000), at);
	if ((h->r = mla_buf_printf(h->b, "%s{\"state\":\"%s\",\"at\":\"%s\",\"at_ms\":%lld",
				   h->n++ ? "," : "", state, at, (long long)at_ms)) != MLA_OK)
		return;
	if (detail != NULL && detail[0] != '\0' &&
	    ((h->r = mla_buf_append_str(h->b, ",\"detail\":")) != MLA_OK ||
	     (h->r = mla_json_string(h->b, detail)) != MLA_OK))
		return;
	h->r = mla_buf_append_str(h->b, "}");
}

mla_err status_history_json(struct gw *g, const char *id, mla_buf *b, mla_diag *d)
{
	struct history_ctx h = {b, 0, MLA_OK};
	mla_err r;

	if ((r = mla_buf_append_str(b, "[")) != MLA_OK ||
	    (r = store_history(g->store, id, add_history, &h, d)) != MLA_OK || h.r != MLA_OK)
		return r != MLA_OK ? r : h.r;
	return mla_buf_append_str(b, "]");
}

static mla_err outbox_json(const struct out_msg *m, mla_buf *b)
{
	mla_err r;

	if ((r = mla_buf_printf(b, "{\"message_id\":\"%s\",\"direction\":\"out\",\"to\":\"%s\","
				   "\"case_id\":", m->message_id, m->to_state)) != MLA_OK ||
	    (r = mla_json_string(b, m->case_id)) != MLA_OK ||
	    (r = mla_buf_printf(b, ",\"kind\":\"%s\",\"action\":\"%s\",\"priority\":\"%s\","
				   "\"state\":\"%s\",\"attempts\":%u,\"last_error\":",
				m->kind, m->action, mla_priority_name((mla_priority)m->priority),
				msg_state_name(m->state), m->attempts)) != MLA_OK)
		return r;
	return mla_json_string(b, m->last_error);
}

static mla_err message_json(struct gw *g, const char *id, mla_buf *b, mla_diag *d)
{
	struct out_msg m;
	struct history_ctx h = {b, 0, MLA_OK};
	uint8_t digest[32];
	mla_buf receipt;
	int found = 0;
	mla_err r;

	if ((r = store_outbox_get(g->store, id, &m, d)) == MLA_OK)
		r = outbox_json(&m, b);
	else if (r == MLA_ERR_NOT_FOUND &&
		 (r = store_inbox_lookup(g->store, id, &found, digest, &receipt, d)) == MLA_OK) {
		mla_buf_free(&receipt);
		if (!found)
			return MLA_ERR_NOT_FOUND;
		r = mla_buf_printf(b, "{\"message_id\":\"%s\",\"direction\":\"in\","
				      "\"state\":\"received\"", id);
	}
	if (r != MLA_OK || (r = mla_buf_append_str(b, ",\"history\":[")) != MLA_OK ||
	    (r = store_history(g->store, id, add_history, &h, d)) != MLA_OK || h.r != MLA_OK)
		return r != MLA_OK ? r : h.r;
	return mla_buf_append_str(b, "]}\n");
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

void submit_health(struct gw *g, struct evhttp_request *req)
{
	uint64_t counts[6] = {0}, acc = 0, rej = 0;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	mla_buf_init(&b, 4096);
	if (store_outbox_counts(g->store, counts, &d) != MLA_OK ||
	    store_inbox_count(g->store, &acc, &rej, &d) != MLA_OK ||
	    mla_buf_printf(&b,
			   "{\"state\":\"%s\",\"status\":\"%s\",\"outbox\":{\"queued\":%llu,"
			   "\"sending\":%llu,\"awaiting-receipt\":%llu,\"delivered\":%llu,"
			   "\"rejected\":%llu,\"failed\":%llu},\"inbox\":{\"received\":%llu},"
			   "\"workers_pending\":%u,\"relay_in_flight\":%u}\n",
			   g->snap->cfg.state, g->stopping ? "stopping" : "ok",
			   (unsigned long long)counts[0], (unsigned long long)counts[1],
			   (unsigned long long)counts[2], (unsigned long long)counts[3],
			   (unsigned long long)counts[4], (unsigned long long)counts[5],
			   (unsigned long long)acc, gw_pool_pending(g->pool), relay_in_flight(g)) !=
		    MLA_OK) {
		submit_reply_error(req, 500, "Internal Server Error", MLA_ERR_STORE,
				   mla_diag_message(&d), NULL);
	} else {
		submit_reply_json(req, 200, "OK", &b);
	}
	mla_buf_free(&b);
}
