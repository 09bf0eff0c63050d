/* The asker (SPEC 14 "Log epochs", Recovery): at start, while the store carries the recovery
 * mark, each configured peer is asked POST /mla/v1/recover page by page for the messages it
 * exchanged with this gateway since shortly before the newest one the store holds. Each item
 * is checked (recover_check.c) and kept (recover_keep.c) or refused one by one. A peer that
 * answers every page is done; one that cannot (transport, 404 from a gateway before this
 * endpoint, another status, a malformed page) or not within [audit] recover_wait leaves the
 * mark set (asked again at the next start) with alert recovery-incomplete; the start goes on. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mlagw/codec.h"
#include "net/peer_client.h"
#include "recover.h"
#include "recover_cases.h"
#include "recover_keep.h"
#include "tlog/witness.h"

#define RECOVER_MARGIN_MS ((int64_t)24 * 3600 * 1000) /* before the newest message held */
#define HOLD_MAX 160

struct rec_xfer {
	struct peer_call c; /* first: the client hands its post back to page_done */
	struct gw *g;
	char state[3];
};

struct rec_peer {
	char state[3];
	int done;              /* 1 answered every page, -1 could not */
	struct recover_req q;  /* the next page's request */
	size_t kept, held, refused, conflicts;
	struct recover_steps steps; /* the case steps of its messages not applied yet */
	struct rec_xfer *t;
};

struct gw_recover {
	struct rec_peer peers[GW_MAX_PEERS];
	size_t n;
	int64_t deadline_ms; /* monotonic */
	int waiting;
	char hold[HOLD_MAX];
	struct event *timer;
};

static void page_done(struct peer_post *p, CURLcode res);

static void xfer_free(struct rec_xfer *t)
{
	if (t == NULL)
		return;
	peer_call_clear(&t->c);
	free(t);
}

static void alert(struct gw *g, const char *kind, const char *message_id, const char *detail)
{
	mla_diag d = {MLA_OK, ""};

	gw_log(GW_LOG_ERROR, kind, message_id, "%s", detail);
	if (store_alert(g->store, kind, message_id, detail, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

/* The largest answer a page may be: RECOVER_PAGE_BYTES, or one item of the largest envelope
 * this gateway sends or accepts, in base64, with room for the JSON around it. */
static size_t answer_max(const struct gw *g)
{
	return MLA_B64_LEN(RECOVER_PAGE_BYTES + g->snap->cfg.limits.max_envelope_bytes +
			   RECOVER_RECEIPT_MAX) + 65536;
}

static void fail_peer(struct gw *g, struct rec_peer *rp, const char *why)
{
	char detail[200];

	rp->done = -1;
	(void)mla_snprintf_cut(detail, sizeof(detail), "peer=%s reason=\"%s\"", rp->state, why);
	gw_log(GW_LOG_WARN, "recover-error", NULL, "%s", detail);
	(void)g;
}

static void ask(struct gw *g, struct rec_peer *rp)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, rp->state);
	struct rec_xfer *t = calloc(1, sizeof(*t));
	char url[GW_URL_MAX + 64];
	const char *no_headers[] = {NULL};

	if (t == NULL || cp == NULL || !witness_url(cp->url, RECOVER_PATH, url, sizeof(url)))
		goto fail;
	t->g = g;
	t->c.post.done = page_done;
	memcpy(t->state, rp->state, 3);
	mla_buf_init(&t->c.body, RECOVER_REQUEST_MAX);
	mla_buf_init(&t->c.response, answer_max(g));
	if (recover_req_write(&rp->q, &t->c.body) != MLA_OK ||
	    peer_client_post(g->client, &g->snap->cfg, &t->c.post, t->state, url,
			     "application/json", no_headers, &t->c.body, &t->c.response) != MLA_OK ||
	    peer_client_start(g->client, &t->c.post) != MLA_OK)
		goto fail;
	rp->t = t;
	return;
fail:
	xfer_free(t);
	fail_peer(g, rp, "cannot ask");
}

/* One item: checked, then kept; a refusal names the peer and the message id, nothing else
 * of the message. */
static void take_item(struct gw *g, struct rec_peer *rp, const struct recover_item *it)
{
	struct recover_checked c;
	enum recover_kept kept = RECOVER_HELD;
	mla_diag d = {MLA_OK, ""};
	char detail[MLA_DIAG_MAX + 64];

	if (recover_check_item(it, g->snap->cfg.state, rp->state, g->crypto->trust,
			       &g->snap->cfg.limits, &c, &d) != MLA_OK ||
	    /* its ReceivedAt becomes the step's time in the rebuilt case (SPEC 12 Match) */
	    mla_receipt_match_time(&c.receipt, (time_t)(gw_now_ms() / 1000),
				   g->snap->cfg.clock_skew_ms / 1000, &d) != MLA_OK) {
		rp->refused++;
		(void)mla_snprintf_cut(detail, sizeof(detail), "peer=%s direction=%s reason=\"%s\"",
				       rp->state, recover_dir_name(it->dir), mla_diag_message(&d));
		alert(g, "recovery-refused", it->message_id, detail);
		return;
	}
	if (recover_keep(g, rp->state, it, &c, &kept, &d) != MLA_OK) {
		rp->refused++;
		gw_log(GW_LOG_ERROR, "store-error", it->message_id, "op=recover peer=%s reason=\"%s\"",
		       rp->state, mla_diag_message(&d));
		return;
	}
	if (kept != RECOVER_CONFLICT &&
	    recover_steps_note(g, &rp->steps, rp->state, it, &c, kept == RECOVER_HELD, &d) !=
		    MLA_OK)
		gw_log(GW_LOG_ERROR, "recover-case", it->message_id, "peer=%s reason=\"%s\"",
		       rp->state, mla_diag_message(&d));
	if (kept == RECOVER_NEW) {
		rp->kept++;
		gw_log(GW_LOG_INFO, "recovered", it->message_id, "peer=%s direction=%s", rp->state,
		       recover_dir_name(it->dir));
	} else if (kept == RECOVER_HELD)
		rp->held++;
	else
		rp->conflicts++;
}

/* A page answered: its items, then the next page or the end of this peer. */
static void take_page(struct gw *g, struct rec_peer *rp, const struct rec_xfer *t)
{
	struct recover_page *page = malloc(sizeof(*page));
	mla_diag d = {MLA_OK, ""};

	if (page == NULL) {
		fail_peer(g, rp, "out of memory");
		return;
	}
	if (recover_answer_parse(t->c.response.data, t->c.response.len,
				 g->snap->cfg.limits.max_envelope_bytes, page, &d) != MLA_OK) {
		fail_peer(g, rp, mla_diag_message(&d));
		goto out;
	}
	for (size_t i = 0; i < page->n; i++)
		take_item(g, rp, &page->items[i]);
	recover_steps_replay(g, &rp->steps, rp->state);
	if (!page->has_next) {
		rp->done = 1;
		recover_steps_report(&rp->steps, rp->state);
		gw_log(GW_LOG_INFO, "recover-peer", NULL, "peer=%s recovered=%zu held=%zu "
		       "refused=%zu conflicts=%zu case_steps=%zu case_steps_left=%zu", rp->state,
		       rp->kept, rp->held, rp->refused, rp->conflicts, rp->steps.applied,
		       recover_steps_left(&rp->steps));
	} else if (recover_cursor_parse(page->next, strlen(page->next), &rp->q.after, &d) !=
		   MLA_OK || (rp->q.has_after = 1, page->n == 0))
		fail_peer(g, rp, "a next page without progress");
	else if (!g->stopping)
		ask(g, rp);
out:
	recover_page_free(page);
	free(page);
}

static void page_done(struct peer_post *p, CURLcode res)
{
	struct rec_xfer *t = (struct rec_xfer *)p; /* its first member */
	struct gw *g = t->g;
	struct gw_recover *rc = g->recover;
	struct rec_peer *rp = NULL;
	long code = peer_post_code(p);
	char why[64];

	for (size_t i = 0; rc != NULL && i < rc->n; i++)
		if (strcmp(rc->peers[i].state, t->state) == 0)
			rp = &rc->peers[i];
	if (rp == NULL)
		goto out;
	rp->t = NULL;
	if (!rc->waiting)
		goto out; /* the wait is over: the peer is named in recovery-incomplete already */
	if (res != CURLE_OK || code != 200) {
		(void)mla_snprintf_cut(why, sizeof(why), "%s%ld%s", res != CURLE_OK ?
				       "transport: " : "HTTP ", res != CURLE_OK ? (long)res : code,
				       code == 404 ? " (the peer does not serve recovery)" : "");
		fail_peer(g, rp, why);
		goto out;
	}
	take_page(g, rp, t);
out:
	xfer_free(t);
}

/* The end of the wait: the mark goes when every peer answered every page. */
static void finish(struct gw *g)
{
	struct gw_recover *rc = g->recover;
	char names[3 * GW_MAX_PEERS + 1] = "", msg[400];
	mla_diag d = {MLA_OK, ""};
	size_t at = 0;

	rc->waiting = 0;
	if (g->hold == rc->hold)
		g->hold = NULL;
	for (size_t i = 0; i < rc->n; i++)
		if (rc->peers[i].done != 1) { /* "CO MX": three bytes a peer at most */
			if (at > 0)
				names[at++] = ' ';
			memcpy(names + at, rc->peers[i].state, 2);
			at += 2;
			names[at] = '\0';
		}
	if (at > 0) {
		(void)mla_snprintf_cut(msg, sizeof(msg), "peers=\"%s\" reason=\"did not give back "
				       "what they hold (no answer within recover_wait, an error, or "
				       "a peer without /mla/v1/recover): asked again at the next "
				       "start\"", names);
		alert(g, "recovery-incomplete", NULL, msg);
		return;
	}
	if (store_recovery_clear(g->store, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=recovery-clear reason=\"%s\"", d.msg);
	else
		gw_log(GW_LOG_INFO, "recovery-done", NULL, "peers=%zu", rc->n);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct gw_recover *rc = g->recover;
	int pending = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < rc->n; i++)
		pending |= rc->peers[i].done == 0;
	if (rc->waiting && (!pending || g->stopping || gw_mono_ms() >= rc->deadline_ms))
		finish(g);
	if (!rc->waiting)
		event_del(rc->timer);
}

static mla_err since(struct gw *g, int64_t *since_ms, mla_diag *d)
{
	int64_t newest = 0;
	mla_err r = store_newest_message_ms(g->store, &newest, d);

	*since_ms = newest > RECOVER_MARGIN_MS ? newest - RECOVER_MARGIN_MS : 0;
	return r;
}

mla_err recover_start(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	struct timeval tick = {0, 100 * 1000};
	struct gw_recover *rc;
	char why[STORE_META_MAX];
	int64_t since_ms = 0;
	int pending = 0;
	mla_err r;

	if ((r = store_recovery_pending(g->store, &pending, why, sizeof(why), diag)) != MLA_OK ||
	    !pending || (r = since(g, &since_ms, diag)) != MLA_OK)
		return r;
	if ((rc = g->recover = calloc(1, sizeof(*rc))) == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < c->n_peers && i < GW_MAX_PEERS; i++) {
		struct rec_peer *rp = &rc->peers[rc->n++];
		memcpy(rp->state, c->peers[i].state, 3);
		rp->q.since_ms = since_ms;
		rp->q.limit = RECOVER_PAGE_ITEMS;
	}
	gw_log(GW_LOG_INFO, "recovery-start", NULL, "mark=%.32s peers=%zu since_ms=%lld", why,
	       rc->n, (long long)since_ms);
	rc->deadline_ms = gw_mono_ms() + (int64_t)c->recover_wait_ms;
	rc->waiting = 1;
	(void)mla_snprintf_cut(rc->hold, sizeof(rc->hold),
			       "starting: asking the peers back the messages this store lost");
	g->hold = rc->hold;
	if ((rc->timer = event_new(g->base, -1, EV_PERSIST, on_timer, g)) == NULL ||
	    event_add(rc->timer, &tick) != 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot start the recovery timer");
	for (size_t i = 0; i < rc->n; i++)
		ask(g, &rc->peers[i]);
	return MLA_OK;
}

int recover_waiting(const struct gw *g)
{
	return g->recover != NULL && g->recover->waiting;
}

void recover_free(struct gw *g)
{
	struct gw_recover *rc = g->recover;

	if (rc == NULL)
		return;
	for (size_t i = 0; i < rc->n; i++)
		recover_steps_free(&rc->peers[i].steps);
	for (size_t i = 0; i < rc->n; i++)
		if (rc->peers[i].t != NULL) {
			peer_client_cancel(g->client, &rc->peers[i].t->c.post);
			xfer_free(rc->peers[i].t);
		}
	if (rc->timer != NULL)
		event_free(rc->timer);
	if (g->hold == rc->hold)
		g->hold = NULL;
	free(rc);
	g->recover = NULL;
}
