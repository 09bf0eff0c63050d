/* The request parsers of the local API (gateway/api/api_parse.c) and of the submission socket
 * (gateway/submit/submit_parse.c): the bodies the integration tests send are accepted, each
 * malformed field is refused with an error naming it. Also the JSON writer's UTF-8 rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>

#include "mlagw/codec.h"
#include "api/api_parse.h"
#include "mlagw/json.h"
#include "submit/submit_parse.h"

#define MAX_DOC 65536

/* "PFJlcXVlc3Q+YXBpPC9SZXF1ZXN0Pg==" is base64("<Request>api</Request>"), test_api.py's */
#define DOC_B64 "PFJlcXVlc3Q+YXBpPC9SZXF1ZXN0Pg=="
#define SUBMIT_OK                                                                        \
	"\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\"," \
	"\"document_b64\":\"" DOC_B64 "\""

struct want {
	const char *body; /* the JSON text */
	int status;
	const char *code;
	const char *field; /* NULL: none */
};

/* Parses text as a body then as submit (answer 0) or answer (1); e->field is not to be
 * read afterwards (it may point into the released body). */
static mla_err parse_as(const char *text, int answer, mla_header *h, mla_buf *doc,
			struct api_perr *e)
{
	json_t *body = NULL;
	mla_err r;

	memset(h, 0, sizeof(*h));
	mla_buf_init(doc, 0);
	if ((r = api_parse_body(text, strlen(text), &body, e)) == MLA_OK)
		r = answer ? api_parse_answer(body, MAX_DOC, h, doc, e) :
			     api_parse_submit(body, MAX_DOC, h, doc, e);
	json_decref(body);
	return r;
}

static void expect_refusal(const struct want *w, int answer)
{
	struct api_perr e;
	mla_header h;
	mla_buf doc;
	json_t *body = NULL;
	mla_err r;

	memset(&e, 0, sizeof(e));
	memset(&h, 0, sizeof(h));
	mla_buf_init(&doc, 0);
	if ((r = api_parse_body(w->body, strlen(w->body), &body, &e)) == MLA_OK) {
		mla_buf_free(&doc);
		r = answer ? api_parse_answer(body, MAX_DOC, &h, &doc, &e) :
			     api_parse_submit(body, MAX_DOC, &h, &doc, &e);
	}
	if (r == MLA_OK)
		fail_msg("accepted %s", w->body);
	if (e.status != w->status || strcmp(e.code, w->code) != 0)
		fail_msg("%s: %d %s, wanted %d %s", w->body, e.status, e.code, w->status, w->code);
	assert_non_null(e.message);
	if (w->field == NULL)
		assert_null(e.field);
	else if (e.field == NULL || strcmp(e.field, w->field) != 0)
		fail_msg("%s: field %s, wanted %s", w->body, e.field ? e.field : "(none)", w->field);
	mla_buf_free(&doc);
	json_decref(body);
}

static void test_submit_accepts(void **state)
{
	struct api_perr e;
	mla_header h;
	mla_buf doc;

	(void)state;
	assert_int_equal(parse_as("{" SUBMIT_OK "}", 0, &h, &doc, &e), MLA_OK);
	assert_string_equal(h.to_state, "CO");
	assert_string_equal(h.kind, "mla");
	assert_int_equal(doc.len, strlen("<Request>api</Request>"));
	assert_memory_equal(doc.data, "<Request>api</Request>", doc.len);
	mla_buf_free(&doc);
	/* test_api.py's flow: an existing case, urgent, another kind, the optional fields */
	assert_int_equal(
		parse_as("{\"to\":\"CO\",\"kind\":\"extradition\",\"priority\":\"urgent\","
			 "\"case_id\":\"ES/2026/0042\",\"handling\":\"secret\",\"from_authority\":"
			 "\"Fiscal\\u00eda\",\"to_authority\":\"Fiscal\\u00eda General\","
			 "\"content_type\":\"application/pdf\",\"document_b64\":\"\"}",
			 0, &h, &doc, &e),
		MLA_OK);
	assert_string_equal(h.case_id, "ES/2026/0042");
	assert_string_equal(h.kind, "extradition");
	assert_int_equal(h.priority, MLA_PRIORITY_URGENT);
	assert_string_equal(h.handling, "secret");
	assert_string_equal(h.from_authority, "Fiscal\xc3\xad"
					       "a");
	assert_int_equal(doc.len, 0);
	mla_buf_free(&doc);
}

static void test_submit_refuses(void **state)
{
	static const char long_case[] = "\"case_id\":\"0123456789012345678901234567890123456789"
					"0123456789012345678901234\"";
	/* \u0000 is refused by jansson itself (no JSON_ALLOW_NUL): bad-json */
	static const struct want w[] = {
		{"{\"to\": ", 400, "bad-json", NULL},
		{"[]", 400, "bad-json", NULL},
		{"{\"to\":\"CO\",\"to\":\"ES\"}", 400, "bad-json", NULL},
		{"{" SUBMIT_OK ",\"colour\":\"red\"}", 400, "bad-field", "colour"},
		{"{\"to\":5,\"kind\":\"mla\"}", 400, "bad-field", "to"},
		{"{\"to\":\"CO\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "missing-field", "kind"},
		{"{\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "missing-field", "to"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\"}",
		 400, "missing-field", "document_b64"},
		{"{" SUBMIT_OK ",\"case_id\":\"X-1\"}", 400, "bad-field", "case_id"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "bad-field", "case_id"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":1,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "bad-field", "new_case"},
		{"{\"to\":\"CO\",\"kind\":\"nope\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "bad-field", "kind"},
		{"{\"to\":\"COL\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\"}", 400, "bad-field", "to"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"content_type\":\"application/xml\","
		 "\"document_b64\":\"\",\"case_id\":\"A\\u0000B\"}", 400, "bad-json", NULL},
		{"{" SUBMIT_OK ",\"priority\":\"soon\"}", 400, "bad-field", "priority"},
		{"{" SUBMIT_OK ",\"handling\":\"loud\"}", 400, "bad-field", "handling"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"text/html\","
		 "\"document_b64\":\"\"}", 400, "bad-field", "content_type"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"abc\"}", 400, "bad-field", "document_b64"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"ab\\u0000=\"}", 400, "bad-json", NULL},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"ab=c\"}", 400, "bad-field", "document_b64"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\"A===\"}", 400, "bad-field", "document_b64"},
		{"{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,\"content_type\":\"application/xml\","
		 "\"document_b64\":\" AA=\"}", 400, "bad-field", "document_b64"},
	};
	char buf[512];
	struct want lc = {buf, 400, "bad-field", "case_id"};

	(void)state;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		expect_refusal(&w[i], 0);
	assert_int_equal(mla_snprintf(buf, sizeof(buf),
				      "{\"to\":\"CO\",\"kind\":\"mla\",\"content_type\":"
				      "\"application/xml\",\"document_b64\":\"\",%s}", long_case),
			 MLA_OK);
	expect_refusal(&lc, 0);
}

/* A document one byte over max_document_bytes is 413 naming document_b64. */
static void test_submit_too_large(void **state)
{
	size_t n = (MAX_DOC + 3) / 3 * 4 + 4;
	char *text = malloc(n + 200);
	struct want w = {text, 413, "too-large", "document_b64"};
	int off;

	(void)state;
	assert_non_null(text);
	off = snprintf(text, 200, "{\"to\":\"CO\",\"kind\":\"mla\",\"new_case\":true,"
				  "\"content_type\":\"application/xml\",\"document_b64\":\"");
	memset(text + off, 'A', n);
	memcpy(text + off + n, "\"}", 3);
	w.code = mla_errname(MLA_ERR_TOO_LARGE);
	expect_refusal(&w, 0);
	free(text);
}

static void test_body_missing(void **state)
{
	struct api_perr e;
	mla_header h;
	mla_buf doc;

	(void)state;
	assert_int_not_equal(api_parse_submit(NULL, MAX_DOC, &h, &doc, &e), MLA_OK);
	assert_string_equal(e.code, "missing-field");
	assert_string_equal(e.field, "body");
	mla_buf_free(&doc);
}

static void test_answer(void **state)
{
	static const struct want w[] = {
		{"{\"action\":\"request\"}", 400, "bad-field", "action"},
		{"{\"action\":\"maybe\"}", 400, "bad-field", "action"},
		{"{\"priority\":\"urgent\"}", 400, "missing-field", "action"},
		{"{\"action\":\"accepted\",\"document_b64\":\"" DOC_B64 "\"}", 400, "missing-field",
		 "content_type"},
		{"{\"action\":\"accepted\",\"to\":\"CO\"}", 400, "bad-field", "to"},
		{"{\"action\":\"accepted\",\"priority\":\"later\"}", 400, "bad-field", "priority"},
	};
	struct api_perr e;
	mla_header h;
	mla_buf doc;

	(void)state;
	assert_int_equal(parse_as("{\"action\":\"accepted\",\"content_type\":\"application/xml\","
				  "\"document_b64\":\"PEFuc3dlcj5hY2NlcHRlZDwvQW5zd2VyPg==\"}",
				  1, &h, &doc, &e),
			 MLA_OK);
	assert_string_equal(h.action, "accepted");
	assert_int_equal(doc.len, strlen("<Answer>accepted</Answer>"));
	mla_buf_free(&doc);
	assert_int_equal(parse_as("{\"action\":\"withdrawn\"}", 1, &h, &doc, &e), MLA_OK);
	assert_int_equal(doc.len, 0);
	mla_buf_free(&doc);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		expect_refusal(&w[i], 1);
}

static void test_reason(void **state)
{
	char long_reason[202];
	struct api_perr e;

	(void)state;
	assert_int_equal(api_parse_reason("legal review", &e), MLA_OK);
	assert_int_equal(api_parse_reason("execution of the request", &e), MLA_OK);
	assert_int_equal(api_parse_reason("ejecuci\xc3\xb3n de la solicitud", &e), MLA_OK);
	assert_int_not_equal(api_parse_reason(NULL, &e), MLA_OK);
	assert_string_equal(e.code, "missing-field");
	assert_string_equal(e.field, "reason");
	memset(long_reason, 'x', 201);
	long_reason[201] = '\0';
	/* issue 10 finding 4: the audit entry's rules, not looser ones (U+202E, U+200B, U+2028,
	 * U+FEFF, C1, invalid UTF-8, the absent value) */
	const char *bad[] = {"ab", " leading", "trailing ", "tab\there", "del\x7f", long_reason,
			     "legal review \xe2\x80\xae", "\xe2\x80\x8blegal", "legal\xe2\x80\xa8review",
			     "review\xef\xbb\xbf", "c1 \xc2\x85 here", "bad \xff utf8", "-"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_not_equal(api_parse_reason(bad[i], &e), MLA_OK);
		assert_string_equal(e.code, "bad-field");
		assert_string_equal(e.field, "reason");
	}
}

static void query_init(struct evkeyvalq *q)
{
	q->tqh_first = NULL;
	q->tqh_last = &q->tqh_first;
}

/* Parses query as listMessages (inbox 0) or listInbox (1); the refusal's field or NULL. */
static const char *list_field(const char *query, int inbox, struct store_api_filter *f)
{
	static char field[64];
	static struct evkeyvalq q = {NULL, &q.tqh_first}; /* f points into it until the next call */
	struct api_perr e;
	const char *r = NULL;

	evhttp_clear_headers(&q);
	query_init(&q);
	assert_int_equal(evhttp_parse_query_str(query, &q), 0);
	memset(&e, 0, sizeof(e));
	if (api_parse_list_filter(&q, inbox, f, &e) != MLA_OK) {
		assert_int_equal(e.status, 400);
		assert_int_equal(mla_strcpy(field, sizeof(field), e.field), MLA_OK);
		r = field;
	}
	return r;
}

static void test_list_filter(void **state)
{
	static const char *const bad[][2] = {
		{"kind=nope", "kind"}, {"action=maybe", "action"}, {"priority=soon", "priority"},
		{"state=lost", "state"}, {"since=2026-01-01", "since"},
		{"until=2026-01-01T00:00:00+01:00", "until"}, {"limit=0", "limit"},
		{"limit=501", "limit"}, {"limit=-1", "limit"}, {"cursor=x", "cursor"},
		{"colour=red", "colour"}, {"unanswered=true", "unanswered"},
	};
	struct store_api_filter f;

	(void)state;
	assert_null(list_field("kind=mla&action=request&priority=urgent&state=delivered"
			       "&since=2026-01-01T00:00:00Z&limit=5&cursor=10", 0, &f));
	assert_string_equal(f.kind, "mla");
	assert_string_equal(f.direction, "out");
	assert_int_equal(f.priority, MLA_PRIORITY_URGENT);
	assert_int_equal(f.limit, 5);
	assert_int_equal(f.offset, 10);
	assert_true(f.since_ms > 0);
	assert_null(list_field("", 0, &f));
	assert_int_equal(f.limit, 100);
	assert_null(list_field("unanswered=true&peer=ES", 1, &f));
	assert_true(f.unanswered);
	assert_string_equal(f.direction, "in");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *got = list_field(bad[i][0], 0, &f);
		if (got == NULL || strcmp(got, bad[i][1]) != 0)
			fail_msg("%s: field %s, wanted %s", bad[i][0], got ? got : "(accepted)",
				 bad[i][1]);
	}
	assert_string_equal(list_field("state=queued", 1, &f), "state");
	assert_string_equal(list_field("unanswered=maybe", 1, &f), "unanswered");
}

static void test_query_u64(void **state)
{
	struct evkeyvalq q;
	struct api_perr e;
	uint64_t v = 0;

	(void)state;
	query_init(&q);
	assert_int_equal(evhttp_parse_query_str("seq=7&size=01&to=99", &q), 0);
	assert_int_equal(api_parse_query_u64(&q, "seq", UINT64_MAX, 0, 9, "w", &v, &e), MLA_OK);
	assert_int_equal(v, 7);
	assert_int_equal(api_parse_query_u64(&q, "from", 3, 1, 9, "w", &v, &e), MLA_OK);
	assert_int_equal(v, 3);
	assert_int_not_equal(api_parse_query_u64(&q, "from", UINT64_MAX, 1, 9, "w", &v, &e),
			     MLA_OK);
	assert_string_equal(e.code, "missing-field");
	assert_string_equal(e.field, "from");
	assert_int_not_equal(api_parse_query_u64(&q, "size", 1, 1, 9, "w", &v, &e), MLA_OK);
	assert_string_equal(e.field, "size"); /* leading zero */
	assert_int_not_equal(api_parse_query_u64(&q, "to", 1, 1, 9, "w", &v, &e), MLA_OK);
	assert_string_equal(e.field, "to"); /* above hi */
	evhttp_clear_headers(&q);
}

/* The socket's X-MLA-* headers: gwnet.py's submission, then one bad header at a time. */
static mla_err submit_headers(const char *const *kv, mla_header *h, const char **field,
			      mla_diag *d)
{
	struct evkeyvalq q;
	mla_err r;

	query_init(&q);
	for (size_t i = 0; kv[i] != NULL; i += 2)
		assert_int_equal(evhttp_add_header(&q, kv[i], kv[i + 1]), 0);
	r = submit_parse_request(&q, "ES", h, field, d);
	evhttp_clear_headers(&q);
	return r;
}

static void test_submit_socket(void **state)
{
	static const char *const ok[] = {"X-MLA-To", "CO", "X-MLA-Kind", "mla", "X-MLA-Priority",
					 "urgent", "X-MLA-Case-Id", "ES/2026/1", NULL};
	static const char *const bad[][5] = {
		{"X-MLA-To", "COL", "X-MLA-Kind", "mla", "X-MLA-To"},
		{"X-MLA-To", "CO", "X-MLA-Priority", "soon", "X-MLA-Priority"},
		{"X-MLA-To", "CO", "X-MLA-Handling",
		 "a-handling-code-far-longer-than-forty-bytes-in-all", "X-MLA-Handling"},
	};
	mla_diag d = {MLA_OK, ""};
	const char *field = "x";
	mla_header h;

	(void)state;
	assert_int_equal(submit_headers(ok, &h, &field, &d), MLA_OK);
	assert_null(field);
	assert_string_equal(h.from_state, "ES");
	assert_string_equal(h.to_state, "CO");
	assert_string_equal(h.case_id, "ES/2026/1");
	assert_int_equal(h.priority, MLA_PRIORITY_URGENT);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = {bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL};
		assert_int_equal(submit_headers(kv, &h, &field, &d), MLA_ERR_HEADER);
		assert_non_null(field);
		assert_string_equal(field, bad[i][4]);
	}
	/* a field the whole-header check refuses: the message names it */
	const char *kind[] = {"X-MLA-To", "CO", "X-MLA-Kind", "poetry", NULL};
	assert_int_equal(submit_headers(kind, &h, &field, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(mla_diag_message(&d), "Kind"));
	const char *none[] = {"X-MLA-Kind", "mla", NULL};
	assert_int_equal(submit_headers(none, &h, &field, &d), MLA_ERR_HEADER);
	assert_non_null(strstr(mla_diag_message(&d), "To state"));
}

/* Jansson refuses strings that are not UTF-8: an error to answer, never a crash. */
static void test_json_utf8(void **state)
{
	mla_buf b;
	json_t *v;

	(void)state;
	mla_buf_init(&b, 4096);
	assert_int_equal(mla_json_dump(json_pack("{s:s}", "case_id", "ES\xff"), &b), MLA_ERR_ARG);
	assert_int_equal(b.len, 0);
	assert_int_equal(mla_json_error(&b, "bad-field", "bad \xc3(", "fi\xffld"), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	v = json_loads((const char *)b.data, 0, NULL);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "code")), "bad-field");
	assert_non_null(strstr(json_string_value(json_object_get(v, "message")), "UTF-8"));
	assert_non_null(json_object_get(v, "field"));
	json_decref(v);
	mla_buf_free(&b);
	/* escaping and order: what the hand-built strings wrote */
	mla_buf_init(&b, 4096);
	assert_int_equal(mla_json_error(&b, "c", "q\"\\\n\x01", NULL), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_string_equal((const char *)b.data,
			    "{\"code\":\"c\",\"message\":\"q\\\"\\\\\\n\\u0001\"}\n");
	mla_buf_free(&b);
	mla_buf_init(&b, 8); /* bounded: a document larger than the buffer is an error */
	assert_int_not_equal(mla_json_dump(json_pack("{s:s}", "k", "0123456789"), &b), MLA_OK);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_submit_accepts),  cmocka_unit_test(test_submit_refuses),
		cmocka_unit_test(test_submit_too_large), cmocka_unit_test(test_body_missing),
		cmocka_unit_test(test_answer),          cmocka_unit_test(test_reason),
		cmocka_unit_test(test_list_filter),     cmocka_unit_test(test_query_u64),
		cmocka_unit_test(test_submit_socket),   cmocka_unit_test(test_json_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
