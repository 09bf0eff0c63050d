/* Appending audit entries from the event loop thread (see audit.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "audit.h"
#include "checkpoint.h"
#include "core/log.h"
#include "tlog_internal.h"

mla_err gw_audit_sync(struct gw *g, mla_diag *diag)
{
	mla_err r = store_audit_next(g->store, &g->tlog->audit_next, diag);

	/* the tree follows: a rolled-back group's leaves are forgotten */
	if (r == MLA_OK && g->tlog->tree != NULL && (r = gw_tree_sync(g)) != MLA_OK)
		r = mla_fail(diag, r, "audit tree: cannot follow the audit table");
	return r;
}

mla_err gw_audit(struct gw *g, mla_audit_entry *e)
{
	mla_diag d = {MLA_OK, ""};
	uint8_t leaf[32];
	mla_buf b;
	mla_err r;

	e->seq = g->tlog->audit_next;
	e->time_ms = gw_now_ms();
	mla_buf_init(&b, MLA_AUDIT_ENTRY_MAX);
	if ((r = mla_audit_entry_serialize(e, &b, &d)) != MLA_OK) {
		/* refused by its own fields: nothing was written, so only its request fails,
		 * never the group commit it shares with others */
		gw_log_limited(GW_LOG_ERROR, "audit-error", mla_audit_event_name(e->event),
			       e->message_id, "event=%s reason=\"%s\"",
			       mla_audit_event_name(e->event), mla_diag_message(&d));
		mla_buf_free(&b);
		return r;
	}
	if ((r = mla_merkle_leaf_hash(b.data, b.len, leaf)) == MLA_OK &&
	    (r = store_audit_append(g->store, e->seq, b.data, b.len, leaf, &d)) == MLA_OK) {
		g->tlog->audit_next++;
		gw_tree_append(g, leaf);
	}
	mla_buf_free(&b);
	if (r != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "audit-error", mla_audit_event_name(e->event),
			       e->message_id, "event=%s reason=\"%s\"",
			       mla_audit_event_name(e->event), mla_diag_message(&d));
		if (gw_batch_is_open(g))
			gw_batch_fail(g);
		(void)gw_audit_sync(g, NULL); /* the store decides what the next index is */
	}
	return r;
}

/* A field that does not fit is an error: a cut value in the log would be a false record. */
static mla_err copy(char *dst, size_t n, const char *src)
{
	return src != NULL ? mla_strcpy(dst, n, src) : MLA_OK;
}

mla_err gw_audit_message(struct gw *g, mla_audit_event ev, const struct gw_audit_msg *m)
{
	mla_audit_entry e;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = ev;
	if (m->count > 1)
		e.count = m->count;
	if ((r = copy(e.message_id, sizeof(e.message_id), m->message_id)) != MLA_OK ||
	    (r = copy(e.case_id, sizeof(e.case_id), m->case_id)) != MLA_OK ||
	    (r = copy(e.kind, sizeof(e.kind), m->kind)) != MLA_OK ||
	    (r = copy(e.action, sizeof(e.action), m->action)) != MLA_OK ||
	    (r = copy(e.from, sizeof(e.from), m->from)) != MLA_OK ||
	    (r = copy(e.to, sizeof(e.to), m->to)) != MLA_OK ||
	    (r = copy(e.actor, sizeof(e.actor), m->actor != NULL ? m->actor : "gateway")) !=
		    MLA_OK ||
	    (r = copy(e.error, sizeof(e.error), m->error)) != MLA_OK ||
	    (r = copy(e.reason, sizeof(e.reason), m->reason)) != MLA_OK)
		return r;
	if (m->envelope_sha256 != NULL) {
		e.has_envelope_sha256 = 1;
		memcpy(e.envelope_sha256, m->envelope_sha256, 32);
	}
	if (m->receipt_sha256 != NULL) {
		e.has_receipt_sha256 = 1;
		memcpy(e.receipt_sha256, m->receipt_sha256, 32);
	}
	return gw_audit(g, &e);
}
