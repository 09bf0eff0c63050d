/* Retrieval notices (see notices.h): the next one owed, its MessageId reserved, its document
 * built and submitted as the gateway's own answer to the request it names. */
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/notice.h"
#include "notices.h"
#include "submit/submit.h"

#define NOTICES_PER_TICK 8 /* peers on envelope version 1 are skipped without sending */

static void log_store(const char *op, const char *id, const mla_diag *d)
{
	gw_log_limited(GW_LOG_ERROR, "store-error", op, id, "op=%s reason=\"%s\"", op, d->msg);
}

/* A notice the peer cannot be sent (it reads no envelope version 2, or it is gone): none. */
static void skip(struct gw *g, const struct store_notice_due *n, const char *why)
{
	mla_diag d = {MLA_OK, ""};

	if (store_retrieval_reserve(g->store, n->request_id, n->action, "-", n->at_ms, &d) !=
	    MLA_OK)
		log_store("retrieval-reserve", n->request_id, &d);
	else
		gw_log(GW_LOG_INFO, "notice-skipped", n->request_id, "action=%s peer=%s why=%s",
		       n->action, n->peer, why);
}

static mla_err header_of(struct gw *g, const struct store_notice_due *n, mla_header *h,
			 mla_diag *d)
{
	const struct gw_config *c = &g->snap->cfg;

	if (mla_header_init(h) != MLA_OK)
		return mla_fail(d, MLA_ERR_INTERNAL, "no random id");
	if (n->notice_id[0] != '\0')
		memcpy(h->message_id, n->notice_id, sizeof(h->message_id));
	h->created = (time_t)(gw_now_ms() / 1000);
	memcpy(h->from_state, c->state, sizeof(h->from_state));
	memcpy(h->to_state, n->peer, sizeof(h->to_state));
	memcpy(h->case_id, n->case_id, sizeof(h->case_id));
	memcpy(h->in_reply_to, n->request_id, sizeof(h->in_reply_to));
	h->priority = (mla_priority)n->priority;
	if (mla_strcpy(h->kind, sizeof(h->kind), n->kind) != MLA_OK ||
	    mla_strcpy(h->action, sizeof(h->action), n->action) != MLA_OK)
		return mla_fail(d, MLA_ERR_INTERNAL, "notice header");
	return submit_set_version(c, h, d);
}

static void sent(struct gw *g, void *arg, const mla_header *h, mla_err err, const char *why,
		 const char *problems, int committed)
{
	struct gw_notifier *x = arg;

	(void)problems;
	x->busy = 0;
	if (err == MLA_OK && committed) {
		gw_log(GW_LOG_INFO, "notice-queued", h->message_id, "action=%s request=%s to=%s",
		       h->action, h->in_reply_to, h->to_state);
		return;
	}
	if (err != MLA_OK && err != MLA_ERR_STORE && err != MLA_ERR_NOMEM &&
	    err != MLA_ERR_INTERNAL) { /* refused for good (header, peer): none is sent */
		mla_diag d = {MLA_OK, ""};

		gw_log_limited(GW_LOG_WARN, "notice-refused", "notice", h->in_reply_to,
			       "action=%s error=%s reason=\"%s\"", h->action, mla_errname(err),
			       why != NULL ? why : "-");
		if (store_retrieval_reserve(g->store, h->in_reply_to, h->action, "-", 0, &d) ==
		    MLA_OK)
			return;
		log_store("retrieval-reserve", h->in_reply_to, &d);
	}
	x->orphans = 1; /* reserved, not in the outbox: the next tick sends it again */
	gw_log_limited(GW_LOG_WARN, "notice-retry", "notice", h->message_id,
		       "action=%s error=%s reason=\"%s\"", h->action, mla_errname(err),
		       why != NULL ? why : "not stored");
}

/* Reserves (a new notice) and submits n; 0 when the notifier is now busy. */
static int send_one(struct gw *g, struct gw_notifier *x, const struct store_notice_due *n)
{
	const struct gw_peer *peer = gw_config_peer(&g->snap->cfg, n->peer);
	mla_notice doc = {MLA_NOTICE_RETRIEVED, "", n->at_ms};
	mla_diag d = {MLA_OK, ""};
	mla_header h;
	mla_buf b;
	mla_err r;

	if (peer == NULL || gw_config_envelope_version(&g->snap->cfg, peer) < 2) {
		skip(g, n, peer == NULL ? "no-such-peer" : "envelope-v1");
		return 1;
	}
	doc.status = strcmp(n->action, "retrieved") == 0 ? MLA_NOTICE_RETRIEVED :
							     MLA_NOTICE_NOT_RETRIEVED;
	memcpy(doc.message_id, n->request_id, sizeof(doc.message_id));
	mla_buf_init(&b, MLA_NOTICE_MAX);
	if ((r = header_of(g, n, &h, &d)) != MLA_OK || (r = mla_notice_build(&doc, &b, &d)) != MLA_OK) {
		mla_buf_free(&b);
		gw_log_limited(GW_LOG_WARN, "notice-refused", "notice", n->request_id,
			       "action=%s error=%s reason=\"%s\"", n->action, mla_errname(r), d.msg);
		skip(g, n, "refused");
		return 1;
	}
	if (n->notice_id[0] == '\0' &&
	    store_retrieval_reserve(g->store, n->request_id, n->action, h.message_id, n->at_ms,
				    &d) != MLA_OK) {
		mla_buf_free(&b);
		log_store("retrieval-reserve", n->request_id, &d);
		return 0; /* the store fails: try again at a later tick */
	}
	x->busy = 1;
	if (submit_enqueue(g, &h, b.data, b.len, SUBMIT_GATEWAY_ACTOR, MLA_AUDIT_ANSWERED, NULL,
			   sent, x, &d) != MLA_OK) {
		x->busy = 0;
		x->orphans = 1;
		gw_log_limited(GW_LOG_WARN, "notice-retry", "notice", h.message_id,
			       "action=%s reason=\"%s\"", n->action, d.msg);
	}
	mla_buf_free(&b);
	return 0;
}

void notices_tick(struct gw *g, struct gw_notifier *x)
{
	struct store_notice_due n;
	mla_diag d = {MLA_OK, ""};
	int found = 0;

	for (unsigned i = 0; i < NOTICES_PER_TICK && !x->busy && gw_refusing(g) == NULL; i++) {
		if (store_retrieval_due(g->store, gw_now_ms(), g->snap->cfg.not_retrieved_after_ms,
					x->orphans, &n, &found, &d) != MLA_OK) {
			log_store("retrieval-due", NULL, &d);
			return;
		}
		if (!found) {
			x->orphans = 0;
			return;
		}
		if (!send_one(g, x, &n))
			return;
	}
}
