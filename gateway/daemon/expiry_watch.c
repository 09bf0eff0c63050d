/* Expiry warnings in the daemon (see expiry_watch.h): the list of what expires, built and
 * warned of by a worker, handed to the loop. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/revoc.h"
#include "expiry_watch.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"

struct expiry_job {
	struct gw_job job;
	struct gw *g;
	struct gw_expiry_watch *w;
	struct gw_expiry_list *list; /* built by run, given to g->expiry by done */
	unsigned char due[GW_EXPIRY_MAX_ITEMS];
};

static void add_x509(struct gw_expiry_list *l, const struct expiry_config *cfg,
		     const char *name, X509 *x, time_t now)
{
	char subject[GW_EXPIRY_SUBJECT_MAX] = "";
	struct tm tm;

	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return;
	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)sizeof(subject));
	(void)gw_expiry_add(l, cfg, GW_EXPIRY_CERTIFICATE, name, subject, timegm(&tm), now);
}

/* The first certificate of a PEM file; a file that cannot be read is logged, not listed
 * (the gateway loaded it at start: it changed since, and the next reload says more). */
static void add_file(struct gw_expiry_list *l, const struct expiry_config *cfg,
		     const char *name, const char *path, time_t now)
{
	STACK_OF(X509) *certs = NULL;
	mla_diag d = {MLA_OK, ""};

	if (path[0] == '\0')
		return;
	if (mla_pem_load_certs(path, &certs, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_WARN, "expiry-check", name, NULL, "name=%s reason=\"%s\"",
			       name, d.msg);
		return;
	}
	add_x509(l, cfg, name, sk_X509_value(certs, 0), now);
	sk_X509_pop_free(certs, X509_free);
}

static void add_own(struct gw_expiry_list *l, const struct gw_config *c, time_t now)
{
	add_file(l, &c->expiry, "own/tls", c->tls.cert, now);
	add_file(l, &c->expiry, "own/signing", c->sign.cert, now);
	add_file(l, &c->expiry, "own/encryption", c->encrypt.cert, now);
	add_file(l, &c->expiry, "own/audit", c->audit.cert, now);
	add_file(l, &c->expiry, "own/api-tls", c->api.tls_cert, now);
	for (size_t i = 0; i < c->n_roots; i++) {
		char name[GW_EXPIRY_NAME_MAX];

		if (mla_snprintf(name, sizeof(name), "root/%zu", i + 1) == MLA_OK)
			add_file(l, &c->expiry, name, c->roots[i], now);
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		char name[GW_EXPIRY_NAME_MAX];

		if (mla_snprintf(name, sizeof(name), "peer/%s/encryption", c->peers[i].state) ==
		    MLA_OK)
			add_file(l, &c->expiry, name, c->peers[i].encrypt_cert, now);
	}
}

/* Every certificate a directory entry lists: its root, intermediates, and each use's
 * current and announced next certificate. */
static void add_entry(struct gw_expiry_list *l, const struct expiry_config *cfg,
		      const mla_dir_entry *e, time_t now)
{
	char name[GW_EXPIRY_NAME_MAX];

	if (mla_snprintf(name, sizeof(name), "dir/%s/root", e->state) == MLA_OK)
		add_x509(l, cfg, name, e->root, now);
	for (size_t i = 0; i < e->n_inter; i++)
		if (mla_snprintf(name, sizeof(name), "dir/%s/ca-%zu", e->state, i + 1) == MLA_OK)
			add_x509(l, cfg, name, e->inter[i], now);
	for (int u = 0; u < MLA_DIR_USES; u++) {
		const char *use = mla_dir_use_name((mla_dir_use)u);

		if (mla_snprintf(name, sizeof(name), "dir/%s/%s", e->state, use) == MLA_OK)
			add_x509(l, cfg, name, e->certs[u].current, now);
		if (e->certs[u].next != NULL &&
		    mla_snprintf(name, sizeof(name), "dir/%s/%s-next", e->state, use) == MLA_OK)
			add_x509(l, cfg, name, e->certs[u].next, now);
	}
	if (mla_snprintf(name, sizeof(name), "dir/%s/entry", e->state) == MLA_OK)
		(void)gw_expiry_add(l, cfg, GW_EXPIRY_DIRECTORY, name, "", e->valid_until, now);
}

/* The CRLs the revocation checker holds (SPEC 18.7): each must be replaced by its
 * nextUpdate, or checks fail (closed) or pass with a warning (open). */
static void add_crls(struct gw_expiry_list *l, const struct expiry_config *cfg, time_t now)
{
	struct gw_revoc_crl_expiry *crls = calloc(64, sizeof(*crls));
	size_t n = crls != NULL ? gw_revoc_crl_expiries(crls, 64) : 0;
	char name[GW_EXPIRY_NAME_MAX];

	for (size_t i = 0; i < n; i++)
		if (mla_snprintf(name, sizeof(name), "crl/%zu", crls[i].index) == MLA_OK)
			(void)gw_expiry_add(l, cfg, GW_EXPIRY_CRL, name, crls[i].issuer,
					    crls[i].next_update, now);
	free(crls);
}

static void expiry_run(struct gw_job *job, struct gw_crypto *k)
{
	struct expiry_job *j = (struct expiry_job *)job;
	const struct gw_config *c = &job->snap->cfg;
	const mla_directory *dir = job->snap->dir;
	time_t now = (time_t)(gw_now_ms() / 1000);

	(void)k;
	if ((j->list = calloc(1, sizeof(*j->list))) == NULL)
		return;
	add_own(j->list, c, now);
	if (dir != NULL) {
		(void)gw_expiry_add(j->list, &c->expiry, GW_EXPIRY_DIRECTORY, "directory", "",
				    dir->expires, now);
		for (size_t i = 0; i < dir->n; i++)
			add_entry(j->list, &c->expiry, &dir->entries[i], now);
	}
	add_crls(j->list, &c->expiry, now);
	if (j->list->dropped > 0)
		gw_log(GW_LOG_WARN, "expiry-check", NULL, "reason=\"more than %d items: %zu not "
		       "checked\"", GW_EXPIRY_MAX_ITEMS, j->list->dropped);
	if (gw_expiry_due(j->list, j->w->fired, j->due) == 0)
		return;
	for (size_t i = 0; i < j->list->n; i++) {
		struct gw_hook_result res;
		mla_diag d = {MLA_OK, ""};

		if (j->due[i] && gw_expiry_warn(&c->expiry, &j->list->items[i], &res, &d) != MLA_OK)
			gw_log(GW_LOG_WARN, "expiry-command", NULL, "name=%s result=\"not run: %s\"",
			       j->list->items[i].name, mla_diag_message(&d));
	}
}

static void expiry_done(struct gw_job *job)
{
	struct expiry_job *j = (struct expiry_job *)job;

	if (j->list != NULL) {
		free(j->g->expiry);
		j->g->expiry = j->list;
	}
	j->w->busy = 0;
	gw_job_release(&j->job);
	free(j);
}

void expiry_watch_tick(struct gw *g, struct gw_expiry_watch *w)
{
	const struct gw_config *c = &g->snap->cfg;
	int64_t mono = gw_mono_ms();
	struct expiry_job *j;

	if (w->busy || (w->fired != NULL && w->gen == g->gen && mono < w->next_mono_ms))
		return;
	if (w->fired == NULL && (w->fired = calloc(1, sizeof(*w->fired))) == NULL)
		return; /* tried again at the next tick */
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return;
	j->job.run = expiry_run;
	j->job.done = expiry_done;
	j->g = g;
	j->w = w;
	w->busy = 1;
	w->gen = g->gen;
	w->next_mono_ms = mono + (int64_t)c->expiry.check_interval_ms;
	gw_pool_submit(g->pool, &j->job, g->snap);
}

void expiry_watch_free(struct gw *g, struct gw_expiry_watch *w)
{
	free(w->fired);
	w->fired = NULL;
	free(g->expiry);
	g->expiry = NULL;
}
