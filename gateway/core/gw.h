/* The daemon's state, owned by the event loop thread: configuration snapshot, store, worker
 * pool, the peer listener, the local submission listener, the local API and the relay. */
#ifndef MLAGW_GATEWAY_GW_H
#define MLAGW_GATEWAY_GW_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "mlagw/merkle.h"
#include "mlagw/privkey.h"

#include "conf/config.h"
#include "crypto_set.h"
#include "pool.h"
#include "store/store.h"

#define GW_KEY_PAIRS 4 /* tls, sign, encrypt, audit */

struct gw_peer_server;
struct gw_submit_server;
struct gw_relay;
struct gw_api_server;
struct gw_witness;

struct gw {
	struct event_base *base;
	struct gw_snapshot *snap;   /* current configuration */
	unsigned gen;               /* bumped by each reload */
	char config_path[PATH_MAX];
	gw_store *store;
	struct gw_pool *pool;
	struct gw_crypto *crypto;   /* the loop thread's own key set (rare paths) */
	struct gw_peer_server *peer;
	struct gw_submit_server *submit;
	struct gw_relay *relay;
	struct gw_api_server *api;  /* NULL without [api] */
	struct event *sig_term, *sig_int, *sig_hup, *drain;
	int stopping;
	uint64_t audit_next;        /* the audit log's next sequence number (audit.c) */
	/* the audit tree and its checkpoints (checkpoint.c) */
	struct mla_merkle_tree *tree; /* leaves 0 .. audit_next - 1 */
	mla_privkey *audit_key;     /* Ed25519, signs the checkpoints (privkey.h) */
	uint64_t cp_size;           /* size of the latest stored checkpoint */
	int cp_ready;               /* the log passed every check at start: only then sign */
	int64_t stop_witness_ms;    /* stopping: until when the last cosignatures are awaited */
	uint64_t cp_interval_ms;    /* the timer's current period */
	struct event *cp_timer;
	struct gw_witness *witness; /* witnessing with the peers (witness_client.c) */
	uint8_t key_digest[GW_KEY_PAIRS][32]; /* the key pairs' files as loaded (key-changed) */
	/* group commit (batch.c) */
	int batch_open;
	int batch_failed;
	struct gw_after *after_head, *after_tail;
};

/* Group commit (batch.c): store writes made while a batch is open share one transaction;
 * callbacks registered with gw_after_commit run once it is durable (committed = 1) or has
 * failed and was rolled back (committed = 0). Replies to submitters and peers go there, so
 * nobody hears "accepted" before the fsync. Without an open batch the callback runs at once
 * with committed = 1 (each write was then its own durable transaction). */
typedef void (*gw_commit_fn)(struct gw *g, void *arg, int committed);
struct gw_after {
	gw_commit_fn fn;
	void *arg;
	struct gw_after *next;
};
void gw_batch_begin(void *g);
void gw_batch_end(void *g);
void gw_after_commit(struct gw *g, gw_commit_fn fn, void *arg);
/* Marks the open batch as failed (a write in it failed in a way that must not be kept). */
void gw_batch_fail(struct gw *g);

/* daemon.c: start everything, run the loop until SIGTERM/SIGINT has drained, free. */
mla_err gw_start(struct gw *g, const struct gw_config *c, mla_diag *diag);
void gw_run(struct gw *g);
void gw_free(struct gw *g);

/* Digests of the key pairs' files, to notice a key or certificate replaced on reload. */
void gw_key_digests(const struct gw_config *c, uint8_t out[GW_KEY_PAIRS][32]);

/* Milliseconds since the epoch (wall clock: stored and compared with peers' times). */
int64_t gw_now_ms(void);
/* Milliseconds of a clock that never steps back: for rates and intervals. */
int64_t gw_mono_ms(void);

/* Peer listener (peer_server.c). */
mla_err peer_server_start(struct gw *g, mla_diag *diag);
/* Stops accepting; requests in progress finish. */
void peer_server_stop_accepting(struct gw *g);
/* Applies a new snapshot's TLS certificates and trust (SIGHUP); open connections stay. */
mla_err peer_server_reload(struct gw *g, mla_diag *diag);
unsigned peer_server_busy(const struct gw *g);
void peer_server_free(struct gw *g);

/* Local submission listener on a unix socket (submit_server.c). */
mla_err submit_server_start(struct gw *g, mla_diag *diag);
void submit_server_stop_accepting(struct gw *g);
unsigned submit_server_busy(const struct gw *g);
void submit_server_free(struct gw *g);

/* Local API listener (api_listen.c; docs/api). Nothing without [api]. */
mla_err api_server_start(struct gw *g, mla_diag *diag);
void api_server_stop_accepting(struct gw *g);
/* New TLS context and limits from the current snapshot (listen itself needs a restart). */
mla_err api_server_reload(struct gw *g, mla_diag *diag);
unsigned api_server_busy(const struct gw *g);
void api_server_free(struct gw *g);
/* Reloads the configuration file as SIGHUP does (daemon.c); the running one stays on error. */
mla_err gw_reload(struct gw *g, mla_diag *diag);

/* Relay worker (relay.c). */
mla_err relay_start(struct gw *g, mla_diag *diag);
/* Looks for due messages now (after a submission, a completion or a reload). */
void relay_kick(struct gw *g);
void relay_stop(struct gw *g);
/* Rebuilds the peers' CA sets after a reload. */
mla_err relay_reload(struct gw *g, mla_diag *diag);
unsigned relay_in_flight(const struct gw *g);
void relay_free(struct gw *g);

#endif
