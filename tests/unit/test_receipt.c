/* Receipts: positive and negative receipts round-trip every field; verification ties the
 * signer to the receiver State and refuses altered, wrapped, hostile or weak receipts, each
 * with its own error; the sender's match names each mismatch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fixture.h"
#include "mlagw/codec.h"
#include "mlagw/receipt.h"
#include "protocol_ns.h"
#include "seal_internal.h"

#define EXPIRED_MSG "signer certificate expired on 2026-01-01"

/* ---- helpers ---- */

static void fresh_uuid(char out[MLA_UUID_LEN + 1])
{
	mla_header h;

	assert_int_equal(mla_header_init(&h), MLA_OK);
	memcpy(out, h.message_id, MLA_UUID_LEN + 1);
}

/* A receipt from CO (receiver) to ES (sender) for a fresh message id. */
static void fill(mla_receipt *r, mla_outcome outcome)
{
	assert_int_equal(mla_receipt_init(r), MLA_OK);
	fresh_uuid(r->message_id);
	SHA256((const unsigned char *)"envelope bytes", 14, r->envelope_digest);
	memcpy(r->receiver_state, "CO", 3);
	memcpy(r->sender_state, "ES", 3);
	r->outcome = outcome;
	if (outcome == MLA_OUTCOME_REJECTED) {
		r->error = MLA_ERR_CERT_EXPIRED;
		assert_int_equal(mla_snprintf(r->error_message, sizeof(r->error_message),
				EXPIRED_MSG), MLA_OK);
	}
}

static void seal_with(const struct fixture *f, const mla_receipt *r, const mla_signer *s,
		      mla_buf *out)
{
	mla_diag d = {MLA_OK, ""};

	if (mla_receipt_seal(r, s, &f->limits, out, &d) != MLA_OK)
		fail_msg("receipt seal: %s", d.msg);
}

/* A sealed receipt of the given outcome, signed by CO. */
static void sealed(const struct fixture *f, mla_outcome outcome, mla_receipt *r, mla_buf *out)
{
	fill(r, outcome);
	seal_with(f, r, f->co_signer, out);
}

static void expect_verify(const struct fixture *f, const void *xml, size_t len, mla_err want,
			  const char *msg)
{
	mla_receipt got;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_receipt_verify(xml, len, f->trust, &f->limits, &got, &d);

	if (r != want)
		fail_msg("verify: got %s (%s), want %s", mla_errname(r), d.msg, mla_errname(want));
	if (msg != NULL && strstr(d.msg, msg) == NULL)
		fail_msg("verify: message '%s' lacks '%s'", d.msg, msg);
	if (want != MLA_OK)
		assert_int_equal(got.receiver_state[0], '\0');
}

static void expect_refused(const struct fixture *f, const mla_buf *b, mla_err want,
			   const char *msg)
{
	expect_verify(f, b->data, b->len, want, msg);
}

static void b64_of(const uint8_t digest[32], char out[45])
{
	(void)EVP_EncodeBlock((unsigned char *)out, digest, 32);
}

static void assert_same_receipt(const mla_receipt *a, const mla_receipt *b)
{
	assert_string_equal(a->receipt_id, b->receipt_id);
	assert_string_equal(a->message_id, b->message_id);
	assert_memory_equal(a->envelope_digest, b->envelope_digest, 32);
	assert_string_equal(a->receiver_state, b->receiver_state);
	assert_string_equal(a->sender_state, b->sender_state);
	assert_int_equal(a->received_at, b->received_at);
	assert_int_equal(a->outcome, b->outcome);
	assert_int_equal(a->error, b->error);
	assert_string_equal(a->error_message, b->error_message);
}

static void round_trip(void **state, mla_outcome outcome, int unreadable_id)
{
	struct fixture *f = *state;
	mla_receipt r, got;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	fill(&r, outcome);
	if (unreadable_id)
		r.message_id[0] = '\0';
	seal_with(f, &r, f->co_signer, &b);
	if (mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &got, &d) != MLA_OK)
		fail_msg("verify: %s", d.msg);
	assert_same_receipt(&got, &r);
	assert_int_equal(mla_buf_terminate(&b), MLA_OK);
	assert_true((strstr((char *)b.data, "<mlr:MessageId>") == NULL) == unreadable_id);
	assert_true((strstr((char *)b.data, "<mlr:Error ") == NULL) ==
		    (outcome == MLA_OUTCOME_ACCEPTED));
	mla_buf_free(&b);
}

/* ---- round trips ---- */

static void test_positive_round_trip(void **state)
{
	round_trip(state, MLA_OUTCOME_ACCEPTED, 0);
}

static void test_negative_round_trip(void **state)
{
	round_trip(state, MLA_OUTCOME_REJECTED, 0);
}

/* A negative receipt for an envelope whose id could not be read has no MessageId. */
static void test_negative_without_message_id(void **state)
{
	round_trip(state, MLA_OUTCOME_REJECTED, 1);
}

static void test_init_fills_id_and_time(void **state)
{
	mla_receipt a, b;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(mla_receipt_init(&a), MLA_OK);
	assert_int_equal(mla_receipt_init(&b), MLA_OK);
	assert_int_equal(strlen(a.receipt_id), MLA_UUID_LEN);
	assert_string_not_equal(a.receipt_id, b.receipt_id);
	assert_true(a.received_at >= now - 1 && a.received_at <= now + 1);
	assert_int_equal(a.outcome, MLA_OUTCOME_ACCEPTED);
	assert_int_equal(a.error, MLA_OK);
	assert_string_equal(a.message_id, "");
}

/* ---- sealing refuses what could not be read back ---- */

static void expect_seal_refused(const struct fixture *f, const mla_receipt *r, const char *msg)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	assert_int_equal(mla_receipt_seal(r, f->co_signer, &f->limits, &b, &d), MLA_ERR_HEADER);
	if (strstr(d.msg, msg) == NULL)
		fail_msg("seal: message '%s' lacks '%s'", d.msg, msg);
	assert_null(b.data);
}

static void test_seal_refuses_control_characters(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;

	fill(&r, MLA_OUTCOME_REJECTED);
	assert_int_equal(mla_snprintf(r.error_message, sizeof(r.error_message), "forged\nlog line"),
			MLA_OK);
	expect_seal_refused(f, &r, "control characters");
	assert_int_equal(mla_snprintf(r.error_message, sizeof(r.error_message), "escape \x1b[31m"),
			MLA_OK);
	expect_seal_refused(f, &r, "control characters");
	assert_int_equal(mla_snprintf(r.error_message, sizeof(r.error_message),
			"c1 \xc2\x85 next line"), MLA_OK);
	expect_seal_refused(f, &r, "control characters");
	assert_int_equal(mla_snprintf(r.error_message, sizeof(r.error_message), "bad utf-8 \xff"),
			MLA_OK);
	expect_seal_refused(f, &r, "invalid UTF-8");
}

static void test_seal_refuses_inconsistent_fields(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;

	fill(&r, MLA_OUTCOME_ACCEPTED);
	r.error = MLA_ERR_DECRYPT;
	expect_seal_refused(f, &r, "must be absent");
	fill(&r, MLA_OUTCOME_REJECTED);
	r.error = MLA_OK;
	expect_seal_refused(f, &r, "not a known error");
	fill(&r, MLA_OUTCOME_REJECTED);
	r.error = (mla_err)-77;
	expect_seal_refused(f, &r, "not a known error");
	fill(&r, MLA_OUTCOME_ACCEPTED);
	memcpy(r.receiver_state, "co", 3);
	expect_seal_refused(f, &r, "Receiver");
	fill(&r, MLA_OUTCOME_ACCEPTED);
	r.message_id[3] = 'X';
	expect_seal_refused(f, &r, "MessageId");
	fill(&r, MLA_OUTCOME_ACCEPTED);
	r.received_at = 0;
	expect_seal_refused(f, &r, "ReceivedAt");
}

/* ---- signer and receiver State ---- */

/* Signed by CO and verified for receiver CO: covered by the round trips; here the receipt
 * claims receiver MX while CO signed it. */
static void test_receiver_mx_signed_by_co(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	fill(&r, MLA_OUTCOME_ACCEPTED);
	memcpy(r.receiver_state, "MX", 3);
	seal_with(f, &r, f->co_signer, &b);
	expect_refused(f, &b, MLA_ERR_CERT_WRONG_STATE,
		       "chains to the root of CO, but the receipt is from MX");
	mla_buf_free(&b);
}

/* The sender cannot make its own receipts: ES's key does not speak for CO. */
static void test_receipt_forged_by_sender(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	fill(&r, MLA_OUTCOME_ACCEPTED);
	seal_with(f, &r, f->es_signer, &b);
	expect_refused(f, &b, MLA_ERR_CERT_WRONG_STATE, "chains to the root of ES");
	mla_buf_free(&b);
}

static void test_receiver_unknown_state(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	fill(&r, MLA_OUTCOME_ACCEPTED);
	memcpy(r.receiver_state, "FR", 3);
	seal_with(f, &r, f->co_signer, &b);
	expect_refused(f, &b, MLA_ERR_UNKNOWN_STATE, "no trusted root for State FR");
	mla_buf_free(&b);
}

/* ---- altered bodies ---- */

static void test_altered_accepted_to_rejected(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fixture_replace(&b, "<mlr:Outcome>accepted</mlr:Outcome>",
			"<mlr:Outcome>rejected</mlr:Outcome>"
			"<mlr:Error code=\"-82\" name=\"decrypt\">tag altered</mlr:Error>");
	expect_refused(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
}

static void test_altered_rejected_to_accepted(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_REJECTED, &r, &b);
	fixture_replace(&b,
			"<mlr:Outcome>rejected</mlr:Outcome>"
			"<mlr:Error code=\"-62\" name=\"cert-expired\">" EXPIRED_MSG "</mlr:Error>",
			"<mlr:Outcome>accepted</mlr:Outcome>");
	expect_refused(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
}

static void test_altered_digest(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	uint8_t other[32];
	char from[45], to[45];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	memset(other, 0x42, sizeof(other));
	b64_of(r.envelope_digest, from);
	b64_of(other, to);
	fixture_replace(&b, from, to);
	expect_refused(f, &b, MLA_ERR_SIG_INVALID, "receipt body altered");
	mla_buf_free(&b);
}

static void test_altered_error_code_name(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_REJECTED, &r, &b);
	fixture_replace(&b, "code=\"-62\" name=\"cert-expired\"", "code=\"-62\" name=\"decrypt\"");
	expect_refused(f, &b, MLA_ERR_HEADER, "is not named 'decrypt'");
	mla_buf_free(&b);
}

static void test_body_id_not_receipt_id(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	char from[64], to[64], other[MLA_UUID_LEN + 1];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fresh_uuid(other);
	assert_int_equal(mla_snprintf(from, sizeof(from), "<mlr:ReceiptId>%s", r.receipt_id),
			MLA_OK);
	assert_int_equal(mla_snprintf(to, sizeof(to), "<mlr:ReceiptId>%s", other), MLA_OK);
	fixture_replace(&b, from, to);
	expect_refused(f, &b, MLA_ERR_HEADER, "Body Id");
	mla_buf_free(&b);
}

/* Text that is legal XML but holds control characters is refused when reading. */
static void test_read_refuses_control_characters(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_REJECTED, &r, &b);
	fixture_replace(&b, "expired on", "expired&#10;on");
	expect_refused(f, &b, MLA_ERR_HEADER, "control characters");
	mla_buf_free(&b);
	sealed(f, MLA_OUTCOME_REJECTED, &r, &b);
	fixture_replace(&b, "expired on", "expired&#133;on");
	expect_refused(f, &b, MLA_ERR_HEADER, "control characters");
	mla_buf_free(&b);
}

/* ---- wrapping and coverage ---- */

static void test_second_body(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	char extra[200];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	assert_int_equal(mla_snprintf(extra, sizeof(extra),
			"<ds:KeyInfo><mlr:Body Id=\"R-%s\"><mlr:Outcome>rejected</mlr:Outcome>"
			"</mlr:Body>",
			r.receipt_id), MLA_OK);
	fixture_replace(&b, "<ds:KeyInfo>", extra);
	expect_refused(f, &b, MLA_ERR_SIG_WRAPPING, "2 Body elements");
	mla_buf_free(&b);
}

static void test_body_after_signature(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;
	xmlDocPtr doc;
	xmlNodePtr root, body;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	doc = fixture_parse(&b);
	root = xmlDocGetRootElement(doc);
	body = xmlFirstElementChild(root);
	xmlUnlinkNode(body);
	assert_non_null(xmlAddChild(root, body));
	fixture_serialize(doc, &b);
	xmlFreeDoc(doc);
	expect_refused(f, &b, MLA_ERR_SIG_WRAPPING, "Body, Signature in that order");
	mla_buf_free(&b);
}

static void test_envelope_part_in_receipt(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fixture_replace(&b, "<ds:KeyInfo>",
			"<ds:KeyInfo><mla:Header xmlns:mla=\"" MLA_NS "\"/>");
	expect_refused(f, &b, MLA_ERR_SIG_WRAPPING, "Header or Payload");
	mla_buf_free(&b);
}

static void test_reference_not_to_body(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fixture_replace(&b, "URI=\"#R-", "URI=\"#H-");
	expect_refused(f, &b, MLA_ERR_SIG_NOT_COVERED, "does not cover the receipt body");
	mla_buf_free(&b);
}

/* The schema allows two references (envelopes); the C check allows exactly one here, even
 * when a legitimate CO key signs both. */
static void test_two_references(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	char id[48];
	const char *ids[2] = {id, id};
	xmlDocPtr doc;
	xmlNodePtr root, body, sig;
	xmlAttrPtr a;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	doc = fixture_parse(&b);
	root = xmlDocGetRootElement(doc);
	body = xmlFirstElementChild(root);
	sig = xmlLastElementChild(root);
	xmlUnlinkNode(sig);
	xmlFreeNode(sig);
	assert_int_equal(mla_snprintf(id, sizeof(id), "R-%s", r.receipt_id), MLA_OK);
	a = xmlHasProp(body, BAD_CAST "Id");
	assert_non_null(xmlAddID(NULL, doc, BAD_CAST id, a));
	if (seal_sign_refs(root, ids, 2, f->co_signer, &d) != MLA_OK)
		fail_msg("re-sign: %s", d.msg);
	fixture_serialize(doc, &b);
	xmlFreeDoc(doc);
	expect_refused(f, &b, MLA_ERR_SIG_NOT_COVERED, "2 references to the receipt body");
	mla_buf_free(&b);
}

static void test_envelope_is_not_a_receipt(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	mla_buf env, b;

	assert_int_equal(fixture_seal(f, "<a/>", 4, &env), MLA_OK);
	expect_refused(f, &env, MLA_ERR_SCHEMA, "root element is not mlr:Receipt");
	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	assert_int_equal(mla_envelope_verify(b.data, b.len, f->trust, &f->limits, &v, &d),
			 MLA_ERR_SCHEMA);
	mla_buf_free(&env);
	mla_buf_free(&b);
}

/* ---- hostile XML, algorithms, base64 ---- */

static void expect_doctype(const struct fixture *f, const char *doctype, mla_err want,
			   const char *msg)
{
	mla_receipt r;
	char to[256];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	assert_int_equal(mla_snprintf(to, sizeof(to), "%s<mlr:Receipt", doctype), MLA_OK);
	fixture_replace(&b, "<mlr:Receipt", to);
	expect_refused(f, &b, want, msg);
	mla_buf_free(&b);
}

static void test_doctype(void **state)
{
	expect_doctype(*state, "<!DOCTYPE r>", MLA_ERR_XML_DOCTYPE, "DOCTYPE");
	expect_doctype(*state, "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]>",
		       MLA_ERR_XML_ENTITY_EXPANSION, "entity declarations");
	expect_doctype(*state, "<!DOCTYPE r SYSTEM \"http://127.0.0.1:9/x.dtd\">",
		       MLA_ERR_XML_EXTERNAL_ENTITY, "external entity");
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	expect_verify(f, b.data, b.len / 2, MLA_ERR_XML_MALFORMED, "malformed XML");
	expect_verify(f, "", 0, MLA_ERR_XML_MALFORMED, "malformed XML");
	mla_buf_free(&b);
}

static void expect_alg(const struct fixture *f, const char *from, const char *to, mla_err want,
		       const char *msg)
{
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fixture_replace(&b, from, to);
	expect_refused(f, &b, want, msg);
	mla_buf_free(&b);
}

static void test_weak_algorithms(void **state)
{
	expect_alg(*state, "<ds:SignatureMethod Algorithm=\"" ALG_ECDSA_SHA256,
		   "<ds:SignatureMethod Algorithm=\"" DS_NS "rsa-sha1", MLA_ERR_ALG_WEAK,
		   "weak algorithm rsa-sha1 refused in SignatureMethod");
	expect_alg(*state, "<ds:DigestMethod Algorithm=\"" ALG_SHA256,
		   "<ds:DigestMethod Algorithm=\"" DS_NS "sha1", MLA_ERR_ALG_WEAK,
		   "weak algorithm sha1 refused in DigestMethod");
	expect_alg(*state, "<mlr:EnvelopeDigest Algorithm=\"" ALG_SHA256,
		   "<mlr:EnvelopeDigest Algorithm=\"" DS_NS "sha1", MLA_ERR_ALG_WEAK,
		   "weak algorithm sha1 refused in EnvelopeDigest");
	expect_alg(*state, "<mlr:EnvelopeDigest Algorithm=\"" ALG_SHA256,
		   "<mlr:EnvelopeDigest Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512",
		   MLA_ERR_ALG_UNKNOWN, "not allowed in EnvelopeDigest");
}

static void test_garbled_base64(void **state)
{
	expect_alg(*state, "<ds:SignatureValue>", "<ds:SignatureValue>!!!", MLA_ERR_BASE64,
		   "invalid base64 in SignatureValue");
	expect_alg(*state, ALG_SHA256 "\">", ALG_SHA256 "\">%%%", MLA_ERR_BASE64,
		   "invalid base64 in EnvelopeDigest");
}

static void test_short_digest(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	char from[45];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	b64_of(r.envelope_digest, from);
	fixture_replace(&b, from, "AAAA");
	expect_refused(f, &b, MLA_ERR_SCHEMA, "does not match the schema");
	mla_buf_free(&b);
}

/* ---- the sender's match ---- */

static void test_match(void **state)
{
	struct fixture *f = *state;
	mla_receipt r, got;
	mla_diag d = {MLA_OK, ""};
	uint8_t other[32];
	char other_id[MLA_UUID_LEN + 1], want[128];
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &got, &d),
			 MLA_OK);
	assert_int_equal(mla_receipt_match(&got, "CO", r.message_id, r.envelope_digest, &d),
			 MLA_OK);

	assert_int_equal(mla_receipt_match(&got, "MX", r.message_id, r.envelope_digest, &d),
			 MLA_ERR_RECEIPT_MISMATCH);
	assert_string_equal(d.msg, "receipt signed by CO, message was sent to MX");

	fresh_uuid(other_id);
	assert_int_equal(mla_receipt_match(&got, "CO", other_id, r.envelope_digest, &d),
			 MLA_ERR_RECEIPT_MISMATCH);
	assert_int_equal(mla_snprintf(want, sizeof(want), "receipt is for message %s, not %s",
			r.message_id,
			other_id), MLA_OK);
	assert_string_equal(d.msg, want);

	memcpy(other, r.envelope_digest, 32);
	other[31] ^= 1;
	assert_int_equal(mla_receipt_match(&got, "CO", r.message_id, other, &d),
			 MLA_ERR_RECEIPT_MISMATCH);
	assert_string_equal(d.msg, "receipt digest differs from the envelope sent");

	got.message_id[0] = '\0';
	assert_int_equal(mla_receipt_match(&got, "CO", "", r.envelope_digest, &d),
			 MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "(unreadable)"));
	mla_buf_free(&b);
}

/* A positive receipt's ReceivedAt starts the case's deadlines on both sides (SPEC 12, 16.9):
 * one later than the sender's clock allows (now plus the skew it tolerates) would let the
 * receiver hold off the deadlines that run against itself; the sender does not count it. */
static void test_match_time(void **state)
{
	struct fixture *f = *state;
	mla_receipt r, got;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	time_t now;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &got, &d),
			 MLA_OK);
	now = got.received_at;
	assert_int_equal(mla_receipt_match_time(&got, now, 300, &d), MLA_OK);
	assert_int_equal(mla_receipt_match_time(&got, now - 300, 300, &d), MLA_OK);
	assert_int_equal(mla_receipt_match_time(&got, now - 301, 300, &d),
			 MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "ReceivedAt"));
	got.received_at = now + 86400 * 365;
	assert_int_equal(mla_receipt_match_time(&got, now, 300, &d), MLA_ERR_RECEIPT_MISMATCH);
	got.received_at = now - 86400 * 365; /* a repeat's receipt may be old */
	assert_int_equal(mla_receipt_match_time(&got, now, 300, &d), MLA_OK);
	mla_buf_free(&b);
}

/* A refusal of the envelope's version names no MessageId when the header could not be read
 * (SPEC 11 rule 8): it matches on the receiver State and the digest of the bytes sent, which
 * covers the id; anything else without an id never matches. */
static void refusal_without_id(const struct fixture *f, mla_err error, mla_receipt *got)
{
	mla_receipt r;
	mla_diag d = {MLA_OK, ""};
	mla_buf b;

	fill(&r, MLA_OUTCOME_REJECTED);
	r.message_id[0] = '\0';
	r.error = error;
	assert_int_equal(mla_snprintf(r.error_message, sizeof(r.error_message),
			"envelope version 3; this gateway reads versions 1 to 2"), MLA_OK);
	seal_with(f, &r, f->co_signer, &b);
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, got, &d),
			 MLA_OK);
	assert_string_equal(got->message_id, "");
	mla_buf_free(&b);
}

static void test_match_version_refusal_without_id(void **state)
{
	struct fixture *f = *state;
	mla_receipt got;
	mla_diag d = {MLA_OK, ""};
	char id[MLA_UUID_LEN + 1];
	uint8_t digest[32], other[32];

	fresh_uuid(id);
	SHA256((const unsigned char *)"envelope bytes", 14, digest);
	refusal_without_id(f, MLA_ERR_UNSUPPORTED_VERSION, &got);
	assert_int_equal(mla_receipt_match(&got, "CO", id, digest, &d), MLA_OK);
	assert_string_equal(mla_errname(got.error), "unsupported-version");
	assert_int_equal(got.error, -30);

	/* another receiver State, another digest: refused as ever */
	assert_int_equal(mla_receipt_match(&got, "MX", id, digest, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_string_equal(d.msg, "receipt signed by CO, message was sent to MX");
	memcpy(other, digest, 32);
	other[0] ^= 1;
	assert_int_equal(mla_receipt_match(&got, "CO", id, other, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_string_equal(d.msg, "receipt digest differs from the envelope sent");

	/* a peer before unsupported-version refused the root with schema: the same */
	refusal_without_id(f, MLA_ERR_SCHEMA, &got);
	assert_int_equal(mla_receipt_match(&got, "CO", id, digest, &d), MLA_OK);

	/* any other refusal without an id does not match (the header was readable or not, it is
	 * no refusal of the version) */
	refusal_without_id(f, MLA_ERR_XML_MALFORMED, &got);
	assert_int_equal(mla_receipt_match(&got, "CO", id, digest, &d), MLA_ERR_RECEIPT_MISMATCH);
	assert_non_null(strstr(d.msg, "(unreadable)"));
}

/* A receipt of a version this reader does not read is refused at its root (SPEC 11 rule 2),
 * before its structure or signature: unsupported-version, naming it. */
static void test_unknown_receipt_version(void **state)
{
	struct fixture *f = *state;
	mla_receipt r;
	mla_buf b;

	sealed(f, MLA_OUTCOME_ACCEPTED, &r, &b);
	fixture_replace(&b, "\"urn:mlagw:receipt:1\"", "\"urn:mlagw:receipt:4\"");
	expect_refused(f, &b, MLA_ERR_UNSUPPORTED_VERSION,
		       "receipt version 4; this reader reads versions 1 to 3");
	mla_buf_free(&b);
}

/* A receipt for a real envelope: the receiver's digest is the sender's. */
static void test_match_real_envelope(void **state)
{
	struct fixture *f = *state;
	mla_receipt r, got;
	mla_verified v;
	mla_diag d = {MLA_OK, ""};
	uint8_t sent[32];
	mla_buf env, b;

	assert_int_equal(fixture_seal(f, "<a/>", 4, &env), MLA_OK);
	SHA256(env.data, env.len, sent);
	assert_int_equal(mla_envelope_verify(env.data, env.len, f->trust, &f->limits, &v, &d),
			 MLA_OK);
	fill(&r, MLA_OUTCOME_ACCEPTED);
	memcpy(r.message_id, v.header.message_id, sizeof(r.message_id));
	memcpy(r.envelope_digest, v.digest, 32);
	seal_with(f, &r, f->co_signer, &b);
	assert_int_equal(mla_receipt_verify(b.data, b.len, f->trust, &f->limits, &got, &d),
			 MLA_OK);
	assert_int_equal(mla_receipt_match(&got, "CO", v.header.message_id, sent, &d), MLA_OK);
	mla_buf_free(&env);
	mla_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_positive_round_trip),
		cmocka_unit_test(test_negative_round_trip),
		cmocka_unit_test(test_negative_without_message_id),
		cmocka_unit_test(test_init_fills_id_and_time),
		cmocka_unit_test(test_seal_refuses_control_characters),
		cmocka_unit_test(test_seal_refuses_inconsistent_fields),
		cmocka_unit_test(test_receiver_mx_signed_by_co),
		cmocka_unit_test(test_receipt_forged_by_sender),
		cmocka_unit_test(test_receiver_unknown_state),
		cmocka_unit_test(test_altered_accepted_to_rejected),
		cmocka_unit_test(test_altered_rejected_to_accepted),
		cmocka_unit_test(test_altered_digest),
		cmocka_unit_test(test_altered_error_code_name),
		cmocka_unit_test(test_body_id_not_receipt_id),
		cmocka_unit_test(test_read_refuses_control_characters),
		cmocka_unit_test(test_second_body),
		cmocka_unit_test(test_body_after_signature),
		cmocka_unit_test(test_envelope_part_in_receipt),
		cmocka_unit_test(test_reference_not_to_body),
		cmocka_unit_test(test_two_references),
		cmocka_unit_test(test_envelope_is_not_a_receipt),
		cmocka_unit_test(test_doctype),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_weak_algorithms),
		cmocka_unit_test(test_garbled_base64),
		cmocka_unit_test(test_short_digest),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_time),
		cmocka_unit_test(test_match_real_envelope),
		cmocka_unit_test(test_match_version_refusal_without_id),
		cmocka_unit_test(test_unknown_receipt_version),
	};
	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
