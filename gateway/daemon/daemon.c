/* Start, reload and orderly stop of a gateway (see daemon.h): every subsystem in order, the
 * listeners through their lifecycle tables. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <event2/thread.h>

#include "mlagw/codec.h"
#include "daemon.h"
#include "directory.h"
#include "dir_fetch.h"
#include "dir_peer.h"
#include "dir_serve.h"
#include "escalation.h"
#include "expiry_watch.h"
#include "mlagw/keyholder.h"
#include "notices.h"
#include "notify.h"
#include "privdrop.h"
#include "tlog/audit.h"
#include "tlog/checkpoint.h"
#include "tlog/tlog.h"
#include "core/integrity.h"
#include "core/log.h"
#include "core/revoc.h"
#include "tlog/witness.h"
#include "net/peer_client.h"
#include "recover/recover.h"
#include "relay/relay.h"
#include "peer/peer.h"
#include "submit/submit.h"
#include "api/api.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>

#define DRAIN_POLL_MS 100
#define TICK_MS 1000         /* housekeeping: log repeat counts, store health */
#define PURGE_EVERY_TICKS 60 /* expired idempotency keys */
#define DIR_REREAD_TICKS 60  /* [directory] file: a replaced one is reloaded */
#define GW_KEY_PAIRS 4 /* tls, sign, encrypt, audit */

/* The daemon's own state (g->daemon). */
struct gw_daemon {
	struct event *sig_term, *sig_int, *sig_hup, *drain, *tick;
	unsigned ticks;
	struct gw_escalator escalator; /* case deadline escalation (SPEC 16.9) */
	struct gw_notifier notifier;   /* retrieval notices (SPEC 16.10) */
	struct gw_expiry_watch expiry; /* expiry warnings (SPEC 18.8) */
	uint8_t key_digest[GW_KEY_PAIRS][32]; /* the key pairs' files as loaded (key-changed) */
	struct gw_dir_stamp dir_stamp; /* the [directory] file as last loaded */
	time_t dir_loaded_at;          /* when it was: its certificates chosen at that time */
	struct gw_dir_fetch *fetch;    /* [directory] url, on its schedule */
	struct gw_dir_peers *dir_peers; /* newer directories peers advertise */
};

/* The listeners, in the order they start; stop, reload and free walk the same order. */
static const struct gw_listener *const listeners[] = {&peer_listener, &api_listener,
						      &submit_listener, &dir_listener};
#define N_LISTENERS (sizeof(listeners) / sizeof(listeners[0]))

static unsigned busy(const struct gw *g)
{
	unsigned n = gw_pool_pending(g->pool) + relay_in_flight(g);

	for (size_t i = 0; i < N_LISTENERS; i++)
		n += listeners[i]->busy(g);
	return n;
}

static mla_err start_listeners(struct gw *g, mla_diag *d)
{
	mla_err r = MLA_OK;

	/* started as root, the daemon works as its user: a low port needs root back to bind */
	if ((r = privdrop_bind_begin(d)) != MLA_OK)
		return r;
	for (size_t i = 0; i < N_LISTENERS && r == MLA_OK; i++)
		r = listeners[i]->start(g, d);
	return r != MLA_OK ? (void)privdrop_bind_end(NULL), r : privdrop_bind_end(d);
}

/* Applies the new snapshot to each listener that has something to reload; with d NULL,
 * the restored old one (after a failed reload), whatever fails. */
static mla_err reload_listeners(struct gw *g, mla_diag *d)
{
	mla_err r = MLA_OK, e;

	for (size_t i = 0; i < N_LISTENERS && (r == MLA_OK || d == NULL); i++)
		if (listeners[i]->reload != NULL && (e = listeners[i]->reload(g, d)) != MLA_OK)
			r = e;
	return r;
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	static int64_t give_up_ms;
	int64_t now = gw_mono_ms(); /* a timeout: the wall clock may step meanwhile */

	(void)fd;
	(void)what;
	if (give_up_ms == 0)
		give_up_ms = now + (int64_t)g->snap->cfg.retry.request_timeout_ms;
	if (busy(g) == 0 && tlog_stop_witnessing(g))
		return;
	if (busy(g) == 0 || now >= give_up_ms) {
		if (busy(g) != 0)
			gw_log(GW_LOG_WARN, "stop-timeout", NULL,
			       "in_flight=%u reason=\"left for recovery at the next start\"", busy(g));
		event_base_loopexit(g->base, NULL);
	}
}

static void begin_stop(struct gw *g, const char *why)
{
	struct timeval poll = {0, DRAIN_POLL_MS * 1000};

	if (g->stopping)
		return;
	g->stopping = 1;
	(void)gw_notify("STOPPING=1"); /* systemd: the stop is under way, no restart meanwhile */
	gw_log(GW_LOG_INFO, "stopping", NULL, "signal=%s", why);
	for (size_t i = 0; i < N_LISTENERS; i++)
		listeners[i]->stop_accepting(g);
	relay_stop(g);
	if ((g->daemon->drain = event_new(g->base, -1, EV_PERSIST, on_drain, g)) == NULL ||
	    event_add(g->daemon->drain, &poll) != 0)
		event_base_loopexit(g->base, NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	begin_stop(arg, sig == SIGINT ? "INT" : "TERM");
}

static void reread_directory(struct gw *g);

static void stamp_directory(struct gw *g, const struct gw_config *c)
{
	g->daemon->dir_loaded_at = time(NULL);
	memset(&g->daemon->dir_stamp, 0, sizeof(g->daemon->dir_stamp));
	if (c->dir_file[0] != '\0')
		(void)gw_directory_file_stamp(c->dir_file, &g->daemon->dir_stamp);
}

static int same_fixed_settings(const struct gw_config *a, const struct gw_config *b)
{
	return strcmp(a->state, b->state) == 0 && strcmp(a->listen, b->listen) == 0 &&
	       strcmp(a->store, b->store) == 0 && strcmp(a->submit_socket, b->submit_socket) == 0 &&
	       strcmp(a->api.listen, b->api.listen) == 0 &&
	       strcmp(a->dir_listen, b->dir_listen) == 0;
}

/* The directory in force judged now: its warning and refusal, logged when they change. */
static void judge_directory(struct gw *g)
{
	struct gw_dir_judgement j;

	gw_directory_judge(g->snap->dir, g->snap->cfg.dir_grace_ms, time(NULL), &j);
	if (strcmp(j.refusal, g->dir_refusal) != 0 && j.refusal[0] != '\0')
		gw_log(GW_LOG_ERROR, "directory-expired", NULL, "refusing=traffic reason=\"%s\"",
		       j.refusal);
	else if (strcmp(j.warning, g->dir_warning) != 0 && j.warning[0] != '\0')
		gw_log(GW_LOG_WARN, "directory-expired", NULL, "grace=1 reason=\"%s\"", j.warning);
	memcpy(g->dir_refusal, j.refusal, sizeof(g->dir_refusal));
	memcpy(g->dir_warning, j.warning, sizeof(g->dir_warning));
	g->dir_seconds_left = j.seconds_left;
}

/* A keyholder gone (killed, crashed) leaves no key to sign or open with: the gateway stops
 * in order, exit status 1; what it acknowledged is in the store, what it had not signed stays
 * queued, and peers retry what it could not open. */
static void watch_keyholder(struct gw *g)
{
	if (g->stopping || !mla_keyholder_failed())
		return;
	gw_log(GW_LOG_ERROR, "keyholder-failed", NULL, "reason=\"the keyholder process is gone: "
	       "stopping\"");
	g->exit_code = 1;
	begin_stop(g, "KEYHOLDER");
}

/* A peer's announced next encryption certificate takes over at its time (SPEC 18.6): the
 * peers' certificates are chosen when the directory is loaded, so the directory is loaded
 * again then, as a reload does. One attempt per takeover: a refused reload is logged. */
static void take_over_certificates(struct gw *g)
{
	time_t now = time(NULL), at;
	mla_diag d = {MLA_OK, ""};

	if (g->snap->dir == NULL || g->daemon == NULL ||
	    (at = gw_directory_next_takeover(g->snap->dir, g->daemon->dir_loaded_at)) == 0 ||
	    now < at)
		return;
	gw_log(GW_LOG_INFO, "directory-takeover", NULL, "reason=\"an announced next encryption "
	       "certificate takes over: reloading\"");
	g->daemon->dir_loaded_at = at;
	(void)gw_reload(g, &d);
}

/* What ld holds (taken from here) becomes the new snapshot's. */
static mla_err apply_reload(struct gw *g, const struct gw_config *c, struct gw_dir_loaded *ld,
			    mla_diag *d)
{
	struct gw_snapshot *snap = gw_snapshot_new(c, g->gen + 1), *old = g->snap;
	struct gw_crypto *crypto = NULL;
	mla_privkey *audit_key = NULL;
	mla_diag held = {MLA_OK, ""};
	mla_err r;

	if (snap == NULL) {
		gw_dir_loaded_free(ld);
		return MLA_ERR_NOMEM;
	}
	gw_dir_loaded_move(ld, snap);
	if ((r = gw_crypto_load(&snap->cfg, &crypto, d)) != MLA_OK ||
	    (r = gw_checkpoint_key_load(&snap->cfg, &audit_key, d)) != MLA_OK) {
		gw_crypto_free(crypto);
		gw_snapshot_unref(snap);
		return r;
	}
	g->snap = snap;
	if ((r = reload_listeners(g, d)) != MLA_OK ||
	    (r = peer_client_load(g->client, &snap->cfg, d)) != MLA_OK ||
	    (r = relay_reload(g, d)) != MLA_OK) {
		g->snap = old; /* keep serving with what worked */
		gw_snapshot_unref(snap);
		gw_crypto_free(crypto);
		(void)reload_listeners(g, NULL);
		mla_privkey_free(audit_key);
		return r;
	}
	gw_checkpoint_reload(g, audit_key); /* signs with the old key what it covers */
	gw_log_set_repeat_interval(c->log_repeat_interval_ms);
	gw_integrity_reload(g);
	g->gen++;
	gw_crypto_free(g->crypto);
	g->crypto = crypto;
	/* applied: a store failure here leaves only the next start without the new serial */
	if (gw_directory_adopted(g->store, snap->dir, old->dir, &held) != MLA_OK ||
	    gw_directory_record(g, "reload", &held) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=directory-held reason=\"%s\"",
		       held.msg);
	gw_snapshot_unref(old);
	judge_directory(g);
	return MLA_OK;
}

/* Adds a file's bytes to md (nothing when unreadable: a missing file then reads as a change
 * at the next reload, which the reload itself refuses anyway). */
static int digest_file(EVP_MD_CTX *md, const char *path)
{
	uint8_t chunk[4096];
	size_t n;
	int ok = 1;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return 1;
	setvbuf(f, NULL, _IONBF, 0); /* no stdio copy of a key left unwiped */
	while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ok = EVP_DigestUpdate(md, chunk, n) == 1;
	OPENSSL_cleanse(chunk, sizeof(chunk));
	fclose(f);
	return ok;
}

/* Digests of the four key pairs' certificate and key files, in the order of key_names. */
static const char *const key_names[GW_KEY_PAIRS] = {"tls", "sign", "encrypt", "audit"};

static void gw_key_digests(const struct gw_config *c, uint8_t out[GW_KEY_PAIRS][32])
{
	const struct gw_keypair *k[GW_KEY_PAIRS] = {&c->tls, &c->sign, &c->encrypt, &c->audit};
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	/* SHA-256 over the certificate's and the key's bytes: only to notice a replacement */
	for (size_t i = 0; i < GW_KEY_PAIRS; i++) {
		memset(out[i], 0, 32);
		if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
		    !digest_file(md, k[i]->cert) || !digest_file(md, k[i]->key) ||
		    EVP_DigestFinal_ex(md, out[i], NULL) != 1)
			memset(out[i], 0, 32);
	}
	EVP_MD_CTX_free(md);
}

/* Entries for a reload that is about to apply: config-reloaded, and key-changed naming the
 * key pairs whose files differ from those loaded before. */
static mla_err audit_reload(struct gw *g, uint8_t now[GW_KEY_PAIRS][32])
{
	mla_audit_entry e;
	size_t used = 0;
	mla_err r;

	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_CONFIG_RELOADED;
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) != MLA_OK ||
	    (r = gw_audit(g, &e)) != MLA_OK)
		return r;
	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_KEY_CHANGED;
	if ((r = mla_strcpy(e.actor, sizeof(e.actor), "gateway")) != MLA_OK)
		return r;
	/* each name appended with a check: a cut list would misstate which keys changed */
	for (size_t i = 0; i < GW_KEY_PAIRS; i++) {
		if (memcmp(now[i], g->daemon->key_digest[i], 32) == 0)
			continue;
		if ((r = mla_snprintf(e.reason + used, sizeof(e.reason) - used, "%s%s",
				      used ? " " : "", key_names[i])) != MLA_OK)
			return r;
		used += strlen(e.reason + used);
	}
	return used > 0 ? gw_audit(g, &e) : MLA_OK;
}

mla_err gw_reload(struct gw *g, mla_diag *d)
{
	struct gw_config *c = malloc(sizeof(*c));
	uint8_t digests[GW_KEY_PAIRS][32];
	struct gw_dir_loaded ld;
	mla_err r;

	if (c == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	gw_dir_loaded_init(&ld);
	if ((r = gw_config_load(g->config_path, c, d)) != MLA_OK)
		;
	else if (!same_fixed_settings(c, &g->snap->cfg))
		r = mla_fail(d, MLA_ERR_CONFIG,
			     "state, listen, store, submit_socket, [directory] listen and [api] "
			     "listen need a restart");
	else if (stamp_directory(g, c), (r = gw_directory_load(g->store, c, &ld.dir, &ld.doc,
							       &ld.entry, d)) != MLA_OK)
		;
	else if (gw_key_digests(c, digests), audit_reload(g, digests) != MLA_OK)
		r = mla_fail(d, MLA_ERR_STORE, "audit log unavailable");
	else if ((r = apply_reload(g, c, &ld, d)) == MLA_OK) {
		memcpy(g->daemon->key_digest, digests, sizeof(g->daemon->key_digest));
		gw_revoc_configure(c);
	}
	gw_dir_loaded_free(&ld); /* what was not taken */
	free(c);
	if (r != MLA_OK)
		gw_log(GW_LOG_ERROR, "reload-refused", NULL, "reason=\"%s\"",
		       d->msg[0] ? d->msg : mla_errname(r));
	else
		gw_log(GW_LOG_INFO, "reloaded", NULL, "generation=%u peers=%zu", g->gen,
		       g->snap->cfg.n_peers);
	return r;
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	mla_diag d = {MLA_OK, ""};

	(void)sig;
	(void)what;
	(void)gw_notify("RELOADING=1"); /* systemd shows the unit reloading until READY=1 */
	(void)gw_reload(arg, &d);
	(void)gw_notify("READY=1");
}

static mla_err add_signals(struct gw *g)
{
	struct gw_daemon *dm = g->daemon;

	signal(SIGPIPE, SIG_IGN);
	dm->sig_term = evsignal_new(g->base, SIGTERM, on_term, g);
	dm->sig_int = evsignal_new(g->base, SIGINT, on_term, g);
	dm->sig_hup = evsignal_new(g->base, SIGHUP, on_hup, g);
	if (dm->sig_term == NULL || dm->sig_int == NULL || dm->sig_hup == NULL ||
	    evsignal_add(dm->sig_term, NULL) != 0 || evsignal_add(dm->sig_int, NULL) != 0 ||
	    evsignal_add(dm->sig_hup, NULL) != 0)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

/* Every second: the counts of rate-limited log lines, the store's health (a probe write while
 * it fails, so health recovers with the disk), now and then expired idempotency keys, and the
 * escalation of case deadlines. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;

	(void)fd;
	(void)what;
	gw_log_flush_repeats();
	gw_store_watch(g, NULL);
	if (g->daemon->ticks++ % PURGE_EVERY_TICKS == 0)
		submit_purge_keys(g);
	if (g->daemon->ticks % DIR_REREAD_TICKS == 0)
		reread_directory(g);
	judge_directory(g);
	take_over_certificates(g);
	watch_keyholder(g);
	escalation_tick(g, &g->daemon->escalator);
	notices_tick(g, &g->daemon->notifier);
	expiry_watch_tick(g, &g->daemon->expiry);
}

/* A [directory] file replaced since it was last loaded is loaded by a reload, as SIGHUP. */
static void reread_directory(struct gw *g)
{
	struct gw_dir_stamp now;
	mla_diag d = {MLA_OK, ""};

	if (g->snap->cfg.dir_file[0] == '\0' ||
	    !gw_directory_file_stamp(g->snap->cfg.dir_file, &now) ||
	    memcmp(&now, &g->daemon->dir_stamp, sizeof(now)) == 0)
		return;
	gw_log(GW_LOG_INFO, "directory-changed", NULL, "reason=\"the [directory] file changed: "
	       "reloading\"");
	g->daemon->dir_stamp = now; /* one attempt per change: a refused file is not retried */
	(void)gw_reload(g, &d);
}

static mla_err add_tick(struct gw *g)
{
	struct timeval every = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};

	g->daemon->notifier.orphans = 1; /* notices reserved before a stop are sent first */
	if ((g->daemon->tick = event_new(g->base, -1, EV_PERSIST, on_tick, g)) == NULL ||
	    event_add(g->daemon->tick, &every) != 0)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

/* After an upgrade of the store, this State's existing cases get their owners, once. */
static mla_err adopt_cases(struct gw *g, const struct gw_config *c, mla_diag *d)
{
	size_t n = 0;
	mla_err r;

	if ((r = store_cases_adopt(g->store, c->state, API_SOCKET_ACTOR, &n, d)) == MLA_OK &&
	    n > 0)
		gw_log(GW_LOG_INFO, "cases-adopted", NULL, "cases=%zu", n);
	return r;
}

/* By default one worker per CPU plus one: a peer's lane may hold all workers but one
 * (core/pool.c), so with the extra one a single peer still keeps every CPU busy while one
 * worker stays free for everyone else. */
static unsigned worker_count(const struct gw_config *c)
{
	long n = c->workers > 0 ? (long)c->workers : sysconf(_SC_NPROCESSORS_ONLN) + 1;

	return n < 1 ? 1u : (unsigned)n;
}

/* Heads at start (tlog.h): the loop runs (serving the peers, who may be starting too, but
 * accepting no new work) until every peer said what it cosigned of our log or the wait is
 * over. A peer holding a history our store lacks fails the start: nothing was signed. */
static mla_err learn_heads(struct gw *g, mla_diag *d)
{
	mla_err r;

	if ((r = tlog_heads_start(g, d)) != MLA_OK)
		return r;
	while (tlog_heads_waiting(g) && !g->stopping && !tlog_heads_forked(g))
		if (event_base_loop(g->base, EVLOOP_ONCE) < 0)
			return mla_fail(d, MLA_ERR_INTERNAL, "event loop failed at start");
	if (tlog_heads_forked(g))
		return mla_fail(d, MLA_ERR_STORE, "audit log: %s", g->hold);
	if (g->stopping) /* never reported ready: the stop ends the start */
		return mla_fail(d, MLA_ERR_INTERNAL, "stopped while learning the peers' heads");
	return MLA_OK;
}

/* Recovery (recover/recover.h): with the store's recovery mark, the loop runs (serving the
 * peers, accepting no new work) until every peer gave back what it holds of this gateway's
 * messages or [audit] recover_wait is over; a peer that did not is named in an alert and the
 * mark stays for the next start, which goes on meanwhile. */
static mla_err recover_lost(struct gw *g, mla_diag *d)
{
	mla_err r;

	if ((r = recover_start(g, d)) != MLA_OK)
		return r;
	while (recover_waiting(g) && !g->stopping)
		if (event_base_loop(g->base, EVLOOP_ONCE) < 0)
			return mla_fail(d, MLA_ERR_INTERNAL, "event loop failed at start");
	if (g->stopping)
		return mla_fail(d, MLA_ERR_INTERNAL, "stopped while recovering from the peers");
	return MLA_OK;
}

/* The store, checked with quick_check after an unclean stop or when the last check is older
 * than [store] check_interval (the audit log is re-read at every start: tlog_start); an older
 * schema upgraded after a copy of the store as it was (logged with the copy's name). */
static mla_err open_store(struct gw *g, const struct gw_config *c, mla_diag *d)
{
	struct store_open_opts o = {c->store_check_interval_ms, gw_now_ms()};
	const char *backup;
	mla_err r;
	int from;

	if ((r = store_open_opts(c->store, &o, &g->store, d)) == MLA_OK &&
	    (backup = store_upgraded(g->store, &from)) != NULL)
		gw_log(GW_LOG_INFO, "store-upgraded", NULL, "from=%d to=%d backup=%s", from,
		       STORE_SCHEMA_VERSION, backup);
	if (r == MLA_OK && store_quick_checked(g->store))
		gw_log(GW_LOG_INFO, "store-checked", NULL, "quick_check=ok reason=%s",
		       store_unclean(g->store) ? "unclean-stop" : "interval");
	return r;
}

/* The snapshot of c with the directory's peers (SPEC 18.6), the store open for its serial. */
static mla_err first_snapshot(struct gw *g, const struct gw_config *given, mla_diag *d)
{
	struct gw_config *c = malloc(sizeof(*c));
	struct gw_dir_loaded ld;
	mla_err r;

	if (c == NULL)
		return MLA_ERR_NOMEM;
	*c = *given;
	gw_dir_loaded_init(&ld);
	stamp_directory(g, c);
	if ((r = gw_directory_load(g->store, c, &ld.dir, &ld.doc, &ld.entry, d)) == MLA_OK &&
	    (g->snap = gw_snapshot_new(c, 0)) == NULL)
		r = MLA_ERR_NOMEM;
	if (r == MLA_OK) {
		gw_dir_loaded_move(&ld, g->snap);
		r = gw_directory_adopted(g->store, g->snap->dir, NULL, d);
	}
	gw_dir_loaded_free(&ld);
	free(c);
	if (r == MLA_OK)
		judge_directory(g);
	return r;
}

mla_err gw_start(struct gw *g, const struct gw_config *given, mla_diag *d)
{
	const struct gw_config *c;
	mla_err r;

	if (evthread_use_pthreads() != 0 || (g->base = event_base_new()) == NULL)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot create the event loop");
	if ((g->daemon = calloc(1, sizeof(*g->daemon))) == NULL)
		return MLA_ERR_NOMEM;
	g->reload = gw_reload;
	/* revocation first: the directory's signers are checked as it loads (SPEC 18.7) */
	if ((r = open_store(g, given, d)) != MLA_OK || (r = gw_revoc_start(given, d)) != MLA_OK ||
	    (r = first_snapshot(g, given, d)) != MLA_OK)
		return r;
	c = &g->snap->cfg; /* with the directory's peers */
	if ((r = gw_crypto_load(c, &g->crypto, d)) != MLA_OK ||
	    (r = adopt_cases(g, c, d)) != MLA_OK ||
	    (r = gw_batch_new(&g->batch)) != MLA_OK ||
	    (r = tlog_start(g, d)) != MLA_OK || (r = gw_directory_record(g, "start", d)) != MLA_OK ||
	    (r = gw_integrity_start(g, d)) != MLA_OK)
		return r;
	gw_key_digests(c, g->daemon->key_digest);
	if ((g->pool = gw_pool_new(g->base, worker_count(c), gw_batch_begin, gw_batch_end, g)) ==
	    NULL)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot start worker threads");
	gw_log_set_repeat_interval(c->log_repeat_interval_ms);
	if ((r = add_signals(g)) != MLA_OK || (r = add_tick(g)) != MLA_OK ||
	    (r = dir_fetch_start(g, gw_reload, &g->daemon->fetch)) != MLA_OK ||
	    (r = start_listeners(g, d)) != MLA_OK ||
	    (r = peer_client_new(g->base, &g->client, d)) != MLA_OK ||
	    (r = dir_peers_new(g, g->daemon->fetch, &g->daemon->dir_peers)) != MLA_OK ||
	    (r = peer_client_load(g->client, c, d)) != MLA_OK ||
	    (r = relay_start(g, d)) != MLA_OK || (r = witness_start(g, d)) != MLA_OK ||
	    (r = learn_heads(g, d)) != MLA_OK || (r = recover_lost(g, d)) != MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "started", NULL, "state=%s workers=%u peers=%zu", c->state,
	       worker_count(c), c->n_peers);
	relay_kick(g); /* held back while the heads were learnt */
	/* from here this thread runs the loop: revocation checks on it no longer fetch */
	return gw_revoc_run(g->base, d);
}

void gw_run(struct gw *g)
{
	event_base_dispatch(g->base);
}

static void free_events(struct gw_daemon *dm)
{
	if (dm == NULL)
		return;
	if (dm->sig_term != NULL)
		event_free(dm->sig_term);
	if (dm->sig_int != NULL)
		event_free(dm->sig_int);
	if (dm->sig_hup != NULL)
		event_free(dm->sig_hup);
	if (dm->drain != NULL)
		event_free(dm->drain);
	if (dm->tick != NULL)
		event_free(dm->tick);
}

void gw_free(struct gw *g)
{
	int clean;

	if (g->daemon != NULL) { /* a fetch under way is aborted first */
		if (g->client != NULL) /* no answer prompts one from now on */
			peer_client_on_directory(g->client, NULL, NULL);
		dir_peers_free(g->daemon->dir_peers);
		g->daemon->dir_peers = NULL;
		dir_fetch_free(g->daemon->fetch);
		g->daemon->fetch = NULL;
	}
	gw_integrity_free(g); /* a check in progress is interrupted */
	relay_stop(g);
	gw_pool_free(g->pool); /* finishes and answers what the workers still hold */
	g->pool = NULL;
	if (g->daemon != NULL)
		expiry_watch_free(g, &g->daemon->expiry);
	gw_batch_free(g->batch);
	g->batch = NULL;
	relay_free(g);
	for (size_t i = 0; i < N_LISTENERS; i++)
		listeners[i]->free(g);
	clean = tlog_ready(g); /* it started and has stopped in order */
	recover_free(g); /* before the peer client: it may hold an exchange */
	tlog_free(g); /* a last checkpoint if the log grew */
	peer_client_free(g->client); /* after the relay and the witnesses took their exchanges */
	g->client = NULL;
	if (clean && g->store != NULL) {
		mla_diag d = {MLA_OK, ""};
		if (store_mark_clean(g->store, &d) != MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "store-error", "mark-clean", NULL,
				       "op=mark-clean reason=\"%s\"", d.msg);
	}
	store_close(g->store);
	gw_crypto_free(g->crypto);
	gw_revoc_stop(); /* after the workers and every trust set that called it */
	free_events(g->daemon);
	free(g->daemon);
	if (g->base != NULL)
		event_base_free(g->base);
	gw_snapshot_unref(g->snap);
	memset(g, 0, sizeof(*g));
}
