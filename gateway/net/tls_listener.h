/* One HTTPS listener on libevent's evhttp with bufferevent_openssl, shared by the peer and
 * the local API listeners: host:port binding (TCP_NODELAY), an SSL per accepted connection
 * with its tls_conn record, the once-a-second sweep of slow clients, a server context that a
 * reload replaces, and an orderly stop. What differs (routes, limits, contexts) stays with
 * the caller. */
#ifndef MLAGW_GATEWAY_TLS_LISTENER_H
#define MLAGW_GATEWAY_TLS_LISTENER_H

#include <event2/event.h>
#include <event2/http.h>

#include "tls_server.h"

struct tls_listener {
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	SSL_CTX *ctx;               /* owned; new handshakes use it */
	struct tls_conn_list conns;
	struct event *sweep;
	const char *name;           /* "peer" or "api", in log lines */
	int64_t slow_ms;            /* the progress window of the sweep ([limits] header_timeout) */
	uint64_t min_rate;          /* bytes/s a request must move per window (min_receive_rate) */
	unsigned busy;              /* requests waiting for a worker or a commit */
	/* connection limits ([limits] max_connections, max_connections_per_source), both kept
	 * below the descriptor limit: at the total, accepting pauses (new clients wait in the
	 * kernel's backlog, holding no descriptor); beyond the per-source cap the sweep closes
	 * the newest */
	unsigned max_conns, max_per_source;
	int paused;                 /* accepting paused: at the cap, or out of descriptors */
	struct event *resume;       /* re-enables accepting after a descriptor shortage */
	int64_t resume_ms;          /* the current back-off */
	struct tls_refusals {       /* counted, logged at most once per interval per cause */
		unsigned capped_total, capped_source, accept_errors;
		int64_t last_log_ms;
	} refused;
};

/* Creates l->http on base with ctx (taken over, also on failure); the caller then sets its
 * routes and limits and calls tls_listener_bind. */
mla_err tls_listener_init(struct tls_listener *l, struct event_base *base, SSL_CTX *ctx,
			  const char *name);
/* Binds listen ("host:port", "[v6]:port"); `what` names the setting in messages. Starts the
 * sweep. */
mla_err tls_listener_bind(struct tls_listener *l, struct event_base *base, const char *listen,
			  const char *what, mla_diag *diag);
/* Sets the connection limits from the configuration, lowered to fit the process's
 * descriptor limit (shared by two listeners, the store, the peers' connections). */
void tls_listener_limits(struct tls_listener *l, unsigned max_conns, unsigned max_per_source);
/* Replaces the server context: established connections keep theirs. */
void tls_listener_set_ctx(struct tls_listener *l, SSL_CTX *ctx);
void tls_listener_stop_accepting(struct tls_listener *l);
/* Small replies (receipts, JSON): without TCP_NODELAY, Nagle meets the client's delayed
 * ACK and each one waits ~40 ms. Set on the listening socket and, where the system does not
 * pass it on, on each accepted one. */
void tls_set_nodelay(evutil_socket_t fd);
/* Frees everything but l itself. */
void tls_listener_free(struct tls_listener *l);

#endif
