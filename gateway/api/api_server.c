/* The local API listener (docs/api/README.md): HTTPS on [api] listen, evhttp with
 * bufferevent_openssl, TLS 1.2+, optional client certificates checked against [api] client_ca.
 * Each request is routed by api_route, authenticated (certificate, else bearer token),
 * authorised by api_authorize and handed to its handler; errors are JSON. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "api_server.h"
#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"

static const struct {
	const char *id;
	api_handler fn;
} handlers[] = {
	{"whoami", api_whoami},
	{"getHealth", api_get_health},
	{"getMetrics", api_get_metrics},
	{"getConfig", api_get_config},
	{"reloadConfig", api_reload_config},
	{"submitMessage", api_submit_message},
	{"recordOtherChannel", api_record_other_channel},
	{"answerMessage", api_answer_message},
	{"getMessage", api_get_message},
	{"listMessages", api_list_messages},
	{"getCase", api_get_case},
	{"listCases", api_list_cases},
	{"listInbox", api_list_inbox},
	{"getInboxItem", api_get_inbox_item},
	{"fetchDocument", api_fetch_document},
	{"getAuditCheckpoint", api_get_audit_checkpoint},
	{"getAuditEntry", api_get_audit_entry},
	{"getInclusionProof", api_get_inclusion_proof},
	{"getConsistencyProof", api_get_consistency_proof},
	{"getStats", api_get_stats},
	{"createUpload", api_create_upload},
	{"putUploadChunk", api_put_upload_chunk},
	{"getUpload", api_get_upload},
	{"deleteUpload", api_delete_upload},
	{"fetchAttachment", api_fetch_attachment},
};

/* Whether operation id leaves the store, the audit log and the keys as they are: the only
 * ones served while the gateway holds new work back (g->hold). A list of what is allowed, so
 * that an operation added later is held back until it is known to only read. */
static int api_op_reads_only(const char *id)
{
	static const char *const reads[] = {
		"whoami", "getHealth", "getMetrics", "getConfig", "getMessage", "listMessages",
		"getCase", "listInbox", "getInboxItem", "getAuditCheckpoint", "getAuditEntry",
		"getInclusionProof", "getConsistencyProof", "listCases", "getStats", "getUpload"};

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		if (strcmp(id, reads[i]) == 0)
			return 1;
	return 0;
}

static void reply(struct api_req *r, int code, const char *ctype, const mla_buf *body)
{
	struct evbuffer *b;
	struct evkeyvalq *h;

	if (r->held && r->g->api != NULL && r->g->api->l.busy > 0)
		r->g->api->l.busy--;
	if (r->req != NULL) {
		if (r->held)
			evhttp_connection_set_closecb(evhttp_request_get_connection(r->req), NULL,
						      NULL);
		if (r->conn != NULL) {
			if (r->held && r->conn->busy > 0)
				r->conn->busy--;
			tls_conn_phase_start(r->conn, gw_mono_ms());
		}
		h = evhttp_request_get_output_headers(r->req);
		evhttp_add_header(h, "Content-Type", ctype);
		evhttp_add_header(h, "Cache-Control", "no-store");
		if (code == 401)
			evhttp_add_header(h, "WWW-Authenticate", "Bearer realm=\"mlagw\"");
		if ((b = evbuffer_new()) != NULL && body != NULL && body->len > 0)
			evbuffer_add(b, body->data, body->len);
		evhttp_send_reply(r->req, code, NULL, b);
		if (b != NULL)
			evbuffer_free(b);
	}
	evhttp_clear_headers(&r->query);
	json_decref(r->body);
	free(r->owners);
	free(r);
}

void api_reply_json(struct api_req *r, int code, mla_buf *json)
{
	reply(r, code, "application/json", json);
}

void api_reply_built(struct api_req *r, int code, mla_err e, mla_buf *json, const mla_diag *d)
{
	const char *why = d != NULL && d->msg[0] != '\0' ? d->msg :
			  e == MLA_ERR_ARG ? "the answer could not be written as JSON" :
					     mla_strerror(e);

	if (e == MLA_OK)
		api_reply_json(r, code, json);
	else
		api_reply_error(r, 500, mla_errname(e), why, NULL);
}

void api_reply_text(struct api_req *r, int code, const char *content_type, mla_buf *body)
{
	reply(r, code, content_type, body);
}

void api_reply_error(struct api_req *r, int code, const char *errcode, const char *message,
		     const char *field)
{
	mla_buf b;
	int ok;

	mla_buf_init(&b, 4096);
	ok = mla_json_error(&b, errcode, message, field) == MLA_OK;
	reply(r, code, "application/json", ok ? &b : NULL);
	mla_buf_free(&b);
}

void api_reply_problems(struct api_req *r, const char *errcode, const char *message,
			const char *problems)
{
	mla_buf b;
	int ok;

	mla_buf_init(&b, 64 << 10);
	ok = mla_json_error_problems(&b, errcode, message, problems) == MLA_OK;
	reply(r, 422, "application/json", ok ? &b : NULL);
	mla_buf_free(&b);
}

void api_reply_perr(struct api_req *r, const struct api_perr *e)
{
	api_reply_error(r, e->status, e->code, e->message, e->field);
}

void api_deny(struct api_req *r, const char *message_id, const char *why)
{
	mla_audit_entry e;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_ACCESS_DENIED;
	if (mla_strcpy(e.actor, sizeof(e.actor), r->actor) != MLA_OK ||
	    mla_strcpy(e.reason, sizeof(e.reason), r->op->id) != MLA_OK ||
	    (message_id != NULL && api_is_uuid(message_id) &&
	     mla_strcpy(e.message_id, sizeof(e.message_id), message_id) != MLA_OK) ||
	    gw_audit(r->g, &e) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "audit-error", "access-denied", NULL,
			       "event=access-denied actor=%s", r->actor);
	gw_log(GW_LOG_WARN, "api-denied", NULL, "actor=%s op=%s", r->actor, r->op->id);
	api_reply_error(r, 403, "forbidden", why, NULL);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct api_req *r = arg;

	(void)evcon;
	r->req = NULL;
	if (r->gone != NULL)
		r->gone(r->gone_arg);
}

/* The end of a held request that streamed: the busy counts as reply() leaves them, and r. */
static void stream_release(struct api_req *r)
{
	if (r->g->api != NULL && r->g->api->l.busy > 0)
		r->g->api->l.busy--;
	if (r->req != NULL && r->conn != NULL) {
		if (r->conn->busy > 0)
			r->conn->busy--;
		tls_conn_phase_start(r->conn, gw_mono_ms());
	}
	evhttp_clear_headers(&r->query);
	json_decref(r->body);
	free(r->owners);
	free(r);
}

void api_stream_start(struct api_req *r, int code, const char *content_type)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply_start(r->req, code, NULL);
}

void api_stream_end(struct api_req *r)
{
	if (r->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(r->req), NULL, NULL);
		evhttp_send_reply_end(r->req);
	}
	stream_release(r);
}

void api_stream_abort(struct api_req *r)
{
	struct evhttp_connection *evcon = r->req != NULL ? evhttp_request_get_connection(r->req)
							 : NULL;

	if (evcon != NULL) {
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		if (r->conn != NULL && r->conn->busy > 0)
			r->conn->busy--;
		r->conn = NULL;
		evhttp_connection_free(evcon); /* no last chunk: the client sees a cut stream */
	}
	r->req = NULL;
	stream_release(r);
}

void api_hold(struct api_req *r)
{
	r->held = 1;
	r->g->api->l.busy++;
	if (r->conn != NULL)
		r->conn->busy++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(r->req), on_close, r);
}

int api_own_case(struct api_req *r, const char *case_id)
{
	mla_diag d = {MLA_OK, ""};
	char owner[96];

	if (r->decision != API_ALLOW_OWN)
		return 1;
	if (store_case_owner(r->g->store, r->g->snap->cfg.state, case_id, owner, &d) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_STORE), mla_diag_message(&d), NULL);
		return -1;
	}
	return owner[0] != '\0' && api_config_may_act(&r->g->snap->cfg.api, r->actor, owner);
}

int api_own_message(struct api_req *r, const struct store_api_row *row)
{
	if (r->decision == API_ALLOW_OWN && row->peer_case)
		return 0; /* the peer's case: never an authority's own */
	return api_own_case(r, row->case_id);
}

/* The caller and the owners it is a delegate of, as a JSON array of "role:name". */
static char *owners_json(struct api_req *r)
{
	const struct api_config *a = &r->g->snap->cfg.api;
	json_t *arr = json_array();
	char owner[MLA_AUDIT_ACTOR_MAX + 1];
	char *out = NULL;

	if (arr == NULL || json_array_append_new(arr, json_string(r->actor)) != 0)
		goto out;
	for (size_t i = 0; i < a->n_delegations; i++) {
		if (mla_snprintf(owner, sizeof(owner), "authority:%s", a->delegations[i].owner) !=
			    MLA_OK ||
		    !api_config_may_act(a, r->actor, owner))
			continue;
		if (json_array_append_new(arr, json_string(owner)) != 0)
			goto out;
	}
	out = json_dumps(arr, JSON_COMPACT);
out:
	json_decref(arr);
	return out;
}

int api_own_filter(struct api_req *r, struct store_api_filter *f)
{
	if (r->decision != API_ALLOW_OWN)
		return 1;
	f->own_state = r->g->snap->cfg.state;
	f->own_all = api_config_supervisor(&r->g->snap->cfg.api, r->actor);
	if (r->owners == NULL && (r->owners = owners_json(r)) == NULL) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return 0;
	}
	f->owners = r->owners;
	return 1;
}

const char *api_query(struct api_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

int api_query_only(struct api_req *r, const char *const *allowed)
{
	struct api_perr e;

	if (api_parse_query_only(&r->query, allowed, &e) != MLA_OK) {
		api_reply_perr(r, &e);
		return 0;
	}
	return 1;
}

static struct tls_conn *conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev != NULL ? tls_conn_of(bufferevent_openssl_get_ssl(bev)) : NULL;
}

/* Certificate first (verified against client_ca in the handshake), else the bearer token. */
static int authenticate(struct api_req *r)
{
	const struct api_config *c = &r->g->snap->cfg.api;
	struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *cert = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
	const char *authz;
	mla_diag d = {MLA_OK, ""};

	if (ssl == NULL)
		return 0;
	if (cert != NULL && SSL_get_verify_result(ssl) == X509_V_OK &&
	    api_auth_cert(c, cert, &r->who, &d) == MLA_OK)
		return 1;
	authz = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Authorization");
	return authz != NULL && api_auth_bearer(c, authz, &r->who, &d) == MLA_OK;
}

static int method_of(enum evhttp_cmd_type cmd, enum api_method *m)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: *m = API_GET; return 1;
	case EVHTTP_REQ_POST: *m = API_POST; return 1;
	case EVHTTP_REQ_PUT: *m = API_PUT; return 1;
	case EVHTTP_REQ_PATCH: *m = API_PATCH; return 1;
	case EVHTTP_REQ_DELETE: *m = API_DELETE; return 1;
	default: return 0;
	}
}

/* The JSON body of a POST: application/json, within the limit, an object. */
static int read_body(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(r->req),
					    "Content-Type");
	size_t len = evbuffer_get_length(in);
	struct api_perr e;

	if (len > r->g->api->body_limit) {
		api_reply_error(r, 413, mla_errname(MLA_ERR_TOO_LARGE),
				"request body exceeds [api] max_body_bytes", "Content-Length");
		return 0;
	}
	if (ct == NULL || strncmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';')) {
		api_reply_error(r, 415, "bad-field", "Content-Type must be application/json",
				"Content-Type");
		return 0;
	}
	if (api_parse_body(evbuffer_pullup(in, -1), len, &r->body, &e) != MLA_OK) {
		api_reply_perr(r, &e);
		return 0;
	}
	return 1;
}

static int decode_param(struct api_req *r, const char *p, size_t n)
{
	char raw[API_PARAM_MAX * 3 + 1];
	char *dec;
	size_t len;

	if (p == NULL)
		return 1;
	if (n >= sizeof(raw))
		return 0;
	memcpy(raw, p, n);
	raw[n] = '\0';
	if ((dec = evhttp_uridecode(raw, 0, &len)) == NULL)
		return 0;
	if (len > API_PARAM_MAX || strlen(dec) != len) {
		free(dec);
		return 0;
	}
	memcpy(r->param, dec, len + 1);
	free(dec);
	return 1;
}

static void dispatch(struct api_req *r)
{
	for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (strcmp(handlers[i].id, r->op->id) == 0) {
			handlers[i].fn(r);
			return;
		}
	api_reply_error(r, 501, "not-implemented", "not implemented yet", NULL);
}

void api_on_request(struct evhttp_request *req, void *arg)
{
	struct gw *g = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri), *p = NULL;
	const char *why;
	struct api_req *r = calloc(1, sizeof(*r));
	enum api_method m;
	size_t plen = 0;
	mla_err e;

	if (r == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	r->query.tqh_first = NULL;
	r->query.tqh_last = &r->query.tqh_first;
	r->g = g;
	r->req = req;
	r->conn = conn_of(req);
	if (path == NULL || !method_of(evhttp_request_get_command(req), &m)) {
		api_reply_error(r, 405, "method-not-allowed", "method not allowed", NULL);
		return;
	}
	if ((e = api_route(api_ops, api_ops_n, m, path, &r->op, &p, &plen)) != MLA_OK) {
		if (e == MLA_ERR_ARG)
			api_reply_error(r, 405, "method-not-allowed", "method not allowed here", NULL);
		else
			api_reply_error(r, 404, "not-found", "no such endpoint", NULL);
		return;
	}
	if (!authenticate(r)) {
		api_reply_error(r, 401, "unauthenticated",
				"a client certificate or a bearer token is required", "Authorization");
		return;
	}
	if (mla_snprintf(r->actor, sizeof(r->actor), "%s:%s", api_role_name(r->who.role),
			 r->who.name) != MLA_OK) {
		/* names are bounded by the configuration: this is a bug, not a client error */
		api_reply_error(r, 500, "internal", "caller name does not fit", NULL);
		return;
	}
	if ((r->decision = api_authorize(api_ops, api_ops_n, r->who.role, r->op->id)) == API_DENY) {
		api_deny(r, NULL, "this role may not call this operation");
		return;
	}
	if (g->stopping) {
		api_reply_error(r, 503, "unavailable", "the gateway is stopping", NULL);
		return;
	}
	if ((why = gw_refusing(g)) != NULL && !api_op_reads_only(r->op->id)) {
		api_reply_error(r, 503, "unavailable", why, NULL); /* reads go on: health, audit */
		return;
	}
	if (!decode_param(r, p, plen)) {
		api_reply_error(r, 400, "bad-field", "malformed path parameter", "path");
		return;
	}
	if (query != NULL && evhttp_parse_query_str(query, &r->query) != 0) {
		api_reply_error(r, 400, "bad-field", "malformed query", "query");
		return;
	}
	if (m == API_POST && evbuffer_get_length(evhttp_request_get_input_buffer(req)) > 0 &&
	    !read_body(r))
		return;
	dispatch(r);
}
