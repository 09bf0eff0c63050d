/* The JSON of POST /mla/v1/recover (see recover_wire.h, SPEC 13 "Recovery"). The answer
 * comes from a peer over the network: every member is checked for type and bounds before use,
 * and nothing it holds is written to a log (a refusal names the member, never its value). */
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "recover_wire.h"

const char *recover_dir_name(enum recover_dir d)
{
	return d == RECOVER_SENT_BY_YOU ? "sent-by-you" : "sent-to-you";
}

static int id_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       c == '-';
}

/* A message id as it may travel here: 1 .. 36 characters of [0-9A-Za-z-]. */
static mla_err copy_id(const char *s, size_t n, char out[MLA_UUID_LEN + 1])
{
	if (n == 0 || n > MLA_UUID_LEN)
		return MLA_ERR_ARG;
	for (size_t i = 0; i < n; i++)
		if (!id_char(s[i]))
			return MLA_ERR_ARG;
	memcpy(out, s, n);
	out[n] = '\0';
	return MLA_OK;
}

mla_err recover_cursor_parse(const char *s, size_t n, struct recover_cursor *out,
			     mla_diag *diag)
{
	const char *dot = memchr(s, '.', n);
	uint64_t t;

	memset(out, 0, sizeof(*out));
	if (n > RECOVER_CURSOR_MAX || dot == NULL || dot == s ||
	    mla_parse_u64n(s, (size_t)(dot - s), 0, (uint64_t)MLA_TIME_MS_MAX, &t) != MLA_OK ||
	    (size_t)(dot - s) + 3 > n || (dot[1] != '0' && dot[1] != '1') || dot[2] != '.' ||
	    copy_id(dot + 3, n - (size_t)(dot - s) - 3, out->message_id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "after: not a cursor of this gateway");
	out->time_ms = (int64_t)t;
	out->dir = dot[1] - '0';
	return MLA_OK;
}

mla_err recover_cursor_format(const struct recover_cursor *c, char out[RECOVER_CURSOR_MAX + 1])
{
	return mla_snprintf(out, RECOVER_CURSOR_MAX + 1, "%lld.%d.%s", (long long)c->time_ms,
			    c->dir, c->message_id);
}

/* json_loadb with duplicates refused, and the top level an object. */
static mla_err load_object(const void *body, size_t len, json_t **out, mla_diag *diag)
{
	json_error_t err;
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);

	if (v == NULL || !json_is_object(v)) {
		json_decref(v);
		/* the position only: jansson's own text may quote the input */
		return mla_fail(diag, MLA_ERR_ARG, "not a JSON object (line %d, column %d)",
				err.line, err.column);
	}
	*out = v;
	return MLA_OK;
}

/* Every member of o is one of names[0..n), and every required one (bit i of need) is there. */
static mla_err members(json_t *o, const char *const *names, size_t n, unsigned need,
		       const char *what, mla_diag *diag)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i = 0;
		while (i < n && strcmp(names[i], key) != 0)
			i++;
		if (i == n)
			return mla_fail(diag, MLA_ERR_ARG, "%s: unknown member", what);
	}
	for (size_t i = 0; i < n; i++)
		if ((need & (1u << i)) && json_object_get(o, names[i]) == NULL)
			return mla_fail(diag, MLA_ERR_ARG, "%s: %s missing", what, names[i]);
	return MLA_OK;
}

static mla_err req_fields(json_t *o, struct recover_req *q, mla_diag *diag)
{
	static const char *const names[] = {"since_ms", "after", "limit"};
	json_t *since = json_object_get(o, "since_ms"), *after = json_object_get(o, "after"),
	       *limit = json_object_get(o, "limit");
	mla_err r;

	if ((r = members(o, names, 3, 1u, "request", diag)) != MLA_OK)
		return r;
	if (!json_is_integer(since) || json_integer_value(since) < 0 ||
	    json_integer_value(since) > MLA_TIME_MS_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "since_ms: an integer of 0 .. %lld",
				(long long)MLA_TIME_MS_MAX);
	q->since_ms = (int64_t)json_integer_value(since);
	if (limit != NULL && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
			      json_integer_value(limit) > RECOVER_PAGE_ITEMS))
		return mla_fail(diag, MLA_ERR_ARG, "limit: an integer of 1 .. %d",
				RECOVER_PAGE_ITEMS);
	if (limit != NULL)
		q->limit = (size_t)json_integer_value(limit);
	if (after == NULL || json_is_null(after))
		return MLA_OK;
	if (!json_is_string(after))
		return mla_fail(diag, MLA_ERR_ARG, "after: a string or null");
	q->has_after = 1;
	return recover_cursor_parse(json_string_value(after), json_string_length(after),
				    &q->after, diag);
}

mla_err recover_req_parse(const void *body, size_t len, struct recover_req *q, mla_diag *diag)
{
	json_t *o = NULL;
	mla_err r;

	memset(q, 0, sizeof(*q));
	q->limit = RECOVER_PAGE_ITEMS;
	if (len > RECOVER_REQUEST_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "request: over %d bytes",
				RECOVER_REQUEST_MAX);
	if ((r = load_object(body, len, &o, diag)) == MLA_OK)
		r = req_fields(o, q, diag);
	json_decref(o);
	return r;
}

mla_err recover_req_write(const struct recover_req *q, mla_buf *out)
{
	char after[RECOVER_CURSOR_MAX + 1];
	json_t *o = json_pack("{s:I,s:I}", "since_ms", (json_int_t)q->since_ms, "limit",
			      (json_int_t)q->limit);

	if (o != NULL && q->has_after &&
	    (recover_cursor_format(&q->after, after) != MLA_OK ||
	     json_object_set_new(o, "after", json_string(after)) != 0)) {
		json_decref(o);
		return MLA_ERR_ARG;
	}
	return mla_json_dump(o, out);
}

/* A base64 member decoded into b (max bytes). */
static mla_err b64_member(json_t *v, mla_buf *b, size_t max, const char *what, mla_diag *diag)
{
	mla_err r;

	mla_buf_init(b, max);
	if (!json_is_string(v))
		return mla_fail(diag, MLA_ERR_ARG, "item: %s: not a string", what);
	if ((r = mla_b64_decode_buf(json_string_value(v), json_string_length(v), b)) != MLA_OK)
		return mla_fail(diag, r, "item: %s: %s", what, r == MLA_ERR_TOO_LARGE ?
				"over its size limit" : "not canonical base64");
	if (b->len == 0)
		return mla_fail(diag, MLA_ERR_ARG, "item: %s: empty", what);
	return MLA_OK;
}

static mla_err item_fields(json_t *o, size_t envelope_max, struct recover_item *it,
			   mla_diag *diag)
{
	static const char *const names[] = {"direction", "message_id", "envelope", "receipt"};
	json_t *dir = json_object_get(o, "direction"), *id = json_object_get(o, "message_id");
	mla_err r;

	mla_buf_init(&it->envelope, 0);
	mla_buf_init(&it->receipt, 0);
	if (!json_is_object(o))
		return mla_fail(diag, MLA_ERR_ARG, "item: not an object");
	if ((r = members(o, names, 4, 0xfu, "item", diag)) != MLA_OK)
		return r;
	if (json_is_string(dir) && strcmp(json_string_value(dir), "sent-by-you") == 0)
		it->dir = RECOVER_SENT_BY_YOU;
	else if (json_is_string(dir) && strcmp(json_string_value(dir), "sent-to-you") == 0)
		it->dir = RECOVER_SENT_TO_YOU;
	else
		return mla_fail(diag, MLA_ERR_ARG, "item: direction: sent-by-you or sent-to-you");
	if (!json_is_string(id) ||
	    copy_id(json_string_value(id), json_string_length(id), it->message_id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "item: message_id: not a message id");
	if ((r = b64_member(json_object_get(o, "envelope"), &it->envelope, envelope_max,
			    "envelope", diag)) != MLA_OK)
		return r;
	return b64_member(json_object_get(o, "receipt"), &it->receipt, RECOVER_RECEIPT_MAX,
			  "receipt", diag);
}

static mla_err answer_fields(json_t *o, size_t envelope_max, struct recover_page *p,
			     mla_diag *diag)
{
	static const char *const names[] = {"items", "next"};
	json_t *items = json_object_get(o, "items"), *next = json_object_get(o, "next");
	struct recover_cursor c;
	mla_err r;

	if ((r = members(o, names, 2, 3u, "answer", diag)) != MLA_OK)
		return r;
	if (!json_is_array(items) || json_array_size(items) > RECOVER_PAGE_ITEMS)
		return mla_fail(diag, MLA_ERR_ARG, "items: an array of at most %d",
				RECOVER_PAGE_ITEMS);
	if (!json_is_null(next) &&
	    (!json_is_string(next) ||
	     recover_cursor_parse(json_string_value(next), json_string_length(next), &c, diag) !=
		     MLA_OK))
		return mla_fail(diag, MLA_ERR_ARG, "next: a cursor or null");
	if (json_is_string(next)) {
		p->has_next = 1;
		memcpy(p->next, json_string_value(next), json_string_length(next) + 1);
	}
	for (size_t i = 0; i < json_array_size(items); i++) {
		r = item_fields(json_array_get(items, i), envelope_max, &p->items[i], diag);
		p->n = i + 1; /* its buffers are freed with the page, taken or not */
		if (r != MLA_OK)
			return r;
	}
	return MLA_OK;
}

mla_err recover_answer_parse(const void *body, size_t len, size_t envelope_max,
			     struct recover_page *p, mla_diag *diag)
{
	json_t *o = NULL;
	mla_err r;

	memset(p, 0, sizeof(*p));
	if ((r = load_object(body, len, &o, diag)) == MLA_OK)
		r = answer_fields(o, envelope_max, p, diag);
	json_decref(o);
	return r;
}

void recover_page_free(struct recover_page *p)
{
	for (size_t i = 0; i < p->n; i++) {
		mla_buf_free(&p->items[i].envelope);
		mla_buf_free(&p->items[i].receipt);
	}
	p->n = 0;
}

static json_t *b64_json(const uint8_t *data, size_t len)
{
	mla_buf b;
	json_t *v = NULL;

	mla_buf_init(&b, MLA_B64_LEN(len) + 1);
	if (mla_b64_encode_buf(data, len, &b) == MLA_OK)
		v = json_stringn((const char *)b.data, b.len);
	mla_buf_free(&b);
	return v;
}

json_t *recover_item_json(enum recover_dir dir, const char *message_id, const uint8_t *env,
			  size_t env_len, const uint8_t *receipt, size_t receipt_len)
{
	/* "o" steals each reference, and frees the object when one of them is NULL */
	return json_pack("{s:s,s:s,s:o,s:o}", "direction", recover_dir_name(dir), "message_id",
			 message_id, "envelope", b64_json(env, env_len), "receipt",
			 b64_json(receipt, receipt_len));
}

size_t recover_item_bytes(size_t env_len, size_t receipt_len)
{
	return env_len + receipt_len;
}

mla_err recover_answer_write(json_t *items, const char *next, mla_buf *out)
{
	return mla_json_dump(json_pack("{s:o,s:o}", "items", items, "next",
				       next != NULL ? json_string(next) : json_null()),
			     out);
}
