/* Local API operations on received messages: the inbox, one received message with the
 * answers sent to it, and its document, decrypted again in a worker for each read and
 * disclosed only after the access (who, which message, why) is durable in the audit log.
 * A protected person's identifying fields go only to the roles of [cases] protected_roles,
 * each such view audited as protected-viewed; other roles get them redacted (SPEC 16.12). */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "api_server.h"
#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/case.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"

void api_list_inbox(struct api_req *r)
{
	struct store_api_filter f;

	if (api_list_filter(r, &f, 1))
		api_list_reply(r, &f, 0);
}

static mla_err add_answer(const struct store_api_row *w, void *arg)
{
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:s, s:s}", "message_id",
						    w->message_id, "case_id", w->case_id,
						    "in_reply_to", w->in_reply_to, "to", w->peer,
						    "state",
						    msg_state_name((msg_state)w->state))) == 0 ?
		       MLA_OK :
		       MLA_ERR_ARG;
}

void api_get_inbox_item(struct api_req *r)
{
	struct store_api_row row;
	struct store_api_filter f;
	mla_diag d = {MLA_OK, ""};
	json_t *o = NULL, *answers = json_array();
	mla_buf b;
	size_t n;
	mla_err e;

	if (!api_find_message(r, "in", &row)) {
		json_decref(answers);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.priority = f.state = -1;
	f.direction = "out";
	f.in_reply_to = row.message_id;
	mla_buf_init(&b, (size_t)16 << 20);
	if ((e = answers != NULL ? MLA_OK : MLA_ERR_NOMEM) == MLA_OK &&
	    (e = api_row_json(r->g, &row, 0, &o, &d)) == MLA_OK &&
	    (e = store_api_select(r->g->store, &f, add_answer, answers, &n, &d)) == MLA_OK)
		e = json_object_set(o, "answers", answers) == 0 ? mla_json_dump(json_incref(o), &b) :
								     MLA_ERR_NOMEM;
	api_reply_built(r, 200, e, &b, &d);
	json_decref(o);
	json_decref(answers);
	mla_buf_free(&b);
}

struct doc_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct api_req *r;
	struct store_api_row row;
	char reason[MLA_AUDIT_REASON_MAX + 1];
	enum api_role role;
	char actor[MLA_AUDIT_ACTOR_MAX + 1];
	mla_buf env, doc;
	mla_buf redacted; /* the document with protected persons withheld, when it has any */
	size_t n_protected;
	int protected_view; /* an allowed role sees protected persons (or cannot be sure not) */
	int unredactable;   /* names protected persons, does not parse: not for other roles */
	mla_verified v;
	mla_attach_list *att; /* envelope version 3: its attachments (secrets wiped on free) */
	char att_text[MLA_AUDIT_ATTACHMENTS_MAX + 1]; /* their signed list, for the entry */
	mla_err err;
	mla_diag diag;
	int audit_failed;
};

static void doc_free(struct doc_job *j)
{
	gw_job_release(&j->job);
	mla_buf_free(&j->env);
	mla_buf_free(&j->doc); /* secret: wiped */
	mla_buf_free(&j->redacted); /* secret: wiped */
	mla_attach_list_free(j->att);
	free(j);
}

/* In the worker, after the open: counts the protected persons and, for a role the
 * configuration does not allow, redacts them. A document that names protected persons and
 * cannot be parsed is shown only to an allowed role, as a protected view. */
static void doc_protect(struct doc_job *j, const struct gw_config *c)
{
	int allowed = protect_allows(&c->protect, j->role, j->actor);
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	mla_buf_init_secret(&j->redacted, 4 * j->doc.len + ((size_t)64 << 10));
	r = mla_case_protected(j->doc.data, j->doc.len, &c->limits, allowed ? NULL : &j->redacted,
			       &j->n_protected, &d);
	if (r == MLA_ERR_NOMEM || r == MLA_ERR_TOO_LARGE)
		j->err = mla_fail(&j->diag, r, "the document could not be redacted (%s)",
				  mla_errname(r));
	else if (r != MLA_OK)
		j->unredactable = 1;
	j->protected_view = allowed && (j->n_protected > 0 || j->unredactable);
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
	j->err = mla_envelope_open_attached(j->env.data, j->env.len, k->trust, k->keys, c->state,
					    &lim, &j->v, &j->doc, &j->att, &j->diag);
	if (j->err == MLA_OK && j->att != NULL &&
	    mla_audit_attachments_format(j->att, j->att_text, sizeof j->att_text) != MLA_OK)
		j->err = mla_fail(&j->diag, MLA_ERR_INTERNAL, "attachment list too long");
	if (j->err == MLA_OK)
		doc_protect(j, c);
}

/* The attachments of a version 3 envelope as its descriptor gives them: index, name, type,
 * size, sha256, compressed (names and types are case content: only ever in this answer,
 * which is audited like the document). NULL on failure. */
static json_t *attachments_json(const mla_attach_list *l)
{
	json_t *arr = json_array();
	char hex[65];

	for (size_t i = 0; arr != NULL && i < l->n; i++) {
		const mla_attachment *a = &l->item[i];
		mla_require(mla_hex_encode(a->priv.plain_sha256, 32, hex, sizeof hex) == MLA_OK);
		if (json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:I, s:s, s:b}", "index",
							 (json_int_t)a->pub.index, "name",
							 a->priv.name, "type", a->priv.type, "size",
							 (json_int_t)a->priv.plain_size, "sha256",
							 hex, "compressed", a->priv.gzip)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* {"message_id","case_id","content_type","sha256","document_b64","protected_persons",
 * "redacted"} into the secret buffer b: the redacted document when there is one, and the
 * digest of the bytes served (the original's would let a reader test guesses at a withheld
 * name). jansson's copy of the base64 text is wiped before it is released. */
static mla_err document_json(const struct doc_job *j, mla_buf *b)
{
	const mla_buf *src = j->redacted.len > 0 ? &j->redacted : &j->doc;
	uint8_t md[32];
	char hex[65];
	mla_buf b64;
	json_t *o = NULL, *doc = NULL;
	mla_err r = MLA_ERR_NOMEM;

	SHA256(src->data, src->len, md);
	mla_require(mla_hex_encode(md, 32, hex, sizeof(hex)) == MLA_OK);
	mla_buf_init_secret(&b64, MLA_B64_LEN(src->len) + 8);
	if (mla_b64_encode_buf(src->data, src->len, &b64) != MLA_OK)
		goto out;
	if ((doc = json_stringn((const char *)b64.data, b64.len)) == NULL)
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:b}", "message_id", j->row.message_id,
		      "case_id", j->row.case_id, "content_type", "application/octet-stream",
		      "sha256", hex, "document_b64", doc, "protected_persons",
		      (json_int_t)j->n_protected, "redacted", j->redacted.len > 0);
	if (o != NULL && j->att != NULL &&
	    json_object_set_new(o, "attachments", attachments_json(j->att)) != 0)
		goto out;
	r = mla_json_dump(json_incref(o), b);
out:
	if (doc != NULL)
		OPENSSL_cleanse((char *)json_string_value(doc), json_string_length(doc));
	json_decref(o);
	json_decref(doc);
	mla_buf_free(&b64);
	return r;
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
		mla_buf_init_secret(&b, (j->doc.len + j->redacted.len) / 3 * 4 + 4096);
		api_reply_built(j->r, 200, document_json(j, &b), &b, NULL);
		mla_buf_free(&b); /* secret: wiped */
	}
	doc_free(j);
}

/* A request's first reading by this State's agencies: kept (0 when the store fails). */
static int first_read(struct doc_job *j)
{
	mla_diag d = {MLA_OK, ""};
	int first = 0;

	if (strcmp(j->row.action, "request") != 0)
		return 1;
	if (store_retrieval_read(j->r->g->store, j->row.message_id, gw_now_ms(), &first, &d) !=
	    MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "retrieval-read", j->row.message_id,
			       "op=retrieval-read reason=\"%s\"", d.msg);
		return 0;
	}
	if (first)
		gw_log(GW_LOG_INFO, "first-read", j->row.message_id, "case=%s", j->row.case_id);
	return 1;
}

/* A role not allowed asked for a document that names protected persons and cannot be
 * redacted: refused and audited (access-denied); the document is not disclosed. */
static void doc_refuse_unredactable(struct doc_job *j)
{
	gw_log(GW_LOG_WARN, "document-unredactable", j->row.message_id, "actor=%s",
	       j->r->actor);
	api_deny(j->r, j->row.message_id, "the document names protected persons and cannot be "
		 "redacted; only a role of [cases] protected_roles may read it");
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
		.attachments = j->att != NULL ? j->att_text : NULL,
	};

	if (j->err != MLA_OK) {
		gw_log(GW_LOG_ERROR, "document-unreadable", j->row.message_id,
		       "error=%s reason=\"%s\"", mla_errname(j->err), mla_diag_message(&j->diag));
		api_reply_error(j->r, 500, mla_errname(j->err), mla_diag_message(&j->diag), NULL);
		doc_free(j);
		return;
	}
	if (j->unredactable && !j->protected_view) {
		doc_refuse_unredactable(j);
		return;
	}
	/* the entries first: the document leaves only once they are durable (doc_send); a
	 * request's first reading (redacted or not) is kept in the same write, and its retrieved
	 * notice follows (SPEC 16.10) */
	if (gw_audit_message(g, MLA_AUDIT_DOCUMENT_FETCHED, &a) != MLA_OK ||
	    (j->protected_view && gw_audit_message(g, MLA_AUDIT_PROTECTED_VIEWED, &a) != MLA_OK) ||
	    !first_read(j))
		j->audit_failed = 1;
	else
		gw_log(GW_LOG_INFO, "document-fetched", j->row.message_id,
		       "actor=%s protected_persons=%zu redacted=%s%s", j->r->actor, j->n_protected,
		       j->redacted.len > 0 ? "yes" : "no",
		       j->protected_view ? " protected-viewed" : "");
	gw_after_commit(g, doc_send, j);
}

void api_fetch_document(struct api_req *r)
{
	static const char *const params[] = {"reason", NULL};
	const char *reason = api_query(r, "reason");
	struct doc_job *j;
	struct api_perr e;
	mla_diag d = {MLA_OK, ""};

	if (!api_query_only(r, params))
		return;
	if (api_parse_reason(reason, &e) != MLA_OK) {
		api_reply_perr(r, &e);
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
	j->role = r->who.role;
	memcpy(j->actor, r->actor, sizeof(j->actor));
	j->job.run = doc_run;
	j->job.done = doc_done;
	api_hold(r);
	gw_pool_submit(r->g->pool, &j->job, r->g->snap);
}
