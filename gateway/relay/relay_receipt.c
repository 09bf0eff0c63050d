/* The end of an exchange: a worker verifies the peer's receipt (signature chaining to the
 * recipient State's root, for this message id, over the digest of exactly what was sent);
 * the loop thread then records delivered or rejected with the receipt, in the same group
 * commit as the awaiting-receipt step. An invalid receipt never counts: the message is
 * retried and an alert raised. */
#include <stdlib.h>
#include <string.h>

#include "tlog/audit.h"
#include "core/log.h"
#include <openssl/sha.h>
#include "mlagw/codec.h"
#include "mlagw/receipt.h"
#include "relay_internal.h"

struct receipt_job {
	struct gw_job job;
	struct transfer *t;
	mla_receipt r;
	mla_err err;
	mla_diag diag;
	mla_buf resealed; /* a new seal when the refusal is one a new Created cures */
	mla_err reseal_err;
	mla_diag reseal_diag;
};

/* The receipt's list of attachments against the list of the envelope sent (read again from
 * its own signed Header). */
static mla_err match_attachments(const struct transfer *t, const struct gw_crypto *k,
				 const struct gw_config *c, mla_diag *diag)
{
	mla_receipt_attachments *got = calloc(1, sizeof(*got));
	mla_attach_list *sealed = NULL;
	mla_verified v;
	mla_receipt r;
	mla_err e;

	if (got == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory checking the receipt");
	if ((e = mla_receipt_verify_attached(t->response.data, t->response.len, k->trust,
					     &c->limits, &r, NULL, got, diag)) == MLA_OK &&
	    (e = mla_envelope_verify_attached(t->envelope.data, t->envelope.len, k->trust,
					      &c->limits, &v, &sealed, diag)) == MLA_OK)
		e = sealed == NULL ? mla_fail(diag, MLA_ERR_INTERNAL, "no attachment list")
				   : mla_receipt_match_attachments(&r, got, sealed, diag);
	mla_attach_list_free(sealed);
	free(got);
	return e;
}

static void receipt_run(struct gw_job *job, struct gw_crypto *k)
{
	struct receipt_job *j = (struct receipt_job *)job;
	struct transfer *t = j->t;

	if (k == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_INTERNAL, "keys unavailable");
		return;
	}
	j->err = mla_receipt_verify(t->response.data, t->response.len, k->trust,
				    &job->snap->cfg.limits, &j->r, &j->diag);
	if (j->err == MLA_OK)
		j->err = mla_receipt_match(&j->r, t->to_state, t->message_id, t->digest, &j->diag);
	/* its ReceivedAt starts the case's deadlines: never dated ahead of our clock */
	if (j->err == MLA_OK)
		j->err = mla_receipt_match_time(&j->r, (time_t)(gw_now_ms() / 1000),
						job->snap->cfg.clock_skew_ms / 1000, &j->diag);
	/* SPEC 11 rule 7: an envelope of version 2 is answered in receipt version 2; a receiver
	 * that could not read the header (no MessageId: a refusal of the version, the only such
	 * receipt that matches) answers in the pair of what it writes to this gateway */
	if (j->err == MLA_OK && j->r.message_id[0] != '\0')
		j->err = mla_receipt_match_version(
			&j->r, mla_envelope_sealed_version(t->envelope.data, t->envelope.len),
			&j->diag);
	/* envelope version 3 (SPEC 17.13): a positive receipt names each attachment as sealed */
	if (j->err == MLA_OK && j->r.outcome == MLA_OUTCOME_ACCEPTED &&
	    mla_envelope_sealed_version(t->envelope.data, t->envelope.len) == 3)
		j->err = match_attachments(t, k, &job->snap->cfg, &j->diag);
	/* a verified refusal of exactly these bytes proves they are not stored there */
	if (j->err == MLA_OK && j->r.outcome == MLA_OUTCOME_REJECTED)
		j->reseal_err = relay_reseal_make(t, &j->r, k, &job->snap->cfg, &j->resealed,
						  &j->reseal_diag);
}

/* "delivered", or "rejected" with the peer's error, with both digests. */
static mla_err audit_outcome(struct gw *g, const struct receipt_job *j)
{
	const struct transfer *t = j->t;
	int accepted = j->r.outcome == MLA_OUTCOME_ACCEPTED;
	uint8_t rd[32];
	struct gw_audit_msg a = {
		.message_id = t->message_id, .from = g->snap->cfg.state, .to = t->to_state,
		.actor = t->to_state, .envelope_sha256 = t->digest, .receipt_sha256 = rd,
		.error = accepted ? NULL : mla_errname(j->r.error),
	};

	SHA256(t->response.data, t->response.len, rd);
	if (!accepted && strcmp(a.error, "unknown") == 0)
		a.error = mla_errname(MLA_ERR_PEER_REFUSED); /* a peer's newer code */
	return gw_audit_message(g, accepted ? MLA_AUDIT_DELIVERED : MLA_AUDIT_REJECTED, &a);
}

/* The envelope version of what was sent: as sealed here, else (bytes not of this release's
 * sealing, e.g. put in the outbox by a test) the number its root namespace names; 0 none. */
static unsigned long sent_version(const struct transfer *t)
{
	static const char stem[] = "urn:mlagw:envelope:";
	size_t n = t->envelope.len < 512 ? t->envelope.len : 512;
	int v = mla_envelope_sealed_version(t->envelope.data, t->envelope.len);
	unsigned long found = 0;

	if (v > 0)
		return (unsigned long)v;
	for (size_t i = 0; i + sizeof(stem) <= n; i++)
		if (memcmp(t->envelope.data + i, stem, sizeof(stem) - 1) == 0) {
			for (size_t k = i + sizeof(stem) - 1; k < n && k < i + sizeof(stem) + 8 &&
			     t->envelope.data[k] >= '0' && t->envelope.data[k] <= '9'; k++)
				found = found * 10 + (unsigned long)(t->envelope.data[k] - '0');
			break;
		}
	return found;
}

/* SPEC 11 rule 8: the peer does not read the envelope version this gateway wrote to it: the
 * message is rejected like any refusal and the operator is told to correct
 * [peer CC] envelope_versions (alert version-refused: peer, version). Such a refusal is
 * unsupported-version, or schema from a peer before that code, without a problem list (that
 * is a case document's, SPEC 16.6), whose text names the envelope's version or which names
 * no MessageId (the header was not read). */
static int refuses_version(const mla_receipt *r)
{
	static const char named[] = "envelope version ";

	return (r->error == MLA_ERR_UNSUPPORTED_VERSION || r->error == MLA_ERR_SCHEMA) &&
	       r->problem_count == 0 &&
	       (r->message_id[0] == '\0' ||
		strncmp(r->error_message, named, sizeof(named) - 1) == 0);
}

static void version_refused(struct gw *g, const struct receipt_job *j)
{
	const struct transfer *t = j->t;
	mla_diag d = {MLA_OK, ""};
	char detail[96];

	if (!refuses_version(&j->r))
		return;
	(void)mla_snprintf_cut(detail, sizeof(detail), "peer=%s version=%lu", t->to_state,
			       sent_version(t));
	gw_log(GW_LOG_ERROR, "version-refused", t->message_id, "%s reason=\"the peer does not "
	       "read this envelope version: correct [peer %s] envelope_versions\"", detail,
	       t->to_state);
	if (store_alert(g->store, "version-refused", t->message_id, detail, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "alert", t->message_id, "op=alert");
}

static void record_outcome(struct gw *g, struct receipt_job *j)
{
	struct transfer *t = j->t;
	mla_diag d = {MLA_OK, ""};
	char detail[MLA_DIAG_MAX];
	int accepted = j->r.outcome == MLA_OUTCOME_ACCEPTED;
	msg_state final = accepted ? MSG_DELIVERED : MSG_REJECTED;

	if (accepted)
		(void)mla_snprintf_cut(detail, sizeof(detail), "receipt %s verified", j->r.receipt_id);
	else if (j->r.problem_count > 0) /* receipt version 2: the list stays in the receipt */
		(void)mla_snprintf_cut(detail, sizeof(detail), "%s: %lu problem(s) listed in the "
				       "receipt: %.160s", mla_errname(j->r.error),
				       (unsigned long)j->r.problem_count, j->r.error_message);
	else
		(void)mla_snprintf_cut(detail, sizeof(detail), "%s: %.200s", mla_errname(j->r.error),
				       j->r.error_message);
	if (store_outbox_set_state(g->store, t->message_id, MSG_AWAITING_RECEIPT, 0, NULL, &d) !=
		    MLA_OK ||
	    store_outbox_receipt_at(g->store, t->message_id, final, t->response.data,
				    t->response.len, detail, (int64_t)j->r.received_at * 1000,
				    &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "receipt", t->message_id,
			       "op=receipt reason=\"%s\"", d.msg);
		return;
	}
	if (audit_outcome(g, j) != MLA_OK)
		return;
	if (!accepted)
		version_refused(g, j);
	if (accepted)
		gw_log(GW_LOG_INFO, "delivered", t->message_id, "to=%s attempts=%u latency_ms=%lld",
		       t->to_state, t->attempts + 1, (long long)(gw_now_ms() - t->created_ms));
	else
		gw_log(GW_LOG_WARN, "rejected-by-peer", t->message_id,
		       "to=%s error=%s problems=%lu reason=\"%s\"", t->to_state,
		       mla_errname(j->r.error), (unsigned long)j->r.problem_count,
		       j->r.error_message);
}

/* If the group holding the outcome was rolled back (a store failure), the message would stay
 * "sending" until the next restart: queue it again now; the receiver answers the resend with
 * its original receipt. */
static void outcome_committed(struct gw *g, void *arg, int committed)
{
	char *id = arg;
	mla_diag d = {MLA_OK, ""};

	if (!committed) {
		if (store_outbox_set_state(g->store, id, MSG_QUEUED, gw_now_ms() + 1000,
					   "outcome not stored: store error", &d) != MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "store-error", "requeue", id,
			       "op=requeue reason=\"%s\" (recovered at the next start)", d.msg);
		relay_kick(g);
	}
	free(id);
}

static void watch_commit(struct gw *g, const char *message_id)
{
	char *id = strdup(message_id);

	if (id != NULL)
		gw_after_commit(g, outcome_committed, id);
}

/* A refusal of a condition of the link, not of the message: clock skew (503 from a receiver
 * that says so, 422 from one older than that rule), or any receipt under a 503. Retried until
 * the deadline; nothing is recorded as the message's outcome (SPEC 13 Time). */
static int link_refusal(const struct receipt_job *j)
{
	return j->t->code == 503 ||
	       (j->r.outcome == MLA_OUTCOME_REJECTED && j->r.error == MLA_ERR_CLOCK_SKEW);
}

static void receipt_done(struct gw_job *job)
{
	struct receipt_job *j = (struct receipt_job *)job;
	struct gw *g = j->t->g;
	mla_diag d = {MLA_OK, ""};
	char why[MLA_DIAG_MAX];

	if (j->err == MLA_OK && j->reseal_err != MLA_OK && j->reseal_err != MLA_ERR_NOT_FOUND)
		gw_log(GW_LOG_ERROR, "reseal-failed", j->t->message_id, "to=%s error=%s reason=\"%s\"",
		       j->t->to_state, mla_errname(j->reseal_err), j->reseal_diag.msg);
	if (j->err == MLA_OK && j->reseal_err == MLA_OK &&
	    relay_reseal_record(g, j->t, &j->r, &j->resealed)) {
		relay_peer_up(g, j->t->to_state);
	} else if (j->err == MLA_OK && link_refusal(j)) {
		(void)mla_snprintf_cut(why, sizeof(why), "%s refused it for %s (retried): %.150s",
				       j->t->to_state, mla_errname(j->r.error), j->r.error_message);
		if (j->r.error == MLA_ERR_CLOCK_SKEW)
			relay_clock_skew(g, j->t, &j->r);
		relay_retry_or_fail(g, j->t, why);
	} else if (j->err == MLA_OK) {
		record_outcome(g, j);
		relay_peer_up(g, j->t->to_state);
	} else {
		(void)mla_snprintf_cut(why, sizeof(why), "receipt invalid (%s): %s", mla_errname(j->err),
				       mla_diag_message(&j->diag));
		gw_log(GW_LOG_ERROR, "receipt-invalid", j->t->message_id, "to=%s error=%s",
		       j->t->to_state, mla_errname(j->err));
		if (store_alert(g->store, "receipt-invalid", j->t->message_id, mla_errname(j->err),
				&d) != MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "store-error", "alert", j->t->message_id,
				       "op=alert");
		relay_retry_or_fail(g, j->t, why);
	}
	watch_commit(g, j->t->message_id);
	mla_buf_free(&j->resealed);
	relay_transfer_free(j->t);
	gw_job_release(job);
	free(j);
}

void relay_check_receipt(struct gw *g, struct transfer *t)
{
	struct receipt_job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		relay_retry_or_fail(g, t, "out of memory verifying the receipt");
		relay_transfer_free(t);
		return;
	}
	j->t = t;
	mla_buf_init(&j->resealed, 0);
	j->reseal_err = MLA_ERR_NOT_FOUND;
	j->job.run = receipt_run;
	j->job.done = receipt_done;
	memcpy(j->job.lane, t->to_state, 3); /* the receipt is that peer's bytes */
	j->job.urgent = t->urgent;
	gw_pool_submit(g->pool, &j->job, g->snap);
}
