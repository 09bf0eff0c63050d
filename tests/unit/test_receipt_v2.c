/* Receipt version 2 (SPEC 12): a negative receipt carrying the problem list of a refused case
 * document. Round trips of both versions, the limits (100 problems of the longest fields),
 * what sealing refuses, and a list altered, re-signed or put where it does not belong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <openssl/sha.h>

#include "fixture.h"
#include "mlagw/codec.h"
#include "mlagw/receipt.h"
#include "seal_internal.h"

static void fill(mla_receipt *r, unsigned version, mla_outcome outcome)
{
	mla_header h;

	assert_int_equal(mla_receipt_init(r), MLA_OK);
	assert_int_equal(mla_header_init(&h), MLA_OK);
	memcpy(r->message_id, h.message_id, sizeof(r->message_id));
	SHA256((const unsigned char *)"envelope bytes", 14, r->envelope_digest);
	memcpy(r->receiver_state, "CO", 3);
	memcpy(r->sender_state, "ES", 3);
	r->version = version;
	r->outcome = outcome;
	if (outcome == MLA_OUTCOME_REJECTED) {
		r->error = MLA_ERR_SCHEMA;
		assert_int_equal(mla_strcpy(r->error_message, sizeof(r->error_message),
					    "the document does not follow its case schema"), MLA_OK);
	}
}

static void problem(mla_receipt_problems *p, const char *path, const char *code,
		    const char *detail)
{
	mla_receipt_problem *q = &p->list[p->n++];

	assert_int_equal(mla_strcpy(q->path, sizeof(q->path), path), MLA_OK);
	assert_int_equal(mla_strcpy(q->code, sizeof(q->code), code), MLA_OK);
	assert_int_equal(mla_strcpy(q->detail, sizeof(q->detail), detail), MLA_OK);
}

/* Three problems, five found. */
static mla_receipt_problems *three(void)
{
	mla_receipt_problems *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	problem(p, "/Request/Common/Proceedings/SubjectMatter", "missing", "");
	problem(p, "/Request/Common/Persons/Person[2]/Role", "unknown-value", "PersonRole");
	problem(p, "/Refused/@version", "unsupported", "version");
	p->count = 5;
	return p;
}

static void seal_v2(const struct fixture *f, mla_receipt *r, const mla_receipt_problems *p,
		    mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};

	fill(r, 2, MLA_OUTCOME_REJECTED);
	if (mla_receipt_seal_problems(r, p, f->co_signer, &f->limits, out, &d) != MLA_OK)
		fail_msg("seal v2: %s", d.msg);
}

static void expect(const struct fixture *f, const mla_buf *b, mla_err want, const char *msg)
{
	mla_receipt got;
	mla_receipt_problems *p = calloc(1, sizeof(*p));
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	assert_non_null(p);
	r = mla_receipt_verify_problems(b->data, b->len, f->trust, &f->limits, &got, p, &d);
	if (r != want)
		fail_msg("verify: got %s (%s), want %s", mla_errname(r), d.msg, mla_errname(want));
	if (msg != NULL && strstr(d.msg, msg) == NULL)
		fail_msg("verify: message '%s' lacks '%s'", d.msg, msg);
	if (want != MLA_OK)
		assert_int_equal(p->n, 0);
	free(p);
}

/* The Body's problems edited as text, then the receipt signed again by CO: what the checks
 * after the signature see is a genuine receipt. */
static void resign(const struct fixture *f, mla_buf *b)
{
	xmlDocPtr doc = fixture_parse(b);
	xmlNodePtr root = xmlDocGetRootElement(doc), body = xmlFirstElementChild(root);
	xmlNodePtr sig = xmlLastElementChild(root);
	xmlChar *id = xmlGetNoNsProp(body, BAD_CAST "Id");
	const char *ids[1] = {(const char *)id};
	mla_diag d = {MLA_OK, ""};

	xmlUnlinkNode(sig);
	xmlFreeNode(sig);
	assert_non_null(xmlAddID(NULL, doc, id, xmlHasProp(body, BAD_CAST "Id")));
	if (seal_sign_refs(root, ids, 1, f->co_signer, &d) != MLA_OK)
		fail_msg("re-sign: %s", d.msg);
	fixture_serialize(doc, b);
	xmlFree(id);
	xmlFreeDoc(doc);
}

static void test_v2_round_trip(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = three(), *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(got);
	seal_v2(f, &r, p, &b);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_non_null(strstr((char *)b.data, "\"urn:mlagw:receipt:2\" version=\"2\""));
	assert_non_null(strstr((char *)b.data, "<mlr:Problems count=\"5\">"));
	assert_int_equal(mla_receipt_verify_problems(b.data, b.len, f->trust, &f->limits, &back,
						     got, &d), MLA_OK);
	assert_int_equal(back.version, 2);
	assert_int_equal(back.problem_count, 5);
	assert_int_equal(back.error, MLA_ERR_SCHEMA);
	assert_string_equal(back.receipt_id, r.receipt_id);
	assert_int_equal(got->n, 3);
	assert_int_equal(got->count, 5);
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(got->list[i].path, p->list[i].path);
		assert_string_equal(got->list[i].code, p->list[i].code);
		assert_string_equal(got->list[i].detail, p->list[i].detail);
	}
	/* a reader that does not ask for the list still verifies, and learns the count */
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &back, &d),
			 MLA_OK);
	assert_int_equal(back.problem_count, 5);
	assert_int_equal(mla_receipt_match(&back, "CO", r.message_id, r.envelope_digest, &d),
			 MLA_OK);
	mla_buf_free(&b);
	free(got);
	free(p);
}

/* Without a list a receipt stays version 1, byte for byte what it was. */
static void test_v1_unchanged(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(got);
	fill(&r, 1, MLA_OUTCOME_REJECTED);
	assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d), MLA_OK);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_non_null(strstr((char *)b.data, "\"urn:mlagw:receipt:1\" version=\"1\""));
	assert_null(strstr((char *)b.data, "Problems"));
	assert_int_equal(mla_receipt_verify_problems(b.data, b.len, f->trust, &f->limits, &back,
						     got, &d), MLA_OK);
	assert_int_equal(back.version, 1);
	assert_int_equal(back.problem_count, 0);
	assert_int_equal(got->n, 0);
	mla_buf_free(&b);
	/* version 2 without a list (an accepted receipt) reads back as version 2 */
	fill(&r, 2, MLA_OUTCOME_ACCEPTED);
	assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d), MLA_OK);
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &back, &d),
			 MLA_OK);
	assert_int_equal(back.version, 2);
	mla_buf_free(&b);
	free(got);
}

static void seal_refused(const struct fixture *f, const mla_receipt *r,
			 const mla_receipt_problems *p, mla_err want, const char *msg)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_int_equal(mla_receipt_seal_problems(r, p, f->co_signer, &f->limits, &b, &d), want);
	if (strstr(d.msg, msg) == NULL)
		fail_msg("seal: message '%s' lacks '%s'", d.msg, msg);
	assert_null(b.data);
}

static void test_seal_refuses(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = three();
	mla_receipt r;

	fill(&r, 1, MLA_OUTCOME_REJECTED);
	seal_refused(f, &r, p, MLA_ERR_ARG, "version 2");
	fill(&r, 2, MLA_OUTCOME_ACCEPTED);
	seal_refused(f, &r, p, MLA_ERR_ARG, "rejected");
	fill(&r, 4, MLA_OUTCOME_REJECTED);
	seal_refused(f, &r, NULL, MLA_ERR_HEADER, "version 4");
	fill(&r, 2, MLA_OUTCOME_REJECTED);
	p->count = 2;
	seal_refused(f, &r, p, MLA_ERR_HEADER, "below the 3 listed");
	p->count = MLA_RECEIPT_PROBLEMS_COUNT_MAX + 1;
	seal_refused(f, &r, p, MLA_ERR_HEADER, "beyond");
	p->count = 5;
	p->n = 0;
	seal_refused(f, &r, p, MLA_ERR_HEADER, "0 problems");
	p->n = MLA_RECEIPT_PROBLEMS_MAX + 1;
	seal_refused(f, &r, p, MLA_ERR_HEADER, "101 problems");
	p->n = 3;
	memcpy(p->list[1].path, "/a <b>", 7);
	seal_refused(f, &r, p, MLA_ERR_HEADER, "Problem 2 path");
	p->list[1].path[0] = '\0';
	seal_refused(f, &r, p, MLA_ERR_HEADER, "Problem 2 path");
	memcpy(p->list[1].path, "/Request", 9);
	memcpy(p->list[2].code, "Missing", 8);
	seal_refused(f, &r, p, MLA_ERR_HEADER, "Problem 3 code");
	memcpy(p->list[2].code, "missing", 8);
	memcpy(p->list[0].detail, "a/b", 4);
	seal_refused(f, &r, p, MLA_ERR_HEADER, "Problem 1 detail");
	free(p);
}

/* The largest list: 100 problems of the longest path, code and detail, and the largest
 * count, within the receipt limits of SPEC 8 (elements, attributes, bytes). */
static void test_largest_list(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = calloc(1, sizeof(*p)), *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(p);
	assert_non_null(got);
	for (size_t i = 0; i < MLA_RECEIPT_PROBLEMS_MAX; i++) {
		mla_receipt_problem *q = &p->list[i];
		memset(q->path, 'a', MLA_RECEIPT_PATH_MAX - 1);
		q->path[0] = '/';
		memset(q->code, 'z', MLA_RECEIPT_CODE_MAX - 1);
		memset(q->detail, 'D', MLA_RECEIPT_DETAIL_MAX - 1);
	}
	p->n = MLA_RECEIPT_PROBLEMS_MAX;
	p->count = MLA_RECEIPT_PROBLEMS_COUNT_MAX;
	seal_v2(f, &r, p, &b);
	assert_true(b.len < 64 * 1024);
	assert_int_equal(mla_receipt_verify_problems(b.data, b.len, f->trust, &f->limits, &back,
						     got, &d), MLA_OK);
	assert_int_equal(got->n, MLA_RECEIPT_PROBLEMS_MAX);
	assert_int_equal(got->count, MLA_RECEIPT_PROBLEMS_COUNT_MAX);
	assert_string_equal(got->list[99].path, p->list[99].path);
	mla_buf_free(&b);
	free(got);
	free(p);
}

static void test_altered_list(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = three();
	mla_receipt r;
	mla_buf b;

	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "Person[2]/Role", "Person[3]/Role");
	expect(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "<mlr:Problem path=\"/Refused/@version\" code=\"unsupported\" "
			"detail=\"version\"/>", "");
	expect(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "count=\"5\"", "count=\"4\"");
	expect(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
	free(p);
}

/* Signed by CO, yet breaking the rules of the list: each refused by its own check. */
static void test_signed_but_wrong(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = three();
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "count=\"5\"", "count=\"2\"");
	resign(f, &b);
	expect(f, &b, MLA_ERR_HEADER, "below the 3 listed");
	mla_buf_free(&b);
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "count=\"5\"", "count=\"0\"");
	resign(f, &b);
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	/* a list beside an accepted outcome */
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "<mlr:Outcome>rejected</mlr:Outcome>",
			"<mlr:Outcome>accepted</mlr:Outcome><!--");
	fixture_replace(&b, "</mlr:Error>", "</mlr:Error>-->");
	resign(f, &b);
	expect(f, &b, MLA_ERR_HEADER, "rejected outcome");
	mla_buf_free(&b);
	/* a list in a version 1 receipt: its schema has no place for it */
	fill(&r, 1, MLA_OUTCOME_REJECTED);
	assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d), MLA_OK);
	fixture_replace(&b, "</mlr:Error>", "</mlr:Error><mlr:Problems count=\"1\">"
			"<mlr:Problem path=\"/Request\" code=\"missing\"/></mlr:Problems>");
	resign(f, &b);
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	/* a path with a character outside the set, a 101st problem */
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "Person[2]/Role", "Person[2]/Ro le");
	resign(f, &b);
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	free(p);
}

static void test_version_marks_agree(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = three();
	mla_receipt r;
	mla_buf b;

	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "version=\"2\"", "version=\"1\"");
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "urn:mlagw:receipt:2", "urn:mlagw:receipt:4");
	expect(f, &b, MLA_ERR_UNSUPPORTED_VERSION, "receipt version 4"); /* SPEC 11 rule 2 */
	mla_buf_free(&b);
	/* a version 1 Body hidden inside a version 2 receipt */
	seal_v2(f, &r, p, &b);
	fixture_replace(&b, "<ds:KeyInfo>", "<ds:KeyInfo><x:Body xmlns:x=\"urn:mlagw:receipt:1\"/>");
	expect(f, &b, MLA_ERR_SIG_WRAPPING, "another version");
	mla_buf_free(&b);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_round_trip),
		cmocka_unit_test(test_v1_unchanged),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_largest_list),
		cmocka_unit_test(test_altered_list),
		cmocka_unit_test(test_signed_but_wrong),
		cmocka_unit_test(test_version_marks_agree),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
