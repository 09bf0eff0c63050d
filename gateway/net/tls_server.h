/* Server-side mutual TLS for the peer listener: the SSL_CTX (TLS 1.2 minimum, client
 * certificate required), the check that a client chains to a trusted State root and is a
 * configured peer (during the handshake), and per-connection records used to enforce the
 * request deadline against slow clients. */
#ifndef MLAGW_GATEWAY_TLS_SERVER_H
#define MLAGW_GATEWAY_TLS_SERVER_H

#include <stdint.h>

#include <event2/bufferevent.h>
#include <openssl/ssl.h>

#include "conf/config.h"
#include "core/crypto_set.h"

struct tls_conn {
	struct tls_conn_list *list;
	struct bufferevent *bev;
	char state[3];       /* authenticated peer State, set in the handshake */
	int64_t window_start_ms; /* monotonic: accept, the end of a request, or the last window */
	uint64_t rx_bytes;       /* bytes received on the connection (decrypted) */
	uint64_t window_rx;      /* rx_bytes when the window started */
	char source[48];         /* the client's IP address, once the sweep has read it */
	int closing;             /* shut down by a limit: bytes already sent may still arrive */
	unsigned busy;       /* requests being processed by workers */
	int nodelay;         /* TCP_NODELAY set on the socket */
	struct tls_conn *prev, *next;
};

struct tls_conn_list {
	struct tls_conn *head;
	unsigned count;
};

/* Builds the server context from the snapshot's TLS key pair, roots and peers; the context
 * keeps a reference to the snapshot for as long as it lives. */
mla_err tls_server_ctx(struct gw_snapshot *snap, SSL_CTX **out, mla_diag *diag);
/* A new SSL for an accepted connection, with its tls_conn record linked into list. */
SSL *tls_server_ssl(SSL_CTX *ctx, struct tls_conn_list *list, int64_t now_ms);
/* The record of an SSL (NULL if none). */
struct tls_conn *tls_conn_of(SSL *ssl);
/* Shuts down connections idle or stuck in a request longer than timeout_ms (slow clients):
 * the socket is shut down and libevent frees the connection on the error it then sees. */
/* A new phase of c (accept, or the end of a request): its progress window starts now. */
void tls_conn_phase_start(struct tls_conn *c, int64_t now_ms);
/* Closes every connection that is not being worked on and that received fewer than min_rate
 * bytes/s (and none at all when min_rate is 0) over a window of window_ms: a client sending
 * its request too slowly, headers or body alike, or one idle since its last request. A body
 * that keeps moving is never cut for its size. Returns how many it closed. */
unsigned tls_conn_sweep(struct tls_conn_list *list, int64_t now_ms, int64_t window_ms,
			uint64_t min_rate);
/* Base64 SHA-256 of a certificate's SubjectPublicKeyInfo in curl's pin form
 * "sha256//..." (out must hold 96 bytes). */
mla_err tls_spki_pin(X509 *cert, char out[96]);

#endif
