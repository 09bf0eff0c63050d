/* Internal interface of the local API listener (api_server.c) and its handlers (api_admin.c,
 * api_messages.c, api_inbox.c, api_view.c, api_audit.c). Design: docs/api/README.md. */
#ifndef MLAGW_GATEWAY_API_SERVER_H
#define MLAGW_GATEWAY_API_SERVER_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "api_auth.h"
#include "api_parse.h"
#include "core/gw.h"
#include "mlagw/audit_entry.h"
#include "net/tls_listener.h"

#define API_PARAM_MAX 200

struct gw_api_server {
	struct tls_listener l; /* l.busy: requests waiting for a worker or a commit */
	size_t body_limit;     /* api_config_body_limit */
};

/* evhttp's callback for every request (api_server.c). */
void api_on_request(struct evhttp_request *req, void *arg);

/* One API request from routing to reply. Handlers reply exactly once with api_reply_*, which
 * frees it; a handler that continues in a worker calls api_hold first. */
struct api_req {
	struct gw *g;
	struct evhttp_request *req; /* NULL once the client has gone */
	struct tls_conn *conn;
	const struct api_op *op;
	enum api_decision decision;
	struct api_principal who;
	char actor[MLA_AUDIT_ACTOR_MAX + 1]; /* "role:name" for logs and audit entries */
	char param[API_PARAM_MAX + 1];       /* the path parameter, percent-decoded */
	struct evkeyvalq query;              /* decoded query parameters */
	json_t *body;                        /* the JSON object of a POST, else NULL */
	char *owners;                        /* api_own_filter's owners (JSON), else NULL */
	int held;
	/* Called (from the close callback) when the client goes away while the request is held;
	 * r->req is NULL then. A streaming handler sets it to stop its stream. */
	void (*gone)(void *arg);
	void *gone_arg;
};

typedef void (*api_handler)(struct api_req *r);

void api_reply_json(struct api_req *r, int code, mla_buf *json);
/* After building json: e == MLA_OK replies it with code, else 500 with the diagnostic of d
 * (may be NULL) or of e (MLA_ERR_ARG: a value that jansson refused, not valid UTF-8). */
void api_reply_built(struct api_req *r, int code, mla_err e, mla_buf *json, const mla_diag *d);
void api_reply_text(struct api_req *r, int code, const char *content_type, mla_buf *body);
/* {"code", "message", "field"}: code an mla_errname or one of the API's own names. */
void api_reply_error(struct api_req *r, int code, const char *errcode, const char *message,
		     const char *field);
/* 422 with the error object and "problems" (a JSON array text, or NULL): an invalid case
 * document (protocol/SPEC.md section 16). */
void api_reply_problems(struct api_req *r, const char *errcode, const char *message,
			const char *problems);
/* The refusal of a parser (api_parse.h). */
void api_reply_perr(struct api_req *r, const struct api_perr *e);
/* 403 with an access-denied audit entry naming the caller and the operation. */
void api_deny(struct api_req *r, const char *message_id, const char *why);
/* The request continues after a worker or a commit: counts as busy, notices a client gone. */
void api_hold(struct api_req *r);
/* A held request answered as a stream (chunked): the status and headers, then chunks with
 * evhttp_send_reply_chunk_with_cb, then api_stream_end (the last chunk; frees r) or
 * api_stream_abort (closes the connection without the last chunk, so the client never takes
 * a cut stream for a whole one; frees r). */
void api_stream_start(struct api_req *r, int code, const char *content_type);
void api_stream_end(struct api_req *r);
void api_stream_abort(struct api_req *r);

/* Own rule (x-mlagw-own; docs/api/README.md, "Own"): 1 if the caller may read and act on
 * the case (this State, case_id): API_ALLOW, or its owner, a supervisor or a delegate of its
 * owner. On a store error replies 500 and returns -1. */
int api_own_case(struct api_req *r, const char *case_id);
/* The same for a message: never for one in a peer's case under API_ALLOW_OWN. */
int api_own_message(struct api_req *r, const struct store_api_row *row);
/* Under API_ALLOW_OWN limits f to the caller's own cases; 0 when it replied (503). */
int api_own_filter(struct api_req *r, struct store_api_filter *f);

/* A query parameter, NULL if absent. */
const char *api_query(struct api_req *r, const char *name);
/* Checks that the query holds only the parameters listed (NULL-terminated); 400 otherwise
 * (replied; returns 0). */
int api_query_only(struct api_req *r, const char *const *allowed);

/* The message named by the path (either direction, or only dir "in"/"out"): 1 when found
 * and the caller's own; otherwise replied (400, 404, 403 + audit, or 500) and 0. */
int api_find_message(struct api_req *r, const char *dir, struct store_api_row *row);

/* api_view.c: JSON of messages and their history. */
int api_is_uuid(const char *s);
/* The JSON object of a row (the caller's, in *out), with its history if asked. */
mla_err api_row_json(struct gw *g, const struct store_api_row *row, int with_history,
		     json_t **out, mla_diag *d);
/* Parses the list filters from the query into f (400 replied, returns 0, when one is bad). */
int api_list_filter(struct api_req *r, struct store_api_filter *f, int inbox);
/* Lists rows of f as {"items":[...],"next_cursor":...} (200) with or without history. */
void api_list_reply(struct api_req *r, struct store_api_filter *f, int with_history);

/* Handlers by operationId. */
void api_whoami(struct api_req *r);
void api_get_health(struct api_req *r);
void api_get_metrics(struct api_req *r);
/* /healthz's "expiry" member (SPEC 18.8) and its count of warnings; /metrics' lines. */
json_t *api_expiry_json(const struct gw *g, int *warnings);
mla_err api_expiry_metrics(const struct gw *g, mla_buf *b);
void api_get_config(struct api_req *r);
void api_reload_config(struct api_req *r);
void api_submit_message(struct api_req *r);
void api_record_other_channel(struct api_req *r); /* SPEC 16.11 */
void api_answer_message(struct api_req *r);
void api_get_message(struct api_req *r);
void api_list_messages(struct api_req *r);
void api_get_case(struct api_req *r);
/* listCases (api_cases.c): cases with a running deadline, ranked (SPEC 16.9). */
void api_list_cases(struct api_req *r);
void api_list_inbox(struct api_req *r);
void api_get_inbox_item(struct api_req *r);
void api_fetch_document(struct api_req *r);
void api_get_audit_checkpoint(struct api_req *r);
void api_get_audit_entry(struct api_req *r);
void api_get_inclusion_proof(struct api_req *r);
void api_get_consistency_proof(struct api_req *r);
/* getStats (api_stats.c): the case statistics of the audit log (SPEC 16.13). */
void api_get_stats(struct api_req *r);
/* Uploads of attachment files (api_upload.c, SPEC 17.14). */
void api_create_upload(struct api_req *r);
void api_put_upload_chunk(struct api_req *r);
void api_get_upload(struct api_req *r);
void api_delete_upload(struct api_req *r);
/* fetchAttachment (api_attach.c): a received attachment, decrypted as it streams. */
void api_fetch_attachment(struct api_req *r);

#endif
