/* The daemon's state, owned by the event loop thread: the shared basics (event base,
 * configuration snapshot, store, worker pool, key set) and one opaque handle per subsystem,
 * whose structure only that subsystem knows (docs/internals/gateway.md). */
#ifndef MLAGW_GATEWAY_GW_H
#define MLAGW_GATEWAY_GW_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "mlagw/privkey.h"
#include "conf/config.h"
#include "crypto_set.h"
#include "pool.h"
#include "store/store.h"

struct gw_peer_server;
struct gw_submit_server;
struct gw_relay;
struct peer_client;
struct gw_api_server;
struct gw_tlog;
struct gw_daemon;
struct gw_batch;
struct gw_integrity;
struct gw_recover;
struct gw_dir_server;
struct gw_expiry_list;

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
	struct peer_client *client; /* outgoing HTTPS to the peers (net/peer_client.h) */
	struct gw_api_server *api;  /* NULL without [api] */
	struct gw_daemon *daemon;   /* the orchestrator's own state: signals, drain, key digests */
	int stopping;               /* set by the daemon when a stop begins */
	int exit_code;              /* nonzero: the stop was forced by a failure (mlagwd's exit) */
	/* Why the running gateway accepts no new work (submissions, envelopes, API writes,
	 * sending), or NULL: while it learns its peers' heads at start, and for good when a
	 * peer holds a history of our log that the store does not have (tlog/heads.c). */
	const char *hold;
	/* Reloads the configuration file as SIGHUP does (set by the daemon at start, for the
	 * local API); the running one stays on error. */
	mla_err (*reload)(struct gw *g, mla_diag *diag);
	struct gw_tlog *tlog;       /* the audit log, its checkpoints and witnessing (tlog.h) */
	struct gw_batch *batch;     /* group commit (batch.c) */
	struct gw_integrity *integrity; /* the store's scheduled check (integrity.h) */
	struct gw_recover *recover; /* re-fetching from the peers at start (recover/recover.h) */
	/* The signed directory in force (SPEC 18.6), judged every second by the daemon: past
	 * its expiry within the grace period, the warning; past the grace period, why no
	 * traffic is taken or sent (gw_refusing). "" otherwise. */
	struct gw_dir_server *dirsrv; /* [directory] listen (daemon/dir_serve.c), or NULL */
	char dir_warning[MLA_DIAG_MAX];
	char dir_refusal[MLA_DIAG_MAX];
	int64_t dir_seconds_left; /* to the directory's earliest expiry; 0 without one */
	/* What expires and how soon (SPEC 18.8), as the last check found it (loop thread;
	 * daemon/expiry_watch.c replaces it); NULL before the first check. */
	struct gw_expiry_list *expiry;
};

/* NULL while the store passes its checks; once the scheduled check (integrity.c) found it
 * damaged, why, in words for a 503: submissions and receptions are refused from then on. */
const char *gw_store_damage(const struct gw *g);
/* Why the gateway takes no new work now, in words for a 503, or NULL: a stop, its hold
 * (g->hold: the peers' heads at start, a fork they showed), a damaged store. The one check
 * every entry point of new work makes (submissions, peer envelopes, API writes). */
const char *gw_refusing(const struct gw *g);

/* Group commit (batch.c): store writes made while a batch is open share one transaction;
 * callbacks registered with gw_after_commit run once it is durable (committed = 1) or has
 * failed and was rolled back (committed = 0). Replies to submitters and peers go there, so
 * nobody hears "accepted" before the fsync. Without an open batch the callback runs at once
 * with committed = 1 (each write was then its own durable transaction). */
typedef void (*gw_commit_fn)(struct gw *g, void *arg, int committed);
/* After a failed commit was rolled back: who keeps state beside the store (the audit log's
 * next index and tree) reads it again. Registered by that subsystem at its start. */
typedef mla_err (*gw_rollback_fn)(struct gw *g, mla_diag *diag);
mla_err gw_batch_new(struct gw_batch **out);
void gw_batch_on_rollback(struct gw_batch *b, gw_rollback_fn fn);
/* Frees b; callbacks still waiting (none after gw_pool_free) are dropped. */
void gw_batch_free(struct gw_batch *b);
/* The pool's hooks around each drain of completed jobs; g is the struct gw. */
void gw_batch_begin(void *g);
void gw_batch_end(void *g);
void gw_after_commit(struct gw *g, gw_commit_fn fn, void *arg);
/* Marks the open batch as failed (a write in it failed in a way that must not be kept). */
void gw_batch_fail(struct gw *g);
/* Whether a batch is open (its writes are not durable yet). */
int gw_batch_is_open(const struct gw *g);
/* How many batches were rolled back so far: what a cache of store values read or kept up
 * inside a batch compares, to know it may hold writes that are gone. */
uint64_t gw_batch_rollbacks(const struct gw *g);

/* The store's health (store_watch.c, store_health in store.h): while it is failing and no
 * batch is open, tries one small write (store_probe) so that health recovers with the disk,
 * traffic or not; logs "store-failing" and "store-recovered" once per change. Called every
 * second by the daemon and by the health and metrics handlers; out (may be NULL) gets the
 * state after. Loop thread only. */
void gw_store_watch(struct gw *g, struct store_health *out);

/* The lifecycle every listener (peer, local submission, local API) provides, as one table
 * each (peer/peer.h, submit/submit.h, api/api.h) that the daemon walks in order. */
struct gw_listener {
	const char *name;
	/* Binds and serves (nothing when not configured). */
	mla_err (*start)(struct gw *g, mla_diag *diag);
	/* Stops accepting; requests in progress finish. */
	void (*stop_accepting)(struct gw *g);
	/* Applies the current snapshot's certificates, trust and limits (SIGHUP); open
	 * connections stay, and listen itself needs a restart. NULL: nothing to reload. */
	mla_err (*reload)(struct gw *g, mla_diag *diag);
	/* Requests waiting for a worker or a commit. */
	unsigned (*busy)(const struct gw *g);
	void (*free)(struct gw *g);
};

#endif
