/* The scheduled integrity check (integrity.h): a timer on the loop starts one thread per
 * check; the thread opens the store read-only, runs store_check_run and wakes the loop with
 * event_active (libevent is thread-aware here: gw_start calls evthread_use_pthreads); the
 * loop joins it and acts. A stop interrupts the query (sqlite3_interrupt through the reader)
 * and joins. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach_check.h"
#include "attach/attach_files.h"
#include "attach/attach_strays.h"
#include "integrity.h"
#include "log.h"
#include "mlagw/codec.h"
#include "store/store_check.h"

struct gw_integrity {
	struct event *timer, *done;
	uint64_t interval_ms;
	pthread_t thread;
	int running;
	pthread_mutex_t mu; /* guards reader between the thread and a stop */
	store_reader *reader;
	volatile int stop;
	char path[PATH_MAX];
	char att_root[ATTACH_PATH_MAX];
	int64_t started_ms;
	mla_err err;
	mla_diag diag;
	struct store_check_result res;
	unsigned what; /* the STORE_CHECK_* parts of this run; the attachment files always */
	struct attach_check_result att;
	char damage[MLA_DIAG_MAX]; /* why the store is taken for damaged; "" while it is not */
};

const char *gw_refusing(const struct gw *g)
{
	if (g->stopping)
		return "the gateway is stopping";
	if (g->dir_refusal[0] != '\0')
		return g->dir_refusal;
	return g->hold != NULL ? g->hold : gw_store_damage(g);
}

const char *gw_store_damage(const struct gw *g)
{
	return g->integrity != NULL && g->integrity->damage[0] ? g->integrity->damage : NULL;
}

static void *check_thread(void *arg)
{
	struct gw_integrity *in = arg;
	store_reader *r = NULL;

	in->err = store_reader_open(in->path, &r, &in->diag);
	pthread_mutex_lock(&in->mu);
	in->reader = r;
	pthread_mutex_unlock(&in->mu);
	memset(&in->res, 0, sizeof(in->res));
	memset(&in->att, 0, sizeof(in->att));
	if (in->err == MLA_OK && !in->stop && in->what != 0)
		in->err = store_check_run(r, in->what, NULL, &in->stop, &in->res, &in->diag);
	/* sizes only (stat): cheap enough for every start (SPEC 17.13 "Durability") */
	if (in->err == MLA_OK && !in->stop)
		in->err = attach_check_run(r, in->att_root, 0, &in->stop, &in->att, &in->diag);
	pthread_mutex_lock(&in->mu);
	in->reader = NULL;
	pthread_mutex_unlock(&in->mu);
	store_reader_close(r);
	event_active(in->done, EV_READ, 0);
	return NULL;
}

/* One line naming what failed: quick_check, the first entry not matching its leaf, the
 * checkpoint, or what stopped the read. */
static void describe(const struct store_check_result *res, char *out, size_t cap)
{
	if (res->failed & STORE_CHECK_QUICK)
		(void)mla_snprintf_cut(out, cap, "quick_check: %s", res->quick);
	else if (res->log[0] != '\0')
		(void)mla_snprintf_cut(out, cap, "audit: %s", res->log);
	else if (res->bad_entries > 0)
		(void)mla_snprintf_cut(out, cap, "audit entry %llu does not match its leaf "
				       "(%llu such)", (unsigned long long)res->first_bad,
				       (unsigned long long)res->bad_entries);
	else if (res->bad_dirs > 0)
		(void)mla_snprintf_cut(out, cap, "%s", res->dir_bad);
	else
		(void)mla_snprintf_cut(out, cap, "%s", res->cp);
}

/* The attachment files failed (their check runs at every start and with the scheduled
 * one): the same answer as a damaged store, the damage named by message and index. */
static void attachments_damaged(struct gw *g, const struct attach_check_result *att)
{
	struct gw_integrity *in = g->integrity;
	mla_diag d = {MLA_OK, ""};
	char why[MLA_DIAG_MAX];

	(void)mla_snprintf_cut(why, sizeof(why), "%llu attachment files missing or of another "
			       "size; the first: %s", (unsigned long long)att->bad, att->first_bad);
	(void)mla_snprintf_cut(in->damage, sizeof(in->damage), "the store's attachment files "
			       "failed their check (%s): new submissions are refused; run mlagw store "
			       "check, then stop the gateway and restore the store from a backup",
			       why);
	gw_log(GW_LOG_ERROR, "attachments-damaged", NULL, "reason=\"%s\" action=\"submissions "
	       "and receptions refused (503)\"", why);
	if (store_alert(g->store, "attachments-damaged", NULL, why, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

static void attachments_done(struct gw *g, const struct attach_check_result *att)
{
	if (att->strays > 0)
		gw_log(GW_LOG_WARN, "attachments-strays", NULL, "count=%llu first=\"%s\"",
		       (unsigned long long)att->strays, att->first_stray);
	if (att->bad > 0)
		attachments_damaged(g, att);
	else
		gw_log(GW_LOG_INFO, "attachments-checked", NULL, "messages=%llu files=%llu "
		       "bytes=%llu parts=%llu", (unsigned long long)att->messages,
		       (unsigned long long)att->files, (unsigned long long)att->bytes,
		       (unsigned long long)att->parts);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	struct gw_integrity *in = g->integrity;
	mla_diag d = {MLA_OK, ""};
	char why[MLA_DIAG_MAX];

	(void)fd;
	(void)what;
	(void)pthread_join(in->thread, NULL);
	in->running = 0;
	if (in->err != MLA_OK) {
		gw_log(GW_LOG_ERROR, "store-check-error", NULL, "reason=\"%s\"", in->diag.msg);
		return;
	}
	attachments_done(g, &in->att);
	if (in->what == 0)
		return; /* the start's run: the attachment files alone */
	if (in->res.failed == 0) {
		if (store_mark_checked(g->store, in->started_ms, &d) != MLA_OK)
			gw_log(GW_LOG_ERROR, "store-error", NULL, "op=mark-checked reason=\"%s\"", d.msg);
		gw_log(GW_LOG_INFO, "store-checked", NULL, "quick_check=ok quick_s=%.2f entries=%llu "
		       "checkpoint=%llu log_s=%.2f", in->res.quick_s,
		       (unsigned long long)in->res.entries, (unsigned long long)in->res.checkpoint,
		       in->res.log_s);
		return;
	}
	describe(&in->res, why, sizeof(why));
	(void)mla_snprintf_cut(in->damage, sizeof(in->damage), "the store failed its integrity "
			       "check (%s): new submissions are refused; run mlagw store check, "
			       "then stop the gateway and restore the store from a backup", why);
	gw_log(GW_LOG_ERROR, "store-damaged", NULL, "reason=\"%s\" action=\"submissions and "
	       "receptions refused (503)\"", why);
	if (store_alert(g->store, "store-damaged", NULL, why, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=alert reason=\"%s\"", d.msg);
}

static void run_parts(struct gw *g, unsigned what)
{
	struct gw_integrity *in = g->integrity;

	if (in == NULL || in->running || g->stopping)
		return;
	in->what = what;
	in->stop = 0;
	in->err = MLA_OK;
	memset(&in->diag, 0, sizeof(in->diag));
	in->started_ms = gw_now_ms();
	if (pthread_create(&in->thread, NULL, check_thread, in) != 0) {
		gw_log(GW_LOG_ERROR, "store-check-error", NULL, "reason=\"cannot start a thread\"");
		return;
	}
	in->running = 1;
}

void gw_integrity_run(struct gw *g)
{
	run_parts(g, STORE_CHECK_QUICK | STORE_CHECK_LOG | STORE_CHECK_DIRS);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	gw_integrity_run(arg);
}

static mla_err arm(struct gw *g)
{
	struct gw_integrity *in = g->integrity;
	uint64_t ms = g->snap->cfg.store_check_interval_ms;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

	if (event_add(in->timer, &tv) != 0)
		return MLA_ERR_INTERNAL;
	in->interval_ms = ms;
	return MLA_OK;
}

static void stray_removed(const struct attach_stray *s, void *arg)
{
	(void)arg;
	if (s->err != MLA_OK)
		gw_log(GW_LOG_ERROR, "attach-error", s->message_id, "reason=\"%s\"", s->diag.msg);
	else
		gw_log(GW_LOG_WARN, "attachments-stray-removed", s->message_id,
		       "files=%llu bytes=%llu reason=\"%s\"", (unsigned long long)s->files,
		       (unsigned long long)s->bytes, s->sealing ?
		       "a submission's sealing cut short (stopped before its row was stored): no "
		       "202 was given, the client's retry seals it again" :
		       "a transfer's reservation its receiver did not record (stopped in between): "
		       "no receipt was given, the sender sends it again");
}

/* Before anything is served (no reservation or sealing can be under way), the folders of
 * reservations never recorded and of sealings cut short: they would hold the disk for good. */
static void remove_stray_reservations(const char *store_db)
{
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};

	if (store_reader_open(store_db, &r, &d) != MLA_OK ||
	    attach_strays_remove(store_db, r, stray_removed, NULL, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-check-error", NULL, "reason=\"stray reservations: %s\"",
		       d.msg);
	store_reader_close(r);
}

mla_err gw_integrity_start(struct gw *g, mla_diag *d)
{
	struct gw_integrity *in = calloc(1, sizeof(*in));

	if (in == NULL)
		return mla_fail(d, MLA_ERR_NOMEM, "out of memory");
	g->integrity = in;
	(void)pthread_mutex_init(&in->mu, NULL);
	if (mla_strcpy(in->path, sizeof(in->path), g->snap->cfg.store) != MLA_OK ||
	    attach_root_path(g->snap->cfg.store, in->att_root, sizeof(in->att_root), d) != MLA_OK ||
	    (in->timer = event_new(g->base, -1, EV_PERSIST, on_tick, g)) == NULL ||
	    (in->done = event_new(g->base, -1, 0, on_done, g)) == NULL || arm(g) != MLA_OK)
		return mla_fail(d, MLA_ERR_INTERNAL, "cannot start the store's integrity check");
	remove_stray_reservations(g->snap->cfg.store);
	run_parts(g, 0); /* the attachment files at every start, off the loop */
	return MLA_OK;
}

void gw_integrity_reload(struct gw *g)
{
	if (g->integrity != NULL && g->integrity->interval_ms != g->snap->cfg.store_check_interval_ms &&
	    arm(g) != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-check-error", NULL, "reason=\"timer not rearmed\"");
}

void gw_integrity_free(struct gw *g)
{
	struct gw_integrity *in = g->integrity;

	if (in == NULL)
		return;
	if (in->running) {
		in->stop = 1;
		pthread_mutex_lock(&in->mu);
		if (in->reader != NULL)
			store_reader_interrupt(in->reader);
		pthread_mutex_unlock(&in->mu);
		(void)pthread_join(in->thread, NULL);
	}
	if (in->timer != NULL)
		event_free(in->timer);
	if (in->done != NULL)
		event_free(in->done);
	(void)pthread_mutex_destroy(&in->mu);
	free(in);
	g->integrity = NULL;
}
