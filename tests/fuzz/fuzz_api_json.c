/* libFuzzer harness: the local API's request parsers (gateway/api/api_parse.c). The first
 * byte picks the request: a JSON body for submitMessage and answerMessage, or a query string
 * for the list filters, the audit numbers and the fetch reason, a submission's attachments,
 * or an upload's Content-Range and a download's Range (SPEC 17.14). Whatever the input, a refusal
 * names a field and can be answered as JSON, and what is accepted stays within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "api/api_parse.h"
#include "mlagw/json.h"

#define FUZZ_MAX_DOC 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The error answer of a refusal must always be writable (mla_json_error never fails on
 * content), and a refusal is 400 or 413 with a code. */
static void check_refusal(const struct api_perr *e)
{
	mla_buf b;

	if (e->code == NULL || e->message == NULL || (e->status != 400 && e->status != 413))
		abort();
	mla_buf_init(&b, 1 << 20);
	if (mla_json_error(&b, e->code, e->message, e->field) != MLA_OK)
		abort();
	mla_buf_free(&b);
}

static void check_header(const mla_header *h, const mla_buf *doc)
{
	if (strlen(h->to_state) >= sizeof(h->to_state) || strlen(h->kind) >= sizeof(h->kind) ||
	    strlen(h->case_id) >= sizeof(h->case_id) || strlen(h->action) >= sizeof(h->action) ||
	    strlen(h->handling) >= sizeof(h->handling) || doc->len > FUZZ_MAX_DOC)
		abort();
}

static void body(const uint8_t *data, size_t size, int answer)
{
	struct api_perr e;
	json_t *obj = NULL;
	mla_header h;
	mla_buf doc;
	mla_err r;

	memset(&h, 0, sizeof(h));
	mla_buf_init(&doc, 0);
	if ((r = api_parse_body(data, size, &obj, &e)) == MLA_OK) {
		r = answer ? api_parse_answer(obj, FUZZ_MAX_DOC, &h, &doc, &e) :
			     api_parse_submit(obj, FUZZ_MAX_DOC, &h, &doc, &e);
	}
	if (r != MLA_OK)
		check_refusal(&e); /* while obj lives: e.field may be one of its keys */
	else
		check_header(&h, &doc);
	mla_buf_free(&doc);
	json_decref(obj);
}

static void query(const uint8_t *data, size_t size, int inbox)
{
	static const char *const audit[] = {"seq", "size", NULL};
	char *s = malloc(size + 1);
	struct store_api_filter f;
	struct evkeyvalq q = {NULL, &q.tqh_first};
	struct api_perr e;
	uint64_t n;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (evhttp_parse_query_str(s, &q) == 0) {
		if (api_parse_list_filter(&q, inbox, &f, &e) != MLA_OK)
			check_refusal(&e);
		else if (f.limit == 0 || f.limit > 500)
			abort();
		if (api_parse_query_only(&q, audit, &e) != MLA_OK)
			check_refusal(&e);
		if (api_parse_query_u64(&q, "seq", UINT64_MAX, 0, 1000, "seq", &n, &e) != MLA_OK)
			check_refusal(&e);
		else if (n > 1000)
			abort();
		if (api_parse_reason(evhttp_find_header(&q, "reason"), &e) != MLA_OK)
			check_refusal(&e);
	}
	evhttp_clear_headers(&q);
	free(s);
}

/* A submission's attachments (SPEC 17.14): accepted ones hold checked names and ids. */
static void attachments(const uint8_t *data, size_t size)
{
	struct submit_attach *a = malloc(sizeof(*a));
	struct api_perr e;
	json_t *obj = NULL;

	if (a == NULL)
		abort();
	if (api_parse_body(data, size, &obj, &e) != MLA_OK) {
		check_refusal(&e);
	} else if (api_parse_attachments(obj, a, &e) != MLA_OK) {
		check_refusal(&e);
	} else {
		if (a->n > MLA_ATTACH_MAX)
			abort();
		for (size_t i = 0; i < a->n; i++)
			if (!upload_id_ok(a->item[i].upload) || !mla_attach_name_ok(a->item[i].name) ||
			    !mla_attach_type_ok(a->item[i].type))
				abort();
	}
	json_decref(obj);
	free(a);
}

/* An upload chunk's Content-Range and a download's Range, from any text. */
static void ranges(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct api_range r;
	struct api_perr e;
	uint64_t first;

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (api_parse_content_range(s, size % 100, &r, &e) != MLA_OK)
		check_refusal(&e);
	else if (r.last && r.total != r.first + size % 100)
		abort(); /* the declared total is always the end of the chunk */
	if (api_parse_range(s, &first, &e) != MLA_OK)
		check_refusal(&e);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 6) {
	case 0: body(data + 1, size - 1, 0); break;
	case 1: body(data + 1, size - 1, 1); break;
	case 2: query(data + 1, size - 1, 0); break;
	case 3: query(data + 1, size - 1, 1); break;
	case 4: attachments(data + 1, size - 1); break;
	default: ranges(data + 1, size - 1); break;
	}
	return 0;
}
