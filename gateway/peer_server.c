/* The peer listener: HTTPS with mutual TLS on libevent's evhttp (bufferevent_openssl).
 * POST /mla/v1/envelopes hands the body to receive.c; everything else is refused with the
 * right status. A sweep closes connections that take longer than header_timeout. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "log.h"
#include "peer_server.h"

struct gw_peer_server {
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	SSL_CTX *ctx;
	struct tls_conn_list conns;
	struct event *sweep;
	unsigned busy;
};

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct gw *g = arg;
	struct gw_peer_server *ps = g->peer;
	SSL *ssl = tls_server_ssl(ps->ctx, &ps->conns, gw_now_ms());
	struct bufferevent *bev;

	/* Returning NULL makes libevent fall back to a plain socket; such a connection has no
	 * tls_conn, so on_envelope answers it 403 and nothing unauthenticated is ever read. */
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	tls_conn_of(ssl)->bev = bev;
	return bev;
}

/* Receipts are small replies: without TCP_NODELAY, Nagle meets the peer's delayed ACK and
 * each one waits ~40 ms. */
static void set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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

void recv_reply(struct recv_req *rr, int code, const char *reason, const char *content_type,
		const uint8_t *body, size_t len)
{
	struct evbuffer *b;

	if (rr->g->peer != NULL && rr->g->peer->busy > 0)
		rr->g->peer->busy--;
	if (rr->req == NULL) {
		free(rr);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(rr->req), NULL, NULL);
	if (rr->conn != NULL) {
		rr->conn->busy--;
		rr->conn->phase_start_ms = gw_now_ms();
	}
	if ((b = evbuffer_new()) != NULL && body != NULL)
		evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(rr->req), "Content-Type", content_type);
	evhttp_send_reply(rr->req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
	free(rr);
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
	struct tls_conn *conn = conn_of_request(req);
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct recv_req *rr;
	size_t len = evbuffer_get_length(in);

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
			reply_plain(req, 405, "Method Not Allowed");
			return;
	}
	if (conn == NULL || conn->state[0] == '\0') {
			reply_plain(req, 403, "Forbidden");
			return;
	}
	if (g->stopping) {
			reply_plain(req, 503, "Service Unavailable");
			return;
	}
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
		set_nodelay(bufferevent_getfd(conn->bev));
		conn->nodelay = 1;
	}
	rr->g = g;
	rr->req = req;
	rr->conn = conn;
	conn->busy++;
	g->peer->busy++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_close, rr);
	receive_envelope(g, rr, conn->state, evbuffer_pullup(in, -1), len);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply_plain(req, 404, "Not Found");
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	unsigned n;

	(void)fd;
	(void)what;
	n = tls_conn_sweep(&g->peer->conns, gw_now_ms(), (int64_t)g->snap->cfg.header_timeout_ms);
	if (n > 0)
		gw_log(GW_LOG_WARN, "slow-client-closed", NULL, "connections=%u", n);
}

static mla_err split_listen(const char *listen, char *host, size_t hn, unsigned short *port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t len;
	char *end = NULL;
	unsigned long p;

	if (colon == NULL)
		return MLA_ERR_CONFIG;
	p = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || *end != '\0' || p == 0 || p > 65535)
		return MLA_ERR_CONFIG;
	len = (size_t)(colon - listen);
	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len == 0 || len >= hn)
		return MLA_ERR_CONFIG;
	memcpy(host, h, len);
	host[len] = '\0';
	*port = (unsigned short)p;
	return MLA_OK;
}

static mla_err bind_listener(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	char host[GW_NAME_MAX];
	unsigned short port;

	if (split_listen(c->listen, host, sizeof(host), &port) != MLA_OK)
		return mla_fail(diag, MLA_ERR_CONFIG, "listen '%s' is not host:port", c->listen);
	g->peer->bound = evhttp_bind_socket_with_handle(g->peer->http, host, port);
	if (g->peer->bound == NULL)
		return mla_fail(diag, MLA_ERR_IO, "cannot listen on %s", c->listen);
	set_nodelay(evhttp_bound_socket_get_fd(g->peer->bound)); /* inherited by accepted ones */
	return MLA_OK;
}

/* Limits that a reload may change. */
static void configure_limits(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	struct evhttp *http = g->peer->http;

	evhttp_set_max_body_size(http, (ev_ssize_t)c->max_body_bytes);
	evhttp_set_max_headers_size(http, 16384);
	evhttp_set_timeout(http, (int)((c->header_timeout_ms + 999) / 1000));
}

static void configure_http(struct gw *g)
{
	struct evhttp *http = g->peer->http;

	evhttp_set_bevcb(http, make_bev, g);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_cb(http, "/mla/v1/envelopes", on_envelope, g);
	evhttp_set_gencb(http, on_other, g);
	configure_limits(g);
}

mla_err peer_server_start(struct gw *g, mla_diag *diag)
{
	struct timeval one = {1, 0};
	mla_err r;

	if ((g->peer = calloc(1, sizeof(*g->peer))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = tls_server_ctx(g->snap, &g->peer->ctx, diag)) != MLA_OK)
		return r;
	if ((g->peer->http = evhttp_new(g->base)) == NULL)
		return MLA_ERR_NOMEM;
	configure_http(g);
	if ((r = bind_listener(g, diag)) != MLA_OK)
		return r;
	if ((g->peer->sweep = event_new(g->base, -1, EV_PERSIST, on_sweep, g)) == NULL ||
	    event_add(g->peer->sweep, &one) != 0)
		return MLA_ERR_NOMEM;
	gw_log(GW_LOG_INFO, "listening", NULL, "peer_listener=%s", g->snap->cfg.listen);
	return MLA_OK;
}

mla_err peer_server_reload(struct gw *g, mla_diag *diag)
{
	SSL_CTX *ctx = NULL;
	mla_err r;

	/* new handshakes use the new context; established connections keep theirs */
	if ((r = tls_server_ctx(g->snap, &ctx, diag)) != MLA_OK)
		return r;
	SSL_CTX_free(g->peer->ctx);
	g->peer->ctx = ctx;
	configure_limits(g);
	return MLA_OK;
}

void peer_server_stop_accepting(struct gw *g)
{
	if (g->peer != NULL && g->peer->bound != NULL) {
		evhttp_del_accept_socket(g->peer->http, g->peer->bound);
		g->peer->bound = NULL;
	}
}

unsigned peer_server_busy(const struct gw *g)
{
	return g->peer != NULL ? g->peer->busy : 0;
}

void peer_server_free(struct gw *g)
{
	if (g->peer == NULL)
		return;
	if (g->peer->sweep != NULL)
		event_free(g->peer->sweep);
	if (g->peer->http != NULL)
		evhttp_free(g->peer->http); /* frees connections, whose SSLs unlink their records */
	/* libevent may defer freeing a closing connection's SSL to event_base_free: those
	 * records must not unlink themselves from this list once it is freed below */
	for (struct tls_conn *c = g->peer->conns.head; c != NULL; c = c->next)
		c->list = NULL;
	SSL_CTX_free(g->peer->ctx);
	free(g->peer);
	g->peer = NULL;
}
