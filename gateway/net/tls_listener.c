/* The HTTPS listener both of the gateway's servers use (tls_listener.h). */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "mlagw/codec.h"
#include "core/gw.h"
#include "core/log.h"
#include "tls_limits_internal.h"
#include "tls_listener.h"

#define TLS_READ_PER_TURN ((size_t)256 << 10)

static void count_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct tls_conn *c = arg;

	(void)buf;
	c->rx_bytes += info->n_added;
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct tls_listener *l = arg;
	SSL *ssl = tls_server_ssl(l->ctx, &l->conns, gw_mono_ms());
	struct bufferevent *bev;

	/* NULL makes libevent fall back to a plain socket; such a connection has no tls_conn,
	 * so the handlers authenticate nobody on it (peer 403, API 401) and read nothing. */
	if (ssl == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	tls_conn_of(ssl)->bev = bev;
	/* libevent reads 16 KiB a turn of the loop by default: a body of megabytes (an upload
	 * chunk, a segment) then costs hundreds of turns. 256 KiB a turn keeps each turn short
	 * (one record decrypted at a time, well under a millisecond) and the body fast. */
	if (bufferevent_set_max_single_read(bev, TLS_READ_PER_TURN) != 0) {
		bufferevent_free(bev);
		return NULL;
	}
	/* progress is what arrives on the connection's input, headers and body alike (evhttp
	 * has no end-of-headers hook); the callback sits beside evhttp's own */
	if (evbuffer_add_cb(bufferevent_get_input(bev), count_input, tls_conn_of(ssl)) == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	tls_limits_on_accept(l);
	return bev;
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct tls_listener *l = arg;
	unsigned n;

	(void)fd;
	(void)what;
	n = tls_conn_sweep(&l->conns, gw_mono_ms(), l->slow_ms, l->min_rate);
	tls_limits_sweep(l, gw_mono_ms());
	if (n > 0)
		gw_log(GW_LOG_WARN, "slow-client-closed", NULL, "listener=%s connections=%u",
		       l->name, n);
}

void tls_set_nodelay(evutil_socket_t fd)
{
	int one = 1;

	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static mla_err split_listen(const char *listen, char *host, size_t hn, unsigned short *port)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t len;
	uint64_t p;

	if (colon == NULL || mla_parse_u64(colon + 1, 1, 65535, &p) != MLA_OK)
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

mla_err tls_listener_init(struct tls_listener *l, struct event_base *base, SSL_CTX *ctx,
			  const char *name)
{
	l->ctx = ctx;
	l->name = name;
	if ((l->http = evhttp_new(base)) == NULL)
		return MLA_ERR_NOMEM;
	evhttp_set_bevcb(l->http, make_bev, l);
	return MLA_OK;
}

mla_err tls_listener_bind(struct tls_listener *l, struct event_base *base, const char *listen,
			  const char *what, mla_diag *diag)
{
	struct timeval one = {1, 0};
	char host[256];
	unsigned short port;

	if (split_listen(listen, host, sizeof(host), &port) != MLA_OK)
		return mla_fail(diag, MLA_ERR_CONFIG, "%s '%s' is not host:port", what, listen);
	if ((l->bound = evhttp_bind_socket_with_handle(l->http, host, port)) == NULL)
		return mla_fail(diag, MLA_ERR_IO, "cannot listen on %s (%s)", listen, what);
	tls_set_nodelay(evhttp_bound_socket_get_fd(l->bound));
	if (tls_limits_start(l, base) != MLA_OK)
		return MLA_ERR_NOMEM;
	if ((l->sweep = event_new(base, -1, EV_PERSIST, on_sweep, l)) == NULL ||
	    event_add(l->sweep, &one) != 0)
		return MLA_ERR_NOMEM;
	return MLA_OK;
}

void tls_listener_set_ctx(struct tls_listener *l, SSL_CTX *ctx)
{
	SSL_CTX_free(l->ctx);
	l->ctx = ctx;
}

void tls_listener_stop_accepting(struct tls_listener *l)
{
	if (l->bound != NULL) {
		tls_limits_unregister(l);
		evhttp_del_accept_socket(l->http, l->bound);
		l->bound = NULL;
	}
}

void tls_listener_free(struct tls_listener *l)
{
	if (l->sweep != NULL)
		event_free(l->sweep);
	tls_limits_free(l);
	if (l->http != NULL)
		evhttp_free(l->http); /* frees connections, whose SSLs unlink their records */
	/* libevent may defer freeing a closing connection's SSL to event_base_free: those
	 * records must not unlink themselves from this list once it is freed */
	for (struct tls_conn *c = l->conns.head; c != NULL; c = c->next)
		c->list = NULL;
	SSL_CTX_free(l->ctx);
	memset(l, 0, sizeof(*l));
}
