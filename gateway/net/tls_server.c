/* Mutual TLS on the peer listener (see tls_server.h). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/revoc.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/privkey.h"
#include "tls_server.h"

static int conn_idx = -1, cfg_idx = -1;

/* Called by SSL_free: the connection is gone, forget its record. */
static void conn_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	struct tls_conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (c == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (c->list != NULL)
		c->list->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->list != NULL)
		c->list->count--;
	free(c);
}

mla_err tls_spki_pin(X509 *cert, char out[96])
{
	unsigned char *der = NULL, md[32];
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	char b64[MLA_B64_LEN(32) + 1];

	if (len <= 0)
		return MLA_ERR_NOMEM; /* i2d only fails to allocate */
	SHA256(der, (size_t)len, md);
	OPENSSL_free(der);
	mla_require(mla_b64_encode(md, 32, b64, sizeof(b64)) == MLA_OK); /* 32 bytes: 44 chars */
	return mla_snprintf(out, 96, "sha256//%s", b64);
}

/* Called by SSL_CTX_free: the context held a reference to its configuration snapshot. */
static void snap_free_cb(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			 void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	gw_snapshot_unref(ptr);
}

static int cert_state(X509 *x, char out[3])
{
	char c[8] = "";

	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_countryName, c,
				      (int)sizeof(c)) != 2)
		return 0;
	memcpy(out, c, 3);
	return 1;
}

/* The client's State is the one of the root it chains to; it must be a configured peer,
 * the leaf must name the same country, and a configured pin must match. */
static int check_client(X509_STORE_CTX *x, const struct gw_config *cfg, char state[3])
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(x);
	X509 *leaf = sk_X509_value(chain, 0), *root = sk_X509_value(chain, sk_X509_num(chain) - 1);
	const struct gw_peer *peer;
	char leaf_state[3], pin[96];

	if (!cert_state(root, state) || !cert_state(leaf, leaf_state) ||
	    strcmp(state, leaf_state) != 0) {
		gw_log(GW_LOG_WARN, "tls-refused", NULL, "reason=\"client certificate State unclear\"");
		return 0;
	}
	if ((peer = gw_config_peer(cfg, state)) == NULL) {
		gw_log(GW_LOG_WARN, "tls-refused", NULL, "peer=%s reason=\"not a configured peer\"",
		       state);
		return 0;
	}
	if (peer->tls_pin[0] != '\0' &&
	    (tls_spki_pin(leaf, pin) != MLA_OK || strcmp(pin, peer->tls_pin) != 0)) {
		gw_log(GW_LOG_WARN, "tls-refused", NULL, "peer=%s reason=\"pin mismatch\"", state);
		return 0;
	}
	return 1;
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	const struct gw_snapshot *snap = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), cfg_idx);
	struct tls_conn *c = SSL_get_ex_data(ssl, conn_idx);
	char state[3];

	if (!ok) {
		gw_log(GW_LOG_WARN, "tls-refused", NULL, "reason=\"%s\"",
		       X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(x) != 0)
		return 1;
	if (snap == NULL || !check_client(x, &snap->cfg, state))
		return 0;
	if (c != NULL)
		memcpy(c->state, state, 3);
	return 1;
}

/* OCSP stapling (SPEC 18.7): a client that asks gets the answer the revocation refresher
 * keeps for our certificate, while it is current; otherwise none. */
static int staple_cb(SSL *ssl, void *arg)
{
	uint8_t *der = NULL;
	size_t len = 0;

	(void)arg;
	if (!gw_revoc_staple(SSL_get_certificate(ssl), &der, &len))
		return SSL_TLSEXT_ERR_NOACK;
	if (SSL_set_tlsext_status_ocsp_resp(ssl, der, (long)len) != 1) { /* takes der */
		OPENSSL_free(der);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

static mla_err load_identity(SSL_CTX *ctx, const struct gw_config *c, mla_diag *diag)
{
	mla_privkey *key = NULL;
	mla_err r;

	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls.cert) != 1)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "cannot use TLS certificate %s", c->tls.cert);
	if ((r = mla_privkey_load(c->tls.key, &key, diag)) != MLA_OK)
		return r;
	/* OpenSSL's TLS drives the key itself (privkey.h); the SSL_CTX takes a reference */
	if (SSL_CTX_use_PrivateKey(ctx, mla_privkey_evp(key)) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "TLS key %s does not match %s", c->tls.key,
			     c->tls.cert);
	mla_privkey_free(key);
	return r;
}

static mla_err load_roots(SSL_CTX *ctx, const struct gw_config *c, mla_diag *diag)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509) *certs = NULL;
	mla_err r = MLA_OK;

	for (size_t i = 0; i < c->n_roots && r == MLA_OK; i++) {
		if ((r = mla_pem_load_certs(c->roots[i], &certs, diag)) != MLA_OK)
			break;
		for (int j = 0; j < sk_X509_num(certs); j++)
			if (X509_STORE_add_cert(store, sk_X509_value(certs, j)) != 1)
				r = mla_fail(diag, MLA_ERR_CERT_FILE, "cannot trust %s", c->roots[i]);
		sk_X509_pop_free(certs, X509_free);
		certs = NULL;
	}
	return r;
}

mla_err tls_server_ctx(struct gw_snapshot *snap, SSL_CTX **out, mla_diag *diag)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const struct gw_config *c = &snap->cfg;
	mla_err r;

	*out = NULL;
	if (conn_idx < 0) {
		conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free_cb);
		cfg_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, snap_free_cb);
	}
	if (ctx == NULL || conn_idx < 0 || cfg_idx < 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot create the TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20");
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_verify_depth(ctx, 4);
	/* no resumption: every connection runs the peer checks of verify_cb again */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_ex_data(ctx, cfg_idx, gw_snapshot_ref(snap));
	if ((r = load_identity(ctx, c, diag)) != MLA_OK || (r = load_roots(ctx, c, diag)) != MLA_OK) {
		SSL_CTX_free(ctx);
		return r;
	}
	gw_revoc_follow_own(SSL_CTX_get0_certificate(ctx), SSL_CTX_get_cert_store(ctx));
	SSL_CTX_set_tlsext_status_cb(ctx, staple_cb);
	*out = ctx;
	return MLA_OK;
}

SSL *tls_server_ssl(SSL_CTX *ctx, struct tls_conn_list *list, int64_t now_ms)
{
	SSL *ssl = SSL_new(ctx);
	struct tls_conn *c = calloc(1, sizeof(*c));

	if (ssl == NULL || c == NULL || SSL_set_ex_data(ssl, conn_idx, c) != 1) {
		SSL_free(ssl);
		free(c);
		return NULL;
	}
	c->list = list;
	c->window_start_ms = now_ms;
	c->next = list->head;
	if (list->head != NULL)
		list->head->prev = c;
	list->head = c;
	list->count++;
	return ssl;
}

struct tls_conn *tls_conn_of(SSL *ssl)
{
	return ssl != NULL ? SSL_get_ex_data(ssl, conn_idx) : NULL;
}

void tls_conn_phase_start(struct tls_conn *c, int64_t now_ms)
{
	c->window_start_ms = now_ms;
	c->window_rx = c->rx_bytes;
}

/* Whether c moved enough in the window that ends now; if so the next window starts. */
static int made_progress(struct tls_conn *c, int64_t now_ms, uint64_t min_rate)
{
	uint64_t got = c->rx_bytes - c->window_rx;
	uint64_t need = min_rate * (uint64_t)(now_ms - c->window_start_ms) / 1000;

	if (got == 0 || got < need)
		return 0;
	tls_conn_phase_start(c, now_ms);
	return 1;
}

unsigned tls_conn_sweep(struct tls_conn_list *list, int64_t now_ms, int64_t window_ms,
			uint64_t min_rate)
{
	unsigned n = 0;

	for (struct tls_conn *c = list->head; c != NULL; c = c->next) {
		evutil_socket_t fd;
		if (c->busy > 0 || c->bev == NULL || c->closing ||
		    now_ms - c->window_start_ms <= window_ms ||
		    made_progress(c, now_ms, min_rate))
			continue;
		if ((fd = bufferevent_getfd(c->bev)) >= 0 && shutdown(fd, SHUT_RDWR) == 0)
			n++;
		tls_conn_phase_start(c, now_ms); /* once is enough; libevent frees it on the error */
	}
	return n;
}
