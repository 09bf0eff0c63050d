/* The local API's listener: its TLS context (the [api] or the gateway's TLS key pair, TLS
 * 1.2+, client certificates optional and verified against [api] client_ca) and limits on the
 * shared tls_listener (binding, slow-client sweep, reload, stop). Requests go to
 * api_on_request. */
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "api.h"
#include "api_server.h"
#include "core/log.h"
#include "mlagw/pem.h"
#include "mlagw/privkey.h"

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
	mla_privkey *key = NULL;
	mla_err r;

	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "[api] cannot use TLS certificate %s", cert);
	if ((r = mla_privkey_load(keyf, &key, diag)) != MLA_OK)
		return r;
	/* OpenSSL's TLS drives the key itself (privkey.h); the SSL_CTX takes a reference */
	if (SSL_CTX_use_PrivateKey(ctx, mla_privkey_evp(key)) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "[api] TLS key %s does not match %s", keyf, cert);
	mla_privkey_free(key);
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

static void configure_limits(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	struct gw_api_server *a = g->api;

	a->body_limit = api_config_body_limit(&c->api, c->limits.max_document_bytes);
	/* up to twice the limit is read and refused with a JSON 413; beyond that the HTTP layer
	 * refuses it from its Content-Length without reading it (413, no JSON body) */
	a->l.slow_ms = (int64_t)c->header_timeout_ms;
	a->l.min_rate = c->min_receive_rate;
	tls_listener_limits(&a->l, c->max_connections, c->max_connections_per_source);
	evhttp_set_max_body_size(a->l.http, (ev_ssize_t)(a->body_limit * 2));
	evhttp_set_max_headers_size(a->l.http, 16384);
	evhttp_set_timeout(a->l.http, (int)((c->header_timeout_ms + 999) / 1000) + 30);
}

static mla_err api_server_start(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	SSL_CTX *ctx = NULL;
	mla_err r;

	if (c->api.listen[0] == '\0')
		return MLA_OK;
	if ((g->api = calloc(1, sizeof(*g->api))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = api_tls_ctx(c, &ctx, diag)) != MLA_OK ||
	    (r = tls_listener_init(&g->api->l, g->base, ctx, "api")) != MLA_OK)
		return r;
	evhttp_set_allowed_methods(g->api->l.http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
							   EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
							   EVHTTP_REQ_DELETE);
	evhttp_set_gencb(g->api->l.http, api_on_request, g);
	configure_limits(g);
	if ((r = tls_listener_bind(&g->api->l, g->base, c->api.listen, "[api] listen", diag)) !=
	    MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "listening", NULL, "api_listener=%s tokens=%zu clients=%zu",
	       c->api.listen, c->api.n_tokens, c->api.n_clients);
	return MLA_OK;
}

static mla_err api_server_reload(struct gw *g, mla_diag *diag)
{
	SSL_CTX *ctx = NULL;
	mla_err r;

	if (g->api == NULL)
		return MLA_OK;
	if ((r = api_tls_ctx(&g->snap->cfg, &ctx, diag)) != MLA_OK)
		return r;
	tls_listener_set_ctx(&g->api->l, ctx);
	configure_limits(g);
	return MLA_OK;
}

static void api_server_stop_accepting(struct gw *g)
{
	if (g->api != NULL)
		tls_listener_stop_accepting(&g->api->l);
}

static unsigned api_server_busy(const struct gw *g)
{
	return g->api != NULL ? g->api->l.busy : 0;
}

static void api_server_free(struct gw *g)
{
	if (g->api == NULL)
		return;
	tls_listener_free(&g->api->l);
	free(g->api);
	g->api = NULL;
}

const struct gw_listener api_listener = {
	.name = "api",
	.start = api_server_start,
	.stop_accepting = api_server_stop_accepting,
	.reload = api_server_reload,
	.busy = api_server_busy,
	.free = api_server_free,
};
