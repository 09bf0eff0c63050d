/* Receipts (protocol/SPEC.md, section 12): the field rules, sealing (an mlr:Body signed with
 * the envelope machinery of seal.c, one reference) and reading a verified body, plus the
 * sender's match of a receipt against the envelope it sent. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>
#include <openssl/evp.h>

#include "mlagw/codec.h"
#include "b64check.h"
#include "header_xml.h"
#include "protocol_ns.h"
#include "receipt_internal.h"
#include "mlagw/text.h"
#include "seal_internal.h"

#define OUTCOME_ACCEPTED "accepted"
#define OUTCOME_REJECTED "rejected"

mla_err mla_receipt_init(mla_receipt *r)
{
	mla_header h;
	mla_err err;

	memset(r, 0, sizeof(*r));
	/* the header's generator gives a fresh random (v4) UUID and the current time */
	if ((err = mla_header_init(&h)) != MLA_OK)
		return err;
	memcpy(r->receipt_id, h.message_id, sizeof(r->receipt_id));
	r->received_at = h.created;
	r->outcome = MLA_OUTCOME_ACCEPTED;
	r->error = MLA_OK;
	r->version = 1;
	return MLA_OK;
}

/* ---- field rules ---- */

static int terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < MLA_UUID_LEN; i++)
		if (shape[i] == '-' ? s[i] != '-'
				    : !isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

static int is_state(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' && s[2] == '\0';
}


#define MLA_RECEIPT_MIN_CODE (-999L)

static int is_known_error(mla_err e)
{
	return e < MLA_OK && e > MLA_ERR_LAST_ && strcmp(mla_errname(e), "unknown") != 0;
}

static mla_err check_outcome(const mla_receipt *r, mla_diag *diag)
{
	if (r->outcome == MLA_OUTCOME_ACCEPTED) {
		if (r->error != MLA_OK || r->error_message[0] != '\0')
			return mla_fail(diag, MLA_ERR_HEADER,
					"receipt Error must be absent when the outcome is accepted");
		return MLA_OK;
	}
	if (r->outcome != MLA_OUTCOME_REJECTED)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Outcome is out of range");
	if (!is_known_error(r->error))
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Error code %d is not a known error of a rejection",
				(int)r->error);
	if (!mla_text_is_clean(r->error_message))
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Error message contains control characters or invalid UTF-8");
	return MLA_OK;
}

mla_err receipt_check(const mla_receipt *r, mla_diag *diag)
{
	if (!terminated(r->receipt_id, sizeof(r->receipt_id)) || !is_uuid(r->receipt_id))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt ReceiptId is not a lower-case UUID");
	if (!terminated(r->message_id, sizeof(r->message_id)) ||
	    (r->message_id[0] != '\0' && !is_uuid(r->message_id)))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt MessageId is not a lower-case UUID");
	if (!terminated(r->receiver_state, sizeof(r->receiver_state)) ||
	    !is_state(r->receiver_state))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Receiver state is not ISO 3166-1 alpha-2");
	if (!terminated(r->sender_state, sizeof(r->sender_state)) || !is_state(r->sender_state))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Sender state is not ISO 3166-1 alpha-2");
	if (r->received_at <= 0)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt ReceivedAt time is missing");
	if (!terminated(r->error_message, sizeof(r->error_message)))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Error message is not terminated");
	if (r->version < 1 || r->version > 3)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt version %u is not 1, 2 or 3",
				r->version);
	if (r->problem_count > 0 && (r->version < 2 || r->outcome != MLA_OUTCOME_REJECTED))
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Problems need version 2 and a rejected outcome");
	if ((r->version == 3 && r->outcome == MLA_OUTCOME_ACCEPTED) !=
	    (r->attachment_count > 0) || r->attachment_count > MLA_ATTACH_MAX)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Attachments are listed exactly when a "
				"receipt version 3 is accepted, 1 to %u of them", MLA_ATTACH_MAX);
	return check_outcome(r, diag);
}

/* s is terminated within n, at least min bytes long, and made of the characters of set. */
static int is_token(const char *s, size_t n, size_t min, const char *set)
{
	size_t len;

	if (!terminated(s, n) || (len = strlen(s)) < min)
		return 0;
	return strspn(s, set) == len;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

mla_err receipt_problem_check(const mla_receipt_problem *p, size_t i, mla_diag *diag)
{
	if (!is_token(p->path, sizeof(p->path), 1, ALNUM "/@._?[]-"))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Problem %zu path is not an element path",
				i + 1);
	if (!is_token(p->code, sizeof(p->code), 1, "abcdefghijklmnopqrstuvwxyz0123456789-"))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Problem %zu code is not a name", i + 1);
	if (!is_token(p->detail, sizeof(p->detail), 0, ALNUM " ._-"))
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Problem %zu detail has other characters",
				i + 1);
	return MLA_OK;
}

/* The list as a whole: 1 to MLA_RECEIPT_PROBLEMS_MAX listed, count from them to the bound. */
static mla_err problems_check(const mla_receipt_problems *p, mla_diag *diag)
{
	mla_err r;

	if (p->n == 0 || p->n > MLA_RECEIPT_PROBLEMS_MAX)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Problems list %zu problems, not 1 to %d",
				p->n, MLA_RECEIPT_PROBLEMS_MAX);
	if (p->count < p->n || p->count > MLA_RECEIPT_PROBLEMS_COUNT_MAX)
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Problems count %lu is below the %zu listed or beyond %u",
				(unsigned long)p->count, p->n, MLA_RECEIPT_PROBLEMS_COUNT_MAX);
	for (size_t i = 0; i < p->n; i++)
		if ((r = receipt_problem_check(&p->list[i], i, diag)) != MLA_OK)
			return r;
	return MLA_OK;
}

/* ---- sealing ---- */

static mla_err add_attr(xmlNodePtr n, const char *name, const char *value)
{
	return xmlNewProp(n, BAD_CAST name, BAD_CAST value) != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err add_digest(xmlNodePtr body, xmlNsPtr ns, const uint8_t digest[32])
{
	char b64[4 * ((32 + 2) / 3) + 1];
	xmlNodePtr n;
	mla_err r;

	if ((r = mla_b64_encode(digest, 32, b64, sizeof(b64))) != MLA_OK ||
	    (r = header_add_text(body, ns, "EnvelopeDigest", b64, &n)) != MLA_OK)
		return r;
	return add_attr(n, "Algorithm", ALG_SHA256);
}

static mla_err add_party(xmlNodePtr body, xmlNsPtr ns, const char *name, const char *state)
{
	xmlNodePtr n = xmlNewChild(body, ns, BAD_CAST name, NULL);

	return n != NULL ? add_attr(n, "state", state) : MLA_ERR_NOMEM;
}

static mla_err add_error(xmlNodePtr body, xmlNsPtr ns, const mla_receipt *rc)
{
	char code[16];
	xmlNodePtr n;
	mla_err r;

	if ((r = mla_snprintf(code, sizeof(code), "%d", (int)rc->error)) != MLA_OK ||
	    (r = header_add_text(body, ns, "Error", rc->error_message, &n)) != MLA_OK ||
	    (r = add_attr(n, "code", code)) != MLA_OK)
		return r;
	return add_attr(n, "name", mla_errname(rc->error));
}

static mla_err add_problem(xmlNodePtr list, xmlNsPtr ns, const mla_receipt_problem *p)
{
	xmlNodePtr n = xmlNewChild(list, ns, BAD_CAST "Problem", NULL);
	mla_err r;

	if (n == NULL)
		return MLA_ERR_NOMEM;
	if ((r = add_attr(n, "path", p->path)) != MLA_OK ||
	    (r = add_attr(n, "code", p->code)) != MLA_OK)
		return r;
	return p->detail[0] != '\0' ? add_attr(n, "detail", p->detail) : MLA_OK;
}

static mla_err add_problems(xmlNodePtr body, xmlNsPtr ns, const mla_receipt_problems *p)
{
	xmlNodePtr list = xmlNewChild(body, ns, BAD_CAST "Problems", NULL);
	char count[16];
	mla_err r;

	if (list == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_snprintf(count, sizeof(count), "%lu", (unsigned long)p->count)) != MLA_OK ||
	    (r = add_attr(list, "count", count)) != MLA_OK)
		return r;
	for (size_t i = 0; i < p->n; i++)
		if ((r = add_problem(list, ns, &p->list[i])) != MLA_OK)
			return r;
	return MLA_OK;
}

static mla_err body_write(xmlNodePtr body, xmlNsPtr ns, const mla_receipt *rc,
			  const mla_receipt_problems *problems,
			  const mla_receipt_attachments *atts)
{
	char at[21];
	int rejected = rc->outcome == MLA_OUTCOME_REJECTED;
	mla_err r;

	mla_time_format(rc->received_at, at);
	if ((r = header_add_text(body, ns, "ReceiptId", rc->receipt_id, NULL)) != MLA_OK)
		return r;
	if (rc->message_id[0] != '\0' &&
	    (r = header_add_text(body, ns, "MessageId", rc->message_id, NULL)) != MLA_OK)
		return r;
	if ((r = add_digest(body, ns, rc->envelope_digest)) != MLA_OK ||
	    (r = add_party(body, ns, "Receiver", rc->receiver_state)) != MLA_OK ||
	    (r = add_party(body, ns, "Sender", rc->sender_state)) != MLA_OK ||
	    (r = header_add_text(body, ns, "ReceivedAt", at, NULL)) != MLA_OK ||
	    (r = header_add_text(body, ns, "Outcome", rejected ? OUTCOME_REJECTED : OUTCOME_ACCEPTED,
			  NULL)) != MLA_OK)
		return r;
	if (rejected && (r = add_error(body, ns, rc)) != MLA_OK)
		return r;
	if (problems != NULL && (r = add_problems(body, ns, problems)) != MLA_OK)
		return r;
	return atts != NULL ? receipt_attach_write(body, ns, atts) : MLA_OK;
}

/* Builds <mlr:Receipt version="N"><mlr:Body Id="R-…">…</mlr:Body></mlr:Receipt>, N the
 * receipt's version, in that version's namespace. */
static mla_err build_receipt(const mla_receipt *rc, const mla_receipt_problems *problems,
			     const mla_receipt_attachments *atts, xmlDocPtr doc,
			     const char *body_id)
{
	static const char *const ns_of[] = {MLA_RECEIPT_NS, MLA_RECEIPT2_NS, MLA_RECEIPT3_NS};
	static const char *const version_of[] = {"1", "2", "3"};
	xmlNodePtr root, body;
	xmlNsPtr ns;
	mla_err r;

	if ((root = xmlNewDocNode(doc, NULL, BAD_CAST "Receipt", NULL)) == NULL)
		return MLA_ERR_NOMEM;
	xmlDocSetRootElement(doc, root);
	/* receipt_check kept the version within 1 to 3 */
	if ((ns = xmlNewNs(root, BAD_CAST ns_of[rc->version - 1], BAD_CAST "mlr")) == NULL)
		return MLA_ERR_NOMEM;
	xmlSetNs(root, ns);
	if ((r = add_attr(root, "version", version_of[rc->version - 1])) != MLA_OK)
		return r;
	if ((body = xmlNewChild(root, ns, BAD_CAST "Body", NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = seal_set_id(body, body_id)) != MLA_OK)
		return r;
	return body_write(body, ns, rc, problems, atts);
}

/* The receipt's own fields, a problem list only where version 2 or 3 and a refusal allow,
 * and an attachment list exactly where version 3 and an acceptance call for one. */
static mla_err seal_check(mla_receipt *rc, const mla_receipt_problems *problems,
			  const mla_receipt_attachments *atts, mla_diag *diag)
{
	const int want_atts = rc->version == 3 && rc->outcome == MLA_OUTCOME_ACCEPTED;
	mla_err r;

	if (problems != NULL && (rc->version < 2 || rc->outcome != MLA_OUTCOME_REJECTED))
		return mla_fail(diag, MLA_ERR_ARG,
				"a problem list needs receipt version 2 or 3 and a rejected outcome");
	if (problems != NULL && (r = problems_check(problems, diag)) != MLA_OK)
		return r;
	if ((atts != NULL) != want_atts)
		return mla_fail(diag, MLA_ERR_ARG, "an attachment list is given exactly with an "
				"accepted receipt version 3");
	if (atts != NULL && (r = receipt_attach_check(atts, diag)) != MLA_OK)
		return r;
	rc->problem_count = problems != NULL ? problems->count : 0;
	rc->attachment_count = atts != NULL ? (uint32_t)atts->n : 0;
	return receipt_check(rc, diag);
}

mla_err mla_receipt_seal(const mla_receipt *rc, const mla_signer *signer,
			 const mla_limits *limits, mla_buf *out, mla_diag *diag)
{
	return mla_receipt_seal_problems(rc, NULL, signer, limits, out, diag);
}

mla_err mla_receipt_seal_problems(const mla_receipt *rc, const mla_receipt_problems *problems,
				  const mla_signer *signer, const mla_limits *limits,
				  mla_buf *out, mla_diag *diag)
{
	return mla_receipt_seal_attached(rc, problems, NULL, signer, limits, out, diag);
}

mla_err mla_receipt_seal_attached(const mla_receipt *rc_in, const mla_receipt_problems *problems,
				  const mla_receipt_attachments *atts, const mla_signer *signer,
				  const mla_limits *limits, mla_buf *out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	xmlDocPtr doc = NULL;
	char body_id[MLA_UUID_LEN + 3];
	const char *ids[1] = {body_id};
	mla_receipt rcopy = *rc_in;
	mla_receipt *rc = &rcopy;

	mla_buf_init(out, 0);
	if ((r = seal_check(rc, problems, atts, diag)) != MLA_OK)
		goto out;
	if ((r = mla_snprintf(body_id, sizeof(body_id), "R-%s", rc->receipt_id)) != MLA_OK) {
		r = mla_fail(diag, r, "receipt id too long");
		goto out;
	}
	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "cannot create the receipt document");
		goto out;
	}
	if ((r = build_receipt(rc, problems, atts, doc, body_id)) != MLA_OK) {
		mla_fail(diag, r, "cannot build the receipt body");
		goto out;
	}
	if ((r = seal_sign_refs(xmlDocGetRootElement(doc), ids, 1, signer, diag)) != MLA_OK ||
	    (r = seal_serialize(doc, "receipt", limits, out, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	xmlFreeDoc(doc);
	return r;
}

/* ---- reading a verified body ---- */

static mla_err copy_text(xmlNodePtr el, char *dst, size_t n, mla_diag *diag)
{
	return header_copy_text(el, "receipt", dst, n, diag);
}

static mla_err copy_attr(xmlNodePtr el, const char *name, char *dst, size_t n, mla_diag *diag)
{
	xmlChar *v = xmlGetNoNsProp(el, BAD_CAST name);
	mla_err r = MLA_OK;

	if (v == NULL || mla_strcpy(dst, n, (const char *)v) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt %s has no valid %s",
			     (const char *)el->name, name);
	xmlFree(v);
	return r;
}

static mla_err read_digest(xmlNodePtr el, uint8_t out[32], mla_diag *diag)
{
	mla_buf b;
	mla_err r = MLA_OK;

	mla_buf_init(&b, 64);
	if (b64_decode_element(el, &b) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_BASE64, "invalid base64 in EnvelopeDigest");
	else if (b.len != 32)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt EnvelopeDigest is %zu bytes, not 32",
			     b.len);
	else
		memcpy(out, b.data, 32);
	mla_buf_free(&b);
	return r;
}

/* code and name of a negative receipt's Error. A code this build knows must carry its own
 * name; an unknown one (a peer with a newer error table) is kept as it is, so a newer peer's
 * refusal is still a verifiable refusal rather than an unreadable receipt. */
static mla_err read_error(xmlNodePtr el, mla_receipt *rc, mla_diag *diag)
{
	char code[16], name[40];
	int64_t v;
	mla_err r;

	if ((r = copy_attr(el, "code", code, sizeof(code), diag)) != MLA_OK ||
	    (r = copy_attr(el, "name", name, sizeof(name), diag)) != MLA_OK)
		return r;
	if (mla_parse_i64(code, MLA_RECEIPT_MIN_CODE, -1, &v) != MLA_OK)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Error code is out of range");
	rc->error = (mla_err)v;
	if (is_known_error(rc->error) && strcmp(name, mla_errname(rc->error)) != 0)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Error code %lld is not named '%.32s'",
				(long long)v, name);
	return copy_text(el, rc->error_message, sizeof(rc->error_message), diag);
}

static mla_err read_scalar(xmlNodePtr el, mla_receipt *rc, mla_diag *diag)
{
	const char *n = (const char *)el->name;
	char tmp[24];
	mla_err r;

	if ((r = copy_text(el, tmp, sizeof(tmp), diag)) != MLA_OK)
		return r;
	if (strcmp(n, "ReceivedAt") == 0) {
		if ((rc->received_at = mla_time_parse(tmp)) <= 0)
			return mla_fail(diag, MLA_ERR_HEADER,
					"receipt ReceivedAt is not YYYY-MM-DDThh:mm:ssZ");
		return MLA_OK;
	}
	if (strcmp(n, "Outcome") == 0 && strcmp(tmp, OUTCOME_ACCEPTED) == 0)
		rc->outcome = MLA_OUTCOME_ACCEPTED;
	else if (strcmp(n, "Outcome") == 0 && strcmp(tmp, OUTCOME_REJECTED) == 0)
		rc->outcome = MLA_OUTCOME_REJECTED;
	else
		return mla_fail(diag, MLA_ERR_HEADER, "receipt %s '%.16s' is unknown", n, tmp);
	return MLA_OK;
}

/* One Problem's attributes; detail is optional. */
static mla_err read_problem(xmlNodePtr el, size_t i, mla_receipt_problem *p, mla_diag *diag)
{
	xmlChar *detail = xmlGetNoNsProp(el, BAD_CAST "detail");
	mla_err r;

	memset(p, 0, sizeof(*p));
	if (detail != NULL && mla_strcpy(p->detail, sizeof(p->detail), (const char *)detail) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt Problem %zu detail is too long", i + 1);
	else if ((r = copy_attr(el, "path", p->path, sizeof(p->path), diag)) == MLA_OK &&
		 (r = copy_attr(el, "code", p->code, sizeof(p->code), diag)) == MLA_OK)
		r = receipt_problem_check(p, i, diag);
	xmlFree(detail);
	return r;
}

/* Problems: its count and each Problem, into out when not NULL, else checked only. */
static mla_err read_problems(xmlNodePtr el, mla_receipt *rc, mla_receipt_problems *out,
			     mla_diag *diag)
{
	mla_receipt_problem tmp;
	char count[16];
	int64_t v;
	size_t n = 0;
	mla_err r;

	if ((r = copy_attr(el, "count", count, sizeof(count), diag)) != MLA_OK)
		return r;
	if (mla_parse_i64(count, 1, MLA_RECEIPT_PROBLEMS_COUNT_MAX, &v) != MLA_OK)
		return mla_fail(diag, MLA_ERR_HEADER, "receipt Problems count is out of range");
	rc->problem_count = (uint32_t)v;
	for (xmlNodePtr c = el->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (n == MLA_RECEIPT_PROBLEMS_MAX)
			return mla_fail(diag, MLA_ERR_HEADER, "receipt lists more than %d problems",
					MLA_RECEIPT_PROBLEMS_MAX);
		if ((r = read_problem(c, n, out != NULL ? &out->list[n] : &tmp, diag)) != MLA_OK)
			return r;
		n++;
	}
	if (n == 0 || (uint64_t)v < n)
		return mla_fail(diag, MLA_ERR_HEADER,
				"receipt Problems count %lld is below the %zu listed", (long long)v, n);
	if (out != NULL) {
		out->n = n;
		out->count = (uint32_t)v;
	}
	return MLA_OK;
}

static mla_err read_field(xmlNodePtr el, mla_receipt *rc, mla_receipt_problems *problems,
			  mla_receipt_attachments *atts, mla_diag *diag)
{
	const char *n = (const char *)el->name;

	if (strcmp(n, "Problems") == 0)
		return read_problems(el, rc, problems, diag);
	if (strcmp(n, "Attachments") == 0)
		return receipt_attach_read(el, rc, atts, diag);

	if (strcmp(n, "ReceiptId") == 0)
		return copy_text(el, rc->receipt_id, sizeof(rc->receipt_id), diag);
	if (strcmp(n, "MessageId") == 0)
		return copy_text(el, rc->message_id, sizeof(rc->message_id), diag);
	if (strcmp(n, "EnvelopeDigest") == 0)
		return read_digest(el, rc->envelope_digest, diag);
	if (strcmp(n, "Receiver") == 0)
		return copy_attr(el, "state", rc->receiver_state, sizeof(rc->receiver_state), diag);
	if (strcmp(n, "Sender") == 0)
		return copy_attr(el, "state", rc->sender_state, sizeof(rc->sender_state), diag);
	if (strcmp(n, "Error") == 0)
		return read_error(el, rc, diag);
	return read_scalar(el, rc, diag);
}

/* The Body's Id must be "R-" + its ReceiptId, as sealing makes it. */
static mla_err check_body_id(xmlNodePtr body, const mla_receipt *rc, mla_diag *diag)
{
	xmlChar *id = xmlGetNoNsProp(body, BAD_CAST "Id");
	char want[MLA_UUID_LEN + 3];
	mla_err r = MLA_OK;

	if (id == NULL || mla_snprintf(want, sizeof(want), "R-%s", rc->receipt_id) != MLA_OK ||
	    !xmlStrEqual(id, BAD_CAST want))
		r = mla_fail(diag, MLA_ERR_HEADER, "receipt Body Id is not R- and its ReceiptId");
	xmlFree(id);
	return r;
}

mla_err receipt_body_read(xmlNodePtr body, mla_receipt *rc, mla_receipt_problems *problems,
			  mla_receipt_attachments *atts, mla_diag *diag)
{
	mla_err r;

	memset(rc, 0, sizeof(*rc));
	if (problems != NULL)
		memset(problems, 0, sizeof(*problems));
	if (atts != NULL)
		memset(atts, 0, sizeof(*atts));
	/* the schema chose the version by the namespace; the Body is in it */
	rc->version = xmlStrEqual(body->ns->href, BAD_CAST MLA_RECEIPT3_NS)   ? 3
		      : xmlStrEqual(body->ns->href, BAD_CAST MLA_RECEIPT2_NS) ? 2
									     : 1;
	for (xmlNodePtr c = body->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((r = read_field(c, rc, problems, atts, diag)) != MLA_OK)
			return r;
	}
	if ((r = receipt_check(rc, diag)) != MLA_OK)
		return r;
	return check_body_id(body, rc, diag);
}

/* ---- the sender's check ---- */

/* A refusal of an envelope whose header the receiver could not read because it does not read
 * its version (SPEC 11 rule 8): unsupported-version, or schema from a peer older than that
 * code. Without a MessageId it is bound to the message by the digest alone, which covers the
 * id. */
static int version_refusal(const mla_receipt *r)
{
	return r->outcome == MLA_OUTCOME_REJECTED &&
	       (r->error == MLA_ERR_UNSUPPORTED_VERSION || r->error == MLA_ERR_SCHEMA);
}

mla_err mla_receipt_match(const mla_receipt *r, const char *to_state, const char *message_id,
			  const uint8_t digest[32], mla_diag *diag)
{
	if (strcmp(r->receiver_state, to_state) != 0)
		return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH,
				"receipt signed by %.2s, message was sent to %.2s", r->receiver_state,
				to_state);
	if (r->message_id[0] == '\0' ? !version_refusal(r) : strcmp(r->message_id, message_id) != 0)
		return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH, "receipt is for message %.36s, not %.36s",
				r->message_id[0] != '\0' ? r->message_id : "(unreadable)",
				message_id);
	if (memcmp(r->envelope_digest, digest, 32) != 0)
		return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH,
				"receipt digest differs from the envelope sent");
	return MLA_OK;
}

mla_err mla_receipt_match_time(const mla_receipt *r, time_t now, uint64_t skew_s,
			       mla_diag *diag)
{
	char at[MLA_TIME_LEN];

	if (r->outcome != MLA_OUTCOME_ACCEPTED || skew_s > (uint64_t)INT32_MAX ||
	    (int64_t)r->received_at <= (int64_t)now + (int64_t)skew_s)
		return MLA_OK;
	mla_time_format(r->received_at, at);
	return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH, "receipt ReceivedAt %s is later than "
			"this gateway's clock plus %llu s: its receiver dated it ahead", at,
			(unsigned long long)skew_s);
}

mla_err mla_receipt_match_version(const mla_receipt *r, int envelope_version, mla_diag *diag)
{
	/* envelope 3 pairs with receipt 3 only; 2 with 2; 1 with 1, or 2 for problems */
	const unsigned want = envelope_version >= 3 ? 3u : envelope_version == 2 ? 2u : 0u;

	if ((want != 0 && r->version != want) || (want == 0 && r->version > 2))
		return mla_fail(diag, MLA_ERR_RECEIPT_MISMATCH,
				"receipt version %u for an envelope of version %d, which receipt "
				"version %u answers", r->version, envelope_version,
				want != 0 ? want : 1u);
	return MLA_OK;
}
