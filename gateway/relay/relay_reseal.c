/* Re-sealing (protocol/SPEC.md section 13, Time): a message whose seal the receiver refused
 * for its time is sealed again with a new Created and sent again, instead of being rejected
 * for good or waiting for a clock. A worker decides and signs (relay_reseal_make); the loop
 * thread stores the new seal, keeps the old one with its refusal and records `resealed`
 * (relay_reseal_record), all in one group commit. */
#include <string.h>

#include <openssl/sha.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "relay_internal.h"
#include "store/store.h"
#include "tlog/audit.h"

/* Whether refusal r of t's envelope is one a new Created cures, judged by our clock against
 * the envelope's Created with our clock-skew tolerance as the margin:
 * - replay: the seal is older than the receiver's window, and was sealed more than the
 *   margin ago (a seal refused as too old the moment it was made says the receiver's clock
 *   is wrong, which a new seal would not cure: that refusal stays final);
 * - clock-skew: our clock is now behind the Created by more than the margin (it was ahead
 *   when it sealed, and has been put right); else the receiver's clock is behind and the same
 *   bytes are sent again until it is right (SPEC 13 Time). */
static int cured_by_new_created(const struct transfer *t, const mla_receipt *r,
				const struct gw_crypto *k, const struct gw_config *cfg,
				int64_t now_ms, mla_diag *diag)
{
	int64_t created_ms, margin = (int64_t)cfg->clock_skew_ms;
	mla_verified v;

	if (r->outcome != MLA_OUTCOME_REJECTED || now_ms >= t->deadline_ms ||
	    (r->error != MLA_ERR_REPLAY && r->error != MLA_ERR_CLOCK_SKEW) ||
	    mla_envelope_verify(t->envelope.data, t->envelope.len, k->trust, &cfg->limits, &v,
				diag) != MLA_OK)
		return 0;
	created_ms = (int64_t)v.header.created * 1000;
	return r->error == MLA_ERR_REPLAY ? now_ms - created_ms > margin
					  : created_ms - now_ms > margin;
}

mla_err relay_reseal_make(const struct transfer *t, const mla_receipt *r,
			  const struct gw_crypto *k, const struct gw_config *cfg, mla_buf *out,
			  mla_diag *diag)
{
	int64_t now_ms = gw_now_ms();

	mla_buf_init(out, 0);
	if (!cured_by_new_created(t, r, k, cfg, now_ms, diag))
		return MLA_ERR_NOT_FOUND;
	return mla_envelope_reseal(t->envelope.data, t->envelope.len, k->trust, k->signer,
				   (time_t)(now_ms / 1000), &cfg->limits, out, diag);
}

/* The entry: both seals' digests, the refusal's digest and error. */
static mla_err audit_resealed(struct gw *g, const struct transfer *t, const mla_receipt *r,
			      const uint8_t new_digest[32])
{
	uint8_t rd[32];
	struct gw_audit_msg a = {
		.message_id = t->message_id, .from = g->snap->cfg.state, .to = t->to_state,
		.actor = "gateway", .error = mla_errname(r->error), .envelope_sha256 = new_digest,
		.receipt_sha256 = rd, .prev_envelope_sha256 = t->digest,
	};

	SHA256(t->response.data, t->response.len, rd);
	return gw_audit_message(g, MLA_AUDIT_RESEALED, &a);
}

int relay_reseal_record(struct gw *g, const struct transfer *t, const mla_receipt *r,
			const mla_buf *sealed)
{
	char why[MLA_DIAG_MAX];
	unsigned n = 0;
	mla_diag d = {MLA_OK, ""};
	struct store_seal s = {
		.envelope = sealed->data, .len = sealed->len, .refusal = t->response.data,
		.refusal_len = t->response.len, .why = why,
	};

	memcpy(s.old_digest, t->digest, 32);
	SHA256(sealed->data, sealed->len, s.digest);
	(void)mla_snprintf_cut(why, sizeof(why), "%s refused its seal for %s: sealed again",
			       t->to_state, mla_errname(r->error));
	if (store_outbox_reseal(g->store, t->message_id, &s, &n, &d) != MLA_OK) {
		gw_log(GW_LOG_WARN, "reseal-refused", t->message_id, "to=%s error=%s reason=\"%s\"",
		       t->to_state, mla_errname(r->error), d.msg);
		return 0;
	}
	if (audit_resealed(g, t, r, s.digest) != MLA_OK)
		return 1; /* the group fails: nothing of it is stored, the message is requeued */
	gw_log(GW_LOG_WARN, "resealed", t->message_id, "to=%s error=%s seal=%u", t->to_state,
	       mla_errname(r->error), n + 1);
	if (store_alert(g->store, "resealed", t->message_id, why, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "alert", t->message_id, "op=alert");
	relay_kick(g);
	return 1;
}
