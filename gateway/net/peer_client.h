/* The outgoing HTTPS client to peer gateways, shared by the relay (envelopes) and the
 * witness client (checkpoints): libcurl's multi interface on the daemon's libevent loop,
 * mutual TLS with our TLS key pair, trusting only the peer State's own roots (and its pin).
 * Each exchange is a struct peer_post that the caller embeds as its first member. */
#ifndef MLAGW_GATEWAY_PEER_CLIENT_H
#define MLAGW_GATEWAY_PEER_CLIENT_H

#include <curl/curl.h>
#include <event2/event.h>

#include "conf/config.h"
#include "mlagw/buf.h"

struct peer_client;
struct peer_blob;     /* bytes curl reads without copying, held by the exchanges using them */
struct peer_identity; /* our certificate and TLS key, likewise held */

enum { PEER_HELD_CA, PEER_HELD_N };

/* One POST to a peer gateway. The caller owns the body and the response buffer, which must
 * outlive the exchange; peer_post_clear frees what the client set up. */
struct peer_post {
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct peer_blob *held[PEER_HELD_N]; /* what curl reads for this exchange's handshake */
	struct peer_identity *identity;      /* what its SSL_CTX gets: our certificate and key */
	/* who takes the finished exchange (and owns it then); p is the caller's record */
	void (*done)(struct peer_post *p, CURLcode res);
	char state[3]; /* the peer State it goes to */
};

/* A peer's answer carried a Mlagw-Directory header (SPEC 18.6): its value as sent (untrusted
 * text) and the URL the exchange went to, for the daemon to judge. */
typedef void (*peer_directory_fn)(void *arg, const char *state, const char *value,
				  const char *url);
/* Sets who is told of such headers (NULL: nobody). */
void peer_client_on_directory(struct peer_client *pc, peer_directory_fn fn, void *arg);

mla_err peer_client_new(struct event_base *base, struct peer_client **out, mla_diag *diag);
/* Reads our TLS client identity and each peer State's roots from c: at start and after each
 * reload (exchanges in progress keep what they were set up with). */
mla_err peer_client_load(struct peer_client *pc, const struct gw_config *c, mla_diag *diag);
/* Sets up p->easy to POST body to url (peer State to_state, per c: roots, pin, timeouts)
 * with content_type and the extra header lines (NULL-terminated; a NULL line ends them), the
 * answer into response. */
mla_err peer_client_post(struct peer_client *pc, const struct gw_config *c, struct peer_post *p,
			 const char *to_state, const char *url, const char *content_type,
			 const char *const *extra_headers, const mla_buf *body, mla_buf *response);
/* Turns p (set up by peer_client_post) into a PUT of the same body (attachment segments,
 * SPEC 17.13), sent at most max_send_bytes_per_s bytes a second (0: no cap). */
void peer_post_as_put(struct peer_post *p, size_t max_send_bytes_per_s);
/* Starts p (set up by peer_client_post); on failure the caller still owns p. */
mla_err peer_client_start(struct peer_client *pc, struct peer_post *p);
/* Takes p out of the client without calling p->done (at a stop). */
void peer_client_cancel(struct peer_client *pc, struct peer_post *p);
/* The HTTP status of a finished exchange (0 without an answer). */
long peer_post_code(const struct peer_post *p);
/* Whether its answer is application/xml (a receipt, rather than a text refusal). */
int peer_post_xml(const struct peer_post *p);
/* Frees what p holds, not p itself. */
void peer_post_clear(struct peer_post *p);

/* One POST with its request body and answer, the first member of the records of the start's
 * heads, witnessing and recovery (the client hands post back; post is first, so is call). */
struct peer_call {
	struct peer_post post;
	mla_buf body, response;
};
/* Frees what c holds, not c itself. */
void peer_call_clear(struct peer_call *c);
void peer_client_free(struct peer_client *pc);

#endif
