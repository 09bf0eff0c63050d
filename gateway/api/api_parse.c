/* Parsers of the local API's requests (see api_parse.h): the JSON bodies of submitMessage and
 * answerMessage, the fetch reason, the list filters and the audit numbers. Every refusal names
 * the field; nothing here touches the gateway, so fuzzing and tests call what handlers call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <openssl/evp.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "mlagw/notice.h"
#include "api_parse.h"

#define API_LIST_DEFAULT 100
#define API_LIST_MAX 500

struct body_field {
	const char *name;
	json_type type;
	int required;
};

static mla_err refuse(struct api_perr *e, int status, const char *code, const char *message,
		      const char *field)
{
	e->status = status;
	e->code = code;
	e->message = message;
	e->field = field;
	return status == 413 ? MLA_ERR_TOO_LARGE : MLA_ERR_ARG;
}

mla_err api_parse_body(const void *data, size_t len, json_t **obj, struct api_perr *e)
{
	json_error_t err;
	json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	mla_err r = MLA_ERR_ARG;

	if (v == NULL) {
		/* the position only: jansson's own text quotes the input ("near ...") */
		(void)mla_snprintf_cut(e->detail, sizeof(e->detail),
				       "not valid JSON (line %d, column %d)", err.line, err.column);
		r = refuse(e, 400, "bad-json", e->detail, NULL);
		goto out;
	}
	if (!json_is_object(v)) {
		r = refuse(e, 400, "bad-json", "the body must be a JSON object", NULL);
		goto out;
	}
	*obj = v;
	v = NULL;
	r = MLA_OK;
out:
	json_decref(v);
	return r;
}

/* Unknown fields, wrong types, then missing required ones: refused naming the field. */
static mla_err check_fields(const json_t *body, const struct body_field *f, size_t n,
			    struct api_perr *e)
{
	const char *key;
	json_t *v;

	if (body == NULL)
		return refuse(e, 400, "missing-field", "a JSON body is required", "body");
	json_object_foreach((json_t *)body, key, v) {
		size_t i = 0;
		while (i < n && strcmp(f[i].name, key) != 0)
			i++;
		if (i == n)
			return refuse(e, 400, "bad-field", "unknown field", key);
		if (json_typeof(v) != f[i].type && !(f[i].type == JSON_TRUE && json_is_boolean(v)))
			return refuse(e, 400, "bad-field", "wrong JSON type", key);
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].required && json_object_get(body, f[i].name) == NULL)
			return refuse(e, 400, "missing-field", "required field missing", f[i].name);
	return MLA_OK;
}

static const char *str(const json_t *body, const char *name)
{
	return json_string_value(json_object_get(body, name));
}

static int in_list(const char *v, const char *const *list)
{
	for (size_t i = 0; v != NULL && list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return 1;
	return 0;
}

/* Copies the string field name (if present) into dst of cap bytes. */
static mla_err copy_field(const json_t *body, const char *name, char *dst, size_t cap,
			  struct api_perr *e)
{
	const char *v = str(body, name);
	size_t n = v != NULL ? json_string_length(json_object_get(body, name)) : 0;

	if (v == NULL)
		return MLA_OK;
	if (n >= cap || strlen(v) != n) /* a \u0000 inside would cut the value short */
		return refuse(e, 400, "bad-field", n >= cap ? "value too long" : "NUL in value",
			      name);
	memcpy(dst, v, n + 1);
	return MLA_OK;
}

/* document_b64 into doc (decoded); content_type must be known; both or neither. */
static mla_err parse_document(const json_t *body, size_t max, mla_buf *doc, struct api_perr *e)
{
	static const char *const types[] = {"application/xml", "application/pdf",
					    "application/octet-stream", NULL};
	const char *b64 = str(body, "document_b64"), *ct = str(body, "content_type");
	size_t len = b64 != NULL ? json_string_length(json_object_get(body, "document_b64")) : 0;
	mla_err r;

	if ((b64 == NULL) != (ct == NULL))
		return refuse(e, 400, "missing-field", "document_b64 and content_type go together",
			      b64 == NULL ? "document_b64" : "content_type");
	if (ct != NULL && !in_list(ct, types))
		return refuse(e, 400, "bad-field", "unsupported content type", "content_type");
	if (b64 == NULL)
		return MLA_OK;
	/* the size first, so an oversized document costs no decoding */
	if (len / 4 * 3 > max + 2 || (r = mla_b64_decode_buf(b64, len, doc)) == MLA_ERR_TOO_LARGE)
		return refuse(e, 413, mla_errname(MLA_ERR_TOO_LARGE),
			      "document exceeds [limits] max_document_bytes", "document_b64");
	if (r != MLA_OK)
		return refuse(e, 400, "bad-field", r == MLA_ERR_BASE64 ?
			      "not canonical standard base64 with padding" : mla_strerror(r),
			      "document_b64");
	return MLA_OK;
}

/* priority and handling, shared by submit and answer. */
static mla_err parse_options(const json_t *body, mla_header *h, struct api_perr *e)
{
	const char *v;

	if ((v = str(body, "priority")) != NULL && mla_priority_parse(v, &h->priority) != MLA_OK)
		return refuse(e, 400, "bad-field", "priority must be normal, urgent or crisis",
			      "priority");
	if ((v = str(body, "handling")) != NULL && !in_list(v, mla_handling_codes))
		return refuse(e, 400, "bad-field", "unknown handling code", "handling");
	return copy_field(body, "handling", h->handling, sizeof(h->handling), e);
}

/* What a new message of a case names in both operations that start one: to, kind, and
 * exactly one of case_id and new_case. */
static mla_err parse_case_target(const json_t *body, mla_header *h, struct api_perr *e)
{
	mla_err r;

	if (json_is_true(json_object_get(body, "new_case")) == (str(body, "case_id") != NULL))
		return refuse(e, 400, "bad-field", "give exactly one of case_id and new_case true",
			      "case_id");
	if (!in_list(str(body, "kind"), mla_kinds))
		return refuse(e, 400, "bad-field", "unknown kind", "kind");
	if ((r = copy_field(body, "to", h->to_state, sizeof(h->to_state), e)) != MLA_OK ||
	    (r = copy_field(body, "kind", h->kind, sizeof(h->kind), e)) != MLA_OK)
		return r;
	return copy_field(body, "case_id", h->case_id, sizeof(h->case_id), e);
}

mla_err api_parse_submit(const json_t *body, size_t max_doc, mla_header *h, mla_buf *doc,
			 struct api_perr *e)
{
	static const struct body_field f[] = {
		{"to", JSON_STRING, 1}, {"kind", JSON_STRING, 1}, {"priority", JSON_STRING, 0},
		{"handling", JSON_STRING, 0}, {"case_id", JSON_STRING, 0}, {"new_case", JSON_TRUE, 0},
		{"from_authority", JSON_STRING, 0}, {"to_authority", JSON_STRING, 0},
		{"content_type", JSON_STRING, 1}, {"document_b64", JSON_STRING, 1},
		{"attachments", JSON_ARRAY, 0}};
	mla_err r;

	mla_buf_init_secret(doc, max_doc + 3);
	if ((r = check_fields(body, f, sizeof(f) / sizeof(f[0]), e)) != MLA_OK)
		return r;
	if ((r = parse_case_target(body, h, e)) != MLA_OK ||
	    (r = copy_field(body, "from_authority", h->from_authority, sizeof(h->from_authority),
			    e)) != MLA_OK ||
	    (r = copy_field(body, "to_authority", h->to_authority, sizeof(h->to_authority), e)) !=
		    MLA_OK ||
	    (r = parse_options(body, h, e)) != MLA_OK)
		return r;
	return parse_document(body, max_doc, doc, e);
}

/* means, sent_at, document_sha256 into o (SPEC 16.11). */
static mla_err parse_record(const json_t *body, mla_other_channel *o, struct api_perr *e)
{
	const char *means = str(body, "means"), *at = str(body, "sent_at"),
		   *hex = str(body, "document_sha256");

	memset(o, 0, sizeof(*o));
	if (!in_list(means, mla_other_means))
		return refuse(e, 400, "bad-field", "means must be courier, diplomatic, fax, post, "
			      "email, hand or other", "means");
	memcpy(o->means, means, strlen(means) + 1);
	if (mla_time_ms_parse(at, strlen(at), &o->sent_ms) != MLA_OK)
		return refuse(e, 400, "bad-field", "sent_at must be YYYY-MM-DDThh:mm:ss.mmmZ",
			      "sent_at");
	if (strlen(hex) != 64 || mla_hex_decode(hex, 64, o->sha256, 32, NULL) != MLA_OK)
		return refuse(e, 400, "bad-field", "document_sha256 must be 64 lower-case hex "
			      "digits (the SHA-256 of the document sent)", "document_sha256");
	return MLA_OK;
}

mla_err api_parse_other_channel(const json_t *body, mla_header *h, mla_buf *doc,
				struct api_perr *e)
{
	static const struct body_field f[] = {
		{"to", JSON_STRING, 1}, {"kind", JSON_STRING, 1}, {"priority", JSON_STRING, 0},
		{"handling", JSON_STRING, 0}, {"case_id", JSON_STRING, 0}, {"new_case", JSON_TRUE, 0},
		{"means", JSON_STRING, 1}, {"sent_at", JSON_STRING, 1},
		{"document_sha256", JSON_STRING, 1}};
	mla_other_channel o;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	mla_buf_init(doc, MLA_NOTICE_MAX);
	if ((r = check_fields(body, f, sizeof(f) / sizeof(f[0]), e)) != MLA_OK)
		return r;
	if ((r = parse_case_target(body, h, e)) != MLA_OK ||
	    (r = parse_options(body, h, e)) != MLA_OK || (r = parse_record(body, &o, e)) != MLA_OK)
		return r;
	if (mla_strcpy(h->action, sizeof(h->action), MLA_OTHER_CHANNEL_ACTION) != MLA_OK ||
	    mla_other_channel_build(&o, doc, &d) != MLA_OK)
		return refuse(e, 400, "bad-field", "the record cannot be built", "means");
	return MLA_OK;
}

mla_err api_parse_answer(const json_t *body, size_t max_doc, mla_header *h, mla_buf *doc,
			 struct api_perr *e)
{
	static const struct body_field f[] = {
		{"action", JSON_STRING, 1}, {"priority", JSON_STRING, 0},
		{"handling", JSON_STRING, 0}, {"content_type", JSON_STRING, 0},
		{"document_b64", JSON_STRING, 0}, {"attachments", JSON_ARRAY, 0}};
	mla_err r;

	mla_buf_init_secret(doc, max_doc + 3);
	if ((r = check_fields(body, f, sizeof(f) / sizeof(f[0]), e)) != MLA_OK)
		return r;
	if (!in_list(str(body, "action"), mla_actions) || strcmp(str(body, "action"), "request") == 0)
		return refuse(e, 400, "bad-field", "not an answer action", "action");
	if ((r = copy_field(body, "action", h->action, sizeof(h->action), e)) != MLA_OK ||
	    (r = parse_options(body, h, e)) != MLA_OK)
		return r;
	return parse_document(body, max_doc, doc, e);
}

mla_err api_parse_reason(const char *s, struct api_perr *e)
{
	/* the audit entry's own rule (it records the reason), checked before anything is read */
	if (s == NULL || strlen(s) < 3 || !mla_audit_text_ok(s, MLA_AUDIT_REASON_MAX))
		return refuse(e, 400, s == NULL ? "missing-field" : "bad-field",
			      "reason (3-200 bytes of UTF-8 text, no invisible or control "
			      "characters, no space at either end) is required", "reason");
	return MLA_OK;
}

const char *api_state_name(int state)
{
	return state == 6 ? "received" : msg_state_name((msg_state)state);
}

mla_err api_parse_query_only(const struct evkeyvalq *q, const char *const *allowed,
			     struct api_perr *e)
{
	for (struct evkeyval *kv = q->tqh_first; kv != NULL; kv = kv->next.tqe_next) {
		size_t i = 0;
		while (allowed[i] != NULL && strcmp(allowed[i], kv->key) != 0)
			i++;
		if (allowed[i] == NULL)
			return refuse(e, 400, "bad-field", "unknown query parameter", kv->key);
	}
	return MLA_OK;
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
		if (strcmp(v, api_state_name(i)) == 0) {
			*state = i;
			return 1;
		}
	return 0;
}

static const char *const list_params[] = {"case_id", "peer", "kind", "action", "priority",
					  "state", "since", "until", "limit", "cursor", NULL};
static const char *const inbox_params[] = {"case_id", "peer", "kind", "action", "priority",
					   "unanswered", "since", "until", "limit", "cursor", NULL};

/* The message names the parameter too: clients often show only the message. */
static const char *bad_value(const char *name)
{
	static const char *const msgs[][2] = {
		{"kind", "invalid value for query parameter kind"},
		{"action", "invalid value for query parameter action"},
		{"priority", "invalid value for query parameter priority"},
		{"state", "invalid value for query parameter state"},
		{"unanswered", "invalid value for query parameter unanswered"},
		{"limit", "invalid value for query parameter limit"},
		{"cursor", "invalid value for query parameter cursor"},
	};

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(msgs[i][0], name) == 0)
			return msgs[i][1];
	return "invalid query parameter value";
}

static const char *query(const struct evkeyvalq *q, const char *name)
{
	return evhttp_find_header(q, name);
}

mla_err api_parse_list_filter(const struct evkeyvalq *q, int inbox, struct store_api_filter *f,
			      struct api_perr *e)
{
	const char *v, *bad = NULL, *why = NULL;
	mla_priority p;
	mla_err r;

	memset(f, 0, sizeof(*f));
	f->priority = f->state = -1;
	f->limit = API_LIST_DEFAULT;
	f->direction = inbox ? "in" : "out";
	if ((r = api_parse_query_only(q, inbox ? inbox_params : list_params, e)) != MLA_OK)
		return r;
	f->case_id = query(q, "case_id");
	f->peer = query(q, "peer");
	if ((f->kind = query(q, "kind")) != NULL && !in_list(f->kind, mla_kinds))
		bad = "kind";
	if ((f->action = query(q, "action")) != NULL && !in_list(f->action, mla_actions))
		bad = "action";
	if ((v = query(q, "priority")) != NULL) {
		if (mla_priority_parse(v, &p) != MLA_OK)
			bad = "priority";
		f->priority = (int)p;
	}
	if ((v = query(q, "state")) != NULL && !state_parse(v, &f->state))
		bad = "state";
	if ((v = query(q, "unanswered")) != NULL) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			bad = "unanswered";
		f->unanswered = strcmp(v, "true") == 0;
	}
	if ((v = query(q, "since")) != NULL && !parse_time(v, &f->since_ms)) {
		bad = "since";
		why = "since is not a real UTC time YYYY-MM-DDThh:mm:ssZ";
	}
	if ((v = query(q, "until")) != NULL && !parse_time(v, &f->until_ms)) {
		bad = "until";
		why = "until is not a real UTC time YYYY-MM-DDThh:mm:ssZ";
	}
	if ((v = query(q, "limit")) != NULL && !parse_count(v, 1, API_LIST_MAX, &f->limit))
		bad = "limit";
	if ((v = query(q, "cursor")) != NULL && !parse_count(v, 0, (size_t)1 << 40, &f->offset))
		bad = "cursor";
	if (bad != NULL)
		return refuse(e, 400, "bad-field", why != NULL ? why : bad_value(bad), bad);
	return MLA_OK;
}

int api_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	return s != NULL && mla_parse_u64(s, 0, max, out) == MLA_OK;
}

mla_err api_parse_query_u64(const struct evkeyvalq *q, const char *name, uint64_t dflt,
			    uint64_t lo, uint64_t hi, const char *what, uint64_t *out,
			    struct api_perr *e)
{
	const char *v = query(q, name);

	if (v == NULL && dflt != UINT64_MAX) {
		*out = dflt;
		return MLA_OK;
	}
	if (v == NULL)
		return refuse(e, 400, "missing-field", what, name);
	if (mla_parse_u64(v, lo, hi, out) != MLA_OK)
		return refuse(e, 400, "bad-field", what, name);
	return MLA_OK;
}
