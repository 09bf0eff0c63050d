/* Local API operations on received messages: the inbox, one received message with the
 * answers sent to it, and its document, decrypted again in a worker for each read and
 * disclosed only after the access (who, which message, why) is durable in the audit log. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api_server.h"
#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"

void api_list_inbox(struct api_req *r)
{
	struct store_api_filter f;

	if (api_list_filter(r, &f, 1))
		api_list_reply(r, &f, 0);
}

struct answers_ctx {
	mla_buf *b;
	size_t n;
};

static mla_err add_answer(const struct store_api_row *w, void *arg)
{
	struct answers_ctx *a = arg;
	mla_err r;

	if ((r = mla_buf_printf(a->b, "%s{\"message_id\":\"%s\",\"case_id\":", a->n++ ? "," : "",
				w->message_id)) != MLA_OK ||
	    (r = mla_json_string(a->b, w->case_id)) != MLA_OK)
		return r;
	return mla_buf_printf(a->b, ",\"in_reply_to\":\"%s\",\"to\":\"%s\",\"state\":\"%s\"}",
			      w->in_reply_to, w->peer, msg_state_name((msg_state)w->state));
}

void api_get_inbox_item(struct api_req *r)
{
	struct store_api_row row;
	struct store_api_filter f;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	struct answers_ctx a = {&b, 0};
	size_t n;

	if (!api_find_message(r, "in", &row))
		return;
	memset(&f, 0, sizeof(f));
	f.priority = f.state = -1;
	f.direction = "out";
	f.in_reply_to = row.message_id;
	mla_buf_init(&b, (size_t)16 << 20);
	if (api_row_json(r->g, &row, 0, &b, &d) != MLA_OK || b.len < 1 ||
	    (b.len--, mla_buf_append_str(&b, ",\"answers\":[")) != MLA_OK ||
	    store_api_select(r->g->store, &f, add_answer, &a, &n, &d) != MLA_OK ||
	    mla_buf_append_str(&b, "]}\n") != MLA_OK)
		api_reply_error(r, 500, mla_errname(MLA_ERR_STORE), mla_diag_message(&d), NULL);
	else
		api_reply_json(r, 200, &b);
	mla_buf_free(&b);
}

struct doc_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct api_req *r;
	struct store_api_row row;
	char reason[MLA_AUDIT_REASON_MAX + 1];
	mla_buf env, doc;
	mla_verified v;
	mla_err err;
	mla_diag diag;
	int audit_failed;
};

static void doc_free(struct doc_job *j)
{
	gw_job_release(&j->job);
	mla_buf_free(&j->env);
	mla_buf_free(&j->doc); /* secret: wiped */
	free(j);
}

static void doc_run(struct gw_job *job, struct gw_crypto *k)
{
	struct doc_job *j = (struct doc_job *)job;
	const struct gw_config *c = &job->snap->cfg;
	mla_limits lim;

	if (k == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_INTERNAL, "keys unavailable");
		return;
	}
	/* certificates are judged as at reception: a stored envelope stays readable after its
	 * signer's certificate expires (it was valid when the envelope was accepted) */
	lim = c->limits;
	lim.verify_time = (time_t)(j->row.received_ms / 1000);
	j->err = mla_envelope_open(j->env.data, j->env.len, k->trust, k->keys, c->state, &lim,
				   &j->v, &j->doc, &j->diag);
}

static mla_err document_json(const struct doc_job *j, mla_buf *b)
{
	uint8_t md[32];
	char hex[65];
	mla_err r;

	SHA256(j->doc.data, j->doc.len, md);
	if ((r = mla_hex_encode(md, 32, hex, sizeof(hex))) ||
	    (r = mla_buf_printf(b, "{\"message_id\":\"%s\",\"case_id\":", j->row.message_id)) ||
	    (r = mla_json_string(b, j->row.case_id)) ||
	    (r = mla_buf_printf(b, ",\"content_type\":\"application/octet-stream\","
				   "\"sha256\":\"%s\",\"document_b64\":\"", hex)) ||
	    (r = mla_b64_encode_buf(j->doc.data, j->doc.len, b)))
		return r;
	return mla_buf_append_str(b, "\"}\n");
}

static void doc_send(struct gw *g, void *arg, int committed)
{
	struct doc_job *j = arg;
	mla_buf b;

	(void)g;
	if (!committed || j->audit_failed) {
		api_reply_error(j->r, 503, "unavailable",
				"the access could not be audited; nothing is disclosed", NULL);
	} else {
		mla_buf_init_secret(&b, j->doc.len / 3 * 4 + 4096);
		if (document_json(j, &b) == MLA_OK)
			api_reply_json(j->r, 200, &b);
		else
			api_reply_error(j->r, 500, mla_errname(MLA_ERR_NOMEM), "out of memory", NULL);
		mla_buf_free(&b); /* secret: wiped */
	}
	doc_free(j);
}

static void doc_done(struct gw_job *job)
{
	struct doc_job *j = (struct doc_job *)job;
	struct gw *g = j->r->g;
	const struct gw_audit_msg a = {
		.message_id = j->row.message_id, .case_id = j->row.case_id, .kind = j->row.kind,
		.action = j->row.action, .from = j->row.peer, .to = g->snap->cfg.state,
		.actor = j->r->actor, .reason = j->reason, .envelope_sha256 = j->v.digest,
	};

	if (j->err != MLA_OK) {
		gw_log(GW_LOG_ERROR, "document-unreadable", j->row.message_id,
		       "error=%s reason=\"%s\"", mla_errname(j->err), mla_diag_message(&j->diag));
		api_reply_error(j->r, 500, mla_errname(j->err), mla_diag_message(&j->diag), NULL);
		doc_free(j);
		return;
	}
	/* the entry first: the document leaves only once it is durable (doc_send) */
	if (gw_audit_message(g, MLA_AUDIT_DOCUMENT_FETCHED, &a) != MLA_OK)
		j->audit_failed = 1;
	else
		gw_log(GW_LOG_INFO, "document-fetched", j->row.message_id, "actor=%s",
		       j->r->actor);
	gw_after_commit(g, doc_send, j);
}

static int reason_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > MLA_AUDIT_REASON_MAX || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

void api_fetch_document(struct api_req *r)
{
	static const char *const params[] = {"reason", NULL};
	const char *reason = api_query(r, "reason");
	struct doc_job *j;
	mla_diag d = {MLA_OK, ""};

	if (!api_query_only(r, params))
		return;
	if (reason == NULL || !reason_ok(reason)) {
		api_reply_error(r, 400, reason == NULL ? "missing-field" : "bad-field",
				"reason (3-200 printable characters) is required", "reason");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return;
	}
	if (!api_find_message(r, "in", &j->row)) {
		free(j);
		return;
	}
	if (store_inbox_envelope(r->g->store, j->row.message_id, &j->env, &d) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_STORE), mla_diag_message(&d), NULL);
		mla_buf_free(&j->env);
		free(j);
		return;
	}
	memcpy(j->reason, reason, strlen(reason) + 1); /* reason_ok bounded it to fit */
	j->r = r;
	j->job.run = doc_run;
	j->job.done = doc_done;
	api_hold(r);
	gw_pool_submit(r->g->pool, &j->job, r->g->snap);
}
