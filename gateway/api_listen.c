/* The local API's listener: TLS context (the [api] or the gateway's TLS key pair, TLS 1.2+,
 * client certificates optional and verified against [api] client_ca), binding, the sweep
 * that closes slow clients, reload and orderly stop. Requests go to api_on_request. */
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "api_server.h"
#include "log.h"
#include "mlagw/pem.h"

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	if (!ok)
		gw_log(GW_LOG_WARN, "api-tls-refused", NULL, "reason=\"%s\"",
		       X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
	return ok; /* a certificate presented must verify; none at all is fine (token) */
}

static mla_err load_identity(SSL_CTX *ctx, const struct gw_config *c, mla_diag *diag)
{
	const char *cert = c->api.tls_cert[0] ? c->api.tls_cert : c->tls.cert;
	const char *keyf = c->api.tls_key[0] ? c->api.tls_key : c->tls.key;
	EVP_PKEY *key = NULL;
	mla_err r;

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "[api] cannot use TLS certificate %s", cert);
	if ((r = mla_pem_load_key(keyf, &key, diag)) != MLA_OK)
		return r;
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1)
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "[api] TLS key %s does not match %s", keyf, cert);
	EVP_PKEY_free(key);
	return r;
}

static mla_err client_ca(SSL_CTX *ctx, const char *path, mla_diag *diag)
{
	STACK_OF(X509_NAME) *names;

	if (path[0] == '\0') {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return MLA_OK;
	}
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1 ||
	    (names = SSL_load_client_CA_file(path)) == NULL)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "[api] cannot use client_ca %s", path);
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	return MLA_OK;
}

static mla_err api_tls_ctx(const struct gw_config *c, SSL_CTX **out, mla_diag *diag)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	mla_err r;

	*out = NULL;
	if (ctx == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot create the API TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if ((r = load_identity(ctx, c, diag)) != MLA_OK ||
	    (r = client_ca(ctx, c->api.client_ca, diag)) != MLA_OK) {
		SSL_CTX_free(ctx);
		return r;
	}
	*out = ctx;
	return MLA_OK;
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct gw *g = arg;
	SSL *ssl = tls_server_ssl(g->api->ctx, &g->api->conns, gw_now_ms());
	struct bufferevent *bev;

	/* NULL makes libevent use a plain socket: without an SSL it authenticates nobody (401) */
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

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	unsigned n;

	(void)fd;
	(void)what;
	n = tls_conn_sweep(&g->api->conns, gw_now_ms(), (int64_t)g->snap->cfg.header_timeout_ms);
	if (n > 0)
		gw_log(GW_LOG_WARN, "slow-client-closed", NULL, "listener=api connections=%u", n);
}

static void configure_limits(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	struct gw_api_server *a = g->api;

	a->body_limit = api_config_body_limit(&c->api, c->limits.max_document_bytes);
	/* up to twice the limit is read and refused with a JSON 413; beyond that the HTTP layer
	 * refuses it from its Content-Length without reading it (413, no JSON body) */
	evhttp_set_max_body_size(a->http, (ev_ssize_t)(a->body_limit * 2));
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_timeout(a->http, (int)((c->header_timeout_ms + 999) / 1000) + 30);
}

static mla_err bind_api(struct gw *g, mla_diag *diag)
{
	const char *listen = g->snap->cfg.api.listen, *colon = strrchr(listen, ':');
	char host[API_LISTEN_MAX];
	size_t hl = colon != NULL ? (size_t)(colon - listen) : 0;
	const char *h = listen;
	long port;
	char *end = NULL;

	if (colon == NULL || hl == 0 || hl >= sizeof(host))
		return mla_fail(diag, MLA_ERR_CONFIG, "[api] listen is not host:port");
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return mla_fail(diag, MLA_ERR_CONFIG, "[api] listen is not host:port");
	if ((g->api->bound = evhttp_bind_socket_with_handle(g->api->http, host,
							    (unsigned short)port)) == NULL)
		return mla_fail(diag, MLA_ERR_IO, "cannot listen on %s ([api] listen)", listen);
	return MLA_OK;
}

mla_err api_server_start(struct gw *g, mla_diag *diag)
{
	struct timeval one = {1, 0};
	mla_err r;

	if (g->snap->cfg.api.listen[0] == '\0')
		return MLA_OK;
	if ((g->api = calloc(1, sizeof(*g->api))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = api_tls_ctx(&g->snap->cfg, &g->api->ctx, diag)) != MLA_OK)
		return r;
	if ((g->api->http = evhttp_new(g->base)) == NULL)
		return MLA_ERR_NOMEM;
	evhttp_set_bevcb(g->api->http, make_bev, g);
	evhttp_set_allowed_methods(g->api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						 EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(g->api->http, api_on_request, g);
	configure_limits(g);
	if ((r = bind_api(g, diag)) != MLA_OK)
		return r;
	if ((g->api->sweep = event_new(g->base, -1, EV_PERSIST, on_sweep, g)) == NULL ||
	    event_add(g->api->sweep, &one) != 0)
		return MLA_ERR_NOMEM;
	gw_log(GW_LOG_INFO, "listening", NULL, "api_listener=%s tokens=%zu clients=%zu",
	       g->snap->cfg.api.listen, g->snap->cfg.api.n_tokens, g->snap->cfg.api.n_clients);
	return MLA_OK;
}

mla_err api_server_reload(struct gw *g, mla_diag *diag)
{
	SSL_CTX *ctx = NULL;
	mla_err r;

	if (g->api == NULL)
		return MLA_OK;
	if ((r = api_tls_ctx(&g->snap->cfg, &ctx, diag)) != MLA_OK)
		return r;
	SSL_CTX_free(g->api->ctx);
	g->api->ctx = ctx;
	configure_limits(g);
	return MLA_OK;
}

void api_server_stop_accepting(struct gw *g)
{
	if (g->api != NULL && g->api->bound != NULL) {
		evhttp_del_accept_socket(g->api->http, g->api->bound);
		g->api->bound = NULL;
	}
}

unsigned api_server_busy(const struct gw *g)
{
	return g->api != NULL ? g->api->busy : 0;
}

void api_server_free(struct gw *g)
{
	if (g->api == NULL)
		return;
	if (g->api->sweep != NULL)
		event_free(g->api->sweep);
	if (g->api->http != NULL)
		evhttp_free(g->api->http);
	for (struct tls_conn *c = g->api->conns.head; c != NULL; c = c->next)
		c->list = NULL;
	SSL_CTX_free(g->api->ctx);
	free(g->api);
	g->api = NULL;
}
