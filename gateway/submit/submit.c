/* Submissions (the unix socket here; the local API through submit_enqueue). A worker seals
 * it for the recipient State; the loop thread stores it in the outbox (durable) and only then
 * answers 202 with the message id, and wakes the relay. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <openssl/sha.h>

#include "cases/cases.h"
#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "mlagw/notice.h"
#include "relay/relay.h"
#include "submit.h"
#include "attach/attach_files.h"
#include "submit_attach.h"
#include "submit_parse.h"

struct submit_job {
	struct gw_job job;
	struct gw *g;
	mla_header h;
	mla_buf doc;
	mla_buf env;
	mla_err err;
	mla_diag diag;
	int64_t now_ms;
	int store_failed;
	mla_audit_event event;
	char actor[MLA_AUDIT_ACTOR_MAX + 1];
	char case_state[3];  /* set: the case of this State is claimed or checked at the put */
	int case_granted;    /* another owns it and the configuration grants actor */
	struct submit_idem idem;
	int known_key;       /* the key was stored already when enqueued: no seal needed */
	int replayed;        /* h now names the key's earlier message */
	submit_done_fn fn;
	void *arg;
	char *problems;      /* an invalid case document's problems (JSON array), or NULL */
	int life_set;        /* [cases] lifecycle = enforce: life is the step to hold pending */
	struct store_life_step life;
	int facts_set;       /* a case request: what its document says for its deadlines */
	struct store_deadline_facts facts;
	char reason[MLA_AUDIT_REASON_MAX + 1]; /* a record of another channel: its entry's */
	char grounds[MLA_AUDIT_GROUNDS_MAX + 1]; /* a Refused answer's coded grounds (SPEC 14 v6) */
	struct submit_attach *att; /* the uploads to seal (SPEC 17.14), or NULL */
	mla_attach_list *att_list; /* sealed: the list the envelope signs (secrets wiped on free) */
	int att_sealed;            /* the message's attachment files exist */
	int att_kept;              /* the outbox row is durable: the files stay, uploads go */
	char att_text[MLA_AUDIT_ATTACHMENTS_MAX + 1]; /* the list for the audit entry (v7) */
};

static mla_err add_ground(const char *code, void *arg)
{
	struct submit_job *j = arg;

	return mla_audit_grounds_add(j->grounds, sizeof(j->grounds), code);
}

/* The audit reason of a record of another channel (SPEC 16.11): means, time, digest. */
static mla_err record_reason(struct submit_job *j, const struct gw_config *c)
{
	mla_other_channel o;
	mla_err r;

	if ((r = mla_other_channel_parse(j->doc.data, j->doc.len, &c->limits, &o, &j->diag)) !=
	    MLA_OK)
		return r;
	if (mla_other_channel_reason(&o, j->reason, sizeof(j->reason)) != MLA_OK)
		return mla_fail(&j->diag, MLA_ERR_INTERNAL, "other channel: no audit reason");
	return MLA_OK;
}

/* Envelope version 3 (SPEC 17.8): the attachments streamed into their files first, then the
 * envelope signing their list; the files go again if the envelope cannot be sealed. */
static void seal_attached(struct submit_job *j, struct gw_crypto *k, const mla_recipient *rcpt,
			  const struct gw_config *c)
{
	mla_diag ignore = {MLA_OK, ""};

	j->h.version = MLA_ENVELOPE_VERSION_ATTACH;
	if ((j->err = mla_attach_list_new(&j->att_list)) != MLA_OK) {
		mla_fail(&j->diag, j->err, "out of memory");
		return;
	}
	if ((j->err = submit_attach_seal(c, j->h.message_id, j->att, j->att_list, &j->diag)) !=
	    MLA_OK)
		return;
	j->att_sealed = 1;
	if ((j->err = mla_audit_attachments_format(j->att_list, j->att_text,
						   sizeof j->att_text)) != MLA_OK)
		mla_fail(&j->diag, j->err, "the attachment list does not fit an audit entry");
	else
		j->err = mla_envelope_seal_attached(&j->h, j->doc.data, j->doc.len, j->att_list,
					    k->signer, rcpt, &c->limits, &j->env, &j->diag);
	if (j->err != MLA_OK) {
		(void)attach_dir_remove(c->store, j->h.message_id, &ignore);
		j->att_sealed = 0;
	}
}

static void seal_run(struct gw_job *job, struct gw_crypto *k)
{
	struct submit_job *j = (struct submit_job *)job;
	const struct gw_config *c = &job->snap->cfg;
	const mla_recipient *rcpt = k != NULL ? gw_crypto_recipient(k, j->h.to_state) : NULL;

	if (j->known_key)
		return; /* a retry: seal_done answers from the key */
	if (rcpt == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_UNKNOWN_PEER, "no encryption certificate for %s",
				  j->h.to_state);
		return;
	}
	if ((j->err = submit_case_check(j->doc.data, j->doc.len, &j->h, c, &j->problems,
					&j->diag)) == MLA_OK && j->life_set)
		j->err = cases_facts_read(j->doc.data, j->doc.len, &c->limits, &j->h, &j->facts,
					  &j->facts_set, &j->diag);
	if (j->err == MLA_OK && strcmp(j->h.action, MLA_OTHER_CHANNEL_ACTION) == 0)
		j->err = record_reason(j, c);
	/* a refusal's coded grounds for its audit entry; an opaque refusal has none */
	if (j->err == MLA_OK && strcmp(j->h.action, "refused") == 0 &&
	    mla_case_refusal_grounds(j->doc.data, j->doc.len, &c->limits, add_ground, j,
				     NULL) != MLA_OK)
		j->grounds[0] = '\0';
	if (j->err == MLA_OK && j->att != NULL)
		seal_attached(j, k, rcpt, c);
	else if (j->err == MLA_OK)
		j->err = mla_envelope_seal(&j->h, j->doc.data, j->doc.len, k->signer, rcpt,
					   &c->limits, &j->env, &j->diag);
	mla_buf_free(&j->doc); /* the plaintext leaves memory as soon as it is sealed */
}

/* The message's attachment files stay only with its durable outbox row; its uploads go only
 * then (a refused or failed submission can be sent again with the same uploads). */
static void attach_settle(struct submit_job *j)
{
	const char *store = j->g->snap->cfg.store;
	mla_diag d = {MLA_OK, ""};

	if (j->att == NULL || !j->att_sealed)
		return;
	if (!j->att_kept && attach_dir_remove(store, j->h.message_id, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "attachment-error", "remove", j->h.message_id,
			       "op=remove reason=\"%s\"", d.msg);
	for (size_t i = 0; j->att_kept && i < j->att->n; i++)
		if (upload_remove(store, j->att->item[i].upload, &d) != MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "attachment-error", "upload-remove",
				       j->h.message_id, "op=upload-remove reason=\"%s\"", d.msg);
}

static void free_job(struct submit_job *j)
{
	attach_settle(j);
	mla_attach_list_free(j->att_list);
	free(j->att);
	gw_job_release(&j->job);
	mla_buf_free(&j->doc);
	mla_buf_free(&j->env);
	free(j->problems);
	free(j);
}

/* After the commit: "queued" only if the outbox row and its audit entry are durable. */
static void after_store(struct gw *g, void *arg, int committed)
{
	struct submit_job *j = arg;

	committed = committed && !j->store_failed;
	j->att_kept = committed && !j->replayed;
	if (committed && j->replayed) {
		gw_log(GW_LOG_INFO, "submit-replayed", j->h.message_id, "to=%s actor=%s",
		       j->h.to_state, j->actor);
		committed = SUBMIT_REPLAYED;
	} else if (committed) {
		gw_log(GW_LOG_INFO, "submitted", j->h.message_id,
		       "to=%s case=%s kind=%s action=%s priority=%s actor=%s", j->h.to_state,
		       j->h.case_id, j->h.kind, j->h.action, mla_priority_name(j->h.priority),
		       j->actor);
		relay_kick(g);
	}
	j->fn(g, j->arg, &j->h, MLA_OK, NULL, NULL, committed);
	free_job(j);
}

/* Rows older than this are expired keys: ignored, then purged. */
static int64_t idem_not_before(const struct gw *g)
{
	return gw_now_ms() - (int64_t)g->snap->cfg.idempotency_keep_ms;
}

static void fill_out_msg(const struct submit_job *j, const struct gw_config *c,
			 struct out_msg *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->message_id, j->h.message_id, sizeof(m->message_id));
	memcpy(m->case_id, j->h.case_id, sizeof(m->case_id));
	memcpy(m->to_state, j->h.to_state, sizeof(m->to_state));
	memcpy(m->kind, j->h.kind, sizeof(m->kind));
	memcpy(m->action, j->h.action, sizeof(m->action));
	memcpy(m->in_reply_to, j->h.in_reply_to, sizeof(m->in_reply_to));
	/* j->actor (MLA_AUDIT_ACTOR_MAX) fits submitted_by; checked at compile time */
	_Static_assert(sizeof(m->submitted_by) >= sizeof(j->actor), "submitted_by too small");
	memcpy(m->submitted_by, j->actor, sizeof(j->actor));
	memcpy(m->case_state, j->case_state, sizeof(m->case_state));
	m->case_granted = j->case_granted;
	_Static_assert(sizeof(m->idem_key) == sizeof(j->idem.key), "idempotency key size");
	memcpy(m->idem_key, j->idem.key, sizeof(m->idem_key));
	memcpy(m->idem_digest, j->idem.digest, sizeof(m->idem_digest));
	m->idem_not_before_ms = idem_not_before(j->g);
	m->priority = (int)j->h.priority;
	m->state = MSG_QUEUED;
	m->created_ms = j->now_ms;
	m->next_attempt_ms = j->now_ms;
	m->deadline_ms = j->now_ms + (int64_t)c->retry.deadline_ms[j->h.priority];
	SHA256(j->env.data, j->env.len, m->digest);
}

static mla_err audit_submitted(struct gw *g, const struct submit_job *j,
			       const struct out_msg *m)
{
	const struct gw_audit_msg a = {
		.message_id = j->h.message_id, .case_id = j->h.case_id, .kind = j->h.kind,
		.action = j->h.action, .from = j->h.from_state, .to = j->h.to_state,
		.actor = j->actor, .envelope_sha256 = m->digest,
		.reason = j->reason[0] != '\0' ? j->reason : NULL,
		/* a case step's entry is version 6, with its priority (SPEC 14) */
		.priority = j->h.case_id[0] != '\0' && j->h.action[0] != '\0'
				    ? mla_priority_name(j->h.priority)
				    : NULL,
		.grounds = j->grounds,
		.attachments = j->att_list != NULL ? j->att_text : NULL,
	};

	return gw_audit_message(g, j->event, &a);
}

/* The key's earlier submission, looked up in the loop thread (so no other put of the same
 * key can come between this and the put that stores it). */
static mla_err idem_lookup(struct gw *g, const struct submit_job *j, struct store_idem *row,
			   int *found, mla_diag *d)
{
	*found = 0;
	if (j->idem.key[0] == '\0')
		return MLA_OK;
	return store_idem_get(g->store, j->actor, j->idem.key, idem_not_before(g), row, found, d);
}

int submit_idem_stored(struct gw *g, const char *actor, const struct submit_idem *idem)
{
	struct store_idem row;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	if (idem == NULL || idem->key[0] == '\0')
		return 0;
	return store_idem_get(g->store, actor, idem->key, idem_not_before(g), &row, &found, &d) ==
		       MLA_OK && found;
}

/* A submission whose key is stored: answered from it (the same request: its message again,
 * after the group commit; another: refused). 0 when the key is new. */
static int idem_settle(struct gw *g, struct submit_job *j)
{
	struct store_idem row;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	if (idem_lookup(g, j, &row, &found, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "idempotency-get", NULL,
			       "op=idempotency-get reason=\"%s\"", d.msg);
		j->store_failed = 1;
	} else if (found && memcmp(row.digest, j->idem.digest, sizeof(row.digest)) != 0) {
		j->fn(g, j->arg, &j->h, MLA_ERR_EXISTS,
		      SUBMIT_IDEM_HEADER " was used for another request by this caller; nothing "
		      "was queued", NULL, 0);
		free_job(j);
		return 1;
	} else if (found) {
		memcpy(j->h.message_id, row.message_id, sizeof(row.message_id));
		memcpy(j->h.case_id, row.case_id, sizeof(row.case_id));
		memcpy(j->h.to_state, row.to_state, sizeof(row.to_state));
		memcpy(j->h.in_reply_to, row.in_reply_to, sizeof(row.in_reply_to));
		j->replayed = 1;
	} else if (!j->known_key) {
		return 0;
	} else {
		j->store_failed = 1; /* its group was rolled back meanwhile: the client retries */
	}
	gw_after_commit(g, after_store, j);
	return 1;
}

/* The case may have moved while the step was sealed (a peer's step arrived): checked again
 * in the loop thread right before the put, now with what the sealed document says (an
 * extension's rule). Returns 0 when it answered the refusal. */
static int life_recheck(struct gw *g, struct submit_job *j)
{
	mla_header h = j->h;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if ((r = cases_check_send(g->store, g->snap->cfg.state, &h, &j->life, &d)) == MLA_OK &&
	    (r = cases_check_facts(g->store, &j->life, j->facts_set ? &j->facts : NULL, &d)) ==
		    MLA_OK)
		return 1;
	gw_log(GW_LOG_WARN, "submit-refused", j->h.message_id, "error=%s reason=\"%s\"",
	       mla_errname(r), mla_diag_message(&d));
	j->fn(g, j->arg, &j->h, r, mla_diag_message(&d), NULL, 0);
	return 0;
}

static void seal_done(struct gw_job *job)
{
	struct submit_job *j = (struct submit_job *)job;
	struct gw *g = j->g;
	struct out_msg m;
	mla_diag d = {MLA_OK, ""};

	if ((j->err == MLA_OK || j->known_key) && idem_settle(g, j))
		return;
	if (j->err != MLA_OK) {
		gw_log(GW_LOG_WARN, "submit-refused", j->h.message_id, "error=%s reason=\"%s\"",
		       mla_errname(j->err), mla_diag_message(&j->diag));
		j->fn(g, j->arg, &j->h, j->err, mla_diag_message(&j->diag), j->problems, 0);
		free_job(j);
		return;
	}
	if (j->life_set && !life_recheck(g, j)) {
		free_job(j);
		return;
	}
	fill_out_msg(j, &g->snap->cfg, &m);
	m.life = j->life_set ? &j->life : NULL;
	if (j->life_set && j->facts_set)
		j->life.facts = &j->facts; /* kept with the case from its request's sealing */
	if ((j->err = store_outbox_put(g->store, &m, j->env.data, j->env.len, &d)) ==
	    MLA_ERR_FORBIDDEN || j->err == MLA_ERR_CASE_CONFLICT || j->err == MLA_ERR_CASE_STEP) {
		/* opened by another since submit_enqueue looked: refused, nothing stored */
		j->fn(g, j->arg, &j->h, j->err, mla_diag_message(&d), NULL, 0);
		free_job(j);
		return;
	} else if (j->err != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "outbox-put", j->h.message_id,
			       "op=outbox-put reason=\"%s\"",
		       d.msg);
		j->store_failed = 1;
	} else if (audit_submitted(g, j, &m) != MLA_OK) {
		j->store_failed = 1; /* no "queued" without its audit entry */
	}
	gw_after_commit(g, after_store, j);
}

/* The case rule for an authority (the socket's principal included): in a case of this State
 * owned by another, only with a grant (docs/api/README.md, "Own"). The put checks again. */
static mla_err case_check(struct gw *g, struct submit_job *j, mla_diag *d)
{
	const struct gw_config *c = &g->snap->cfg;
	char owner[96];
	int peer_case = 0;
	mla_err r;

	if (strncmp(j->actor, "authority:", 10) != 0)
		return MLA_OK; /* an agency answers by role */
	if ((r = store_case_key(g->store, 0, j->h.case_id, j->h.in_reply_to, j->h.to_state,
				j->h.action, &peer_case, d)) != MLA_OK || peer_case)
		return r;
	memcpy(j->case_state, c->state, sizeof(j->case_state));
	if ((r = store_case_owner(g->store, c->state, j->h.case_id, owner, d)) != MLA_OK ||
	    owner[0] == '\0' || strcmp(owner, j->actor) == 0)
		return r;
	if (!api_config_may_act(&c->api, j->actor, owner))
		return mla_fail(d, MLA_ERR_FORBIDDEN, "the case belongs to another authority");
	j->case_granted = 1;
	return MLA_OK;
}

/* The step the submission makes in its case (SPEC 16.8), before anything is sealed: an
 * empty in_reply_to becomes the case's last step. A retry of a stored key is not a new step. */
static mla_err life_check(struct gw *g, struct submit_job *j, mla_diag *d)
{
	mla_err r;

	if (!g->snap->cfg.cases_enforce || j->known_key || mla_notice_is_action(j->h.action))
		return MLA_OK; /* a retrieval notice is no step: it changes no case (SPEC 16.10) */
	if ((r = cases_check_send(g->store, g->snap->cfg.state, &j->h, &j->life, d)) != MLA_OK) {
		gw_log(GW_LOG_WARN, "submit-refused", j->h.message_id, "error=%s reason=\"%s\"",
		       mla_errname(r), mla_diag_message(d));
		return r;
	}
	j->life_set = 1;
	return MLA_OK;
}

/* A retry whose key is already stored needs no seal (seal_done looks again and answers). */
static mla_err idem_precheck(struct gw *g, struct submit_job *j, mla_diag *d)
{
	struct store_idem row;
	int found = 0;
	mla_err r;

	if ((r = idem_lookup(g, j, &row, &found, d)) != MLA_OK)
		return r;
	j->known_key = found;
	return MLA_OK;
}

void submit_purge_keys(struct gw *g)
{
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	if (store_idem_purge(g->store, idem_not_before(g), &n, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "idempotency-purge", NULL,
			       "op=idempotency-purge reason=\"%s\"", d.msg);
	else if (n > 0)
		gw_log(GW_LOG_INFO, "idempotency-purged", NULL, "keys=%zu", n);
	/* uploads never submitted (SPEC 17.14) go after [limits] upload_keep */
	if (upload_expire(g->snap->cfg.store, gw_now_ms() - (int64_t)g->snap->cfg.upload_keep_ms,
			  &n, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "attachment-error", "upload-expire", NULL,
			       "op=upload-expire reason=\"%s\"", d.msg);
	else if (n > 0)
		gw_log(GW_LOG_INFO, "uploads-expired", NULL, "uploads=%zu", n);
}

mla_err submit_enqueue(struct gw *g, const mla_header *h, const uint8_t *doc, size_t len,
		       const char *actor, mla_audit_event event, const struct submit_idem *idem,
		       submit_done_fn fn, void *arg, mla_diag *d)
{
	return submit_enqueue_attached(g, h, doc, len, NULL, actor, event, idem, fn, arg, d);
}

mla_err submit_enqueue_attached(struct gw *g, const mla_header *h, const uint8_t *doc,
				size_t len, const struct submit_attach *att, const char *actor,
				mla_audit_event event, const struct submit_idem *idem,
				submit_done_fn fn, void *arg, mla_diag *d)
{
	struct submit_job *j = calloc(1, sizeof(*j));
	mla_err r;

	if (j == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	if (att != NULL && att->n > 0) {
		if ((j->att = malloc(sizeof(*j->att))) == NULL) {
			free(j);
			return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
		}
		*j->att = *att;
	}
	if (mla_notice_is_action(h->action) && strcmp(actor, SUBMIT_GATEWAY_ACTOR) != 0) {
		free(j->att);
		free(j);
		return mla_fail(d, MLA_ERR_ARG, "header Action %s is a retrieval notice, which only "
				"the gateway sends (SPEC 16.10)", h->action);
	}
	j->h = *h;
	if (mla_strcpy(j->actor, sizeof(j->actor), actor) != MLA_OK) {
		free(j->att);
		free(j);
		return mla_fail(d, MLA_ERR_ARG, "caller name too long"); /* callers bound it */
	}
	if (idem != NULL)
		j->idem = *idem;
	if ((r = case_check(g, j, d)) != MLA_OK || (r = idem_precheck(g, j, d)) != MLA_OK ||
	    (r = life_check(g, j, d)) != MLA_OK) {
		free(j->att);
		free(j);
		return r;
	}
	mla_buf_init_secret(&j->doc, len > 0 ? len : 1);
	if (len > 0 && mla_buf_append(&j->doc, doc, len) != MLA_OK) {
		mla_buf_free(&j->doc);
		free(j->att);
		free(j);
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	}
	j->g = g;
	j->fn = fn;
	j->arg = arg;
	j->event = event;
	j->now_ms = gw_now_ms();
	j->job.run = seal_run;
	j->job.done = seal_done;
	j->job.urgent = h->priority != MLA_PRIORITY_NORMAL;
	gw_pool_submit(g->pool, &j->job, g->snap);
	return MLA_OK;
}

/* --- the unix socket's POST /local/v1/submit --- */

struct socket_req {
	struct evhttp_request *req; /* NULL once the client has gone */
};

static void on_close(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	((struct socket_req *)arg)->req = NULL;
}

/* 403 with an access-denied entry naming the socket's principal and the operation. */
static void socket_denied(struct gw *g, struct evhttp_request *req, const char *why)
{
	mla_audit_entry e;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_ACCESS_DENIED;
	if (mla_strcpy(e.actor, sizeof(e.actor), API_SOCKET_ACTOR) != MLA_OK ||
	    mla_strcpy(e.reason, sizeof(e.reason), "submit") != MLA_OK || gw_audit(g, &e) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "audit-error", "access-denied", NULL,
			       "event=access-denied actor=%s",
		       API_SOCKET_ACTOR);
	gw_log(GW_LOG_WARN, "submit-denied", NULL, "actor=%s op=submit", API_SOCKET_ACTOR);
	submit_reply_error(req, 403, "Forbidden", MLA_ERR_FORBIDDEN, why, NULL);
}

static mla_err queued_json(const mla_header *h, int replayed, mla_buf *b)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "message_id", h->message_id, "case_id",
			      h->case_id, "to", h->to_state, "state", "queued");

	mla_buf_init(b, 4096);
	if (replayed && o != NULL && json_object_set_new(o, "replayed", json_true()) != 0) {
		json_decref(o);
		o = NULL;
	}
	return mla_json_dump(o, b);
}

/* 202 with the message (the first answer, or its replay: marked in the body and a header). */
static void reply_queued(struct evhttp_request *req, const mla_header *h, int replayed)
{
	mla_buf b;

	if (queued_json(h, replayed, &b) != MLA_OK) {
		submit_reply_error(req, 500, "Internal Server Error", MLA_ERR_NOMEM, "out of memory",
				   NULL);
	} else {
		if (replayed)
			evhttp_add_header(evhttp_request_get_output_headers(req),
					  "Idempotent-Replayed", "true");
		submit_reply_json(req, 202, "Accepted", &b);
	}
	mla_buf_free(&b);
}

static void socket_done(struct gw *g, void *arg, const mla_header *h, mla_err err,
			const char *why, const char *problems, int committed)
{
	struct socket_req *sr = arg;

	submit_server_busy_add(g, -1);
	if (sr->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(sr->req), NULL, NULL);
		if (err == MLA_ERR_FORBIDDEN)
			socket_denied(g, sr->req, why);
		else if (err == MLA_ERR_EXISTS)
			submit_reply_error(sr->req, 409, "Conflict", err, why, SUBMIT_IDEM_HEADER);
		else if (err == MLA_ERR_CASE_STEP || err == MLA_ERR_CASE_CONFLICT)
			submit_reply_error(sr->req, 409, "Conflict", err, why, "X-MLA-Action");
		else if (err == MLA_ERR_SCHEMA ||
			 (err == MLA_ERR_UNSUPPORTED_VERSION && problems != NULL))
			submit_reply_problems(sr->req, err, why, problems);
		else if (err != MLA_OK)
			submit_reply_error(sr->req, err == MLA_ERR_UNKNOWN_PEER ? 422 : 400,
					   "Unprocessable Entity", err, why, NULL);
		else if (!committed)
			submit_reply_error(sr->req, 503, "Service Unavailable", MLA_ERR_STORE,
					   "the submission could not be stored; nothing was queued",
					   NULL);
		else
			reply_queued(sr->req, h, committed == SUBMIT_REPLAYED);
	}
	free(sr);
}

void submit_handle(struct gw *g, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct socket_req *sr;
	const char *field = NULL;
	size_t len = evbuffer_get_length(in);
	struct submit_idem idem;
	mla_header h;
	mla_diag diag = {MLA_OK, ""};
	mla_err err;
	const char *why;

	if ((why = gw_refusing(g)) != NULL) {
		submit_reply_error(req, 503, "Service Unavailable", MLA_ERR_INTERNAL, why, NULL);
		return;
	}
	if ((err = submit_parse_request(evhttp_request_get_input_headers(req), g->snap->cfg.state,
					&h, &field, &diag)) != MLA_OK ||
	    ((err = submit_parse_idem_key(evhttp_request_get_input_headers(req), &idem, &diag)) !=
		     MLA_OK && (field = SUBMIT_IDEM_HEADER) != NULL) ||
	    (err = submit_set_version(&g->snap->cfg, &h, &diag)) != MLA_OK) {
		submit_reply_error(req, err == MLA_ERR_UNKNOWN_PEER ? 422 : 400, "Bad Request", err,
				   mla_diag_message(&diag),
				   err == MLA_ERR_UNKNOWN_PEER ? "X-MLA-To" : field);
		return;
	}
	if ((idem.key[0] != '\0' &&
	     submit_parse_digest(evhttp_request_get_input_headers(req), evbuffer_pullup(in, -1),
				 len, idem.digest) != MLA_OK) ||
	    (sr = calloc(1, sizeof(*sr))) == NULL) {
		submit_reply_error(req, 503, "Service Unavailable", MLA_ERR_NOMEM, "out of memory",
				   NULL);
		return;
	}
	if ((err = submit_enqueue(g, &h, evbuffer_pullup(in, -1), len, API_SOCKET_ACTOR,
				  MLA_AUDIT_SUBMITTED, &idem, socket_done, sr, &diag)) != MLA_OK) {
		free(sr);
		if (err == MLA_ERR_FORBIDDEN)
			socket_denied(g, req, mla_diag_message(&diag));
		else if (err == MLA_ERR_CASE_STEP || err == MLA_ERR_CASE_CONFLICT ||
			 err == MLA_ERR_ARG)
			submit_reply_error(req, err == MLA_ERR_ARG ? 400 : 409, err == MLA_ERR_ARG ?
					   "Bad Request" : "Conflict", err, mla_diag_message(&diag),
					   "X-MLA-Action");
		else
			submit_reply_error(req, err == MLA_ERR_STORE ? 500 : 503, err ==
					   MLA_ERR_STORE ? "Internal Server Error" :
					   "Service Unavailable", err, mla_diag_message(&diag), NULL);
		return;
	}
	evbuffer_drain(in, len);
	sr->req = req;
	submit_server_busy_add(g, 1);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, sr);
}
