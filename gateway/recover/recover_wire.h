/* The format of POST /mla/v1/recover (SPEC 13 "Recovery"): the asker's JSON request, the
 * answering gateway's JSON page of messages, and the page cursor. Pure (jansson and the
 * codec only): the server, the asker, the unit tests and the fuzz harness call these. */
#ifndef MLAGW_GATEWAY_RECOVER_WIRE_H
#define MLAGW_GATEWAY_RECOVER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"

#define RECOVER_PATH "/mla/v1/recover"
#define RECOVER_REQUEST_MAX 1024            /* bytes of a request body */
#define RECOVER_PAGE_ITEMS 64               /* items of a page at most (and limit's default) */
#define RECOVER_PAGE_BYTES ((size_t)16 << 20) /* envelope + receipt bytes a page stops at */
#define RECOVER_RECEIPT_MAX ((size_t)1 << 20) /* bytes of one receipt */
/* "<time_ms>.<0|1>.<message id>": 20 digits at most, two dots, a UUID */
#define RECOVER_CURSOR_MAX (20 + 1 + 1 + 1 + MLA_UUID_LEN)

/* Directions as the asker sees them: "sent-by-you" (in the answering gateway's inbox) and
 * "sent-to-you" (in its outbox, delivered). The values are the store's key directions. */
enum recover_dir { RECOVER_SENT_BY_YOU = 0, RECOVER_SENT_TO_YOU = 1 };
const char *recover_dir_name(enum recover_dir d);

/* A page's position: the last item's (time, direction, message id). */
struct recover_cursor {
	int64_t time_ms;
	int dir;
	char message_id[MLA_UUID_LEN + 1];
};
mla_err recover_cursor_parse(const char *s, size_t n, struct recover_cursor *out,
			     mla_diag *diag);
mla_err recover_cursor_format(const struct recover_cursor *c, char out[RECOVER_CURSOR_MAX + 1]);

struct recover_req {
	int64_t since_ms;
	int has_after;
	struct recover_cursor after;
	size_t limit; /* 1 .. RECOVER_PAGE_ITEMS */
};
/* {"since_ms": N, "after": "<cursor>" | null, "limit": n}: since_ms required (0 .. the
 * largest time), the others optional; any other member, a duplicate, a wrong type or a body
 * over RECOVER_REQUEST_MAX is refused (MLA_ERR_ARG or MLA_ERR_TOO_LARGE; diag names it). */
mla_err recover_req_parse(const void *body, size_t len, struct recover_req *out,
			  mla_diag *diag);
MLA_MUST_CHECK mla_err recover_req_write(const struct recover_req *q, mla_buf *out);

/* One message given back, its bytes decoded. */
struct recover_item {
	enum recover_dir dir;
	char message_id[MLA_UUID_LEN + 1];
	mla_buf envelope, receipt;
};
struct recover_page {
	struct recover_item items[RECOVER_PAGE_ITEMS];
	size_t n;
	int has_next;
	char next[RECOVER_CURSOR_MAX + 1];
};
/* {"items": [{"direction", "message_id", "envelope", "receipt"}...], "next": "<cursor>" |
 * null}, strictly: every member required and no other, at most RECOVER_PAGE_ITEMS items,
 * canonical base64, an envelope of at most envelope_max bytes, a receipt of at most
 * RECOVER_RECEIPT_MAX. *out is initialised here and freed with recover_page_free, whatever
 * the result. */
mla_err recover_answer_parse(const void *body, size_t len, size_t envelope_max,
			     struct recover_page *out, mla_diag *diag);
void recover_page_free(struct recover_page *p);

/* The answer's writer: an item object (NULL without memory) to append to an array, then the
 * document with the next cursor (NULL: the last page). */
json_t *recover_item_json(enum recover_dir dir, const char *message_id, const uint8_t *env,
			  size_t env_len, const uint8_t *receipt, size_t receipt_len);
/* Bytes an item adds to a page, as counted against RECOVER_PAGE_BYTES. */
size_t recover_item_bytes(size_t env_len, size_t receipt_len);
MLA_MUST_CHECK mla_err recover_answer_write(json_t *items, const char *next, mla_buf *out);

#endif
