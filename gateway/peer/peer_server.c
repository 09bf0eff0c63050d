/* The peer listener: HTTPS with mutual TLS on libevent's evhttp (bufferevent_openssl).
 * POST /mla/v1/envelopes hands the body to receive.c; everything else is refused with the
 * right status. Binding, TLS per connection and the slow-client sweep are tls_listener's. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "core/log.h"
#include "core/revoc.h"
#include "mlagw/codec.h"
#include "peer.h"
#include "held_count.h"
#include "peer_server.h"
#include "receive_transfer.h"
#include "refusals.h"
#include "segment_sync.h"
#include "net/tls_listener.h"
#include "recover/recover.h"
#include "recover/recover_wire.h"
#include "tlog/witness.h"

/* A token bucket per peer State ([limits] peer_rate, peer_burst). */
struct rate_bucket {
	char state[3];
	double tokens;
	int64_t last_ms, logged_ms;
	uint64_t refused; /* since the last log line */
};

struct gw_peer_server {
	struct tls_listener l;
	struct rate_bucket buckets[GW_MAX_PEERS];
	size_t n_buckets;
	struct refusals *refusals;
	struct event *sweep; /* attachments being received past [limits] transfer_timeout */
	int64_t revoked_alert_ms; /* the last alert of a revoked TLS peer (one a minute) */
	struct seg_sync seg_sync; /* received segments waiting for their file's fsync */
	struct reserve_job *reserving; /* disk reservations in the workers (their jobs own them) */
	struct held_counts held;       /* segments held by the transfers being received */
};

#define SWEEP_S 60

struct seg_sync *peer_seg_sync(struct gw *g)
{
	return &g->peer->seg_sync;
}

struct reserve_job **peer_reservations(struct gw *g)
{
	return &g->peer->reserving;
}

struct held_counts *peer_held_counts(struct gw *g)
{
	return &g->peer->held;
}

struct refusals *peer_refusals(struct gw *g)
{
	return g->peer != NULL ? g->peer->refusals : NULL;
}

static struct tls_conn *conn_of_request(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;

	return bev != NULL ? tls_conn_of(bufferevent_openssl_get_ssl(bev)) : NULL;
}

static void reply_plain(struct evhttp_request *req, int code, const char *reason)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL)
		evbuffer_add_printf(b, "%d %s\n", code, reason);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

/* The client went away while its envelope was in a worker: forget the request. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
	struct recv_req *rr = arg;

	(void)evcon;
	rr->req = NULL;
	rr->conn = NULL;
}

/* The directory this gateway holds, advertised on every answer to a peer's envelope or
 * segment (SPEC 18.6 "Newer directories seen on an exchange"): "<publisher> <serial> <port>",
 * the port of its directory listener, where a peer holding an older serial fetches it (from
 * the host it reached us at). Nothing without a directory served. */
static void advertise_directory(const struct gw *g, struct evhttp_request *req)
{
	const struct gw_snapshot *s = g->snap;
	const char *port = s != NULL ? strrchr(s->cfg.dir_listen, ':') : NULL;
	char v[MLA_DIR_ADVERT_MAX + 1];
	uint64_t p = 0;

	if (s == NULL || s->dir == NULL || port == NULL ||
	    mla_parse_u64n(port + 1, strlen(port + 1), 1, 65535, &p) != MLA_OK)
		return;
	if (mla_dir_advert_format(s->dir->publisher, s->dir->serial, (unsigned)p, v, sizeof(v)) ==
	    MLA_OK)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Mlagw-Directory", v);
}

void recv_reply(struct recv_req *rr, int code, const char *reason, const char *content_type,
		const uint8_t *body, size_t len)
{
	struct evbuffer *b;

	if (rr->g->peer != NULL && rr->g->peer->l.busy > 0)
		rr->g->peer->l.busy--;
	if (rr->req == NULL) {
		free(rr);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(rr->req), NULL, NULL);
	if (rr->conn != NULL) {
		rr->conn->busy--;
		tls_conn_phase_start(rr->conn, gw_mono_ms());
	}
	if ((b = evbuffer_new()) != NULL && body != NULL)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(rr->req), "Content-Type", content_type);
	advertise_directory(rr->g, rr->req);
	evhttp_send_reply(rr->req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
	free(rr);
}

static struct rate_bucket *bucket_of(struct gw_peer_server *ps, const char *state,
				     double burst, int64_t now)
{
	for (size_t i = 0; i < ps->n_buckets; i++)
		if (strcmp(ps->buckets[i].state, state) == 0)
			return &ps->buckets[i];
	if (ps->n_buckets == GW_MAX_PEERS)
		return NULL;
	struct rate_bucket *b = &ps->buckets[ps->n_buckets++];
	memcpy(b->state, state, 3);
	b->tokens = burst;
	b->last_ms = now;
	return b;
}

/* Whether the peer may make one more request now; otherwise a 429 is sent (and logged at
 * most once a second per peer, with the count since). */
static int within_rate(struct gw *g, struct evhttp_request *req, const char *state)
{
	const struct gw_config *c = &g->snap->cfg;
	int64_t now = gw_mono_ms(); /* a wall clock stepping back would drain the bucket */
	struct rate_bucket *b;

	if (c->peer_rate == 0 || (b = bucket_of(g->peer, state, c->peer_burst, now)) == NULL)
		return 1;
	b->tokens += (double)(now - b->last_ms) * c->peer_rate / 1000.0;
	if (b->tokens > c->peer_burst)
		b->tokens = c->peer_burst;
	b->last_ms = now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 1;
	}
	b->refused++;
	if (now - b->logged_ms >= 1000) {
		gw_log(GW_LOG_WARN, "rate-limited", NULL, "peer=%s refused=%llu limit=%u/s", state,
		       (unsigned long long)b->refused, c->peer_rate);
		b->logged_ms = now;
		b->refused = 0;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	reply_plain(req, 429, "Too Many Requests");
	return 0;
}

/* The peer's TLS certificate is not revoked (SPEC 18.7): revoked is refused (403), a status
 * not known yet answered 503 (the refresher is fetching it; the sender retries) unless
 * [revocation] fail = open. Checked per request: a revocation reaches open connections. */
static int tls_not_revoked(struct gw *g, struct evhttp_request *req, const char *state)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (ssl == NULL ||
	    (r = gw_revoc_check_chain(SSL_get0_verified_chain(ssl), "peer TLS", &d)) == MLA_OK)
		return 1;
	gw_log_limited(GW_LOG_WARN, "peer-tls-refused", mla_errname(r), NULL,
		       "peer=%s error=%s reason=\"%s\"", state, mla_errname(r), d.msg);
	if (r == MLA_ERR_CERT_REVOKED) {
		/* recorded as other refusals of a peer are: an alert (at most one a minute) */
		if (gw_mono_ms() - g->peer->revoked_alert_ms >= 60000 &&
		    store_alert(g->store, "revoked", NULL, d.msg, &d) == MLA_OK)
			g->peer->revoked_alert_ms = gw_mono_ms();
		reply_plain(req, 403, "Forbidden");
		return 0;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
	reply_plain(req, 503, "Service Unavailable");
	return 0;
}

/* What every envelope or segment request passes first: its method, a TLS client whose State
 * is known, the peer's request rate, and a gateway not refusing traffic (the sender retries:
 * at start this lasts until the peers' heads are known). Answers and returns NULL when the
 * request stops here, else the connection. */
static struct tls_conn *admit(struct gw *g, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
	struct tls_conn *conn = conn_of_request(req);

	if (evhttp_request_get_command(req) != cmd) {
		reply_plain(req, 405, "Method Not Allowed");
		return NULL;
	}
	if (conn == NULL || conn->state[0] == '\0') {
		reply_plain(req, 403, "Forbidden");
		return NULL;
	}
	if (!within_rate(g, req, conn->state) || !tls_not_revoked(g, req, conn->state))
		return NULL;
	if (gw_refusing(g) != NULL) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		reply_plain(req, 503, "Service Unavailable");
		return NULL;
	}
	return conn;
}

static int is_xml(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");

	return ct != NULL && (strncmp(ct, "application/xml", 15) == 0 ||
			      strncmp(ct, "text/xml", 8) == 0);
}

static void on_envelope(struct evhttp_request *req, void *arg)
{
	struct gw *g = arg;
	struct tls_conn *conn;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct recv_req *rr;
	const char *urgent;
	size_t len = evbuffer_get_length(in);

	if ((conn = admit(g, req, EVHTTP_REQ_POST)) == NULL)
		return;
	if (!is_xml(req)) {
		reply_plain(req, 415, "Unsupported Media Type");
		return;
	}
	if (len == 0) {
		reply_plain(req, 400, "Bad Request");
		return;
	}
	if ((rr = calloc(1, sizeof(*rr))) == NULL) {
		reply_plain(req, 503, "Service Unavailable");
		return;
	}
	if (!conn->nodelay) {
		tls_set_nodelay(bufferevent_getfd(conn->bev));
		conn->nodelay = 1;
	}
	rr->g = g;
	rr->req = req;
	rr->conn = conn;
	conn->busy++;
	g->peer->l.busy++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, rr);
	urgent = evhttp_find_header(evhttp_request_get_input_headers(req), "X-MLA-Priority");
	receive_envelope(g, rr, conn->state, urgent != NULL && strcmp(urgent, "urgent") == 0,
			 evbuffer_pullup(in, -1), len);
}

/* Witnessing (witness_server.c) and recovery: only an authenticated peer gateway, for its
 * own log or messages. */
static void witness_request(struct evhttp_request *req, struct gw *g,
			    void (*serve)(struct gw *, struct evhttp_request *, const char *))
{
	struct tls_conn *conn = conn_of_request(req);

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		reply_plain(req, 405, "Method Not Allowed");
	else if (conn == NULL || conn->state[0] == '\0')
		reply_plain(req, 403, "Forbidden");
	else if (within_rate(g, req, conn->state))
		serve(g, req, conn->state);
}

static void on_witness(struct evhttp_request *req, void *arg)
{
	witness_request(req, arg, witness_serve);
}

static void on_witness_head(struct evhttp_request *req, void *arg)
{
	witness_request(req, arg, witness_serve_head);
}

/* Recovery (recover_serve.c): the same checks, for the asking peer's own messages. */
static void on_recover(struct evhttp_request *req, void *arg)
{
	witness_request(req, arg, recover_serve);
}

#define SEGMENTS_PREFIX "/mla/v1/envelopes/"

/* The request's record while a worker checks and writes its body. */
static struct recv_req *begin_request(struct gw *g, struct evhttp_request *req,
				      struct tls_conn *conn)
{
	struct recv_req *rr = calloc(1, sizeof(*rr));

	if (rr == NULL) {
		reply_plain(req, 503, "Service Unavailable");
		return NULL;
	}
	if (!conn->nodelay) {
		tls_set_nodelay(bufferevent_getfd(conn->bev));
		conn->nodelay = 1;
	}
	rr->g = g;
	rr->req = req;
	rr->conn = conn;
	conn->busy++;
	g->peer->l.busy++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, rr);
	return rr;
}

/* PUT /mla/v1/envelopes/{id}/attachments/{n}/segments/{k} (SPEC 17.13): one encrypted
 * segment, its inclusion proof in X-MLA-Proof. Counted in the peer's request rate like any
 * request. */
static void on_segment(struct evhttp_request *req, struct gw *g, const char *path)
{
	struct tls_conn *conn;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *ct = evhttp_find_header(h, "Content-Type");
	struct recv_req *rr;

	if ((conn = admit(g, req, EVHTTP_REQ_PUT)) == NULL)
		return;
	if (ct == NULL || strncmp(ct, "application/octet-stream", 24) != 0) {
		reply_plain(req, 415, "Unsupported Media Type");
		return;
	}
	if ((rr = begin_request(g, req, conn)) == NULL)
		return;
	receive_segment(g, rr, conn->state, path + strlen(SEGMENTS_PREFIX),
			evhttp_find_header(h, "X-MLA-Proof"), in);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;

	if (path != NULL && strncmp(path, SEGMENTS_PREFIX, strlen(SEGMENTS_PREFIX)) == 0) {
		on_segment(req, arg, path);
		return;
	}
	reply_plain(req, 404, "Not Found");
}

/* Limits that a reload may change. */
static void configure_limits(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	struct evhttp *http = g->peer->l.http;

	g->peer->l.slow_ms = (int64_t)c->header_timeout_ms;
	g->peer->l.min_rate = c->min_receive_rate;
	tls_listener_limits(&g->peer->l, c->max_connections, c->max_connections_per_source);
	evhttp_set_max_body_size(http, (ev_ssize_t)c->max_body_bytes);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, (int)((c->header_timeout_ms + 999) / 1000));
}

static void configure_http(struct gw *g)
{
	struct evhttp *http = g->peer->l.http;

	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET | EVHTTP_REQ_PUT);
	evhttp_set_cb(http, "/mla/v1/envelopes", on_envelope, g);
	evhttp_set_cb(http, WITNESS_PATH, on_witness, g);
	evhttp_set_cb(http, WITNESS_HEAD_PATH, on_witness_head, g);
	evhttp_set_cb(http, RECOVER_PATH, on_recover, g);
	evhttp_set_gencb(http, on_other, g);
	configure_limits(g);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	transfer_sweep(arg);
}

static mla_err peer_server_start(struct gw *g, mla_diag *diag)
{
	struct timeval every = {SWEEP_S, 0};

	SSL_CTX *ctx = NULL;
	mla_err r;

	if ((g->peer = calloc(1, sizeof(*g->peer))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = refusals_new(g, &g->peer->refusals)) != MLA_OK)
		return mla_fail(diag, r, "cannot start the refusal counters");
	if ((r = tls_server_ctx(g->snap, &ctx, diag)) != MLA_OK ||
	    (r = tls_listener_init(&g->peer->l, g->base, ctx, "peer")) != MLA_OK)
		return r;
	configure_http(g);
	if ((g->peer->sweep = event_new(g->base, -1, EV_PERSIST, on_sweep, g)) == NULL ||
	    event_add(g->peer->sweep, &every) != 0)
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot start the transfer sweep");
	if ((r = tls_listener_bind(&g->peer->l, g->base, g->snap->cfg.listen, "listen", diag)) !=
	    MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "listening", NULL, "peer_listener=%s", g->snap->cfg.listen);
	return MLA_OK;
}

static mla_err peer_server_reload(struct gw *g, mla_diag *diag)
{
	SSL_CTX *ctx = NULL;
	mla_err r;

	if ((r = tls_server_ctx(g->snap, &ctx, diag)) != MLA_OK)
		return r;
	tls_listener_set_ctx(&g->peer->l, ctx);
	configure_limits(g);
	return MLA_OK;
}

static void peer_server_stop_accepting(struct gw *g)
{
	if (g->peer == NULL)
		return;
	tls_listener_stop_accepting(&g->peer->l);
	/* the counts so far, before the last checkpoint is signed and witnessed; requests
	 * still in progress are counted again from scratch and written at free */
	refusals_flush(g->peer->refusals);
}

static unsigned peer_server_busy(const struct gw *g)
{
	return g->peer != NULL ? g->peer->l.busy : 0;
}

static void peer_server_free(struct gw *g)
{
	if (g->peer == NULL)
		return;
	refusals_free(g->peer->refusals);
	g->peer->refusals = NULL;
	if (g->peer->sweep != NULL)
		event_free(g->peer->sweep);
	tls_listener_free(&g->peer->l);
	free(g->peer);
	g->peer = NULL;
}

const struct gw_listener peer_listener = {
	.name = "peer",
	.start = peer_server_start,
	.stop_accepting = peer_server_stop_accepting,
	.reload = peer_server_reload,
	.busy = peer_server_busy,
	.free = peer_server_free,
};
