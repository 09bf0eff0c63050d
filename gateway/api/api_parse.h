/* The local API's request parsers (api_parse.c): bytes or a decoded JSON body in, a
 * validated value or a refusal naming the field out. Pure functions (no gateway, no I/O),
 * used by the handlers and by tests/fuzz/fuzz_api_json.c and tests/unit/test_api_parse.c. */
#ifndef MLAGW_GATEWAY_API_PARSE_H
#define MLAGW_GATEWAY_API_PARSE_H

#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "store/store.h"
#include "submit/submit_attach.h"

/* Why a request was refused: the HTTP status, the API's error code ("bad-json",
 * "missing-field", "bad-field", or mla_errname(MLA_ERR_TOO_LARGE)), a fixed message and the
 * field, parameter or header at fault (NULL if none). field may point into the JSON body
 * (an unknown key), so it lives as long as the body. */
struct api_perr {
	int status;
	const char *code;
	const char *message; /* a fixed text, or detail */
	const char *field;
	char detail[96];
};

/* A POST body: a JSON object without duplicate keys. *obj is the caller's. */
mla_err api_parse_body(const void *data, size_t len, json_t **obj, struct api_perr *e);

/* submitMessage's body (body NULL: no body) into h, whose other fields the caller sets:
 * to, kind, case_id or new_case, from_authority, to_authority, priority, handling, and the
 * document (content_type with document_b64, standard base64 with padding, at most max_doc
 * bytes decoded) into doc. doc is initialised here (secret) and always the caller's to free. */
mla_err api_parse_submit(const json_t *body, size_t max_doc, mla_header *h, mla_buf *doc,
			 struct api_perr *e);
/* answerMessage's body: action (an answer, not "request"), priority, handling and an
 * optional document, as for api_parse_submit. */
/* recordOtherChannel's body (SPEC 16.11): to, kind, case_id or new_case, priority,
 * handling, means, sent_at, document_sha256; h gets the Action other-channel and doc the
 * record's document built from them. */
mla_err api_parse_other_channel(const json_t *body, mla_header *h, mla_buf *doc,
				struct api_perr *e);
mla_err api_parse_answer(const json_t *body, size_t max_doc, mla_header *h, mla_buf *doc,
			 struct api_perr *e);
/* fetchDocument's reason (NULL if absent): 3-200 characters, no control characters, no
 * space at either end. */
mla_err api_parse_reason(const char *reason, struct api_perr *e);

/* The query holds only the parameters listed (NULL-terminated); else names the first other. */
mla_err api_parse_query_only(const struct evkeyvalq *q, const char *const *allowed,
			     struct api_perr *e);
/* listMessages' (inbox 0) or listInbox's (inbox 1) filters: case_id, peer, kind, action,
 * priority, state or unanswered, since, until (UTC, ...Z), limit (1-500, default 100),
 * cursor. f's strings point into q; f->own is the caller's to set. */
mla_err api_parse_list_filter(const struct evkeyvalq *q, int inbox, struct store_api_filter *f,
			      struct api_perr *e);
/* The audit operations' numbers: a canonical decimal (no sign, no leading zero). */
int api_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Query parameter name as a number in lo .. hi; absent gives dflt, or is refused when dflt
 * is UINT64_MAX. what is the refusal's message. */
mla_err api_parse_query_u64(const struct evkeyvalq *q, const char *name, uint64_t dflt,
			    uint64_t lo, uint64_t hi, const char *what, uint64_t *out,
			    struct api_perr *e);
/* ---- attachments (api_parse_attach.c, SPEC 17.14) ---- */

/* An upload chunk's Content-Range: "bytes FIRST-LAST/STAR" (STAR the character '*'),
 * "bytes FIRST-LAST/TOTAL" (the last chunk: last set, total), or "bytes STAR/TOTAL" with no
 * body (the end, nothing to add). The range must span exactly body_len bytes. */
struct api_range {
	uint64_t first;
	int last;
	uint64_t total;
};
mla_err api_parse_content_range(const char *v, size_t body_len, struct api_range *out,
				struct api_perr *e);
/* A download's Range (NULL: from 0): exactly "bytes=FIRST-". */
mla_err api_parse_range(const char *v, uint64_t *first, struct api_perr *e);
/* A submission's optional "attachments" (1 to 64 of {"upload", "name", "type",
 * "compress"}) into out (n 0 when absent); names and types checked as SPEC 17.6 says. */
mla_err api_parse_attachments(const json_t *body, struct submit_attach *out,
			      struct api_perr *e);

/* A message state's name in the API: msg_state_name, or "received" (6) for the inbox. */
const char *api_state_name(int state);

#endif
