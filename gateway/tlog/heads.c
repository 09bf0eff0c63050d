/* Heads at start (SPEC §14 "Heads at start"): before it signs or accepts anything after a
 * start, a gateway asks every peer for the latest head of its own log that peer cosigned.
 * A head counts only when it carries this gateway's own audit signature. A peer holding a
 * head beyond our log, or another root at a size we have, means our store is not the history
 * our peers saw (rolled back, recreated, its write-ahead log lost): then nothing is signed
 * again and the gateway accepts no new work; an operator restores or opens a new log epoch
 * (docs/operations.md). A peer that does not answer within [audit] peer_head_wait is named in
 * a witness-unconfirmed alert and asked again until it answers. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "core/log.h"
#include "heads.h"
#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"
#include "net/peer_client.h"
#include "tlog_internal.h"
#include "witness.h"

#define HEAD_RETRY_MS 1000   /* a peer not answered yet, while the start waits */
#define HEAD_LATE_MS 5000    /* after the start went on without it */
#define HEAD_RESPONSE_MAX (MLA_NOTE_MAX + 16 * MLA_COSIG_LINE_MAX)
#define HOLD_MAX 512

struct head_xfer {
	struct peer_call c; /* first: the client hands its post back to head_done */
	struct gw *g;
	char state[3];
};

struct head_peer {
	char state[3];
	int answered;
	int64_t next_ms; /* monotonic */
	struct head_xfer *t;
};

struct gw_heads {
	struct head_peer peers[GW_MAX_PEERS];
	size_t n;
	int64_t deadline_ms; /* monotonic: the start waits until then at most */
	int waiting;         /* the start is still waiting for answers */
	int forked;          /* a peer holds a history this log does not have: for good */
	char hold[HOLD_MAX]; /* why nothing is accepted (g->hold points here) */
	struct event *timer;
};

static void head_done(struct peer_post *p, CURLcode res);

static void xfer_free(struct head_xfer *t)
{
	if (t == NULL)
		return;
	peer_call_clear(&t->c);
	free(t);
}

static void ask(struct gw *g, struct head_peer *hp)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, hp->state);
	struct head_xfer *t = calloc(1, sizeof(*t));
	char url[GW_URL_MAX + 64], origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	const char *no_headers[] = {NULL};

	hp->next_ms = gw_mono_ms() + (g->tlog->heads->waiting ? HEAD_RETRY_MS : HEAD_LATE_MS);
	if (t == NULL || cp == NULL || !witness_url(cp->url, WITNESS_HEAD_PATH, url, sizeof(url)))
		goto fail;
	t->g = g;
	t->c.post.done = head_done;
	memcpy(t->state, hp->state, 3);
	mla_buf_init(&t->c.body, 128);
	mla_buf_init(&t->c.response, HEAD_RESPONSE_MAX);
	gw_log_origin(g, origin);
	if (mla_buf_append_str(&t->c.body, origin) != MLA_OK ||
	    mla_buf_append_str(&t->c.body, "\n") != MLA_OK ||
	    peer_client_post(g->client, &g->snap->cfg, &t->c.post, t->state, url, "text/plain",
			     no_headers, &t->c.body, &t->c.response) != MLA_OK ||
	    peer_client_start(g->client, &t->c.post) != MLA_OK)
		goto fail;
	hp->t = t;
	return;
fail:
	gw_log(GW_LOG_WARN, "witness-head-error", NULL, "peer=%s reason=\"cannot ask\"",
	       hp->state);
	xfer_free(t);
}

static void alert(struct gw *g, const char *kind, const char *detail)
{
	mla_diag d = {MLA_OK, ""};

	gw_log(GW_LOG_ERROR, kind, NULL, "%s", detail);
	if (store_alert(g->store, kind, NULL, detail, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

/* Our log cannot continue the history this peer cosigned: nothing more is signed. */
static void forked(struct gw *g, const char *state, const char *what)
{
	struct gw_heads *h = g->tlog->heads;

	if (!h->forked)
		(void)mla_snprintf_cut(h->hold, sizeof(h->hold),
				       "peer %s cosigned %s: refusing to sign; this store is not "
				       "the history the peers saw (restored, recreated or its "
				       "write-ahead log lost): see docs/operations.md",
				       state, what);
	h->forked = 1;
	g->tlog->forked = 1;
	g->hold = h->hold;
	alert(g, "audit-fork", h->hold);
}

/* The head the peer sent, verified as ours: under an audit key this store holds, else under
 * the certificate the peer names if it chains to our own State's root (a key the store no
 * longer lists: a restored or recreated store, a rotation), and of our own log's origin. */
static mla_err open_head(struct gw *g, const struct head_xfer *t, const char *origin,
			 mla_checkpoint *cp, mla_diag *d)
{
	mla_note_verifier v[MLA_NOTE_VERIFIERS_MAX];
	size_t n = gw_checkpoint_verifiers(g, origin, v, MLA_NOTE_VERIFIERS_MAX);
	struct curl_header *h = NULL;
	X509 *cert = NULL;
	mla_err r = MLA_ERR_SIG_INVALID;

	if (n > 0)
		r = mla_checkpoint_open((const char *)t->c.response.data, t->c.response.len, v, n, cp,
					NULL, d);
	if (r != MLA_OK &&
	    curl_easy_header(t->c.post.easy, WITNESS_CERT_HEADER, 0, CURLH_HEADER, -1, &h) ==
		    CURLHE_OK &&
	    witness_cert_from_header(g, h->value, g->snap->cfg.state, &cert, d) == MLA_OK &&
	    mla_note_verifier_from_key(origin, X509_get0_pubkey(cert), &v[0], d) == MLA_OK)
		r = mla_checkpoint_open((const char *)t->c.response.data, t->c.response.len, v, 1, cp,
					NULL, d);
	X509_free(cert);
	if (r == MLA_OK && strcmp(cp->origin, origin) != 0)
		r = mla_fail(d, MLA_ERR_SCHEMA, "a head of log '%.64s', not ours", cp->origin);
	return r;
}

/* A verified head is kept in the store (before a fork stops the start) for the operator's
 * `mlagw audit new-epoch`, which links the next epoch to the largest head the peers hold. */
static void keep_head(struct gw *g, const char *state, const struct head_xfer *t)
{
	mla_diag d = {MLA_OK, ""};
	char *note = malloc(t->c.response.len + 1);

	if (note != NULL) {
		memcpy(note, t->c.response.data, t->c.response.len);
		note[t->c.response.len] = '\0';
	}
	if (note == NULL || store_peer_head_put(g->store, state, note, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=peer_head peer=%s reason=\"%s\"",
		       state, note == NULL ? "out of memory" : mla_diag_message(&d));
	free(note);
}

/* A head of a later epoch of our log than the store's, signed by our audit key: the store
 * went back beyond the opening of that epoch (restored from an older backup). Returns 1 when
 * the answer was such a head (the start then fails). */
static int later_epoch(struct gw *g, struct head_peer *hp, const struct head_xfer *t)
{
	const char *note = (const char *)t->c.response.data, *nl;
	char origin[MLA_AUDIT_ORIGIN_MAX + 1], st[3], what[200];
	uint32_t epoch;
	mla_note_verifier v;
	mla_checkpoint cp;
	size_t n;

	if (t->c.response.len == 0 || (nl = memchr(note, '\n', t->c.response.len)) == NULL ||
	    (n = (size_t)(nl - note)) > MLA_AUDIT_ORIGIN_MAX)
		return 0;
	memcpy(origin, note, n);
	origin[n] = '\0';
	if (mla_audit_origin_parse(origin, st, &epoch) != MLA_OK ||
	    strcmp(st, g->snap->cfg.state) != 0 || epoch <= g->tlog->epoch ||
	    g->tlog->audit_key == NULL ||
	    mla_note_verifier_from_key(origin, mla_privkey_public(g->tlog->audit_key), &v,
				       NULL) != MLA_OK ||
	    mla_checkpoint_open(note, t->c.response.len, &v, 1, &cp, NULL, NULL) != MLA_OK)
		return 0;
	keep_head(g, hp->state, t);
	(void)mla_snprintf_cut(what, sizeof(what), "%" PRIu64 " entries of epoch %" PRIu32
			       " of this log, whose store is in epoch %" PRIu32, cp.size, epoch,
			       g->tlog->epoch);
	forked(g, hp->state, what);
	return 1;
}

/* The peer's head against our log: the same root at its size, which we must have. */
static void compare(struct gw *g, struct head_peer *hp, const struct head_xfer *t)
{
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1], what[200];
	uint8_t root[MLA_MERKLE_HASH_LEN];
	uint64_t have = gw_tree_size(g);
	mla_checkpoint cp;
	mla_diag d = {MLA_OK, ""};

	if (later_epoch(g, hp, t))
		return;
	gw_log_origin(g, origin);
	if (open_head(g, t, origin, &cp, &d) != MLA_OK) {
		/* not ours: proves nothing about our log, and must not hold it back either */
		gw_log(GW_LOG_WARN, "witness-head-unverified", NULL,
		       "peer=%s reason=\"%s\"", hp->state, mla_diag_message(&d));
		return;
	}
	keep_head(g, hp->state, t);
	if (cp.size > have)
		(void)mla_snprintf_cut(what, sizeof(what), "%" PRIu64 " entries of this log, which "
				       "has %" PRIu64, cp.size, have);
	else if (gw_tree_root(g, cp.size, root) != MLA_OK ||
		 memcmp(root, cp.root, sizeof(root)) != 0)
		(void)mla_snprintf_cut(what, sizeof(what), "another root at size %" PRIu64
				       " than this log has", cp.size);
	else {
		gw_log(GW_LOG_INFO, "witness-head", NULL, "peer=%s cosigned=%" PRIu64
		       " ours=%" PRIu64 " result=consistent", hp->state, cp.size, have);
		witness_set_cosigned(g, hp->state, cp.size);
		return;
	}
	forked(g, hp->state, what);
}

static void head_done(struct peer_post *p, CURLcode res)
{
	struct head_xfer *t = (struct head_xfer *)p; /* its first member */
	struct gw *g = t->g;
	struct gw_heads *h = g->tlog->heads;
	struct head_peer *hp = NULL;
	long code = peer_post_code(p);

	for (size_t i = 0; h != NULL && i < h->n; i++)
		if (strcmp(h->peers[i].state, t->state) == 0)
			hp = &h->peers[i];
	if (hp == NULL)
		goto out;
	hp->t = NULL;
	if (res != CURLE_OK || (code != 200 && code != 204)) {
		/* asked every few seconds until it answers: one line per peer per interval */
		gw_log_limited(GW_LOG_WARN, "witness-head-error", hp->state, NULL,
			       "peer=%s reason=\"%s%ld\"", hp->state,
			       res != CURLE_OK ? "transport: " : "HTTP ",
			       res != CURLE_OK ? (long)res : code);
		goto out;
	}
	hp->answered = 1;
	if (code == 204)
		gw_log(GW_LOG_INFO, "witness-head", NULL, "peer=%s cosigned=none", hp->state);
	else
		compare(g, hp, t);
out:
	xfer_free(t);
}

static int all_answered(const struct gw_heads *h)
{
	for (size_t i = 0; i < h->n; i++)
		if (!h->peers[i].answered)
			return 0;
	return 1;
}

/* The start stops waiting: every peer answered, or the wait is over (an alert names who
 * did not answer; they are asked on until they do). */
static void stop_waiting(struct gw *g)
{
	struct gw_heads *h = g->tlog->heads;
	char detail[3 * GW_MAX_PEERS + 1] = "";
	size_t at = 0;

	h->waiting = 0;
	g->tlog->heads_done = 1;
	for (size_t i = 0; i < h->n; i++)
		if (!h->peers[i].answered) { /* "CO MX": three bytes a peer at most */
			if (at > 0)
				detail[at++] = ' ';
			memcpy(detail + at, h->peers[i].state, 2);
			at += 2;
			detail[at] = '\0';
		}
	if (at > 0) {
		char msg[400];
		(void)mla_snprintf_cut(msg, sizeof(msg), "peers=\"%s\" reason=\"no answer within "
				       "peer_head_wait: their cosigned heads of this log are checked "
				       "when they answer\"", detail);
		alert(g, "witness-unconfirmed", msg);
	}
	if (!h->forked)
		g->hold = NULL;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct gw_heads *h = g->tlog->heads;
	int64_t now = gw_mono_ms();

	(void)fd;
	(void)what;
	for (size_t i = 0; i < h->n; i++) /* a peer a reload removed is no longer asked */
		if (!h->peers[i].answered && gw_config_peer(&g->snap->cfg, h->peers[i].state) == NULL)
			h->peers[i].answered = 1;
	if (h->waiting && (all_answered(h) || h->forked || now >= h->deadline_ms))
		stop_waiting(g);
	if (!h->waiting && (all_answered(h) || h->forked)) {
		event_del(h->timer); /* nothing left to ask */
		return;
	}
	for (size_t i = 0; i < h->n; i++)
		if (!h->peers[i].answered && h->peers[i].t == NULL && now >= h->peers[i].next_ms &&
		    !g->stopping)
			ask(g, &h->peers[i]);
}

mla_err heads_start(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	struct timeval tick = {0, 100 * 1000};
	struct gw_heads *h;

	if ((h = g->tlog->heads = calloc(1, sizeof(*h))) == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < c->n_peers && i < GW_MAX_PEERS; i++)
		memcpy(h->peers[h->n++].state, c->peers[i].state, 3);
	h->deadline_ms = gw_mono_ms() + (int64_t)c->peer_head_wait_ms;
	h->waiting = h->n > 0;
	if (!h->waiting) {
		g->tlog->heads_done = 1; /* no peer to ask */
		return MLA_OK;
	}
	(void)mla_snprintf_cut(h->hold, sizeof(h->hold),
			       "starting: learning from the peers the heads of this log they cosigned");
	g->hold = h->hold;
	if ((h->timer = event_new(g->base, -1, EV_PERSIST, on_timer, g)) == NULL ||
	    event_add(h->timer, &tick) != 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot start the heads timer");
	for (size_t i = 0; i < h->n; i++)
		ask(g, &h->peers[i]);
	return MLA_OK;
}

int heads_waiting(const struct gw *g)
{
	return g->tlog != NULL && g->tlog->heads != NULL && g->tlog->heads->waiting;
}

int heads_forked(const struct gw *g)
{
	return g->tlog != NULL && g->tlog->forked;
}

void heads_free(struct gw *g)
{
	struct gw_heads *h = g->tlog != NULL ? g->tlog->heads : NULL;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->n; i++)
		if (h->peers[i].t != NULL) {
			peer_client_cancel(g->client, &h->peers[i].t->c.post);
			xfer_free(h->peers[i].t);
		}
	if (h->timer != NULL)
		event_free(h->timer);
	if (g->hold == h->hold)
		g->hold = NULL;
	free(h);
	g->tlog->heads = NULL;
}
