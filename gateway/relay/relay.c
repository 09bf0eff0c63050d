/* The relay: sends due outbox messages to their peers (crisis and urgent first, a bounded
 * number in flight per peer), has a worker verify each receipt, and records the outcome:
 * delivered or rejected on a verified receipt, otherwise a retry with exponential backoff and
 * jitter until the message's deadline, then failed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "tlog/audit.h"
#include "core/log.h"
#include "mlagw/pem.h"
#include "mlagw/receipt.h"
#include "relay_internal.h"
#include "tlog/witness.h"

#define MAX_RECEIPT_BYTES ((size_t)1 << 20)
#define TICK_MS 500

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
	int64_t now = gw_now_ms();
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
	if (p->failures > 0 && (gw_now_ms() < p->retry_at || p->in_flight + p->picked > 0))
		return 0;
	p->picked++;
	return 1;
}

size_t relay_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;

	/* refusing more than a receipt can be ends the exchange with an error */
	return mla_buf_append(&t->response, data, size * n) == MLA_OK ? size * n : 0;
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

	(void)snprintf(detail, sizeof(detail), "%.60s after %u attempts; last error: %.140s", why,
		       m->attempts, last);
	if (store_outbox_set_state(g->store, m->message_id, MSG_FAILED, 0, detail, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "store-error", m->message_id, "op=fail reason=\"%s\"", d.msg);
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
	(void)snprintf(m.last_error, sizeof(m.last_error), "%s", why);
	fail_message(g, &m, err, reason);
}

/* A failed exchange backs the whole peer off (once per probe round, not once per message in
 * flight) and returns when its next probe is due. */
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
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=wake reason=\"%s\"", d.msg);
	gw_log(GW_LOG_INFO, "peer-up", NULL, "peer=%s queued=%zu", state, n);
	relay_kick(g);
}

void relay_retry_or_fail(struct gw *g, struct transfer *t, const char *why)
{
	int64_t now = gw_now_ms(), next = peer_failed(g, t->to_state, now);
	struct relay_peer *p = peer_of(g->relay, t->to_state);
	mla_diag d = {MLA_OK, ""};

	if (p != NULL)
		(void)snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	if (now >= t->deadline_ms) {
		fail_transfer(g, t, MLA_ERR_DEADLINE, why, "deadline passed");
		return;
	}
	if (store_outbox_set_state(g->store, t->message_id, MSG_QUEUED, next, why, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", t->message_id, "op=retry reason=\"%s\"", d.msg);
	gw_log(GW_LOG_WARN, "retry", t->message_id, "to=%s attempt=%u in_ms=%lld reason=\"%s\"",
	       t->to_state, t->attempts + 1, (long long)(next - now), why);
}

static struct relay_blob *blob_new(void)
{
	struct relay_blob *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->refs = 1;
	mla_buf_init(&b->buf, 1 << 20);
	return b;
}

/* After the bytes are in: what curl is given. */
static void blob_seal(struct relay_blob *b)
{
	b->blob = (struct curl_blob){b->buf.data, b->buf.len, CURL_BLOB_NOCOPY};
}

static struct relay_blob *blob_ref(struct relay_blob *b)
{
	b->refs++;
	return b;
}

static void blob_unref(struct relay_blob *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	mla_buf_free(&b->buf);
	free(b);
}

/* Replaces *slot by b (owned), dropping the old reference. */
static void blob_swap(struct relay_blob **slot, struct relay_blob *b)
{
	blob_unref(*slot);
	*slot = b;
}

void relay_transfer_free(struct transfer *t)
{
	if (t == NULL)
		return;
	if (t->easy != NULL)
		curl_easy_cleanup(t->easy);
	for (int i = 0; i < HELD_N; i++)
		blob_unref(t->held[i]);
	relay_identity_unref(t->identity); /* after the handle that may still call back */
	curl_slist_free_all(t->headers);
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

/* The TLS and timeout options every exchange with peer t->to_state uses: our client
 * certificate and key (on each connection's SSL_CTX), that State's roots only, the optional
 * pin, TLS 1.2 minimum. t holds the identity and the blobs until it is freed. */
static mla_err relay_easy_tls(struct gw *g, struct transfer *t)
{
	const struct gw_config *c = &g->snap->cfg;
	const struct gw_peer *cp = gw_config_peer(c, t->to_state);
	struct relay_peer *p = peer_of(g->relay, t->to_state);
	CURL *easy = t->easy;

	if (cp == NULL || p == NULL || p->ca == NULL || g->relay->identity == NULL)
		return MLA_ERR_INTERNAL;
	t->identity = relay_identity_ref(g->relay->identity);
	t->held[HELD_CA] = blob_ref(p->ca);
	relay_identity_set(easy, t->identity);
	/* the peer must present a certificate of its own State's root, and no other */
	curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &t->held[HELD_CA]->blob);
	curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
	if (cp->tls_pin[0] != '\0')
		curl_easy_setopt(easy, CURLOPT_PINNEDPUBLICKEY, cp->tls_pin);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)c->retry.request_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)c->retry.connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	return MLA_OK;
}

mla_err relay_easy_post(struct gw *g, struct transfer *t, const char *url,
			const char *content_type, const char *extra_header)
{
	char ct[64];

	if ((t->easy = curl_easy_init()) == NULL)
		return MLA_ERR_INTERNAL;
	(void)snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
	t->headers = curl_slist_append(NULL, ct);
	t->headers = curl_slist_append(t->headers, "Expect:"); /* no 100-continue round trip */
	t->headers = curl_slist_append(t->headers, extra_header);
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, (const char *)t->envelope.data);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->envelope.len);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, relay_on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (char *)t);
	if (relay_easy_tls(g, t) != MLA_OK)
		return MLA_ERR_INTERNAL;
	return t->headers != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err setup_easy(struct gw *g, struct transfer *t)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, t->to_state);
	char idh[80];

	if (cp == NULL)
		return MLA_ERR_INTERNAL;
	(void)snprintf(idh, sizeof(idh), "X-MLA-Message-Id: %s", t->message_id);
	return relay_easy_post(g, t, cp->url, "application/xml", idh);
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

static void start_message(struct gw *g, const struct out_msg *m)
{
	struct gw_relay *rl = g->relay;
	struct relay_peer *p = peer_of(rl, m->to_state);
	struct transfer *t = calloc(1, sizeof(*t));
	mla_diag d = {MLA_OK, ""};

	if (t == NULL || p == NULL)
		goto fail;
	t->g = g;
	t->done = relay_transfer_done;
	memcpy(t->message_id, m->message_id, sizeof(t->message_id));
	memcpy(t->to_state, m->to_state, 3);
	memcpy(t->digest, m->digest, 32);
	t->attempts = m->attempts;
	t->created_ms = m->created_ms;
	t->deadline_ms = m->deadline_ms;
	t->started_ms = gw_now_ms();
	mla_buf_init(&t->response, MAX_RECEIPT_BYTES);
	if (store_outbox_envelope(g->store, m->message_id, &t->envelope, &d) != MLA_OK ||
	    setup_easy(g, t) != MLA_OK ||
	    store_outbox_set_state(g->store, m->message_id, MSG_SENDING, 0, NULL, &d) != MLA_OK ||
	    audit_sent(g, m) != MLA_OK || relay_curl_start(g, t) != MLA_OK)
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
		gw_log(GW_LOG_ERROR, "store-error", m->message_id, "op=requeue");
	relay_transfer_free(t);
}

static void pump(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct out_msg due[32];
	mla_diag d = {MLA_OK, ""};
	int64_t now = gw_now_ms();
	size_t n = 0, slots = g->relay->stopped ? 0 : free_slots(g);
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
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=due reason=\"%s\"", d.msg);
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
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=commit reason=\"%s\"", d.msg);
	if (n == slots && free_slots(g) > 0)
		relay_kick(g); /* more may be due: continue after other events */
}

void relay_transfer_done(struct gw *g, struct transfer *t, CURLcode res)
{
	long code = 0;
	char why[MLA_DIAG_MAX];

	unlink_transfer(g->relay, t);
	relay_kick(g); /* a slot is free */
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (res == CURLE_OK && (code == 200 || code == 409 || code == 422) && t->response.len > 0) {
		relay_check_receipt(g, t);
		return;
	}
	if (res != CURLE_OK)
		(void)snprintf(why, sizeof(why), "transport: %.200s",
			       t->errbuf[0] ? t->errbuf : curl_easy_strerror(res));
	else
		(void)snprintf(why, sizeof(why), "HTTP %ld without a receipt", code);
	if (res == CURLE_OK && code == 413) {
		fail_transfer(g, t, MLA_ERR_TOO_LARGE, why, "peer refuses the envelope size (HTTP 413)");
	} else {
		relay_retry_or_fail(g, t, why);
	}
	relay_transfer_free(t);
}

/* This State's roots as one PEM blob, for curl's CA store of a peer. */
static mla_err state_roots_pem(const struct gw_config *c, const char *state, mla_buf *out,
			       mla_diag *diag)
{
	STACK_OF(X509) *certs = NULL;
	char cs[8];
	mla_err r = MLA_OK;

	mla_buf_init(out, 1 << 20);
	for (size_t i = 0; i < c->n_roots && r == MLA_OK; i++) {
		if ((r = mla_pem_load_certs(c->roots[i], &certs, diag)) != MLA_OK)
			break;
		for (int j = 0; j < sk_X509_num(certs) && r == MLA_OK; j++) {
			X509 *x = sk_X509_value(certs, j);
			BIO *bio;
			char *pem;
			long len;
			if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_countryName, cs,
						      (int)sizeof(cs)) != 2 || strcmp(cs, state) != 0)
				continue;
			if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509(bio, x) != 1)
				r = MLA_ERR_NOMEM;
			else if ((len = BIO_get_mem_data(bio, &pem)) > 0)
				r = mla_buf_append(out, pem, (size_t)len);
			BIO_free(bio);
		}
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	if (r == MLA_OK && out->len == 0)
		r = mla_fail(diag, MLA_ERR_CONFIG, "no trusted root for peer %s", state);
	return r;
}

/* Our TLS client identity, read once instead of at every new connection. */
static mla_err load_identity(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	struct relay_identity *id = NULL;
	mla_err r;

	if ((r = relay_identity_load(c->tls.cert, c->tls.key, &id, diag)) != MLA_OK)
		return r;
	relay_identity_replaces(id, g->relay->identity);
	relay_identity_unref(g->relay->identity); /* exchanges in flight keep theirs */
	g->relay->identity = id;
	return MLA_OK;
}

static mla_err load_peers(struct gw *g, mla_diag *diag)
{
	struct gw_relay *rl = g->relay;
	const struct gw_config *c = &g->snap->cfg;
	unsigned slots = 0;
	mla_err r;

	for (size_t i = 0; i < c->n_peers; i++) {
		struct relay_peer *p = peer_of(rl, c->peers[i].state);
		struct relay_blob *ca = blob_new();
		if (ca == NULL)
			return MLA_ERR_NOMEM;
		if (p == NULL && rl->n_peers == GW_MAX_PEERS) {
			/* peers removed by reloads keep their slot: a restart frees them */
			blob_unref(ca);
			return mla_fail(diag, MLA_ERR_CONFIG, "more than %d peer States since the "
					"start: restart to take peer %s", GW_MAX_PEERS,
					c->peers[i].state);
		}
		if (p == NULL) {
			p = &rl->peers[rl->n_peers++];
			memcpy(p->state, c->peers[i].state, 3);
		}
		if ((r = state_roots_pem(c, p->state, &ca->buf, diag)) != MLA_OK) {
			blob_unref(ca);
			return r;
		}
		blob_seal(ca);
		blob_swap(&p->ca, ca);
		slots += c->peers[i].max_in_flight;
	}
	/* keep a connection per possible exchange: reuse instead of a handshake per message */
	curl_multi_setopt(rl->multi, CURLMOPT_MAXCONNECTS, (long)slots + 4);
	return load_identity(g, diag);
}

/* Messages past their deadline fail even if their peer never had a slot for them. */
static void expire_overdue(struct gw *g)
{
	struct out_msg late[32];
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	if (store_outbox_overdue(g->store, gw_now_ms(), late, 32, &n, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=overdue reason=\"%s\"", d.msg);
	for (size_t i = 0; i < n; i++)
		fail_message(g, &late[i], MLA_ERR_DEADLINE, "deadline passed");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	if (!((struct gw *)arg)->relay->stopped)
		expire_overdue(arg);
	pump(-1, 0, arg);
}

mla_err relay_start(struct gw *g, mla_diag *diag)
{
	struct timeval tick = {0, TICK_MS * 1000};
	size_t recovered = 0;
	mla_err r;

	if ((g->relay = calloc(1, sizeof(*g->relay))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = relay_curl_init(g, diag)) != MLA_OK || (r = load_peers(g, diag)) != MLA_OK)
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

void relay_free(struct gw *g)
{
	struct gw_relay *rl = g->relay;
	struct transfer *t;

	if (rl == NULL)
		return;
	witness_free(g);
	/* exchanges still in flight stay "sending" in the store: recovered at the next start */
	while ((t = rl->transfers) != NULL) {
		unlink_transfer(rl, t);
		curl_multi_remove_handle(rl->multi, t->easy);
		relay_transfer_free(t);
	}
	relay_curl_free(g);
	if (rl->pump != NULL)
		event_free(rl->pump);
	if (rl->tick != NULL)
		event_free(rl->tick);
	for (size_t i = 0; i < rl->n_peers; i++)
		blob_unref(rl->peers[i].ca);
	relay_identity_unref(rl->identity);
	free(rl);
	g->relay = NULL;
}
