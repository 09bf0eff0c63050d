/* A submission: the header from X-MLA-* request headers, the document as body. A worker seals
 * it for the recipient State; the loop thread stores it in the outbox (durable) and only then
 * answers 202 with the message id, and wakes the relay. */
#include <stddef.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/sha.h>

#include "audit.h"
#include "log.h"
#include "mlagw/json.h"
#include "submit.h"

struct submit_job {
	struct gw_job job;
	struct gw *g;
	struct evhttp_request *req; /* NULL once the client has gone */
	mla_header h;
	mla_buf doc;
	mla_buf env;
	mla_err err;
	mla_diag diag;
	int64_t now_ms;
	int store_failed;
};

struct field_map {
	const char *header;
	size_t offset, size;
};

#define FIELD(h, member) {h, offsetof(mla_header, member), sizeof(((mla_header *)0)->member)}
static const struct field_map fields[] = {
	FIELD("X-MLA-To", to_state),
	FIELD("X-MLA-Kind", kind),
	FIELD("X-MLA-Action", action),
	FIELD("X-MLA-Case-Id", case_id),
	FIELD("X-MLA-In-Reply-To", in_reply_to),
	FIELD("X-MLA-From-Authority", from_authority),
	FIELD("X-MLA-To-Authority", to_authority),
	FIELD("X-MLA-Handling", handling),
};
#undef FIELD

/* Fills h from the request headers; on error names the header in *field. */
static mla_err read_header(struct evhttp_request *req, const struct gw_config *c, mla_header *h,
			   const char **field, mla_diag *diag)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *v;
	mla_err r;

	if ((r = mla_header_init(h)) != MLA_OK)
		return r;
	memcpy(h->from_state, c->state, 3);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((v = evhttp_find_header(in, fields[i].header)) == NULL)
			continue;
		*field = fields[i].header;
		if (strlen(v) >= fields[i].size)
			return mla_fail(diag, MLA_ERR_HEADER, "%s is longer than %zu bytes",
					fields[i].header, fields[i].size - 1);
		memcpy((char *)h + fields[i].offset, v, strlen(v) + 1);
	}
	*field = "X-MLA-Priority";
	if ((v = evhttp_find_header(in, "X-MLA-Priority")) != NULL &&
	    mla_priority_parse(v, &h->priority) != MLA_OK)
		return mla_fail(diag, MLA_ERR_HEADER, "X-MLA-Priority must be normal, urgent or crisis");
	*field = NULL;
	return mla_header_check(h, diag);
}

static void seal_run(struct gw_job *job, struct gw_crypto *k)
{
	struct submit_job *j = (struct submit_job *)job;
	const struct gw_config *c = &job->snap->cfg;
	const mla_recipient *rcpt = k != NULL ? gw_crypto_recipient(k, j->h.to_state) : NULL;

	if (rcpt == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_UNKNOWN_PEER, "no encryption certificate for %s",
				  j->h.to_state);
		return;
	}
	j->err = mla_envelope_seal(&j->h, j->doc.data, j->doc.len, k->signer, rcpt, &c->limits,
				   &j->env, &j->diag);
	mla_buf_free(&j->doc); /* the plaintext leaves memory as soon as it is sealed */
}

static void free_job(struct submit_job *j)
{
	gw_job_release(&j->job);
	mla_buf_free(&j->doc);
	mla_buf_free(&j->env);
	free(j);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	((struct submit_job *)arg)->req = NULL;
}

static void detach(struct submit_job *j)
{
	submit_server_busy_add(j->g, -1);
	if (j->req != NULL)
		evhttp_connection_set_closecb(evhttp_request_get_connection(j->req), NULL, NULL);
}

struct queued_reply {
	struct submit_job *j;
};

static mla_err queued_json(const struct submit_job *j, mla_buf *b)
{
	mla_buf_init(b, 4096);
	if (mla_buf_printf(b, "{\"message_id\":\"%s\",\"case_id\":", j->h.message_id) != MLA_OK ||
	    mla_json_string(b, j->h.case_id) != MLA_OK ||
	    mla_buf_printf(b, ",\"to\":\"%s\",\"state\":\"queued\"}\n", j->h.to_state) != MLA_OK)
		return MLA_ERR_NOMEM;
	return MLA_OK;
}

/* After the commit: "queued" only if the outbox row is durable. */
static void reply_queued(struct gw *g, void *arg, int committed)
{
	struct submit_job *j = arg;
	mla_buf b;

	committed = committed && !j->store_failed;
	if (j->req != NULL) {
		if (!committed)
			submit_reply_error(j->req, 503, "Service Unavailable", MLA_ERR_STORE,
					   "the submission could not be stored; nothing was queued",
					   NULL);
		else if (queued_json(j, &b) == MLA_OK)
			submit_reply_json(j->req, 202, "Accepted", &b);
		else
			submit_reply_error(j->req, 500, "Internal Server Error", MLA_ERR_NOMEM,
					   "out of memory", NULL);
		if (committed)
			mla_buf_free(&b);
	}
	detach(j);
	if (committed) {
		gw_log(GW_LOG_INFO, "submitted", j->h.message_id, "to=%s case=%s kind=%s priority=%s",
		       j->h.to_state, j->h.case_id, j->h.kind, mla_priority_name(j->h.priority));
		relay_kick(g);
	}
	free_job(j);
}

static void fill_out_msg(const struct submit_job *j, const struct gw_config *c,
			 struct out_msg *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->message_id, j->h.message_id, sizeof(m->message_id));
	memcpy(m->case_id, j->h.case_id, sizeof(m->case_id));
	memcpy(m->to_state, j->h.to_state, sizeof(m->to_state));
	memcpy(m->kind, j->h.kind, sizeof(m->kind));
	memcpy(m->action, j->h.action, sizeof(m->action));
	m->priority = (int)j->h.priority;
	m->state = MSG_QUEUED;
	m->created_ms = j->now_ms;
	m->next_attempt_ms = j->now_ms;
	m->deadline_ms = j->now_ms + (int64_t)c->retry.deadline_ms[j->h.priority];
	SHA256(j->env.data, j->env.len, m->digest);
}

static mla_err audit_submitted(struct gw *g, const struct submit_job *j,
			       const struct out_msg *m)
{
	const struct gw_audit_msg a = {
		.message_id = j->h.message_id, .case_id = j->h.case_id, .kind = j->h.kind,
		.action = j->h.action, .from = j->h.from_state, .to = j->h.to_state,
		.actor = "authority:socket", .envelope_sha256 = m->digest,
	};

	return gw_audit_message(g, MLA_AUDIT_SUBMITTED, &a);
}

static void seal_done(struct gw_job *job)
{
	struct submit_job *j = (struct submit_job *)job;
	struct gw *g = j->g;
	struct out_msg m;
	mla_diag d = {MLA_OK, ""};

	if (j->err != MLA_OK) {
		gw_log(GW_LOG_WARN, "submit-refused", j->h.message_id, "error=%s reason=\"%s\"",
		       mla_errname(j->err), mla_diag_message(&j->diag));
		if (j->req != NULL)
			submit_reply_error(j->req, j->err == MLA_ERR_UNKNOWN_PEER ? 422 : 400,
					   "Unprocessable Entity", j->err, mla_diag_message(&j->diag),
					   NULL);
		detach(j);
		free_job(j);
		return;
	}
	fill_out_msg(j, &g->snap->cfg, &m);
	if (store_outbox_put(g->store, &m, j->env.data, j->env.len, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "store-error", j->h.message_id, "op=outbox-put reason=\"%s\"",
		       d.msg);
		j->store_failed = 1;
	} else if (audit_submitted(g, j, &m) != MLA_OK) {
		j->store_failed = 1; /* no "queued" without its audit entry */
	}
	gw_after_commit(g, reply_queued, j);
}

void submit_handle(struct gw *g, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct submit_job *j;
	const char *field = NULL;
	size_t len = evbuffer_get_length(in);

	if (g->stopping) {
			submit_reply_error(req, 503, "Service Unavailable", MLA_ERR_INTERNAL,
						  "gateway is stopping", NULL);
			return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
			submit_reply_error(req, 503, "Service Unavailable", MLA_ERR_NOMEM,
						  "out of memory", NULL);
			return;
	}
	if ((j->err = read_header(req, &g->snap->cfg, &j->h, &field, &j->diag)) != MLA_OK ||
	    (gw_config_peer(&g->snap->cfg, j->h.to_state) == NULL &&
	     (j->err = mla_fail(&j->diag, MLA_ERR_UNKNOWN_PEER, "%s is not a configured peer",
				j->h.to_state)) != MLA_OK)) {
		submit_reply_error(req, j->err == MLA_ERR_UNKNOWN_PEER ? 422 : 400, "Bad Request",
				   j->err, mla_diag_message(&j->diag),
				   j->err == MLA_ERR_UNKNOWN_PEER ? "X-MLA-To" : field);
		free(j);
		return;
	}
	mla_buf_init_secret(&j->doc, len);
	if (mla_buf_append(&j->doc, evbuffer_pullup(in, -1), len) != MLA_OK) {
		free(j);
		submit_reply_error(req, 503, "Service Unavailable", MLA_ERR_NOMEM,
					  "out of memory", NULL);
		return;
	}
	evbuffer_drain(in, len);
	j->g = g;
	j->req = req;
	j->now_ms = gw_now_ms();
	j->job.run = seal_run;
	j->job.done = seal_done;
	submit_server_busy_add(g, 1);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, j);
	gw_pool_submit(g->pool, &j->job, g->snap);
}
