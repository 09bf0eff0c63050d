/* Start, reload and orderly stop of a gateway (see gw.h). */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <time.h>

#include <event2/thread.h>

#include "gw.h"
#include "tlog/audit.h"
#include "tlog/checkpoint.h"
#include "log.h"
#include "tlog/witness.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>

#define DRAIN_POLL_MS 100
#define STOP_WITNESS_MS 2000 /* how long a clean stop waits for the last cosignatures */

int64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned busy(const struct gw *g)
{
	return gw_pool_pending(g->pool) + relay_in_flight(g) + peer_server_busy(g) +
	       submit_server_busy(g) + api_server_busy(g);
}

/* Once the work in flight is done: the last checkpoint is signed and sent to the peers to
 * witness, and their answers are awaited a little (a stopped gateway's bundle then ends in a
 * cosigned checkpoint). Returns 1 while still waiting for them. */
static int witness_last(struct gw *g)
{
	mla_diag d = {MLA_OK, ""};

	if (g->stop_witness_ms == 0) {
		if (gw_checkpoint_now(g, &d) != MLA_OK)
			gw_log(GW_LOG_ERROR, "checkpoint-error", NULL, "reason=\"%s\"", d.msg);
		witness_final(g);
		g->stop_witness_ms = gw_mono_ms() + STOP_WITNESS_MS;
	}
	return witness_in_flight(g) > 0 && gw_mono_ms() < g->stop_witness_ms;
}

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	static int64_t give_up_ms;
	int64_t now = gw_now_ms();

	(void)fd;
	(void)what;
	if (give_up_ms == 0)
		give_up_ms = now + (int64_t)g->snap->cfg.retry.request_timeout_ms;
	if (busy(g) == 0 && witness_last(g))
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
	gw_log(GW_LOG_INFO, "stopping", NULL, "signal=%s", why);
	peer_server_stop_accepting(g);
	submit_server_stop_accepting(g);
	api_server_stop_accepting(g);
	relay_stop(g);
	if ((g->drain = event_new(g->base, -1, EV_PERSIST, on_drain, g)) == NULL ||
	    event_add(g->drain, &poll) != 0)
		event_base_loopexit(g->base, NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	begin_stop(arg, sig == SIGINT ? "INT" : "TERM");
}

static int same_fixed_settings(const struct gw_config *a, const struct gw_config *b)
{
	return strcmp(a->state, b->state) == 0 && strcmp(a->listen, b->listen) == 0 &&
	       strcmp(a->store, b->store) == 0 && strcmp(a->submit_socket, b->submit_socket) == 0 &&
	       strcmp(a->api.listen, b->api.listen) == 0;
}

static mla_err apply_reload(struct gw *g, const struct gw_config *c, mla_diag *d)
{
	struct gw_snapshot *snap = gw_snapshot_new(c, g->gen + 1), *old = g->snap;
	struct gw_crypto *crypto = NULL;
	mla_privkey *audit_key = NULL;
	mla_err r;

	if (snap == NULL)
		return MLA_ERR_NOMEM;
	if ((r = gw_crypto_load(&snap->cfg, &crypto, d)) != MLA_OK ||
	    (r = gw_checkpoint_key_load(&snap->cfg, &audit_key, d)) != MLA_OK) {
		gw_crypto_free(crypto);
		gw_snapshot_unref(snap);
		return r;
	}
	g->snap = snap;
	if ((r = peer_server_reload(g, d)) != MLA_OK || (r = api_server_reload(g, d)) != MLA_OK ||
	    (r = relay_reload(g, d)) != MLA_OK) {
		g->snap = old; /* keep serving with what worked */
		gw_snapshot_unref(snap);
		gw_crypto_free(crypto);
		(void)peer_server_reload(g, NULL);
		(void)api_server_reload(g, NULL);
		mla_privkey_free(audit_key);
		return r;
	}
	gw_checkpoint_reload(g, audit_key); /* signs with the old key what it covers */
	g->gen++;
	gw_crypto_free(g->crypto);
	g->crypto = crypto;
	gw_snapshot_unref(old);
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

void gw_key_digests(const struct gw_config *c, uint8_t out[GW_KEY_PAIRS][32])
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
	(void)snprintf(e.actor, sizeof(e.actor), "gateway");
	if ((r = gw_audit(g, &e)) != MLA_OK)
		return r;
	mla_audit_entry_init(&e);
	e.event = MLA_AUDIT_KEY_CHANGED;
	(void)snprintf(e.actor, sizeof(e.actor), "gateway");
	for (size_t i = 0; i < GW_KEY_PAIRS; i++)
		if (memcmp(now[i], g->key_digest[i], 32) != 0)
			used += (size_t)snprintf(e.reason + used, sizeof(e.reason) - used, "%s%s",
						 used ? " " : "", key_names[i]);
	return used > 0 ? gw_audit(g, &e) : MLA_OK;
}

mla_err gw_reload(struct gw *g, mla_diag *d)
{
	struct gw_config *c = malloc(sizeof(*c));
	uint8_t digests[GW_KEY_PAIRS][32];
	mla_err r;

	if (c == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	if ((r = gw_config_load(g->config_path, c, d)) != MLA_OK)
		;
	else if (!same_fixed_settings(c, &g->snap->cfg))
		r = mla_fail(d, MLA_ERR_CONFIG,
			     "state, listen, store, submit_socket and [api] listen need a restart");
	else if (gw_key_digests(c, digests), audit_reload(g, digests) != MLA_OK)
		r = mla_fail(d, MLA_ERR_STORE, "audit log unavailable");
	else if ((r = apply_reload(g, c, d)) == MLA_OK)
		memcpy(g->key_digest, digests, sizeof(g->key_digest));
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
	(void)gw_reload(arg, &d);
}

static mla_err add_signals(struct gw *g)
{
	signal(SIGPIPE, SIG_IGN);
	g->sig_term = evsignal_new(g->base, SIGTERM, on_term, g);
	g->sig_int = evsignal_new(g->base, SIGINT, on_term, g);
	g->sig_hup = evsignal_new(g->base, SIGHUP, on_hup, g);
	if (g->sig_term == NULL || g->sig_int == NULL || g->sig_hup == NULL ||
	    evsignal_add(g->sig_term, NULL) != 0 || evsignal_add(g->sig_int, NULL) != 0 ||
	    evsignal_add(g->sig_hup, NULL) != 0)
		return MLA_ERR_INTERNAL;
	return MLA_OK;
}

static unsigned worker_count(const struct gw_config *c)
{
	long n = c->workers > 0 ? (long)c->workers : sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : (unsigned)n;
}

mla_err gw_start(struct gw *g, const struct gw_config *c, mla_diag *d)
{
	mla_err r;

	if (evthread_use_pthreads() != 0 || (g->base = event_base_new()) == NULL)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot create the event loop");
	if ((g->snap = gw_snapshot_new(c, 0)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = gw_crypto_load(c, &g->crypto, d)) != MLA_OK ||
	    (r = store_open(c->store, &g->store, d)) != MLA_OK ||
	    (r = store_audit_next(g->store, &g->audit_next, d)) != MLA_OK ||
	    (r = gw_checkpoint_start(g, d)) != MLA_OK)
		return r;
	gw_key_digests(c, g->key_digest);
	if ((g->pool = gw_pool_new(g->base, worker_count(c), gw_batch_begin, gw_batch_end, g)) ==
	    NULL)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot start worker threads");
	if ((r = add_signals(g)) != MLA_OK || (r = peer_server_start(g, d)) != MLA_OK ||
	    (r = api_server_start(g, d)) != MLA_OK || (r = submit_server_start(g, d)) != MLA_OK ||
	    (r = relay_start(g, d)) != MLA_OK || (r = witness_start(g, d)) != MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "started", NULL, "state=%s workers=%u peers=%zu", c->state,
	       worker_count(c), c->n_peers);
	return MLA_OK;
}

void gw_run(struct gw *g)
{
	event_base_dispatch(g->base);
}

void gw_free(struct gw *g)
{
	relay_stop(g);
	gw_pool_free(g->pool); /* finishes and answers what the workers still hold */
	g->pool = NULL;
	relay_free(g);
	peer_server_free(g);
	submit_server_free(g);
	api_server_free(g);
	gw_checkpoint_free(g); /* a last checkpoint if the log grew */
	if (g->cp_ready && g->store != NULL) { /* it started and has stopped in order */
		mla_diag d = {MLA_OK, ""};
		if (store_mark_clean(g->store, &d) != MLA_OK)
			gw_log(GW_LOG_ERROR, "store-error", NULL, "op=mark-clean reason=\"%s\"", d.msg);
	}
	store_close(g->store);
	gw_crypto_free(g->crypto);
	if (g->sig_term != NULL)
		event_free(g->sig_term);
	if (g->sig_int != NULL)
		event_free(g->sig_int);
	if (g->sig_hup != NULL)
		event_free(g->sig_hup);
	if (g->drain != NULL)
		event_free(g->drain);
	if (g->base != NULL)
		event_base_free(g->base);
	gw_snapshot_unref(g->snap);
	memset(g, 0, sizeof(*g));
}
