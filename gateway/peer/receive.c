/* Receiving an envelope from a peer: a worker opens it with every check of the envelope
 * library plus the exchange rules (TLS peer = sender, replay window, clock skew) and signs
 * the receipt; the loop thread then applies exactly-once delivery against the inbox, stores
 * it durably and only then answers with the signed receipt. A refusal repeated within the
 * refusal window is only counted (refusals.h, SPEC 13 Refusals). */
#include <string.h>

#include <openssl/sha.h>

#include "attach/attach_files.h"
#include "cases/cases.h"
#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/case.h"
#include "mlagw/codec.h"
#include "mlagw/notice.h"
#include "mlagw/receipt.h"
#include "mlagw/text.h"
#include "peer_server.h"
#include "receive_transfer.h"
#include "refusals.h"

struct recv_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct recv_req *rr;
	char peer_state[3];
	mla_buf body;
	int64_t now_ms;
	mla_verified v;
	int header_known; /* v.header.message_id is a well-formed id */
	uint8_t digest[32];
	mla_err err;
	mla_diag diag;
	mla_buf receipt;
	mla_err receipt_err;
	int repeat; /* a refusal held in the window: not signed again (unless it must be) */
	int64_t receipt_ms; /* the signed receipt's received_at, ms */
	int life_set;       /* [cases] lifecycle = enforce: life is the step the envelope makes */
	struct store_life_step life;
	int facts_set;      /* a case request: what its document says for its deadlines */
	struct store_deadline_facts facts;
	mla_case_report *report; /* the case validation's problems, when they refused it */
	int notice_set;     /* a retrieval notice (SPEC 16.10): notice is its document */
	mla_notice notice;
	char reason[MLA_AUDIT_REASON_MAX + 1]; /* a record of another channel (SPEC 16.11) */
	char grounds[MLA_AUDIT_GROUNDS_MAX + 1]; /* a Refused answer's coded grounds (SPEC 14 v6) */
	mla_attach_list *att; /* envelope version 3: its attachments (SPEC 17.13) */
	int completing;       /* every segment of att is held: the envelope completes now */
};

static mla_err exchange_checks(struct recv_job *j, const struct gw_config *c)
{
	int64_t created_ms = (int64_t)j->v.header.created * 1000;
	int version = mla_header_version(&j->v.header);

	/* SPEC 11 rules 6 and 8: versions below the minimum are no longer read */
	if (version < (int)c->envelope_min_version)
		return mla_fail(&j->diag, MLA_ERR_UNSUPPORTED_VERSION,
				"envelope version %d; this gateway reads versions %u to %d "
				"([gateway] envelope_min_version)", version,
				c->envelope_min_version, GW_ENVELOPE_VERSION_ATTACHED);
	if (strcmp(j->v.header.from_state, j->peer_state) != 0)
		return mla_fail(&j->diag, MLA_ERR_PEER_MISMATCH,
				"TLS peer is %s but the envelope is from %s", j->peer_state,
				j->v.header.from_state);
	if (j->completing) /* its time was checked when it came; its segments took a while */
		return MLA_OK;
	if (created_ms < j->now_ms - (int64_t)c->replay_window_ms)
		return mla_fail(&j->diag, MLA_ERR_REPLAY,
				"envelope created %lld s ago, beyond the replay window",
				(long long)((j->now_ms - created_ms) / 1000));
	if (created_ms > j->now_ms + (int64_t)c->clock_skew_ms)
		return mla_fail(&j->diag, MLA_ERR_CLOCK_SKEW,
				"envelope dated %lld s in the future, beyond the clock skew",
				(long long)((created_ms - j->now_ms) / 1000));
	return MLA_OK;
}

static mla_err add_ground(const char *code, void *arg)
{
	struct recv_job *j = arg;

	return mla_audit_grounds_add(j->grounds, sizeof(j->grounds), code);
}

/* The decrypted document, checked as the sender had to before sealing (SPEC 16.6, On
 * receipt): a document that declares a case schema must follow it and agree with the signed
 * header's Kind and Action; an opaque one passes unless [cases] opaque = refuse. Runs here,
 * before anything is stored, so that the refusal is the synchronous negative receipt. The
 * report is kept for the receipt's problem list only when it holds problems. */
static mla_err case_checks(struct recv_job *j, const struct gw_config *c, const mla_buf *doc)
{
	mla_err r;

	if ((j->report = calloc(1, sizeof(*j->report))) == NULL)
		return mla_fail(&j->diag, MLA_ERR_NOMEM, "out of memory checking the document");
	r = mla_case_check(doc->data, doc->len, &c->limits, c->cases_refuse_opaque,
			   mla_header_version(&j->v.header), j->v.header.kind, j->v.header.action,
			   j->report, &j->diag);
	if (r == MLA_OK || j->report->cls != MLA_CASE_INVALID) {
		free(j->report);
		j->report = NULL;
	}
	if (r == MLA_OK && c->cases_enforce) /* the deadlines' facts, kept with the case */
		r = cases_facts_read(doc->data, doc->len, &c->limits, &j->v.header, &j->facts,
				     &j->facts_set, &j->diag);
	/* a refusal's coded grounds for its audit entry (SPEC 14 version 6); none if opaque */
	if (r == MLA_OK && strcmp(j->v.header.action, "refused") == 0 &&
	    mla_case_refusal_grounds(doc->data, doc->len, &c->limits, add_ground, j, NULL) !=
		    MLA_OK)
		j->grounds[0] = '\0';
	return r;
}

/* A retrieval notice (SPEC 16.10) is the gateway's own document, not a case document: its
 * shape is checked strictly and it must name the header's InReplyTo and Action. */
static mla_err notice_checks(struct recv_job *j, const struct gw_config *c, const mla_buf *doc)
{
	const mla_header *h = &j->v.header;
	mla_err r;

	if ((r = mla_notice_parse(doc->data, doc->len, &c->limits, &j->notice, &j->diag)) !=
	    MLA_OK)
		return r;
	if (strcmp(j->notice.message_id, h->in_reply_to) != 0 ||
	    strcmp(mla_notice_action(j->notice.status), h->action) != 0)
		return mla_fail(&j->diag, MLA_ERR_SCHEMA, "notice: its Status and MessageId must be "
				"the header's Action and InReplyTo");
	j->notice_set = 1;
	return MLA_OK;
}

/* A record of a request sent by other means (SPEC 16.11): its strict shape; its means, time
 * and digest become the reason of its received entry. */
static mla_err record_checks(struct recv_job *j, const struct gw_config *c, const mla_buf *doc)
{
	mla_other_channel o;
	mla_err r;

	if ((r = mla_other_channel_parse(doc->data, doc->len, &c->limits, &o, &j->diag)) != MLA_OK)
		return r;
	if (mla_other_channel_reason(&o, j->reason, sizeof(j->reason)) != MLA_OK)
		return mla_fail(&j->diag, MLA_ERR_INTERNAL, "other channel: no audit reason");
	return MLA_OK;
}

/* The validation's problems as a receipt's list (SPEC 12): the same paths, codes and details,
 * which name no text of the document. NULL when out of memory. */
static mla_receipt_problems *receipt_problems(const mla_case_report *rep)
{
	mla_receipt_problems *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < rep->n && i < MLA_RECEIPT_PROBLEMS_MAX; i++) {
		mla_receipt_problem *q = &p->list[p->n++];
		(void)mla_snprintf_cut(q->path, sizeof(q->path), "%s", rep->problems[i].path);
		(void)mla_snprintf_cut(q->code, sizeof(q->code), "%s",
				       mla_case_code_name(rep->problems[i].code));
		(void)mla_snprintf_cut(q->detail, sizeof(q->detail), "%s", rep->problems[i].detail);
	}
	p->count = (uint32_t)(rep->n + rep->more);
	return p;
}

/* A refusal for a case document's problems, to a peer that reads receipt version 2: the
 * receipt lists them. Should the list not seal (a path outside the receipt's characters: a
 * bug), the refusal still gets its receipt without the list (version 1, or 2 where the
 * envelope's version asks for it), never no receipt at all. */
static void sign_with_problems(struct recv_job *j, mla_receipt *r, unsigned plain,
			       struct gw_crypto *k, const struct gw_config *c)
{
	mla_receipt_problems *p = receipt_problems(j->report);
	mla_diag d = {MLA_OK, ""};

	r->version = plain >= 2 ? plain : 2;
	if (p != NULL && (j->receipt_err = mla_receipt_seal_problems(r, p, k->signer, &c->limits,
								    &j->receipt, &d)) == MLA_OK) {
		free(p);
		return;
	}
	free(p);
	gw_log(GW_LOG_ERROR, "receipt-problems-unsealed", j->header_known ? j->v.header.message_id
									  : "",
	       "peer=%s reason=\"%s\"", j->peer_state, d.msg);
	r->version = plain;
	j->receipt_err = mla_receipt_seal(r, k->signer, &c->limits, &j->receipt, NULL);
}

/* The receipt version paired with the envelope (SPEC 11 rule 7): 2 for an envelope of
 * version 2, and for one whose header could not be read when version 2 is the highest this
 * gateway writes to that peer; 1 otherwise. */
static unsigned paired_version(const struct recv_job *j, const struct gw_config *c)
{
	const struct gw_peer *peer = gw_config_peer(c, j->peer_state);

	if (j->v.header.version == 2 || j->v.header.version == 3)
		return (unsigned)j->v.header.version;
	if (j->v.header.version == 0 && peer != NULL && gw_config_envelope_version(c, peer) >= 2)
		return 2;
	return 1;
}

/* The receipt version this refusal is written in: 2 only to list a case document's problems,
 * and only to a peer configured as reading it (SPEC 11 rule 7); 1 otherwise. */
static int lists_problems(const struct recv_job *j, const struct gw_config *c)
{
	const struct gw_peer *peer = gw_config_peer(c, j->peer_state);

	return j->err != MLA_OK && j->report != NULL && j->report->n > 0 && peer != NULL &&
	       peer->receipt_version >= 2;
}

/* An envelope version 3 accepted: no receipt while its segments travel (SPEC 17.13); once
 * all are held, receipt version 3 naming each attachment's size and root. */
static void sign_attached(struct recv_job *j, mla_receipt *r, struct gw_crypto *k,
			  const struct gw_config *c)
{
	mla_receipt_attachments *a;

	j->receipt_err = MLA_OK;
	if (!j->completing || j->att == NULL)
		return;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		j->receipt_err = MLA_ERR_NOMEM;
		return;
	}
	mla_receipt_attachments_of(j->att, a);
	j->receipt_err = mla_receipt_seal_attached(r, NULL, a, k->signer, &c->limits, &j->receipt,
						   NULL);
	free(a);
}

static void sign_receipt(struct recv_job *j, struct gw_crypto *k, const struct gw_config *c)
{
	mla_receipt r;

	if ((j->receipt_err = mla_receipt_init(&r)) != MLA_OK)
		return;
	if (j->header_known)
		memcpy(r.message_id, j->v.header.message_id, sizeof(r.message_id));
	memcpy(r.envelope_digest, j->digest, 32);
	memcpy(r.receiver_state, c->state, 3);
	memcpy(r.sender_state, j->peer_state, 3);
	r.outcome = j->err == MLA_OK ? MLA_OUTCOME_ACCEPTED : MLA_OUTCOME_REJECTED;
	r.error = j->err;
	if (j->err != MLA_OK)
		mla_text_copy_safe(r.error_message, sizeof(r.error_message),
				   mla_diag_message(&j->diag));
	j->receipt_ms = (int64_t)r.received_at * 1000;
	r.version = paired_version(j, c);
	if (r.version == 3 && j->err == MLA_OK) {
		sign_attached(j, &r, k, c);
		return;
	}
	if (lists_problems(j, c) || (r.version >= 2 && j->report != NULL && j->report->n > 0 &&
				     j->err != MLA_OK))
		sign_with_problems(j, &r, r.version, k, c);
	else
		j->receipt_err = mla_receipt_seal(&r, k->signer, &c->limits, &j->receipt, NULL);
}

static int uuid_like(const char *s)
{
	return strlen(s) == MLA_UUID_LEN && s[8] == '-' && s[13] == '-';
}

/* Whether this refusal is a repeat the loop thread will answer with the first's receipt. */
static int repeat_held(const struct recv_job *j, const struct gw_config *c)
{
	struct refusal_key key = {.err = j->err, .has_digest = 1};

	memcpy(key.peer, j->peer_state, 3);
	memcpy(key.digest, j->digest, 32);
	return refusals_held(peer_refusals(j->rr->g), &key, c->refusal_window_ms);
}

/* An unknown version refused at its root names the versions this gateway reads: from
 * [gateway] envelope_min_version, where the library names those it implements (SPEC 11 rule
 * 8: "envelope version 3; this gateway reads versions 2 to 2 ([gateway] ...)"). */
static void read_set(struct recv_job *j, const struct gw_config *c)
{
	char found[64];
	size_t n = strcspn(j->diag.msg, ";");

	(void)mla_snprintf_cut(found, sizeof(found), "%.*s", (int)n, j->diag.msg);
	if (c->envelope_min_version <= 1)
		(void)mla_fail(&j->diag, MLA_ERR_UNSUPPORTED_VERSION, "%s; this gateway reads "
			       "versions 1 to %d", found, GW_ENVELOPE_VERSION_ATTACHED);
	else
		(void)mla_fail(&j->diag, MLA_ERR_UNSUPPORTED_VERSION, "%s; this gateway reads "
			       "versions %u to %d ([gateway] envelope_min_version)", found,
			       c->envelope_min_version, GW_ENVELOPE_VERSION_ATTACHED);
}

static void recv_run(struct gw_job *job, struct gw_crypto *k)
{
	struct recv_job *j = (struct recv_job *)job;
	const struct gw_config *c = &job->snap->cfg;
	mla_buf doc;

	SHA256(j->body.data, j->body.len, j->digest);
	if (k == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_INTERNAL, "keys unavailable");
		j->receipt_err = MLA_ERR_INTERNAL;
		return;
	}
	/* versions 1 to 3; a version 3 also gives its attachments (secrets wiped at free) */
	j->err = mla_envelope_open_attached(j->body.data, j->body.len, k->trust, k->keys, c->state,
					    &c->limits, &j->v, &doc, &j->att, &j->diag);
	j->header_known = uuid_like(j->v.header.message_id);
	if (j->err == MLA_ERR_UNSUPPORTED_VERSION)
		read_set(j, c);
	if (j->err == MLA_OK)
		j->err = exchange_checks(j, c);
	if (j->err == MLA_OK)
		j->err = mla_notice_is_action(j->v.header.action) ? notice_checks(j, c, &doc) :
			 strcmp(j->v.header.action, MLA_OTHER_CHANNEL_ACTION) == 0 ?
								      record_checks(j, c, &doc) :
								      case_checks(j, c, &doc);
	mla_buf_free(&doc); /* agencies decrypt on demand; the plaintext is not kept */
	if (j->err != MLA_OK && (j->repeat = repeat_held(j, c)) != 0)
		return; /* no new signature for what the first refusal's receipt answers */
	sign_receipt(j, k, c);
}

static void free_job(struct recv_job *j)
{
	gw_job_release(&j->job);
	mla_buf_free(&j->body);
	mla_buf_free(&j->receipt);
	mla_attach_list_free(j->att);
	free(j->report);
	free(j);
}

/* A refusal to remember once its entries are durable: its exact key (peer, error, digest),
 * whether it also opens the key without a digest (unauthenticated), and what the exact key's
 * aggregate will name (the message fields its own rejected entry named). */
struct refusal_note {
	struct refusal_key key;
	int unauthenticated;
	char case_id[MLA_CASE_ID_MAX + 1], kind[MLA_TOKEN_MAX + 1], action[MLA_TOKEN_MAX + 1];
};

struct reply_ctx {
	struct recv_req *rr;
	int code;
	const char *ctype; /* NULL: application/xml (a receipt) */
	mla_buf receipt;
	char msgid[MLA_UUID_LEN + 1];
	int refused; /* note is set */
	struct refusal_note note;
};

static const char *status_text(int code)
{
	return code == 200   ? "OK"
	       : code == 202 ? "Accepted"
	       : code == 409 ? "Conflict"
	       : code == 503 ? "Service Unavailable"
			     : "Unprocessable Entity";
}

/* A refusal's status: 422, final, except clock skew and a revocation status not known yet
 * (SPEC 18.7), conditions of the link that a sender retries (503, which a sender of any
 * version retries; SPEC 13 Time). */
static int refusal_status(mla_err err)
{
	return err == MLA_ERR_CLOCK_SKEW || err == MLA_ERR_REVOCATION_UNKNOWN ? 503 : 422;
}

static const char *or_null(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* The refusal's first entries are durable: its repeats may now be counted instead. */
static void remember_refusal(struct gw *g, const struct reply_ctx *rc)
{
	const struct refusal_note *n = &rc->note;
	struct refusal_first f = {or_null(rc->msgid), or_null(n->case_id), or_null(n->kind),
				  or_null(n->action), &rc->receipt};
	struct refusal_first any = {NULL, NULL, NULL, NULL, NULL};
	struct refusal_key wild = n->key;

	refusals_first(peer_refusals(g), &n->key, &f);
	if (!n->unauthenticated)
		return;
	wild.has_digest = 0;
	memset(wild.digest, 0, sizeof(wild.digest));
	refusals_first(peer_refusals(g), &wild, &any);
}

static void reply_after_commit(struct gw *g, void *arg, int committed)
{
	struct reply_ctx *rc = arg;

	if (!committed) {
		gw_log(GW_LOG_ERROR, "receive-not-stored", rc->msgid, "reason=\"store commit failed\"");
		recv_reply(rc->rr, 503, "Service Unavailable", "text/plain",
			   (const uint8_t *)"store unavailable\n", 18);
	} else {
		if (rc->refused)
			remember_refusal(g, rc);
		recv_reply(rc->rr, rc->code, status_text(rc->code),
			   rc->ctype != NULL ? rc->ctype : "application/xml", rc->receipt.data,
			   rc->receipt.len);
	}
	mla_buf_free(&rc->receipt);
	free(rc);
}

/* Queues the reply with a receipt (moved from *receipt) behind the current commit; a refusal
 * (note not NULL) is remembered once it is durable. */
static void reply_with_note(struct gw *g, struct recv_req *rr, int code, mla_buf *receipt,
			    const char *msgid, const struct refusal_note *note)
{
	struct reply_ctx *rc = calloc(1, sizeof(*rc));

	if (rc == NULL) {
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	rc->rr = rr;
	rc->code = code;
	rc->receipt = *receipt;
	mla_buf_init(receipt, 0);
	(void)mla_snprintf_cut(rc->msgid, sizeof(rc->msgid), "%s", msgid); /* also the note's id */
	if (note != NULL) {
		rc->refused = 1;
		rc->note = *note;
	}
	gw_after_commit(g, reply_after_commit, rc);
}

static void reply_with(struct gw *g, struct recv_req *rr, int code, mla_buf *receipt,
		       const char *msgid)
{
	reply_with_note(g, rr, code, receipt, msgid, NULL);
}

/* What j's refusal with err will be remembered as (the fields as audit_reception wrote). */
static void refusal_note_of(const struct recv_job *j, mla_err err, struct refusal_note *n)
{
	const int signed_hdr = j->header_known && j->v.authenticated;

	memset(n, 0, sizeof(*n));
	memcpy(n->key.peer, j->peer_state, 3);
	n->key.err = err;
	n->key.has_digest = 1;
	memcpy(n->key.digest, j->digest, 32);
	n->unauthenticated = !j->v.authenticated;
	if (signed_hdr) {
		memcpy(n->case_id, j->v.header.case_id, sizeof(n->case_id));
		memcpy(n->kind, j->v.header.kind, sizeof(n->kind));
		memcpy(n->action, j->v.header.action, sizeof(n->action));
	}
}

/* A refusal already stored in this window, again: answered at once, with the receipt that
 * answered the first of these same bytes, or (unauthenticated, other bytes) with its own
 * receipt own, and only counted. Returns 1 when it answered. */
static int answer_repeat(struct gw *g, const struct recv_job *j, mla_err err, int code,
			 const mla_buf *own)
{
	struct refusals *rf = peer_refusals(g);
	struct refusal_note n;
	const mla_buf *kept = NULL;

	refusal_note_of(j, err, &n);
	if (refusals_repeat(rf, &n.key, &kept) && kept != NULL) {
		recv_reply(j->rr, code, status_text(code), "application/xml", kept->data, kept->len);
		return 1;
	}
	if (!n.unauthenticated || own == NULL)
		return 0;
	n.key.has_digest = 0;
	memset(n.key.digest, 0, sizeof(n.key.digest));
	if (!refusals_repeat(rf, &n.key, NULL))
		return 0;
	recv_reply(j->rr, code, status_text(code), "application/xml", own->data, own->len);
	return 1;
}

/* A receipt signed in the loop thread, for outcomes decided there (duplicate id). */
static mla_err loop_receipt(struct gw *g, struct recv_job *j, mla_err err, const char *why,
			    mla_buf *out)
{
	mla_receipt r;
	mla_err e;

	mla_buf_init(out, 0);
	mla_require(g->crypto != NULL); /* loaded at start; a reload swaps in only a loaded set */
	if ((e = mla_receipt_init(&r)) != MLA_OK)
		return e;
	memcpy(r.message_id, j->v.header.message_id, sizeof(r.message_id));
	memcpy(r.envelope_digest, j->digest, 32);
	memcpy(r.receiver_state, g->snap->cfg.state, 3);
	memcpy(r.sender_state, j->peer_state, 3);
	r.outcome = MLA_OUTCOME_REJECTED;
	r.error = err;
	/* an envelope version 3 is answered by receipt version 3 only (SPEC 11 rule 7, 17.13: a
	 * refusal without list); its sender refuses any other and would retry to its deadline */
	if (j->header_known && j->v.header.version == 3)
		r.version = 3;
	mla_text_copy_safe(r.error_message, sizeof(r.error_message), why);
	return mla_receipt_seal(&r, g->crypto->signer, &g->snap->cfg.limits, out, NULL);
}

/* "received" (when accepted) or "rejected", then "receipt-issued" with the receipt's digest.
 * Returns non-zero when the entries could not be written: then nothing may be answered. */
static int audit_reception(struct gw *g, const struct recv_job *j, mla_err err,
			   const mla_buf *receipt)
{
	const mla_header *h = &j->v.header;
	/* the id names the message in the receipt too; the rest only once signed by From */
	const int signed_hdr = j->header_known && j->v.authenticated;
	/* an accepted envelope version 3: its signed list in the entry (version 7, SPEC 14) */
	char att_text[MLA_AUDIT_ATTACHMENTS_MAX + 1] = "";
	uint8_t rd[32];
	struct gw_audit_msg a = {
		.message_id = j->header_known ? h->message_id : NULL,
		.case_id = signed_hdr ? h->case_id : NULL,
		.kind = signed_hdr ? h->kind : NULL,
		.action = signed_hdr ? h->action : NULL,
		.from = j->peer_state, .to = g->snap->cfg.state, .actor = j->peer_state,
		.envelope_sha256 = j->digest, .error = err != MLA_OK ? mla_errname(err) : NULL,
		.reason = err == MLA_OK && j->reason[0] != '\0' ? j->reason : NULL,
		/* an accepted case step's entry is version 6, with its priority (SPEC 14) */
		.priority = err == MLA_OK && signed_hdr && h->case_id[0] != '\0' &&
					    h->action[0] != '\0'
				    ? mla_priority_name(h->priority)
				    : NULL,
		.grounds = err == MLA_OK ? j->grounds : NULL,
	};

	if (err == MLA_OK && j->att != NULL) {
		if (mla_audit_attachments_format(j->att, att_text, sizeof(att_text)) != MLA_OK)
			return 1; /* 64 entries always fit: a list this gateway accepted */
		a.attachments = att_text;
	}
	if (gw_audit_message(g, err == MLA_OK ? MLA_AUDIT_RECEIVED : MLA_AUDIT_REJECTED, &a) !=
	    MLA_OK)
		return 1;
	a.attachments = NULL; /* receipt-issued names the receipt, which names the roots */
	SHA256(receipt->data, receipt->len, rd);
	a.receipt_sha256 = rd;
	a.error = NULL;
	a.reason = NULL;
	a.priority = NULL; /* receipt-issued is no step's entry: no version 6 */
	a.grounds = NULL;
	a.actor = "gateway";
	return gw_audit_message(g, MLA_AUDIT_RECEIPT_ISSUED, &a) != MLA_OK;
}

static void refuse_duplicate(struct gw *g, struct recv_job *j)
{
	const char *id = j->v.header.message_id;
	mla_diag d = {MLA_OK, ""};
	struct refusal_note note;
	mla_buf receipt;

	if (answer_repeat(g, j, MLA_ERR_DUPLICATE, 409, NULL))
		return;
	if (store_alert(g->store, "duplicate-id", id, "same message id, different digest", &d) !=
	    MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "alert", id,
			       "op=alert reason=\"%s\"", d.msg);
	gw_log(GW_LOG_WARN, "duplicate-id-alert", id, "peer=%s reason=\"%s\"", j->peer_state,
	       "same message id, different digest");
	if (loop_receipt(g, j, MLA_ERR_DUPLICATE,
			 "message id already received with another digest", &receipt) != MLA_OK) {
		recv_reply(j->rr, 500, "Internal Server Error", "text/plain", NULL, 0);
		return;
	}
	if (audit_reception(g, j, MLA_ERR_DUPLICATE, &receipt)) {
		mla_buf_free(&receipt);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	refusal_note_of(j, MLA_ERR_DUPLICATE, &note);
	reply_with_note(g, j->rr, 409, &receipt, id, &note);
}

/* Answers 202 with the transfer status of t (a JSON body), after the current commit. */
void receive_reply_status(struct gw *g, struct recv_req *rr, const struct store_transfer_in *t)
{
	struct reply_ctx *rc;
	mla_diag d = {MLA_OK, ""};
	char *json = NULL;

	if (transfer_status(g->store, t, &json, &d) != MLA_OK ||
	    (rc = calloc(1, sizeof(*rc))) == NULL) {
		free(json);
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	rc->rr = rr;
	rc->code = 202;
	rc->ctype = "application/json";
	mla_buf_init(&rc->receipt, strlen(json));
	if (mla_buf_append(&rc->receipt, (const uint8_t *)json, strlen(json)) != MLA_OK) {
		free(json);
		free(rc);
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	free(json);
	(void)mla_snprintf_cut(rc->msgid, sizeof(rc->msgid), "%s", t->message_id);
	gw_after_commit(g, reply_after_commit, rc);
}

/* The id is being transferred (SPEC 17.13): the same bytes get the status, or complete the
 * message when every segment is held (a completion the sender asks for by sending the
 * envelope again); a completing job goes on to its acceptance; other bytes signed by From
 * are a duplicate id. Returns 1 when it answered. */
static int handle_transferring(struct gw *g, struct recv_job *j)
{
	const char *id = j->v.header.message_id;
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	int found = 0, complete = 0;

	if (store_transfer_in_get(g->store, id, &found, &t, NULL, &d) != MLA_OK) {
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return 1;
	}
	if (!found || (memcmp(t.digest, j->digest, 32) != 0 && !j->v.authenticated))
		return 0;
	if (memcmp(t.digest, j->digest, 32) != 0) {
		refuse_duplicate(g, j);
		return 1;
	}
	if (j->completing)
		return 0;
	if (transfer_complete(g->store, &t, &complete, &d) != MLA_OK) {
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return 1;
	}
	if (complete) {
		receive_complete(g, j->rr, j->peer_state, &j->body);
		j->rr = NULL; /* answered by the completion */
		return 1;
	}
	receive_reply_status(g, j->rr, &t);
	return 1;
}

/* The same id seen before: identical bytes get the original receipt again (exactly once),
 * anything else is refused and raised as an alert. Returns 1 when it answered. */
static int handle_duplicate(struct gw *g, struct recv_job *j)
{
	const char *id = j->v.header.message_id;
	mla_diag d = {MLA_OK, ""};
	uint8_t digest[32];
	mla_buf stored;
	int found = 0;

	if (!j->header_known)
		return 0;
	if (store_inbox_lookup(g->store, id, &found, digest, &stored, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "inbox-lookup", id,
			       "op=inbox-lookup reason=\"%s\"", d.msg);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return 1;
	}
	if (!found)
		return handle_transferring(g, j);
	if (memcmp(digest, j->digest, 32) != 0 && !j->v.authenticated) {
		/* not signed by From: refused for what is wrong with it, never as a duplicate
		 * (that would tell which ids exist and alert on the genuine message) */
		mla_buf_free(&stored);
		return 0;
	}
	if (memcmp(digest, j->digest, 32) == 0) {
		gw_log(GW_LOG_INFO, "duplicate", id, "peer=%s action=\"original receipt returned\"",
		       j->peer_state);
		reply_with(g, j->rr, 200, &stored, id);
		return 1;
	}
	mla_buf_free(&stored);
	refuse_duplicate(g, j);
	return 1;
}

static void fill_in_msg(const struct recv_job *j, struct in_msg *m)
{
	const mla_header *h = &j->v.header;

	memset(m, 0, sizeof(*m));
	memcpy(m->message_id, h->message_id, sizeof(m->message_id));
	memcpy(m->case_id, h->case_id, sizeof(m->case_id));
	memcpy(m->in_reply_to, h->in_reply_to, sizeof(m->in_reply_to));
	memcpy(m->from_state, h->from_state, sizeof(m->from_state));
	memcpy(m->kind, h->kind, sizeof(m->kind));
	memcpy(m->action, h->action, sizeof(m->action));
	m->priority = (int)h->priority;
	m->created_ms = (int64_t)h->created * 1000;
	m->received_ms = j->now_ms;
	memcpy(m->digest, j->digest, 32);
}

/* Retrieval notices (SPEC 16.10), in the write of the inbox row: a request received starts
 * being watched from its receipt's time; a notice received is kept with the request it names. */
static mla_err retrieval_write(struct gw *g, const struct recv_job *j, mla_diag *d)
{
	const mla_header *h = &j->v.header;

	if (strcmp(h->action, "request") == 0)
		return store_retrieval_open(g->store, h->message_id, j->receipt_ms, d);
	if (j->notice_set)
		return store_retrieval_got(g->store, h->in_reply_to, h->action, h->message_id,
					   j->notice.at_ms, d);
	return MLA_OK;
}

static void transfer_of(const struct recv_job *j, struct store_transfer_in *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->message_id, j->v.header.message_id, sizeof(t->message_id));
	memcpy(t->from_state, j->peer_state, 3);
	memcpy(t->digest, j->digest, 32);
	t->received_ms = j->now_ms;
	t->n = j->att->n;
	for (size_t i = 0; i < t->n; i++)
		t->att[i] = j->att->item[i].pub;
}

/* An envelope version 3 accepted by every check (SPEC 17.13): the disk reserved (in a
 * worker, transfer_reserve.c), the envelope kept apart from the inbox, 202 with the status
 * (every segment missing). The request and the envelope's bytes go to the reservation. */
static void transfer_begin(struct gw *g, struct recv_job *j)
{
	const char *id = j->v.header.message_id;
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	struct out_msg sent;
	mla_err e;

	/* the id of a message this gateway sent: the attachments folder is that message's (one
	 * folder an id), so the peer's segments would overwrite or remove its sealed files */
	if ((e = store_outbox_get(g->store, id, &sent, &d)) == MLA_OK) {
		refuse_duplicate(g, j);
		return;
	}
	if (e != MLA_ERR_NOT_FOUND) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "outbox-get", id,
			       "op=outbox-get reason=\"%s\"", d.msg);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	transfer_sweep(g); /* the ones given up first: their space is free again */
	transfer_of(j, &t);
	transfer_reserve_start(g, j->rr, &t, &j->body);
	j->rr = NULL; /* answered by the reservation */
}

/* Whether the transfer a completing job was started for still holds every segment: the
 * sweep may have given it up while the worker opened the envelope (its rows dropped, its files
 * removed after the commit), and the sender may have begun it again (new, empty part files).
 * Completing then would put in the inbox, with a receipt naming the roots, files the receiver
 * does not hold. */
static int still_complete(struct gw *g, const struct recv_job *j)
{
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	int found = 0, complete = 0;

	if (store_transfer_in_get(g->store, j->v.header.message_id, &found, &t, NULL, &d) !=
		    MLA_OK ||
	    !found || memcmp(t.digest, j->digest, 32) != 0 ||
	    transfer_complete(g->store, &t, &complete, &d) != MLA_OK)
		complete = 0;
	return complete;
}

static void accept_envelope(struct gw *g, struct recv_job *j)
{
	const char *id = j->v.header.message_id;
	mla_diag d = {MLA_OK, ""};
	struct store_transfer_in t;
	struct in_msg m;

	if (j->att != NULL && !j->completing) {
		transfer_begin(g, j);
		return;
	}
	if (j->att != NULL) { /* every file complete before the message becomes visible */
		if (!still_complete(g, j)) {
			gw_log(GW_LOG_WARN, "transfer-incomplete", id, "peer=%s reason=\"the transfer "
			       "was given up or begun again while the message was opened\"",
			       j->peer_state);
			recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
			return;
		}
		transfer_of(j, &t);
		if (transfer_complete_files(&g->snap->cfg, &t, &d) != MLA_OK ||
		    store_transfer_in_drop(g->store, id, &d) != MLA_OK) {
			gw_log_limited(GW_LOG_ERROR, "store-error", "transfer-complete", id,
				       "op=transfer-complete reason=\"%s\"", d.msg);
			recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
			return;
		}
	}
	fill_in_msg(j, &m);
	m.life = j->life_set ? &j->life : NULL;
	if (store_inbox_put(g->store, &m, 1, j->body.data, j->body.len, j->receipt.data,
			    j->receipt.len, &d) != MLA_OK || retrieval_write(g, j, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "inbox-put", id,
			       "op=inbox-put reason=\"%s\"", d.msg);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	if (audit_reception(g, j, MLA_OK, &j->receipt)) {
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	gw_log(GW_LOG_INFO, "received", id, "from=%s case=%s kind=%s action=%s priority=%s",
	       m.from_state, m.case_id, m.kind, m.action, mla_priority_name(j->v.header.priority));
	reply_with(g, j->rr, 200, &j->receipt, id);
}

static void reject_envelope(struct gw *g, struct recv_job *j)
{
	const char *id = j->header_known ? j->v.header.message_id : "";
	mla_diag d = {MLA_OK, ""};
	struct refusal_note note;

	if (answer_repeat(g, j, j->err, refusal_status(j->err),
			  j->receipt.len > 0 ? &j->receipt : NULL))
		return;
	if (j->repeat) { /* its window closed since the worker looked: a first refusal again */
		mla_require(g->crypto != NULL); /* loaded at start; a reload swaps in a loaded set */
		sign_receipt(j, g->crypto, &g->snap->cfg);
		if (j->receipt_err != MLA_OK) {
			recv_reply(j->rr, 500, "Internal Server Error", "text/plain", NULL, 0);
			return;
		}
	}
	gw_log(GW_LOG_WARN, "rejected", id, "peer=%s error=%s reason=\"%s\"", j->peer_state,
	       mla_errname(j->err), mla_diag_message(&j->diag));
	if (store_alert(g->store, "rejected", id, mla_errname(j->err), &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "alert", id,
			       "op=alert reason=\"%s\"", d.msg);
	if (audit_reception(g, j, j->err, &j->receipt)) {
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	refusal_note_of(j, j->err, &note);
	reply_with_note(g, j->rr, refusal_status(j->err), &j->receipt, id, &note);
}

/* A notice names a request this gateway sent to its sender (SPEC 16.10); else MLA_ERR_SCHEMA.
 * Not a step of the case lifecycle: it changes no case state. */
static mla_err notice_known(struct gw *g, const struct recv_job *j, mla_diag *d)
{
	const mla_header *h = &j->v.header;
	struct out_msg m;
	mla_err r = store_outbox_get(g->store, h->in_reply_to, &m, d);

	if (r == MLA_ERR_NOT_FOUND ||
	    (r == MLA_OK && (strcmp(m.to_state, h->from_state) != 0 ||
			     strcmp(m.action, "request") != 0 || strcmp(m.case_id, h->case_id) != 0)))
		return mla_fail(d, MLA_ERR_SCHEMA, "notice: InReplyTo %s names no request of case "
				"%s sent to %s", h->in_reply_to, h->case_id, h->from_state);
	/* a request the peer refused was never in its hands to be read (not "not yet
	 * delivered": a notice may overtake our check of the request's receipt) */
	if (r == MLA_OK && m.state == MSG_REJECTED)
		return mla_fail(d, MLA_ERR_SCHEMA, "notice: InReplyTo %s names a request %s "
				"refused", h->in_reply_to, h->from_state);
	return r;
}

/* The step the accepted envelope makes in its case (SPEC 16.8), checked in the loop thread
 * against the case as stored: an illegal or stale step turns the acceptance into a refusal
 * (case-step, case-conflict) with a negative receipt signed here; the case is not changed. */
static int check_step(struct gw *g, struct recv_job *j)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (j->err != MLA_OK || j->receipt_err != MLA_OK ||
	    (!j->notice_set && !g->snap->cfg.cases_enforce))
		return 0;
	if (j->notice_set) /* no step: only the request it names is checked (SPEC 16.10) */
		r = notice_known(g, j, &d);
	else if ((r = cases_check_receive(g->store, g->snap->cfg.state, &j->v.header,
					  j->receipt_ms, &j->life, &d)) == MLA_OK &&
		 /* what its document names (an extension's rule) */
		 (r = cases_check_facts(g->store, &j->life, j->facts_set ? &j->facts : NULL,
					&d)) == MLA_OK) {
		j->life_set = 1;
		j->life.facts = j->facts_set ? &j->facts : NULL;
	}
	if (r == MLA_OK)
		return 0;
	if (r != MLA_ERR_CASE_STEP && r != MLA_ERR_CASE_CONFLICT && r != MLA_ERR_SCHEMA) {
		/* the store: the peer sends it again */
		gw_log_limited(GW_LOG_ERROR, "store-error", "case-get", j->v.header.message_id,
			       "op=case-get reason=\"%s\"", d.msg);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return 1;
	}
	j->err = r;
	j->diag = d;
	mla_buf_free(&j->receipt);
	mla_require(g->crypto != NULL); /* loaded at start; a reload swaps in a loaded set */
	sign_receipt(j, g->crypto, &g->snap->cfg);
	return 0;
}

static void recv_done(struct gw_job *job)
{
	struct recv_job *j = (struct recv_job *)job;
	struct gw *g = j->rr->g;

	if (j->completing && j->err != MLA_OK) {
		/* what was accepted for transfer no longer opens (a key removed meanwhile): the
		 * refusal stands as any, the transfer is kept for the timeout to clear */
		gw_log(GW_LOG_ERROR, "transfer-reopen-failed", j->v.header.message_id,
		       "reason=\"%s\"", mla_diag_message(&j->diag));
	}
	if (handle_duplicate(g, j) || check_step(g, j))
		;
	else if (j->receipt_err != MLA_OK)
		recv_reply(j->rr, 500, "Internal Server Error", "text/plain", NULL, 0);
	else if (j->err != MLA_OK)
		reject_envelope(g, j);
	else
		accept_envelope(g, j);
	free_job(j);
}

static void receive_start(struct gw *g, struct recv_req *rr, const char *peer_state, int urgent,
			  const uint8_t *body, size_t len, int completing);

void receive_complete(struct gw *g, struct recv_req *rr, const char *peer_state,
		      mla_buf *envelope)
{
	receive_start(g, rr, peer_state, 0, envelope->data, envelope->len, 1);
}

void receive_envelope(struct gw *g, struct recv_req *rr, const char *peer_state, int urgent,
		      const uint8_t *body, size_t len)
{
	receive_start(g, rr, peer_state, urgent, body, len, 0);
}

static void receive_start(struct gw *g, struct recv_req *rr, const char *peer_state, int urgent,
			  const uint8_t *body, size_t len, int completing)
{
	struct recv_job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	mla_buf_init(&j->body, len);
	if (mla_buf_append(&j->body, body, len) != MLA_OK) {
		free(j);
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	j->rr = rr;
	j->completing = completing;
	memcpy(j->peer_state, peer_state, 3);
	j->now_ms = gw_now_ms();
	j->job.run = recv_run;
	j->job.done = recv_done;
	memcpy(j->job.lane, peer_state, 3); /* the peer's bytes are parsed in the peer's lane */
	j->job.urgent = urgent;
	gw_pool_submit(g->pool, &j->job, g->snap);
}
