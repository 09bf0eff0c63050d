/* The answering side of POST /mla/v1/recover (SPEC 13 "Recovery"): a page of the messages
 * this gateway exchanged with the asking peer, as the store holds them with their receipts,
 * in the order (creation time, direction, message id) after the asker's cursor. Reads only;
 * served on the loop thread, also while this gateway itself holds new work (at its start). */
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "recover.h"
#include "recover_wire.h"

struct page_ctx {
	json_t *items;
	size_t n, bytes, limit;
	int full;           /* more rows follow this page */
	int failed;         /* out of memory building it */
	struct store_recover_key last;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  const void *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL && body != NULL)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void refuse(struct evhttp_request *req, int code, const char *reason, const char *peer,
		   const char *why)
{
	char body[MLA_DIAG_MAX + 8];

	gw_log(code >= 500 ? GW_LOG_ERROR : GW_LOG_WARN, "recover-refused", NULL,
	       "peer=%s status=%d reason=\"%s\"", peer, code, why);
	(void)mla_snprintf_cut(body, sizeof(body), "%s\n", why);
	reply(req, code, reason, "text/plain", body, strlen(body));
}

/* One row into the page, unless the page is full: limit items, or the byte budget (the
 * first item always goes in, whatever its size, so that every message can be fetched). */
static int take_row(const struct store_recover_row *row, void *arg)
{
	struct page_ctx *p = arg;
	size_t add = recover_item_bytes(row->envelope_len, row->receipt_len);
	json_t *item;

	if (p->n == p->limit || (p->n > 0 && p->bytes + add > RECOVER_PAGE_BYTES)) {
		p->full = 1;
		return 0;
	}
	item = recover_item_json((enum recover_dir)row->key.dir, row->key.message_id,
				 row->envelope, row->envelope_len, row->receipt, row->receipt_len);
	if (item == NULL || json_array_append_new(p->items, item) != 0) {
		p->failed = 1;
		return 0;
	}
	p->n++;
	p->bytes += add;
	p->last = row->key;
	return 1;
}

static mla_err answer(struct gw *g, const char *peer, const struct recover_req *q,
		      struct page_ctx *p, mla_buf *out, mla_diag *d)
{
	struct store_recover_key after;
	struct recover_cursor c;
	char next[RECOVER_CURSOR_MAX + 1];
	mla_err r;

	memset(&after, 0, sizeof(after));
	if (q->has_after) {
		after.time_ms = q->after.time_ms;
		after.dir = q->after.dir;
		memcpy(after.message_id, q->after.message_id, sizeof(after.message_id));
	}
	if ((r = store_recover_page(g->store, peer, q->since_ms, q->has_after ? &after : NULL,
				    q->limit + 1, take_row, p, d)) != MLA_OK)
		return r;
	if (p->failed)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	c.time_ms = p->last.time_ms;
	c.dir = p->last.dir;
	memcpy(c.message_id, p->last.message_id, sizeof(c.message_id));
	if (p->full && (r = recover_cursor_format(&c, next)) != MLA_OK)
		return mla_fail(d, r, "cursor");
	r = recover_answer_write(p->items, p->full ? next : NULL, out);
	p->items = NULL; /* taken by the writer */
	return r == MLA_OK ? MLA_OK : mla_fail(d, r, "cannot write the page");
}

static int is_json(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");

	return ct != NULL && strncmp(ct, "application/json", 16) == 0;
}

void recover_serve(struct gw *g, struct evhttp_request *req, const char *peer)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct page_ctx p = {0};
	struct recover_req q;
	mla_diag d = {MLA_OK, ""};
	mla_buf out;
	mla_err r;

	/* the page may hold RECOVER_PAGE_BYTES plus one item of the largest envelope */
	mla_buf_init(&out, MLA_B64_LEN(RECOVER_PAGE_BYTES + g->snap->cfg.limits.max_envelope_bytes +
				       RECOVER_RECEIPT_MAX) + 65536);
	if (!is_json(req))
		refuse(req, 415, "Unsupported Media Type", peer, "application/json expected");
	else if ((r = recover_req_parse(evbuffer_pullup(in, -1), len, &q, &d)) != MLA_OK)
		refuse(req, r == MLA_ERR_TOO_LARGE ? 413 : 400, r == MLA_ERR_TOO_LARGE ?
		       "Payload Too Large" : "Bad Request", peer, mla_diag_message(&d));
	else if ((p.items = json_array()) == NULL)
		refuse(req, 503, "Service Unavailable", peer, "out of memory");
	else if (p.limit = q.limit, answer(g, peer, &q, &p, &out, &d) != MLA_OK)
		refuse(req, 503, "Service Unavailable", peer, mla_diag_message(&d));
	else {
		gw_log(GW_LOG_INFO, "recover-served", NULL, "peer=%s items=%zu bytes=%zu more=%s",
		       peer, p.n, p.bytes, p.full ? "yes" : "no");
		reply(req, 200, "OK", "application/json", out.data, out.len);
	}
	json_decref(p.items);
	mla_buf_free(&out);
}
