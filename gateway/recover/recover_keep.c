/* Keeping a message a peer gave back (see recover_keep.h): a message this gateway sent
 * becomes an outbox row delivered with the recipient's receipt; one it received becomes an
 * inbox row with the receipt it had signed, readable by the agencies like any other. Each
 * with its "recovered" audit entry in the same transaction: nothing is kept unrecorded. */
#include <string.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "recover_keep.h"
#include "tlog/audit.h"

/* Whether the store holds the message already: *held 1, and *same whether with this digest. */
static mla_err held(struct gw *g, const struct recover_item *it, const uint8_t digest[32],
		    int *found, int *same, mla_diag *d)
{
	uint8_t have[32];
	struct out_msg o;
	mla_buf rc;
	mla_err r;

	*found = *same = 0;
	if (it->dir == RECOVER_SENT_BY_YOU) {
		r = store_outbox_get(g->store, it->message_id, &o, d);
		if (r == MLA_ERR_NOT_FOUND)
			return MLA_OK;
		*found = r == MLA_OK;
		*same = r == MLA_OK && memcmp(o.digest, digest, 32) == 0;
		return r;
	}
	r = store_inbox_lookup(g->store, it->message_id, found, have, &rc, d);
	mla_buf_free(&rc);
	*same = *found && memcmp(have, digest, 32) == 0;
	return r;
}

static mla_err put_out(struct gw *g, const char *peer, const struct recover_item *it,
		       const struct recover_checked *c, mla_diag *d)
{
	const mla_header *h = &c->v.header;
	struct out_msg m;
	mla_err r;

	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, h->message_id, sizeof(m.message_id));
	memcpy(m.case_id, h->case_id, sizeof(m.case_id));
	memcpy(m.in_reply_to, h->in_reply_to, sizeof(m.in_reply_to));
	memcpy(m.to_state, h->to_state, sizeof(m.to_state));
	memcpy(m.kind, h->kind, sizeof(m.kind));
	memcpy(m.action, h->action, sizeof(m.action));
	m.priority = (int)h->priority;
	m.created_ms = (int64_t)h->created * 1000;
	m.deadline_ms = m.created_ms; /* never read again: the row is final */
	memcpy(m.digest, c->v.digest, 32);
	if ((r = mla_snprintf(m.last_error, sizeof(m.last_error), "receipt %s recovered from %s",
			      c->receipt.receipt_id, peer)) != MLA_OK)
		return mla_fail(d, r, "detail");
	return store_outbox_put_recovered(g->store, &m, it->envelope.data, it->envelope.len,
					  it->receipt.data, it->receipt.len, d);
}

static mla_err put_in(struct gw *g, const struct recover_item *it,
		      const struct recover_checked *c, mla_diag *d)
{
	const mla_header *h = &c->v.header;
	struct in_msg m;

	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, h->message_id, sizeof(m.message_id));
	memcpy(m.case_id, h->case_id, sizeof(m.case_id));
	memcpy(m.in_reply_to, h->in_reply_to, sizeof(m.in_reply_to));
	memcpy(m.from_state, h->from_state, sizeof(m.from_state));
	memcpy(m.kind, h->kind, sizeof(m.kind));
	memcpy(m.action, h->action, sizeof(m.action));
	m.priority = (int)h->priority;
	m.created_ms = (int64_t)h->created * 1000;
	m.received_ms = (int64_t)c->receipt.received_at * 1000; /* as our receipt says */
	memcpy(m.digest, c->v.digest, 32);
	return store_inbox_put(g->store, &m, 1, it->envelope.data, it->envelope.len,
			       it->receipt.data, it->receipt.len, d);
}

static mla_err audit_recovered(struct gw *g, const char *peer, const struct recover_checked *c)
{
	const mla_header *h = &c->v.header;
	struct gw_audit_msg a = {
		.message_id = h->message_id, .case_id = h->case_id, .kind = h->kind,
		.action = h->action, .from = h->from_state, .to = h->to_state, .actor = peer,
		.envelope_sha256 = c->v.digest, .receipt_sha256 = c->receipt_sha256,
	};

	return gw_audit_message(g, MLA_AUDIT_RECOVERED, &a);
}

/* The rows and the entry in one transaction of their own (the start runs no group commit). */
static mla_err put_new(struct gw *g, const char *peer, const struct recover_item *it,
		       const struct recover_checked *c, mla_diag *d)
{
	mla_err r;

	if ((r = store_begin(g->store, d)) != MLA_OK)
		return r;
	if ((r = it->dir == RECOVER_SENT_BY_YOU ? put_out(g, peer, it, c, d) : put_in(g, it, c, d)) ==
		    MLA_OK &&
	    (r = audit_recovered(g, peer, c)) != MLA_OK)
		(void)mla_fail(d, r, "audit entry not written");
	if (r == MLA_OK && (r = store_commit(g->store, d)) == MLA_OK)
		return MLA_OK;
	(void)store_rollback(g->store);
	(void)gw_audit_sync(g, NULL); /* the entry appended, if any, went with the rollback */
	return r;
}

mla_err recover_keep(struct gw *g, const char *peer, const struct recover_item *it,
		     const struct recover_checked *c, enum recover_kept *kept, mla_diag *d)
{
	char detail[96];
	int found, same;
	mla_err r;

	if ((r = held(g, it, c->v.digest, &found, &same, d)) != MLA_OK)
		return r;
	if (found && same) {
		*kept = RECOVER_HELD;
		return MLA_OK;
	}
	if (found) {
		*kept = RECOVER_CONFLICT;
		(void)mla_snprintf_cut(detail, sizeof(detail), "peer=%s direction=%s", peer,
				       recover_dir_name(it->dir));
		gw_log(GW_LOG_ERROR, "recovery-conflict", it->message_id, "%s reason=\"the store "
		       "holds this message id with another digest\"", detail);
		return store_alert(g->store, "recovery-conflict", it->message_id, detail, d);
	}
	*kept = RECOVER_NEW;
	return put_new(g, peer, it, c, d);
}
