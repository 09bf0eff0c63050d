/* The relay: sends due outbox messages to their peers (crisis and urgent first, a bounded
 * number in flight per peer), has a worker verify each receipt, and records the outcome:
 * delivered or rejected on a verified receipt, otherwise a retry with exponential backoff and
 * jitter until the message's deadline, then failed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/receipt.h"
#include "relay_internal.h"

#define MAX_RECEIPT_BYTES ((size_t)1 << 20)
#define TICK_MS 500
#define SKEW_ALERT_MS 60000 /* one clock-skew alert a minute per peer; every refusal is logged */

static struct relay_peer *peer_of(struct gw_relay *rl, const char *state)
{
	for (size_t i = 0; i < rl->n_peers; i++)
		if (strcmp(rl->peers[i].state, state) == 0)
			return &rl->peers[i];
	return NULL;
}

/* How many exchanges could start now over all peers (a down peer offers one probe). The
 * due query stops once it has found that many, instead of reading the whole backlog. */
static size_t free_slots(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	int64_t now = gw_mono_ms();
	size_t n = 0;

	for (size_t i = 0; i < c->n_peers; i++) {
		struct relay_peer *p = peer_of(g->relay, c->peers[i].state);
		if (p == NULL || p->in_flight >= c->peers[i].max_in_flight)
			continue;
		if (p->failures == 0)
			n += c->peers[i].max_in_flight - p->in_flight;
		else if (p->in_flight == 0 && now >= p->retry_at)
			n++;
	}
	return n;
}

static int has_slot(const char *to_state, void *arg)
{
	struct gw *g = arg;
	struct relay_peer *p = peer_of(g->relay, to_state);
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, to_state);

	/* called per row while the due messages are read, before any of them is started:
	 * count this pump's picks too, or one pump would exceed max_in_flight */
	if (p == NULL || cp == NULL || p->in_flight + p->picked >= cp->max_in_flight)
		return 0;
	/* an unreachable peer gets one probe at a time, once its backoff has passed */
	if (p->failures > 0 && (gw_mono_ms() < p->retry_at || p->in_flight + p->picked > 0))
		return 0;
	p->picked++;
	return 1;
}

static int64_t backoff_ms(const struct gw_retry *r, unsigned attempts)
{
	double d = (double)r->initial_ms * pow(2.0, attempts > 30 ? 30 : attempts);
	unsigned char rnd[2];

	if (d > (double)r->max_ms)
		d = (double)r->max_ms;
	if (RAND_bytes(rnd, 2) != 1)
		rnd[0] = rnd[1] = 128;
	/* jitter: 50% to 150% of the delay, so peers coming back are not hit in lockstep */
	return (int64_t)(d * (0.5 + (double)(rnd[0] << 8 | rnd[1]) / 65536.0));
}

static void fail_message(struct gw *g, const struct out_msg *m, mla_err err, const char *why)
{
	const struct gw_audit_msg a = {
		.message_id = m->message_id, .case_id = m->case_id, .kind = m->kind,
		.action = m->action, .from = g->snap->cfg.state, .to = m->to_state,
		.error = mla_errname(err), .envelope_sha256 = NULL,
	};
	struct relay_peer *p = peer_of(g->relay, m->to_state);
	const char *last = m->last_error[0]		      ? m->last_error
			   : p != NULL && p->last_error[0] ? p->last_error
							   : "none";
	mla_diag d = {MLA_OK, ""};
	char detail[MLA_DIAG_MAX];

	(void)mla_snprintf_cut(detail, sizeof(detail), "%.60s after %u attempts; last error: %.140s", why,
			       m->attempts, last);
	if (store_outbox_set_state(g->store, m->message_id, MSG_FAILED, 0, detail, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "fail", m->message_id,
			       "op=fail reason=\"%s\"", d.msg);
		return;
	}
	(void)gw_audit_message(g, MLA_AUDIT_FAILED, &a);
	gw_log(GW_LOG_ERROR, "failed", m->message_id, "to=%s reason=\"%s\"", m->to_state, detail);
}

/* Fails the message of a finished exchange for good. */
static void fail_transfer(struct gw *g, const struct transfer *t, mla_err err, const char *why,
			  const char *reason)
{
	struct out_msg m;

	memset(&m, 0, sizeof(m));
	memcpy(m.message_id, t->message_id, sizeof(m.message_id));
	memcpy(m.to_state, t->to_state, 3);
	m.attempts = t->attempts + 1;
	(void)mla_snprintf_cut(m.last_error, sizeof(m.last_error), "%s", why);
	fail_message(g, &m, err, reason);
}

/* A failed exchange backs the whole peer off (once per probe round, not once per message in
 * flight) and returns when its next probe is due (on the monotonic clock, as now). */
static int64_t peer_failed(struct gw *g, const char *state, int64_t now)
{
	struct relay_peer *p = peer_of(g->relay, state);

	if (p == NULL)
		return now + backoff_ms(&g->snap->cfg.retry, 0);
	if (p->failures == 0 || now >= p->retry_at) {
		p->retry_at = now + backoff_ms(&g->snap->cfg.retry, p->failures);
		p->failures++;
	}
	return p->retry_at;
}

void relay_peer_up(struct gw *g, const char *state)
{
	struct relay_peer *p = peer_of(g->relay, state);
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	if (p == NULL || p->failures == 0)
		return;
	p->failures = 0;
	if (store_outbox_wake(g->store, state, gw_now_ms(), &n, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "wake", NULL,
			       "op=wake reason=\"%s\"", d.msg);
	gw_log(GW_LOG_INFO, "peer-up", NULL, "peer=%s queued=%zu", state, n);
	relay_kick(g);
}

void relay_retry_or_fail(struct gw *g, struct transfer *t, const char *why)
{
	/* the backoff is an interval (monotonic); the stored retry time is wall clock, for a
	 * restart to keep it */
	int64_t now = gw_now_ms(), mono = gw_mono_ms();
	int64_t next = now + (peer_failed(g, t->to_state, mono) - mono);
	struct relay_peer *p = peer_of(g->relay, t->to_state);
	mla_diag d = {MLA_OK, ""};

	if (p != NULL)
		(void)mla_snprintf_cut(p->last_error, sizeof(p->last_error), "%s", why);
	if (now >= t->deadline_ms) {
		fail_transfer(g, t, MLA_ERR_DEADLINE, why, "deadline passed");
		return;
	}
	if (store_outbox_set_state(g->store, t->message_id, MSG_QUEUED, next, why, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "retry", t->message_id,
			       "op=retry reason=\"%s\"", d.msg);
	gw_log(GW_LOG_WARN, "retry", t->message_id, "to=%s attempt=%u in_ms=%lld reason=\"%s\"",
	       t->to_state, t->attempts + 1, (long long)(next - now), why);
}

void relay_clock_skew(struct gw *g, const struct transfer *t, const mla_receipt *r)
{
	struct relay_peer *p = peer_of(g->relay, t->to_state);
	/* its clock when it refused (a repeat's receipt is the first refusal's, at most a
	 * refusal window old) against ours now: negative when the peer is behind */
	long long offset = (long long)r->received_at - (long long)(gw_now_ms() / 1000);
	int64_t mono = gw_mono_ms();
	mla_diag d = {MLA_OK, ""};
	char detail[MLA_DIAG_MAX];

	(void)mla_snprintf_cut(detail, sizeof(detail), "peer=%s peer_offset_s=%+lld reason=\"%.160s\"",
			       t->to_state, offset, r->error_message);
	gw_log(GW_LOG_WARN, "clock-skew", t->message_id, "%s", detail);
	if (p != NULL && p->skew_alert_ms != 0 && mono - p->skew_alert_ms < SKEW_ALERT_MS)
		return;
	if (p != NULL)
		p->skew_alert_ms = mono;
	if (store_alert(g->store, "clock-skew", t->message_id, detail, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", t->message_id, "op=alert reason=\"%s\"", d.msg);
}

void relay_transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	peer_post_clear(&t->post);
	mla_buf_free(&t->envelope);
	mla_buf_free(&t->response);
	free(t);
}

static void unlink_transfer(struct gw_relay *rl, struct transfer *t)
{
	struct relay_peer *p = peer_of(rl, t->to_state);

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		rl->transfers = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	t->prev = t->next = NULL;
	if (p != NULL && p->in_flight > 0)
		p->in_flight--;
	if (rl->in_flight > 0)
		rl->in_flight--;
}

static mla_err setup_easy(struct gw *g, struct transfer *t)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, t->to_state);
	char idh[80];
	/* a scheduling hint for the receiver's workers only: the signed header decides */
	const char *headers[] = {idh, t->urgent ? "X-MLA-Priority: urgent" : NULL, NULL};

	if (cp == NULL ||
	    mla_snprintf(idh, sizeof(idh), "X-MLA-Message-Id: %s", t->message_id) != MLA_OK)
		return MLA_ERR_INTERNAL;
	return peer_client_post(g->client, &g->snap->cfg, &t->post, t->to_state, cp->url,
				"application/xml", headers, &t->envelope, &t->response);
}

static mla_err audit_sent(struct gw *g, const struct out_msg *m)
{
	const struct gw_audit_msg a = {
		.message_id = m->message_id, .case_id = m->case_id, .kind = m->kind,
		.action = m->action, .from = g->snap->cfg.state, .to = m->to_state,
		.envelope_sha256 = m->digest,
	};

	return gw_audit_message(g, MLA_AUDIT_SENT, &a);
}

static void relay_transfer_done(struct peer_post *p, CURLcode res);

static void start_message(struct gw *g, const struct out_msg *m)
{
	struct gw_relay *rl = g->relay;
	struct relay_peer *p = peer_of(rl, m->to_state);
	struct transfer *t = calloc(1, sizeof(*t));
	mla_diag d = {MLA_OK, ""};

	if (t == NULL || p == NULL)
		goto fail;
	t->g = g;
	t->post.done = relay_transfer_done;
	memcpy(t->message_id, m->message_id, sizeof(t->message_id));
	memcpy(t->to_state, m->to_state, 3);
	memcpy(t->digest, m->digest, 32);
	t->attempts = m->attempts;
	t->created_ms = m->created_ms;
	t->urgent = m->priority != MLA_PRIORITY_NORMAL;
	t->deadline_ms = m->deadline_ms;
	t->started_ms = gw_now_ms();
	mla_buf_init(&t->response, MAX_RECEIPT_BYTES);
	if (store_outbox_envelope(g->store, m->message_id, &t->envelope, &d) != MLA_OK ||
	    setup_easy(g, t) != MLA_OK ||
	    store_outbox_set_state(g->store, m->message_id, MSG_SENDING, 0, NULL, &d) != MLA_OK ||
	    audit_sent(g, m) != MLA_OK || peer_client_start(g->client, &t->post) != MLA_OK)
		goto fail;
	t->next = rl->transfers;
	if (rl->transfers != NULL)
		rl->transfers->prev = t;
	rl->transfers = t;
	p->in_flight++;
	rl->in_flight++;
	return;
fail:
	gw_log(GW_LOG_ERROR, "send-error", m->message_id, "reason=\"%s\"",
	       d.msg[0] ? d.msg : "cannot start the exchange");
	if (store_outbox_set_state(g->store, m->message_id, MSG_QUEUED, gw_now_ms() + 1000,
				   "could not start the exchange", &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "requeue", m->message_id, "op=requeue");
	relay_transfer_free(t);
}

static void pump(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct out_msg due[32];
	mla_diag d = {MLA_OK, ""};
	int64_t now = gw_now_ms();
	size_t n = 0, slots = g->relay->stopped || g->hold != NULL ||
					 g->dir_refusal[0] != '\0' ? 0 : free_slots(g);
	int tx;

	(void)fd;
	(void)what;
	if (slots == 0)
		return; /* a completion or the tick will kick again */
	if (slots > 32)
		slots = 32;
	tx = store_begin(g->store, &d) == MLA_OK; /* one transaction for the whole pump */
	for (size_t i = 0; i < g->relay->n_peers; i++)
		g->relay->peers[i].picked = 0;
	if (store_outbox_due(g->store, now, has_slot, g, due, slots, &n, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "due", NULL,
			       "op=due reason=\"%s\"", d.msg);
	for (size_t i = 0; i < n; i++) {
		if (now >= due[i].deadline_ms)
			fail_message(g, &due[i], MLA_ERR_DEADLINE, "deadline passed");
		else
			start_message(g, &due[i]);
	}
	/* only "sending" marks and failures by deadline: losing the marks in a crash is harmless
	 * (recovery re-queues anyway), and a deadline failure not yet on disk is simply decided
	 * again after a restart */
	if (tx && store_commit_relaxed(g->store, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "commit", NULL,
			       "op=commit reason=\"%s\"", d.msg);
	if (n == slots && free_slots(g) > 0)
		relay_kick(g); /* more may be due: continue after other events */
}

/* "HTTP 503: <the peer's text>" (its first line, at most 160 bytes, control characters
 * dropped): an insufficient storage at the receiver (SPEC 17.13) is named in last_error. */
void relay_text_reason(char *why, size_t cap, long code, const mla_buf *body)
{
	char text[161];
	size_t n = 0;

	for (size_t i = 0; i < body->len && n < sizeof(text) - 1; i++) {
		if (body->data[i] == '\n')
			break;
		if (body->data[i] >= 0x20 && body->data[i] < 0x7f)
			text[n++] = (char)body->data[i];
	}
	text[n] = '\0';
	(void)mla_snprintf_cut(why, cap, "HTTP %ld: %s", code, text);
}

static void relay_transfer_done(struct peer_post *p, CURLcode res)
{
	struct transfer *t = (struct transfer *)p; /* its first member */
	struct gw *g = t->g;
	long code = peer_post_code(p);
	char why[MLA_DIAG_MAX];

	unlink_transfer(g->relay, t);
	relay_kick(g); /* a slot is free */
	/* a 503 may carry a signed refusal of a condition of the link (clock skew, SPEC 13):
	 * checked for the alert it deserves, then retried like any 503 */
	/* an envelope version 3 taken for transfer: its segments follow (SPEC 17.13) */
	if (res == CURLE_OK && code == 202 && t->response.len > 0) {
		relay_segments_begin(g, t);
		return;
	}
	if (res == CURLE_OK && t->response.len > 0 &&
	    (code == 200 || code == 409 || code == 422 || (code == 503 && peer_post_xml(p)))) {
		t->code = code;
		relay_check_receipt(g, t);
		return;
	}
	if (res != CURLE_OK)
		(void)mla_snprintf_cut(why, sizeof(why), "transport: %.200s",
				       p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
	else if (code == 503 && t->response.len > 0 && !peer_post_xml(p))
		relay_text_reason(why, sizeof(why), code, &t->response);
	else
		(void)mla_snprintf_cut(why, sizeof(why), "HTTP %ld without a receipt", code);
	if (res == CURLE_OK && code == 413) {
		fail_transfer(g, t, MLA_ERR_TOO_LARGE, why, "peer refuses the envelope size (HTTP 413)");
	} else {
		relay_retry_or_fail(g, t, why);
	}
	relay_transfer_free(t);
}

/* A slot for each configured peer (the peer client holds their roots). */
static mla_err load_peers(struct gw *g, mla_diag *diag)
{
	struct gw_relay *rl = g->relay;
	const struct gw_config *c = &g->snap->cfg;

	for (size_t i = 0; i < c->n_peers; i++) {
		struct relay_peer *p = peer_of(rl, c->peers[i].state);
		if (p == NULL && rl->n_peers == GW_MAX_PEERS) {
			/* peers removed by reloads keep their slot: a restart frees them */
			return mla_fail(diag, MLA_ERR_CONFIG, "more than %d peer States since the "
					"start: restart to take peer %s", GW_MAX_PEERS,
					c->peers[i].state);
		}
		if (p == NULL) {
			p = &rl->peers[rl->n_peers++];
			memcpy(p->state, c->peers[i].state, 3);
		}
	}
	return MLA_OK;
}

/* Messages past their deadline fail even if their peer never had a slot for them. */
static void expire_overdue(struct gw *g)
{
	struct out_msg late[32];
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	if (store_outbox_overdue(g->store, gw_now_ms(), late, 32, &n, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "overdue", NULL,
			       "op=overdue reason=\"%s\"", d.msg);
	for (size_t i = 0; i < n; i++)
		fail_message(g, &late[i], MLA_ERR_DEADLINE, "deadline passed");
}

/* Retry times are stored on the wall clock (a restart keeps them): after it steps back,
 * every queued message would wait the size of the step on top of its backoff, so all are due
 * now instead (each peer's backoff resumes from its next failure). */
static void wake_after_step_back(struct gw *g)
{
	struct gw_relay *rl = g->relay;
	int64_t now = gw_now_ms(), step = gw_clock_step(&rl->clock, now, gw_mono_ms());
	mla_diag d = {MLA_OK, ""};
	size_t n = 0, all = 0;

	if (step >= 0)
		return;
	for (size_t i = 0; i < rl->n_peers; i++, all += n)
		if (store_outbox_wake(g->store, rl->peers[i].state, now, &n, &d) != MLA_OK) {
			gw_log_limited(GW_LOG_ERROR, "store-error", "wake", NULL,
				       "op=wake reason=\"%s\"", d.msg);
			n = 0;
		}
	gw_log(GW_LOG_INFO, "retries-due", NULL, "queued=%zu reason=\"wall clock went back "
	       "%lld ms: retry times stored before it are due now\"", all, (long long)-step);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (!((struct gw *)arg)->relay->stopped) {
		wake_after_step_back(arg);
		expire_overdue(arg);
	}
	pump(-1, 0, arg);
}

mla_err relay_start(struct gw *g, mla_diag *diag)
{
	struct timeval tick = {0, TICK_MS * 1000};
	size_t recovered = 0;
	mla_err r;

	if ((g->relay = calloc(1, sizeof(*g->relay))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = load_peers(g, diag)) != MLA_OK)
		return r;
	if ((g->relay->pump = event_new(g->base, -1, 0, pump, g)) == NULL ||
	    (g->relay->tick = event_new(g->base, -1, EV_PERSIST, on_tick, g)) == NULL ||
	    event_add(g->relay->tick, &tick) != 0)
		return MLA_ERR_NOMEM;
	if ((r = store_outbox_recover(g->store, gw_now_ms(), &recovered, diag)) != MLA_OK)
		return r;
	if (recovered > 0)
		gw_log(GW_LOG_INFO, "recovered", NULL, "messages=%zu state=queued", recovered);
	relay_kick(g);
	return MLA_OK;
}

mla_err relay_reload(struct gw *g, mla_diag *diag)
{
	return load_peers(g, diag);
}

void relay_kick(struct gw *g)
{
	if (g->relay != NULL && g->relay->pump != NULL && !g->relay->stopped)
		event_active(g->relay->pump, 0, 0);
}

void relay_stop(struct gw *g)
{
	if (g->relay != NULL)
		g->relay->stopped = 1;
}

unsigned relay_in_flight(const struct gw *g)
{
	return g->relay != NULL ? g->relay->in_flight : 0;
}

size_t relay_peers_status(const struct gw *g, struct relay_peer_status *out, size_t max)
{
	size_t n = 0;

	for (; g->relay != NULL && n < g->relay->n_peers && n < max; n++) {
		memcpy(out[n].state, g->relay->peers[n].state, 3);
		out[n].reachable = g->relay->peers[n].failures == 0;
	}
	return n;
}

void relay_free(struct gw *g)
{
	struct gw_relay *rl = g->relay;
	struct transfer *t;

	if (rl == NULL)
		return;
	/* exchanges still in flight stay "sending" in the store: recovered at the next start */
	while ((t = rl->transfers) != NULL) {
		unlink_transfer(rl, t);
		peer_client_cancel(g->client, &t->post);
		relay_transfer_free(t);
	}
	relay_segments_free_all(g);
	if (rl->pump != NULL)
		event_free(rl->pump);
	if (rl->tick != NULL)
		event_free(rl->tick);
	free(rl);
	g->relay = NULL;
}
