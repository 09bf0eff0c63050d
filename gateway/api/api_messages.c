/* Local API operations on sent messages and cases: submit a request, answer a message (both
 * sealed and queued through submit_enqueue, the pipeline of the unix socket), a message with
 * its history, the list of sent messages, and a case. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api_server.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "mlagw/notice.h"
#include "submit/submit.h"

static void queued(struct gw *g, void *arg, const mla_header *h, mla_err err, const char *why,
		   const char *problems, int committed)
{
	struct api_req *r = arg;
	json_t *o;
	mla_buf b;
	mla_err e;

	(void)g;
	if (err == MLA_ERR_FORBIDDEN) {
		api_deny(r, NULL, why);
		return;
	}
	if (err == MLA_ERR_EXISTS) {
		api_reply_error(r, 409, mla_errname(err), why, SUBMIT_IDEM_HEADER);
		return;
	}
	if (err == MLA_ERR_CASE_STEP || err == MLA_ERR_CASE_CONFLICT) { /* SPEC 16.8 */
		api_reply_error(r, 409, mla_errname(err), why, "action");
		return;
	}
	if (err == MLA_ERR_SCHEMA || (err == MLA_ERR_UNSUPPORTED_VERSION && problems != NULL)) {
		/* a case document's problems (SPEC 16), or its version this gateway does not read */
		api_reply_problems(r, mla_errname(err), why, problems);
		return;
	}
	if (err != MLA_OK) {
		api_reply_error(r, err == MLA_ERR_UNKNOWN_PEER ? 422 : 400, mla_errname(err), why,
				NULL);
		return;
	}
	if (!committed) {
		api_reply_error(r, 503, "unavailable", "could not be stored; nothing was queued",
				NULL);
		return;
	}
	mla_buf_init(&b, 4096);
	o = json_pack("{s:s, s:s}", "message_id", h->message_id, "case_id", h->case_id);
	e = mla_json_set_opt(o, "in_reply_to", h->in_reply_to) == 0 &&
			    json_object_update_new(o, json_pack("{s:s, s:s}", "to", h->to_state,
								"state", "queued")) == 0 &&
			    (committed != SUBMIT_REPLAYED ||
			     json_object_set_new(o, "replayed", json_true()) == 0) ?
		    mla_json_dump(json_incref(o), &b) :
		    MLA_ERR_ARG;
	if (e == MLA_OK && committed == SUBMIT_REPLAYED && r->req != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Idempotent-Replayed",
				  "true");
	api_reply_built(r, 202, e, &b, NULL);
	json_decref(o);
	mla_buf_free(&b);
}

/* The digest of an API submission: the operation, its path parameter and the body in a
 * canonical form (keys sorted, compact), so that a retry matches whatever the spacing or
 * order of the client's JSON. */
static mla_err request_digest(const struct api_req *r, uint8_t digest[32])
{
	char *body = json_dumps(r->body, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = body != NULL && md != NULL && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, r->op->id, strlen(r->op->id) + 1) == 1 &&
		 EVP_DigestUpdate(md, r->param, strlen(r->param) + 1) == 1 &&
		 EVP_DigestUpdate(md, body, strlen(body)) == 1 &&
		 EVP_DigestFinal_ex(md, digest, NULL) == 1;

	EVP_MD_CTX_free(md);
	free(body);
	return ok ? MLA_OK : MLA_ERR_NOMEM;
}

/* The request's Idempotency-Key and digest; replied (400, 503) when it cannot be had. */
static int request_idem(struct api_req *r, struct submit_idem *idem)
{
	mla_diag d = {MLA_OK, ""};

	if (r->req == NULL ||
	    submit_parse_idem_key(evhttp_request_get_input_headers(r->req), idem, &d) != MLA_OK) {
		api_reply_error(r, 400, mla_errname(MLA_ERR_HEADER), mla_diag_message(&d),
				SUBMIT_IDEM_HEADER);
		return 0;
	}
	if (idem->key[0] != '\0' && request_digest(r, idem->digest) != MLA_OK) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return 0;
	}
	return 1;
}

/* The body's attachments (SPEC 17.14), checked before anything is sealed: the peer reads
 * envelope version 3, each upload is the caller's and complete, the sizes and the disk allow
 * them. *att is NULL when there are none; 0 when it replied. */
static int request_attachments(struct api_req *r, const mla_header *h,
			       const struct submit_idem *idem, struct submit_attach **att)
{
	const struct gw_peer *peer = gw_config_peer(&r->g->snap->cfg, h->to_state);
	struct api_perr pe;
	mla_diag d = {MLA_OK, ""};
	int no_space = 0;
	mla_err e;

	*att = NULL;
	if (json_object_get(r->body, "attachments") == NULL || peer == NULL ||
	    submit_idem_stored(r->g, r->actor, idem))
		return 1; /* none; an unknown peer is refused below; a retry answered from its key */
	if ((*att = malloc(sizeof(**att))) == NULL) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return 0;
	}
	if (api_parse_attachments(r->body, *att, &pe) != MLA_OK) {
		api_reply_perr(r, &pe);
	} else if (!submit_peer_reads_attachments(peer)) {
		char msg[160];
		(void)mla_snprintf_cut(msg, sizeof msg, "attachments need envelope version 3; "
				       "peer %s does not read it ([peer %s] envelope_versions)",
				       h->to_state, h->to_state);
		api_reply_error(r, 400, mla_errname(MLA_ERR_UNSUPPORTED_VERSION), msg, "attachments");
	} else if ((e = submit_attach_check(&r->g->snap->cfg, r->actor, *att, &no_space, &d)) !=
		   MLA_OK) {
		api_reply_error(r, no_space ? 507 : e == MLA_ERR_TOO_LARGE ? 413 : 400,
				no_space ? "insufficient-storage" : mla_errname(e),
				mla_diag_message(&d), "attachments");
	} else {
		return 1;
	}
	free(*att);
	*att = NULL;
	return 0;
}

/* Common tail of submit and answer: header checks, then seal and queue. */
static void enqueue(struct api_req *r, mla_header *h, mla_buf *doc, mla_audit_event ev)
{
	struct submit_attach *att = NULL;
	struct submit_idem idem;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	h->version = MLA_ENVELOPE_VERSION_MAX; /* every version's vocabulary, then the peer's */
	if (!request_idem(r, &idem) || !request_attachments(r, h, &idem, &att)) {
		/* replied */
	} else if (mla_header_check(h, &d) != MLA_OK) {
		api_reply_error(r, 400, mla_errname(MLA_ERR_HEADER), mla_diag_message(&d), NULL);
	} else if (gw_config_peer(&r->g->snap->cfg, h->to_state) == NULL) {
		api_reply_error(r, 422, mla_errname(MLA_ERR_UNKNOWN_PEER), "not a configured peer",
				"to");
	} else if (submit_set_version(&r->g->snap->cfg, h, &d) != MLA_OK) {
		api_reply_error(r, 400, mla_errname(MLA_ERR_HEADER), mla_diag_message(&d), NULL);
	} else if ((e = submit_enqueue_attached(r->g, h, doc->data, doc->len, att, r->actor, ev,
						&idem, queued, r, &d)) == MLA_ERR_FORBIDDEN) {
		api_deny(r, NULL, mla_diag_message(&d));
	} else if (e == MLA_ERR_CASE_STEP || e == MLA_ERR_CASE_CONFLICT || e == MLA_ERR_ARG) {
		api_reply_error(r, e == MLA_ERR_ARG ? 400 : 409, mla_errname(e),
				mla_diag_message(&d), e == MLA_ERR_ARG &&
				!mla_notice_is_action(h->action) ? "in_reply_to" : "action");
	} else if (e != MLA_OK) {
		api_reply_error(r, e == MLA_ERR_STORE ? 500 : 503, e == MLA_ERR_STORE ?
				mla_errname(e) : "unavailable", mla_diag_message(&d), NULL);
	} else {
		api_hold(r);
	}
	free(att); /* copied by the submission */
	mla_buf_free(doc);
}

/* A header for the caller's State with the body's fields (api_parse.c); replied when not. */
static int parse_request(struct api_req *r, int answer, mla_header *h, mla_buf *doc)
{
	size_t max = r->g->snap->cfg.limits.max_document_bytes;
	struct api_perr e;

	if (mla_header_init(h) != MLA_OK) {
		mla_buf_init(doc, 0);
		api_reply_error(r, 500, mla_errname(MLA_ERR_INTERNAL), "no header", NULL);
		return 0;
	}
	memcpy(h->from_state, r->g->snap->cfg.state, 3);
	if ((answer ? api_parse_answer(r->body, max, h, doc, &e) :
		      api_parse_submit(r->body, max, h, doc, &e)) != MLA_OK) {
		mla_buf_free(doc);
		api_reply_perr(r, &e);
		return 0;
	}
	return 1;
}

void api_submit_message(struct api_req *r)
{
	mla_header h;
	mla_buf doc;

	if (parse_request(r, 0, &h, &doc))
		enqueue(r, &h, &doc, MLA_AUDIT_SUBMITTED);
}

/* recordOtherChannel (SPEC 16.11): the record of a request sent by other means, sealed and
 * sent like a request (it is the case's request), its document built here from the fields. */
void api_record_other_channel(struct api_req *r)
{
	struct api_perr e;
	mla_header h;
	mla_buf doc;

	if (mla_header_init(&h) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_INTERNAL), "no header", NULL);
		return;
	}
	memcpy(h.from_state, r->g->snap->cfg.state, 3);
	if (api_parse_other_channel(r->body, &h, &doc, &e) != MLA_OK) {
		mla_buf_free(&doc);
		api_reply_perr(r, &e);
		return;
	}
	enqueue(r, &h, &doc, MLA_AUDIT_SUBMITTED);
}

static mla_err take_row(const struct store_api_row *row, void *arg)
{
	*(struct store_api_row *)arg = *row;
	return MLA_OK;
}

static int find_message(struct api_req *r, const char *dir, struct store_api_row *row)
{
	struct store_api_filter f;
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;
	int own;

	if (!api_is_uuid(r->param)) {
		api_reply_error(r, 400, "bad-field", "message id must be a lower-case UUID",
				"message_id");
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.priority = f.state = -1;
	f.message_id = r->param;
	f.direction = dir;
	if (store_api_select(r->g->store, &f, take_row, row, &n, &d) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_STORE), mla_diag_message(&d), NULL);
		return 0;
	}
	if (n == 0) {
		api_reply_error(r, 404, "not-found", "no message with that id", "message_id");
		return 0;
	}
	if ((own = api_own_message(r, row)) == 0)
		api_deny(r, r->param, "not a message of the caller's own cases");
	return own == 1;
}

int api_find_message(struct api_req *r, const char *dir, struct store_api_row *row)
{
	return find_message(r, dir, row);
}

void api_answer_message(struct api_req *r)
{
	struct store_api_row row;
	mla_header h;
	mla_buf doc;

	if (!parse_request(r, 1, &h, &doc))
		return;
	if (!find_message(r, NULL, &row)) {
		mla_buf_free(&doc);
		return;
	}
	/* the answer goes back to the other State, in the same case, InReplyTo the message */
	memcpy(h.to_state, row.peer, 3);
	memcpy(h.case_id, row.case_id, sizeof(h.case_id));
	memcpy(h.in_reply_to, row.message_id, sizeof(h.in_reply_to));
	memcpy(h.kind, row.kind, sizeof(h.kind));
	enqueue(r, &h, &doc, MLA_AUDIT_ANSWERED);
}

void api_get_message(struct api_req *r)
{
	struct store_api_row row;
	mla_diag d = {MLA_OK, ""};
	json_t *o = NULL;
	mla_buf b;
	mla_err e;

	if (!find_message(r, NULL, &row))
		return;
	mla_buf_init(&b, (size_t)16 << 20);
	if ((e = api_row_json(r->g, &row, 1, &o, &d)) == MLA_OK)
		e = mla_json_dump(o, &b);
	api_reply_built(r, 200, e, &b, &d);
	mla_buf_free(&b);
}

void api_list_messages(struct api_req *r)
{
	struct store_api_filter f;

	if (api_list_filter(r, &f, 0))
		api_list_reply(r, &f, 0);
}

void api_get_case(struct api_req *r)
{
	static const char *const none[] = {NULL};
	struct store_api_filter f;
	int own;

	if (!api_query_only(r, none))
		return;
	if (r->param[0] == '\0' || strlen(r->param) > MLA_CASE_ID_MAX) {
		api_reply_error(r, 400, "bad-field", "malformed case id", "case_id");
		return;
	}
	if ((own = api_own_case(r, r->param)) <= 0) {
		if (own == 0)
			api_deny(r, NULL, "not one of the caller's own cases");
		return;
	}
	memset(&f, 0, sizeof(f));
	f.priority = f.state = -1;
	f.case_id = r->param;
	if (api_own_filter(r, &f)) /* a peer's case of the same id is not this one */
		api_list_reply(r, &f, 1);
}
