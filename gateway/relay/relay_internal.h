/* Internal parts of the relay: the libcurl multi interface driven by libevent
 * (relay_curl.c) and the delivery logic (relay.c). */
#ifndef MLAGW_GATEWAY_RELAY_INTERNAL_H
#define MLAGW_GATEWAY_RELAY_INTERNAL_H

#include <curl/curl.h>

#include "core/gw.h"
#include "mlagw/privkey.h"

/* Bytes curl reads without copying (CURL_BLOB_NOCOPY): a peer State's roots. Counted
 * references: each exchange holds the ones it was set up with, so a reload (SIGHUP) that
 * reads new files never frees what a handshake in progress still reads. */
struct relay_blob {
	unsigned refs;
	mla_buf buf;
	struct curl_blob blob;
};

enum { HELD_CA, HELD_N };

/* Our TLS client identity, counted like the blobs (relay_identity.c). */
struct relay_identity {
	unsigned refs;
	X509 *leaf;
	STACK_OF(X509) *chain; /* the intermediates after the leaf */
	mla_privkey *key;
	int64_t since_ms; /* monotonic time it replaced another identity; 0: the first one */
};

/* One HTTP exchange with a peer: the envelope out, the receipt back. */
struct transfer {
	struct gw *g;
	CURL *easy;
	struct curl_slist *headers;
	char message_id[MLA_UUID_LEN + 1];
	char to_state[3];
	uint8_t digest[32];
	unsigned attempts;
	int64_t started_ms, created_ms, deadline_ms;
	mla_buf envelope;
	mla_buf response;
	char errbuf[CURL_ERROR_SIZE];
	struct transfer *prev, *next; /* the relay's list of exchanges in flight */
	struct relay_blob *held[HELD_N]; /* what curl reads for this exchange's handshake */
	struct relay_identity *identity; /* what its SSL_CTX gets: our certificate and key */
	/* who takes the finished exchange (and owns t then): relay_transfer_done for an
	 * envelope, witness_transfer_done for an add-checkpoint request */
	void (*done)(struct gw *g, struct transfer *t, CURLcode res);
	uint64_t cp_size; /* witness: the size of the checkpoint sent */
};

struct relay_peer {
	char state[3];
	unsigned in_flight;
	unsigned picked; /* taken by the current pump, not yet counted in in_flight */
	/* Backoff is per peer: while a peer is unreachable, one probe (the most urgent message)
	 * is sent at retry_at; the first exchange that gets an answer wakes all its messages, so
	 * they go out in priority order rather than in the order their timers happen to fire. */
	unsigned failures;
	int64_t retry_at;
	char last_error[MLA_DIAG_MAX]; /* why the last exchange with it failed */
	struct relay_blob *ca; /* PEM of this State's roots only */
};

struct gw_relay {
	CURLM *multi;
	struct event *timer;  /* curl's timeout */
	struct event *pump;   /* deferred "look for due messages" */
	struct event *tick;   /* periodic look, for retries coming due */
	struct relay_peer peers[GW_MAX_PEERS];
	size_t n_peers;
	unsigned in_flight;
	struct transfer *transfers;
	struct relay_identity *identity; /* our TLS client identity, read once per (re)load */
	int stopped;
};

/* relay_curl.c */
mla_err relay_curl_init(struct gw *g, mla_diag *diag);
void relay_curl_free(struct gw *g);
/* Starts t (its easy handle is set up); on failure the caller still owns t. */
mla_err relay_curl_start(struct gw *g, struct transfer *t);
/* An envelope exchange finished (t->done of the relay's transfers); owns t afterwards. */
void relay_transfer_done(struct gw *g, struct transfer *t, CURLcode res);

/* relay_identity.c */
/* Loads our certificate chain and TLS key (mla_privkey_load, with its checks). */
mla_err relay_identity_load(const char *cert_path, const char *key_path,
			    struct relay_identity **out, mla_diag *diag);
/* After a reload: id (just loaded) replaces old; the same certificate and key keep old's
 * age, a new one is dated now. */
void relay_identity_replaces(struct relay_identity *id, const struct relay_identity *old);
struct relay_identity *relay_identity_ref(struct relay_identity *id);
void relay_identity_unref(struct relay_identity *id);
/* Makes each new connection of easy present id (CURLOPT_SSL_CTX_FUNCTION), and keeps easy
 * off connections opened before id replaced another: id must live as long as easy, so the
 * exchange holds a reference. */
void relay_identity_set(CURL *easy, struct relay_identity *id);

/* relay.c */
/* Sets up t->easy to POST t->envelope to url with content_type and one extra header line,
 * the answer into t->response, and relay_easy_tls for t->to_state. */
mla_err relay_easy_post(struct gw *g, struct transfer *t, const char *url,
			const char *content_type, const char *extra_header);
/* Collects a response body into t->response (CURLOPT_WRITEFUNCTION). */
size_t relay_on_body(char *data, size_t size, size_t n, void *arg);
/* Schedules a retry with backoff and jitter, or fails the message past its deadline. */
void relay_retry_or_fail(struct gw *g, struct transfer *t, const char *why);
void relay_transfer_free(struct transfer *t);

/* The peer answered (any verified receipt): its queued messages are due again now. */
void relay_peer_up(struct gw *g, const char *state);

/* relay_receipt.c: a worker verifies the receipt in t->response; owns t afterwards. */
void relay_check_receipt(struct gw *g, struct transfer *t);

#endif
