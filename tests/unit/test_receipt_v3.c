/* Receipt version 3 (SPEC 12, 17.13): the receipt of an envelope version 3, naming each
 * attachment received (index, size, root) when accepted. Round trips, the sender's checks
 * against what it sealed and the version pairing, what sealing refuses, and lists altered,
 * re-signed or put where they do not belong. */
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

/* The sealed bytes contain s (terminated first: a buffer is not a string). */
static const char *has(mla_buf *b, const char *s)
{
	assert_int_equal(mla_buf_terminate(b), MLA_OK);
	return strstr((const char *)b->data, s);
}

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
		r->error = MLA_ERR_SIG_INVALID;
		assert_int_equal(mla_strcpy(r->error_message, sizeof(r->error_message),
					    "attachment 2: segment 7 is not in the signed Merkle root"),
				 MLA_OK);
	}
}

/* A sealed list of n attachments (public parts only), sizes and roots distinct. */
static mla_attach_list *sealed_list(size_t n)
{
	mla_attach_list *l = NULL;

	assert_int_equal(mla_attach_list_new(&l), MLA_OK);
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		mla_attach_entry *e = &l->item[i].pub;
		e->index = (uint32_t)(i + 1);
		e->segment_size = MLA_ATTACH_SEGMENT_MIN;
		e->segments = i + 1;
		e->size = (uint64_t)i * (MLA_ATTACH_SEGMENT_MIN + 16) + 16 + i;
		SHA256((const unsigned char *)&e->size, sizeof(e->size), e->root);
	}
	return l;
}

static void seal_v3(const struct fixture *f, mla_receipt *r, const mla_receipt_attachments *a,
		    mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};

	fill(r, 3, a != NULL ? MLA_OUTCOME_ACCEPTED : MLA_OUTCOME_REJECTED);
	if (mla_receipt_seal_attached(r, NULL, a, f->co_signer, &f->limits, out, &d) != MLA_OK)
		fail_msg("seal v3: %s", d.msg);
}

static void expect(const struct fixture *f, const mla_buf *b, mla_err want, const char *msg)
{
	mla_receipt got;
	mla_receipt_attachments *a = calloc(1, sizeof(*a));
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	assert_non_null(a);
	r = mla_receipt_verify_attached(b->data, b->len, f->trust, &f->limits, &got, NULL, a, &d);
	if (r != want)
		fail_msg("verify: got %s (%s), want %s", mla_errname(r), d.msg, mla_errname(want));
	if (msg != NULL && strstr(d.msg, msg) == NULL)
		fail_msg("verify: message '%s' lacks '%s'", d.msg, msg);
	if (want != MLA_OK)
		assert_int_equal(a->n, 0);
	free(a);
}

/* The Body edited as text, then signed again by CO: the checks after the signature see a
 * genuine receipt. */
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

static void test_accepted_round_trip(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *l = sealed_list(3);
	mla_receipt_attachments *a = calloc(1, sizeof(*a)), *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(a);
	assert_non_null(got);
	mla_receipt_attachments_of(l, a);
	seal_v3(f, &r, a, &b);
	assert_non_null(has(&b, "urn:mlagw:receipt:3"));
	assert_non_null(has(&b, "version=\"3\""));
	assert_non_null(has(&b, "<mlr:Attachment index=\"1\" size=\"16\""));
	assert_int_equal(mla_receipt_verify_attached(b.data, b.len, f->trust, &f->limits, &back,
						     NULL, got, &d), MLA_OK);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.attachment_count, 3);
	assert_int_equal(got->n, 3);
	assert_int_equal(got->list[2].index, 3);
	assert_int_equal(got->list[2].size, l->item[2].pub.size);
	assert_memory_equal(got->list[1].root, l->item[1].pub.root, 32);
	assert_int_equal(mla_receipt_match_attachments(&back, got, l, &d), MLA_OK);
	assert_int_equal(mla_receipt_match_version(&back, 3, &d), MLA_OK);
	/* the plain verifier reads it too, without the list */
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &back, &d), MLA_OK);
	assert_int_equal(back.attachment_count, 3);
	mla_buf_free(&b);
	free(got);
	free(a);
	mla_attach_list_free(l);
}

/* A refusal of an envelope version 3: version 3 without a list, with or without problems. */
static void test_rejected_round_trip(void **state)
{
	struct fixture *f = *state;
	mla_receipt_problems *p = calloc(1, sizeof(*p));
	mla_receipt_attachments *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(p);
	assert_non_null(got);
	seal_v3(f, &r, NULL, &b);
	assert_null(has(&b, "Attachments"));
	assert_int_equal(mla_receipt_verify_attached(b.data, b.len, f->trust, &f->limits, &back,
						     NULL, got, &d), MLA_OK);
	assert_int_equal(back.version, 3);
	assert_int_equal(back.outcome, MLA_OUTCOME_REJECTED);
	assert_int_equal(got->n, 0);
	assert_int_equal(mla_receipt_match_version(&back, 3, &d), MLA_OK);
	mla_buf_free(&b);
	p->n = 1;
	p->count = 1;
	memcpy(p->list[0].path, "/Request", 9);
	memcpy(p->list[0].code, "missing", 8);
	fill(&r, 3, MLA_OUTCOME_REJECTED);
	r.error = MLA_ERR_SCHEMA;
	assert_int_equal(mla_receipt_seal_attached(&r, p, NULL, f->co_signer, &f->limits, &b, &d),
			 MLA_OK);
	memset(p, 0, sizeof(*p));
	assert_int_equal(mla_receipt_verify_problems(b.data, b.len, f->trust, &f->limits, &back, p,
						     &d), MLA_OK);
	assert_int_equal(p->n, 1);
	assert_int_equal(back.version, 3);
	mla_buf_free(&b);
	free(got);
	free(p);
}

/* SPEC 11 rule 7: envelope 3 with receipt 3 only, and receipt 3 for no other envelope. */
static void test_version_pairing(void **state)
{
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	memset(&r, 0, sizeof(r));
	for (unsigned v = 1; v <= 3; v++) {
		r.version = v;
		assert_int_equal(mla_receipt_match_version(&r, 3, &d),
				 v == 3 ? MLA_OK : MLA_ERR_RECEIPT_MISMATCH);
		assert_int_equal(mla_receipt_match_version(&r, 2, &d),
				 v == 2 ? MLA_OK : MLA_ERR_RECEIPT_MISMATCH);
		assert_int_equal(mla_receipt_match_version(&r, 1, &d),
				 v <= 2 ? MLA_OK : MLA_ERR_RECEIPT_MISMATCH);
	}
	r.version = 2;
	assert_int_equal(mla_receipt_match_version(&r, 3, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "receipt version 2 for an envelope of version 3, which "
				      "receipt version 3 answers"));
}

/* The sender's comparison with what it sealed: count, index, size and root each. */
static void test_match_attachments(void **state)
{
	mla_attach_list *l = sealed_list(2);
	mla_receipt_attachments *a = calloc(1, sizeof(*a));
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_non_null(a);
	memset(&r, 0, sizeof(r));
	r.version = 3;
	r.outcome = MLA_OUTCOME_ACCEPTED;
	mla_receipt_attachments_of(l, a);
	assert_int_equal(mla_receipt_match_attachments(&r, a, l, &d), MLA_OK);
	a->list[1].root[31] ^= 1;
	assert_int_equal(mla_receipt_match_attachments(&r, a, l, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "attachment 2 with another root"));
	a->list[1].root[31] ^= 1;
	a->list[0].size++;
	assert_int_equal(mla_receipt_match_attachments(&r, a, l, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "attachment 1 of 17 bytes"));
	a->list[0].size--;
	a->n = 1;
	assert_int_equal(mla_receipt_match_attachments(&r, a, l, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "names 1 attachments; 2 were sealed"));
	r.outcome = MLA_OUTCOME_REJECTED;
	assert_int_equal(mla_receipt_match_attachments(&r, a, l, &d), MLA_OK);
	free(a);
	mla_attach_list_free(l);
}

static void seal_refused(const struct fixture *f, const mla_receipt *r,
			 const mla_receipt_attachments *a, mla_err want, const char *msg)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_int_equal(mla_receipt_seal_attached(r, NULL, a, f->co_signer, &f->limits, &b, &d),
			 want);
	if (strstr(d.msg, msg) == NULL)
		fail_msg("seal: message '%s' lacks '%s'", d.msg, msg);
	assert_null(b.data);
}

static void test_seal_refuses(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *l = sealed_list(2);
	mla_receipt_attachments *a = calloc(1, sizeof(*a));
	mla_receipt r;

	assert_non_null(a);
	mla_receipt_attachments_of(l, a);
	fill(&r, 3, MLA_OUTCOME_ACCEPTED);
	seal_refused(f, &r, NULL, MLA_ERR_ARG, "exactly with an accepted receipt version 3");
	fill(&r, 3, MLA_OUTCOME_REJECTED);
	seal_refused(f, &r, a, MLA_ERR_ARG, "exactly with an accepted receipt version 3");
	fill(&r, 2, MLA_OUTCOME_ACCEPTED);
	seal_refused(f, &r, a, MLA_ERR_ARG, "exactly with an accepted receipt version 3");
	/* the plain sealer cannot make a positive receipt 3: it has no list */
	fill(&r, 3, MLA_OUTCOME_ACCEPTED);
	{
		mla_diag d = {MLA_OK, ""};
		mla_buf b;
		assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d),
				 MLA_ERR_ARG);
	}
	a->list[1].index = 3;
	seal_refused(f, &r, a, MLA_ERR_HEADER, "Attachment 2 has index 3");
	a->list[1].index = 2;
	a->list[0].size = 15;
	seal_refused(f, &r, a, MLA_ERR_HEADER, "Attachment 1: size 15");
	a->list[0].size = 16;
	a->n = 0;
	seal_refused(f, &r, a, MLA_ERR_HEADER, "0 attachments");
	a->n = MLA_ATTACH_MAX + 1;
	seal_refused(f, &r, a, MLA_ERR_HEADER, "65 attachments");
	free(a);
	mla_attach_list_free(l);
}

static void test_altered_and_misplaced(void **state)
{
	struct fixture *f = *state;
	mla_attach_list *l = sealed_list(2);
	mla_receipt_attachments *a = calloc(1, sizeof(*a));
	mla_receipt r;
	char hex[65];
	mla_buf b;

	assert_non_null(a);
	mla_receipt_attachments_of(l, a);
	assert_int_equal(mla_hex_encode(a->list[1].root, 32, hex, sizeof(hex)), MLA_OK);
	/* a root digit changed after signing */
	seal_v3(f, &r, a, &b);
	hex[0] = hex[0] == '0' ? '1' : '0';
	{
		char from[80], to[80];
		char orig[65];
		assert_int_equal(mla_hex_encode(a->list[1].root, 32, orig, sizeof(orig)), MLA_OK);
		assert_int_equal(mla_snprintf(from, sizeof(from), "root=\"%s\"", orig), MLA_OK);
		assert_int_equal(mla_snprintf(to, sizeof(to), "root=\"%s\"", hex), MLA_OK);
		fixture_replace(&b, from, to);
	}
	expect(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
	/* the list removed from a positive receipt, then signed */
	seal_v3(f, &r, a, &b);
	fixture_replace(&b, "<mlr:Attachments>", "<!--");
	fixture_replace(&b, "</mlr:Attachments>", "-->");
	resign(f, &b);
	expect(f, &b, MLA_ERR_HEADER, "exactly when a receipt version 3 is accepted");
	mla_buf_free(&b);
	/* a list beside a refusal, signed */
	seal_v3(f, &r, NULL, &b);
	fixture_replace(&b, "</mlr:Error>", "</mlr:Error><mlr:Attachments><mlr:Attachment "
			"index=\"1\" size=\"16\" root=\"" "00000000000000000000000000000000"
			"00000000000000000000000000000000\"/></mlr:Attachments>");
	resign(f, &b);
	expect(f, &b, MLA_ERR_HEADER, "exactly when a receipt version 3 is accepted");
	mla_buf_free(&b);
	/* indices out of order, signed */
	seal_v3(f, &r, a, &b);
	fixture_replace(&b, "index=\"2\"", "index=\"3\"");
	resign(f, &b);
	expect(f, &b, MLA_ERR_HEADER, "Attachment 2 has index 3");
	mla_buf_free(&b);
	/* a root in upper case or short: the schema */
	seal_v3(f, &r, a, &b);
	fixture_replace(&b, "root=\"", "root=\"A");
	resign(f, &b);
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	/* a list in a version 2 receipt: its schema has no place for it */
	fill(&r, 2, MLA_OUTCOME_ACCEPTED);
	{
		mla_diag d = {MLA_OK, ""};
		assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d), MLA_OK);
	}
	fixture_replace(&b, "</mlr:Outcome>", "</mlr:Outcome><mlr:Attachments><mlr:Attachment "
			"index=\"1\" size=\"16\" root=\"" "00000000000000000000000000000000"
			"00000000000000000000000000000000\"/></mlr:Attachments>");
	resign(f, &b);
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	/* a version 2 Body hidden inside a version 3 receipt, and the other way round */
	seal_v3(f, &r, a, &b);
	fixture_replace(&b, "<ds:KeyInfo>", "<ds:KeyInfo><x:Body xmlns:x=\"urn:mlagw:receipt:2\"/>");
	expect(f, &b, MLA_ERR_SIG_WRAPPING, "another version");
	mla_buf_free(&b);
	fill(&r, 2, MLA_OUTCOME_ACCEPTED);
	{
		mla_diag d = {MLA_OK, ""};
		assert_int_equal(mla_receipt_seal(&r, f->co_signer, &f->limits, &b, &d), MLA_OK);
	}
	fixture_replace(&b, "<ds:KeyInfo>", "<ds:KeyInfo><x:Body xmlns:x=\"urn:mlagw:receipt:3\"/>");
	expect(f, &b, MLA_ERR_SIG_WRAPPING, "another version");
	mla_buf_free(&b);
	/* the version attribute and the namespace must agree */
	seal_v3(f, &r, a, &b);
	fixture_replace(&b, "version=\"3\"", "version=\"2\"");
	expect(f, &b, MLA_ERR_SCHEMA, NULL);
	mla_buf_free(&b);
	free(a);
	mla_attach_list_free(l);
}

/* 64 attachments of the largest sizes stay within the receipt limits of SPEC 8. */
static void test_largest_list(void **state)
{
	struct fixture *f = *state;
	mla_receipt_attachments *a = calloc(1, sizeof(*a)), *got = calloc(1, sizeof(*got));
	mla_receipt r, back;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_non_null(a);
	assert_non_null(got);
	a->n = MLA_ATTACH_MAX;
	for (size_t i = 0; i < a->n; i++) {
		a->list[i].index = (uint32_t)(i + 1);
		a->list[i].size = UINT64_MAX;
		memset(a->list[i].root, 0xab, 32);
	}
	seal_v3(f, &r, a, &b);
	assert_int_equal(mla_receipt_verify_attached(b.data, b.len, f->trust, &f->limits, &back,
						     NULL, got, &d), MLA_OK);
	assert_int_equal(got->n, MLA_ATTACH_MAX);
	assert_true(got->list[63].size == UINT64_MAX);
	mla_buf_free(&b);
	free(got);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted_round_trip),
		cmocka_unit_test(test_rejected_round_trip),
		cmocka_unit_test(test_version_pairing),
		cmocka_unit_test(test_match_attachments),
		cmocka_unit_test(test_seal_refuses),
		cmocka_unit_test(test_altered_and_misplaced),
		cmocka_unit_test(test_largest_list),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
