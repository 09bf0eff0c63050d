/* Local API operations on sent messages and cases: submit a request, answer a message (both
 * sealed and queued through submit_enqueue, the pipeline of the unix socket), a message with
 * its history, the list of sent messages, and a case. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api_server.h"
#include "mlagw/json.h"
#include "submit/submit.h"

struct body_field {
	const char *name;
	json_type type;
	int required;
};

/* Unknown fields, missing required ones and wrong types: 400 naming the field. */
static int check_body(struct api_req *r, const struct body_field *fields, size_t n)
{
	const char *key;
	json_t *v;

	if (r->body == NULL) {
		api_reply_error(r, 400, "missing-field", "a JSON body is required", "body");
		return 0;
	}
	json_object_foreach(r->body, key, v) {
		size_t i = 0;
		while (i < n && strcmp(fields[i].name, key) != 0)
			i++;
		if (i == n) {
			api_reply_error(r, 400, "bad-field", "unknown field", key);
			return 0;
		}
		if (json_typeof(v) != fields[i].type &&
		    !(fields[i].type == JSON_TRUE && json_is_boolean(v))) {
			api_reply_error(r, 400, "bad-field", "wrong JSON type", key);
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].required && json_object_get(r->body, fields[i].name) == NULL) {
			api_reply_error(r, 400, "missing-field", "required field missing",
					fields[i].name);
			return 0;
		}
	return 1;
}

static const char *str(struct api_req *r, const char *name)
{
	return json_string_value(json_object_get(r->body, name));
}

static int in_list(const char *v, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

static int copy_field(struct api_req *r, const char *name, char *dst, size_t cap)
{
	const char *v = str(r, name);

	if (v == NULL)
		return 1;
	if (strlen(v) >= cap) {
		api_reply_error(r, 400, "bad-field", "value too long", name);
		return 0;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 1;
}

/* Decodes document_b64 into doc (a secret buffer); content_type must be known. */
static int read_document(struct api_req *r, mla_buf *doc)
{
	static const char *const types[] = {"application/xml", "application/pdf",
					    "application/octet-stream", NULL};
	const char *b64 = str(r, "document_b64"), *ct = str(r, "content_type");
	size_t len = b64 != NULL ? strlen(b64) : 0, max = r->g->snap->cfg.limits.max_document_bytes;
	int n, pad = 0;

	mla_buf_init_secret(doc, max + 3);
	if ((b64 == NULL) != (ct == NULL)) {
		api_reply_error(r, 400, "missing-field", "document_b64 and content_type go together",
				b64 == NULL ? "document_b64" : "content_type");
		return 0;
	}
	if (ct != NULL && !in_list(ct, types)) {
		api_reply_error(r, 400, "bad-field", "unsupported content type", "content_type");
		return 0;
	}
	if (b64 == NULL)
		return 1;
	if (len / 4 * 3 > max + 2) {
		api_reply_error(r, 413, mla_errname(MLA_ERR_TOO_LARGE),
				"document exceeds [limits] max_document_bytes", "document_b64");
		return 0;
	}
	pad = len >= 1 && b64[len - 1] == '=' ? (len >= 2 && b64[len - 2] == '=' ? 2 : 1) : 0;
	if (len % 4 != 0 || mla_buf_reserve(doc, len / 4 * 3 + 1) != MLA_OK ||
	    (n = EVP_DecodeBlock(doc->data, (const unsigned char *)b64, (int)len)) < 0) {
		api_reply_error(r, 400, "bad-field", "not standard base64 with padding",
				"document_b64");
		return 0;
	}
	doc->len = (size_t)n - (size_t)pad;
	return 1;
}

static void queued(struct gw *g, void *arg, const mla_header *h, mla_err err, const char *why,
		   int committed)
{
	struct api_req *r = arg;
	json_t *o;
	mla_buf b;
	mla_err e;

	(void)g;
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
								"state", "queued")) == 0 ?
		    mla_json_dump(json_incref(o), &b) :
		    MLA_ERR_ARG;
	api_reply_built(r, 202, e, &b, NULL);
	json_decref(o);
	mla_buf_free(&b);
}

/* Common tail of submit and answer: header checks, then seal and queue. */
static void enqueue(struct api_req *r, mla_header *h, mla_buf *doc, mla_audit_event ev)
{
	mla_diag d = {MLA_OK, ""};

	if (mla_header_check(h, &d) != MLA_OK) {
		api_reply_error(r, 400, mla_errname(MLA_ERR_HEADER), mla_diag_message(&d), NULL);
	} else if (gw_config_peer(&r->g->snap->cfg, h->to_state) == NULL) {
		api_reply_error(r, 422, mla_errname(MLA_ERR_UNKNOWN_PEER), "not a configured peer",
				"to");
	} else if (submit_enqueue(r->g, h, doc->data, doc->len, r->actor, ev, queued, r) !=
		   MLA_OK) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
	} else {
		api_hold(r);
	}
	mla_buf_free(doc);
}

static int options(struct api_req *r, mla_header *h)
{
	const char *v;

	if ((v = str(r, "priority")) != NULL && mla_priority_parse(v, &h->priority) != MLA_OK) {
		api_reply_error(r, 400, "bad-field", "priority must be normal, urgent or crisis",
				"priority");
		return 0;
	}
	if ((v = str(r, "handling")) != NULL && !in_list(v, mla_handling_codes)) {
		api_reply_error(r, 400, "bad-field", "unknown handling code", "handling");
		return 0;
	}
	return copy_field(r, "handling", h->handling, sizeof(h->handling));
}

void api_submit_message(struct api_req *r)
{
	static const struct body_field f[] = {
		{"to", JSON_STRING, 1}, {"kind", JSON_STRING, 1}, {"priority", JSON_STRING, 0},
		{"handling", JSON_STRING, 0}, {"case_id", JSON_STRING, 0}, {"new_case", JSON_TRUE, 0},
		{"from_authority", JSON_STRING, 0}, {"to_authority", JSON_STRING, 0},
		{"content_type", JSON_STRING, 1}, {"document_b64", JSON_STRING, 1}};
	int new_case;
	mla_header h;
	mla_buf doc;

	if (!check_body(r, f, sizeof(f) / sizeof(f[0])))
		return;
	new_case = json_is_true(json_object_get(r->body, "new_case"));
	if (new_case == (str(r, "case_id") != NULL)) {
		api_reply_error(r, 400, "bad-field", "give exactly one of case_id and new_case true",
				"case_id");
		return;
	}
	if (!in_list(str(r, "kind"), mla_kinds)) {
		api_reply_error(r, 400, "bad-field", "unknown kind", "kind");
		return;
	}
	if (mla_header_init(&h) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_INTERNAL), "no header", NULL);
		return;
	}
	memcpy(h.from_state, r->g->snap->cfg.state, 3);
	if (!copy_field(r, "to", h.to_state, sizeof(h.to_state)) ||
	    !copy_field(r, "kind", h.kind, sizeof(h.kind)) ||
	    !copy_field(r, "case_id", h.case_id, sizeof(h.case_id)) ||
	    !copy_field(r, "from_authority", h.from_authority, sizeof(h.from_authority)) ||
	    !copy_field(r, "to_authority", h.to_authority, sizeof(h.to_authority)) ||
	    !options(r, &h))
		return;
	if (!read_document(r, &doc)) {
		mla_buf_free(&doc);
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
	if ((own = api_own_case(r, row->case_id)) == 0)
		api_deny(r, r->param, "not a message of the caller's own cases");
	return own == 1;
}

int api_find_message(struct api_req *r, const char *dir, struct store_api_row *row)
{
	return find_message(r, dir, row);
}

void api_answer_message(struct api_req *r)
{
	static const struct body_field f[] = {
		{"action", JSON_STRING, 1}, {"priority", JSON_STRING, 0},
		{"handling", JSON_STRING, 0}, {"content_type", JSON_STRING, 0},
		{"document_b64", JSON_STRING, 0}};
	struct store_api_row row;
	mla_header h;
	mla_buf doc;

	if (!check_body(r, f, sizeof(f) / sizeof(f[0])))
		return;
	if (!in_list(str(r, "action"), mla_actions) || strcmp(str(r, "action"), "request") == 0) {
		api_reply_error(r, 400, "bad-field", "not an answer action", "action");
		return;
	}
	if (!find_message(r, NULL, &row))
		return;
	if (mla_header_init(&h) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_INTERNAL), "no header", NULL);
		return;
	}
	memcpy(h.from_state, r->g->snap->cfg.state, 3);
	memcpy(h.to_state, row.peer, 3);
	memcpy(h.case_id, row.case_id, sizeof(h.case_id));
	memcpy(h.in_reply_to, row.message_id, sizeof(h.in_reply_to));
	memcpy(h.kind, row.kind, sizeof(h.kind));
	if (!copy_field(r, "action", h.action, sizeof(h.action)) || !options(r, &h))
		return;
	if (!read_document(r, &doc)) {
		mla_buf_free(&doc);
		return;
	}
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
	api_list_reply(r, &f, 1);
}
