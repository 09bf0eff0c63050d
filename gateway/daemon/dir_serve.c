/* [directory] listen (SPEC 18.6, Distribution): GET /.well-known/mlagw/directory.xml (the
 * directory in force, as verified) and /.well-known/mlagw/entry.xml (this State's signed
 * entry) over HTTPS with server authentication only, so that clients no State lists can
 * fetch them; the peer listener refuses those in its handshake. GET and HEAD only, no body,
 * small headers, the connection limits and slow-client sweep of the other listeners. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "core/log.h"
#include "dir_serve.h"
#include "mlagw/privkey.h"
#include "net/tls_listener.h"

#define WELL_KNOWN "/.well-known/mlagw/"

struct gw_dir_server {
	struct tls_listener l;
};

static mla_err load_identity(SSL_CTX *ctx, const struct gw_config *c, mla_diag *diag)
{
	mla_privkey *key = NULL;
	mla_err r;

	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls.cert) != 1)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "[directory] listen: cannot use TLS "
				"certificate %s", c->tls.cert);
	if ((r = mla_privkey_load(c->tls.key, &key, diag)) != MLA_OK)
		return r;
	if (SSL_CTX_use_PrivateKey(ctx, mla_privkey_evp(key)) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "[directory] listen: TLS key %s does not "
			     "match %s", c->tls.key, c->tls.cert);
	mla_privkey_free(key);
	return r;
}

/* TLS 1.2+, the gateway's TLS key pair, no client certificate asked for. */
static mla_err dir_tls_ctx(const struct gw_config *c, SSL_CTX **out, mla_diag *diag)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	mla_err r;

	*out = NULL;
	if (ctx == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot create the directory TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((r = load_identity(ctx, c, diag)) != MLA_OK) {
		SSL_CTX_free(ctx);
		return r;
	}
	*out = ctx;
	return MLA_OK;
}

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
		  const void *data, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (b != NULL && len > 0 && evbuffer_add(b, data, len) != 0) {
		evbuffer_free(b);
		b = NULL;
	}
	if (b == NULL)
		evhttp_send_error(req, 503, "Service Unavailable");
	else
		evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct gw *g = arg;
	const struct gw_snapshot *s = g->snap;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const mla_buf *b = NULL;
	static const char nf[] = "not found\n";

	if (path != NULL && strcmp(path, WELL_KNOWN "directory.xml") == 0)
		b = &s->dir_doc;
	else if (path != NULL && strcmp(path, WELL_KNOWN "entry.xml") == 0)
		b = &s->dir_entry;
	if (b == NULL || b->len == 0) {
		reply(req, 404, "Not Found", "text/plain", nf, sizeof(nf) - 1);
		return;
	}
	reply(req, 200, "OK", "application/xml", b->data, b->len);
}

static void configure_limits(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	struct tls_listener *l = &g->dirsrv->l;

	l->slow_ms = (int64_t)c->header_timeout_ms;
	l->min_rate = c->min_receive_rate;
	tls_listener_limits(l, c->max_connections, c->max_connections_per_source);
	evhttp_set_max_body_size(l->http, 0); /* GET and HEAD: no body */
	evhttp_set_max_headers_size(l->http, 8192);
	evhttp_set_timeout(l->http, (int)((c->header_timeout_ms + 999) / 1000) + 30);
}

static mla_err dir_serve_start(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	SSL_CTX *ctx = NULL;
	mla_err r;

	if (c->dir_listen[0] == '\0')
		return MLA_OK;
	if ((g->dirsrv = calloc(1, sizeof(*g->dirsrv))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = dir_tls_ctx(c, &ctx, diag)) != MLA_OK ||
	    (r = tls_listener_init(&g->dirsrv->l, g->base, ctx, "directory")) != MLA_OK)
		return r;
	evhttp_set_allowed_methods(g->dirsrv->l.http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(g->dirsrv->l.http, on_request, g);
	configure_limits(g);
	if ((r = tls_listener_bind(&g->dirsrv->l, g->base, c->dir_listen, "[directory] listen",
				   diag)) != MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "listening", NULL, "directory_listener=%s", c->dir_listen);
	return MLA_OK;
}

static mla_err dir_serve_reload(struct gw *g, mla_diag *diag)
{
	SSL_CTX *ctx = NULL;
	mla_err r;

	if (g->dirsrv == NULL)
		return MLA_OK; /* listen itself needs a restart */
	if ((r = dir_tls_ctx(&g->snap->cfg, &ctx, diag)) != MLA_OK)
		return r;
	tls_listener_set_ctx(&g->dirsrv->l, ctx);
	configure_limits(g);
	return MLA_OK;
}

static void dir_serve_stop_accepting(struct gw *g)
{
	if (g->dirsrv != NULL)
		tls_listener_stop_accepting(&g->dirsrv->l);
}

static unsigned dir_serve_busy(const struct gw *g)
{
	return g->dirsrv != NULL ? g->dirsrv->l.busy : 0;
}

static void dir_serve_free(struct gw *g)
{
	if (g->dirsrv == NULL)
		return;
	tls_listener_free(&g->dirsrv->l);
	free(g->dirsrv);
	g->dirsrv = NULL;
}

const struct gw_listener dir_listener = {
	.name = "directory",
	.start = dir_serve_start,
	.stop_accepting = dir_serve_stop_accepting,
	.reload = dir_serve_reload,
	.busy = dir_serve_busy,
	.free = dir_serve_free,
};
