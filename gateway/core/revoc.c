/* Revocation decisions (see revoc.h): which answer speaks for a certificate, revoked or
 * not at the time asked about, and what an unknown status does ([revocation] fail). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "mlagw/codec.h"
#include "revoc_internal.h"

struct gw_revoc *gw_revoc_global;

/* What the cache says about one certificate. */
enum rv_verdict { RV_NO_SOURCE, RV_UNKNOWN, RV_DECIDED };

static void settings(struct gw_revoc *rv, const struct gw_config *c)
{
	rv->fail_open = c->rev_fail_open;
	rv->ocsp_on = c->rev_ocsp_on;
	rv->timeout_ms = c->rev_timeout_ms;
	rv->refresh_ms = c->rev_refresh_ms;
}

/* The index of src among the CRL sources, added if new (SIZE_MAX when full). */
static size_t crl_source(struct gw_revoc *rv, const char *src, int configured)
{
	for (size_t i = 0; i < rv->n_crls; i++)
		if (strcmp(rv->crls[i].src, src) == 0) {
			rv->crls[i].configured |= configured;
			return i;
		}
	if (rv->n_crls == RV_CRLS ||
	    mla_strcpy(rv->crls[rv->n_crls].src, sizeof(rv->crls[0].src), src) != MLA_OK)
		return SIZE_MAX;
	rv->crls[rv->n_crls].configured = configured;
	rv->crls[rv->n_crls].want = 1;
	return rv->n_crls++;
}

/* [revocation] crl as configured now: sources no longer configured are dropped. */
static void configure_crls(struct gw_revoc *rv, const struct gw_config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < rv->n_crls; i++) {
		int keep = !rv->crls[i].configured;
		for (size_t k = 0; k < c->n_rev_crls && !keep; k++)
			keep = strcmp(rv->crls[i].src, c->rev_crls[k]) == 0;
		if (keep)
			rv->crls[n++] = rv->crls[i];
		else
			X509_CRL_free(rv->crls[i].crl);
	}
	rv->n_crls = n;
	for (size_t k = 0; k < c->n_rev_crls; k++)
		(void)crl_source(rv, c->rev_crls[k], 1);
}

mla_err gw_revoc_start(const struct gw_config *c, mla_diag *diag)
{
	struct gw_revoc *rv = calloc(1, sizeof(*rv));

	if (rv == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if (pthread_mutex_init(&rv->mu, NULL) != 0) {
		free(rv);
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot create a mutex");
	}
	if (mla_snprintf(rv->cache_dir, sizeof(rv->cache_dir), "%s.revocation", c->store) !=
	    MLA_OK) {
		pthread_mutex_destroy(&rv->mu);
		free(rv);
		return mla_fail(diag, MLA_ERR_CONFIG, "[gateway] store path too long");
	}
	settings(rv, c);
	configure_crls(rv, c);
	gw_revoc_global = rv;
	return MLA_OK;
}

mla_err gw_revoc_run(struct event_base *base, mla_diag *diag)
{
	struct gw_revoc *rv = gw_revoc_global;

	if (rv == NULL)
		return MLA_OK;
	if (bg_job_new(base, rv_job_prepare, rv_job_run, rv_job_done, rv, &rv->job) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot schedule the revocation refresher");
	pthread_mutex_lock(&rv->mu);
	rv->loop = pthread_self();
	rv->loop_set = 1;
	pthread_mutex_unlock(&rv->mu);
	bg_job_arm(rv->job, 0);
	return MLA_OK;
}

void gw_revoc_configure(const struct gw_config *c)
{
	struct gw_revoc *rv = gw_revoc_global;

	if (rv == NULL)
		return;
	pthread_mutex_lock(&rv->mu);
	settings(rv, c);
	configure_crls(rv, c);
	pthread_mutex_unlock(&rv->mu);
}

void gw_revoc_stop(void)
{
	struct gw_revoc *rv = gw_revoc_global;

	if (rv == NULL)
		return;
	gw_revoc_global = NULL;
	rv->abort = 1;
	bg_job_free(rv->job);
	for (size_t i = 0; i < rv->n_certs; i++) {
		X509_free(rv->certs[i].leaf);
		X509_free(rv->certs[i].issuer);
		OPENSSL_free(rv->certs[i].der);
	}
	for (size_t i = 0; i < rv->n_crls; i++)
		X509_CRL_free(rv->crls[i].crl);
	pthread_mutex_destroy(&rv->mu);
	free(rv);
}

size_t rv_cert_entry(struct gw_revoc *rv, X509 *leaf, X509 *issuer, const char *url)
{
	uint8_t fp[32];
	unsigned int n = 0;
	struct rv_cert *e;

	if (X509_digest(leaf, EVP_sha256(), fp, &n) != 1 || n != sizeof(fp))
		return SIZE_MAX;
	for (size_t i = 0; i < rv->n_certs; i++)
		if (memcmp(rv->certs[i].fp, fp, sizeof(fp)) == 0)
			return i;
	if (rv->n_certs == RV_CERTS)
		return SIZE_MAX;
	e = &rv->certs[rv->n_certs];
	memset(e, 0, sizeof(*e));
	if (mla_strcpy(e->url, sizeof(e->url), url) != MLA_OK || X509_up_ref(leaf) != 1)
		return SIZE_MAX;
	if (X509_up_ref(issuer) != 1) {
		X509_free(leaf);
		return SIZE_MAX;
	}
	memcpy(e->fp, fp, sizeof(fp));
	e->leaf = leaf;
	e->issuer = issuer;
	e->want = 1;
	return rv->n_certs++;
}

/* A current CRL of issuer (its name, signature and dates) in the sources. mu held. */
static enum rv_verdict crl_verdict(struct gw_revoc *rv, X509 *leaf, X509 *issuer,
				   const char *cdp, mla_revoc_status *st)
{
	enum rv_verdict v = cdp[0] != '\0' ? RV_UNKNOWN : RV_NO_SOURCE;
	time_t now = time(NULL);

	if (cdp[0] != '\0')
		(void)crl_source(rv, cdp, 0);
	for (size_t i = 0; i < rv->n_crls; i++) {
		X509_CRL *crl = rv->crls[i].crl;
		int mine;

		if (crl == NULL && rv->crls[i].configured) {
			/* not read yet (or unreadable): it may list leaf */
			v = RV_UNKNOWN;
			rv->crls[i].want = 1;
			continue;
		}
		mine = strcmp(rv->crls[i].src, cdp) == 0 ||
			   (crl != NULL && X509_NAME_cmp(X509_CRL_get_issuer(crl),
							 X509_get_subject_name(issuer)) == 0);
		if (!mine)
			continue;
		if (crl != NULL && mla_crl_verify(crl, issuer, now, NULL) == MLA_OK) {
			mla_crl_status(crl, leaf, st);
			return RV_DECIDED;
		}
		v = RV_UNKNOWN;
		rv->crls[i].want = 1;
	}
	return v;
}

/* What the cache knows of leaf: OCSP first (a fresh answer), then CRLs. *ocsp_i is the
 * OCSP entry a fetch could fill (SIZE_MAX: none). mu held. */
static enum rv_verdict cached_verdict(struct gw_revoc *rv, X509 *leaf, X509 *issuer,
				      mla_revoc_status *st, size_t *ocsp_i)
{
	char cdp[GW_URL_MAX], ocsp[GW_URL_MAX];
	enum rv_verdict v = RV_NO_SOURCE, c;

	*ocsp_i = SIZE_MAX;
	mla_cert_revoc_urls(leaf, cdp, sizeof(cdp), ocsp, sizeof(ocsp));
	if (rv->ocsp_on && ocsp[0] != '\0' &&
	    (*ocsp_i = rv_cert_entry(rv, leaf, issuer, ocsp)) != SIZE_MAX) {
		struct rv_cert *e = &rv->certs[*ocsp_i];
		if (e->have && e->st.next_update > time(NULL)) {
			*st = e->st;
			return RV_DECIDED;
		}
		e->want = 1;
		v = RV_UNKNOWN;
	}
	c = crl_verdict(rv, leaf, issuer, cdp, st);
	return c == RV_DECIDED || v != RV_UNKNOWN ? c : RV_UNKNOWN;
}

/* Whether this thread may wait for the network: not the event loop's. mu held. */
static int may_fetch(const struct gw_revoc *rv)
{
	return !rv->loop_set || !pthread_equal(rv->loop, pthread_self());
}

/* Fetches what leaf's verdict waits for, now (a worker, or the start). */
static void fetch_wanted(struct gw_revoc *rv, size_t ocsp_i)
{
	size_t n;
	int retry;

	pthread_mutex_lock(&rv->mu);
	retry = ocsp_i != SIZE_MAX && RV_MAY_RETRY(rv->certs[ocsp_i].failed_at);
	pthread_mutex_unlock(&rv->mu);
	if (retry && rv_fetch_ocsp(rv, ocsp_i))
		return;
	pthread_mutex_lock(&rv->mu);
	n = rv->n_crls;
	pthread_mutex_unlock(&rv->mu);
	for (size_t i = 0; i < n; i++) {
		int want;
		pthread_mutex_lock(&rv->mu);
		want = rv->crls[i].want && RV_MAY_RETRY(rv->crls[i].failed_at);
		pthread_mutex_unlock(&rv->mu);
		if (want)
			(void)rv_fetch_crl(rv, i);
	}
}

/* The verdict for leaf, fetching once when this thread may. */
static enum rv_verdict verdict(struct gw_revoc *rv, X509 *leaf, X509 *issuer,
			       mla_revoc_status *st)
{
	enum rv_verdict v;
	size_t ocsp_i;
	int fetch;

	pthread_mutex_lock(&rv->mu);
	v = cached_verdict(rv, leaf, issuer, st, &ocsp_i);
	fetch = v == RV_UNKNOWN && may_fetch(rv);
	pthread_mutex_unlock(&rv->mu);
	if (v != RV_UNKNOWN)
		return v;
	if (!fetch) {
		if (rv->job != NULL)
			bg_job_arm(rv->job, 0); /* the loop thread: the refresher fetches */
		return v;
	}
	fetch_wanted(rv, ocsp_i);
	pthread_mutex_lock(&rv->mu);
	v = cached_verdict(rv, leaf, issuer, st, &ocsp_i);
	pthread_mutex_unlock(&rv->mu);
	return v;
}

/* An unknown status: refused (fail closed) or let through with a warning (fail open). */
static mla_err unknown(struct gw_revoc *rv, X509 *leaf, const char *role, mla_diag *diag)
{
	char subject[256] = "";
	int open;

	X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof(subject));
	pthread_mutex_lock(&rv->mu);
	open = rv->fail_open;
	rv->last_unknown = time(NULL);
	if (open)
		rv->unknown_passed++;
	else
		rv->unknown_refused++;
	pthread_mutex_unlock(&rv->mu);
	gw_log_limited(GW_LOG_WARN, "revocation-unknown", role, NULL, "certificate=\"%s\" "
		       "mode=%s", subject, open ? "open: let through" : "closed: refused");
	if (open)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_REVOCATION_UNKNOWN, "%s certificate %s: no current CRL or "
			"OCSP answer (revocation status unknown or stale; [revocation] fail = "
			"closed)", role, subject);
}

mla_err gw_revoc_check(void *arg, X509 *leaf, X509 *issuer, time_t at, const char *role,
		       mla_diag *diag)
{
	struct gw_revoc *rv = arg;
	mla_revoc_status st;
	enum rv_verdict v;

	if (rv == NULL || leaf == NULL || issuer == NULL)
		return MLA_OK; /* no issuer: nothing to ask (callers pass each pair of a path) */
	memset(&st, 0, sizeof(st));
	if ((v = verdict(rv, leaf, issuer, &st)) == RV_NO_SOURCE)
		return MLA_OK;
	if (v == RV_UNKNOWN)
		return unknown(rv, leaf, role, diag);
	/* signed before its revocation: what an audit of the past asks (at != 0) */
	if (!st.revoked || (at != 0 && at < st.revoked_at))
		return MLA_OK;
	pthread_mutex_lock(&rv->mu);
	rv->revoked++;
	pthread_mutex_unlock(&rv->mu);
	return mla_revoc_refuse(leaf, role, &st, diag);
}

void gw_revoc_attach(mla_trust *t)
{
	if (gw_revoc_global != NULL && t != NULL)
		mla_trust_set_revocation(t, gw_revoc_check, gw_revoc_global);
}

mla_err gw_revoc_check_chain(STACK_OF(X509) *verified, const char *role, mla_diag *diag)
{
	char ca_role[96];
	mla_err r = MLA_OK;

	if (gw_revoc_global == NULL)
		return MLA_OK;
	(void)mla_snprintf_cut(ca_role, sizeof(ca_role), "%s's issuing CA", role);
	/* every certificate but the root, against its issuer: an intermediate CA too */
	for (int i = 0; r == MLA_OK && i + 1 < sk_X509_num(verified); i++)
		r = gw_revoc_check(gw_revoc_global, sk_X509_value(verified, i),
				   sk_X509_value(verified, i + 1), 0, i == 0 ? role : ca_role,
				   diag);
	return r;
}

void gw_revoc_health(struct gw_revoc_health *out)
{
	struct gw_revoc *rv = gw_revoc_global;

	memset(out, 0, sizeof(*out));
	if (rv == NULL)
		return;
	pthread_mutex_lock(&rv->mu);
	out->revoked = rv->revoked;
	out->unknown_refused = rv->unknown_refused;
	out->unknown_passed = rv->unknown_passed;
	out->fetch_failed = rv->fetch_failed;
	out->fail_open = rv->fail_open;
	out->unknown_recently = rv->last_unknown != 0 &&
				time(NULL) - rv->last_unknown < GW_REVOC_ALERT_S;
	memcpy(out->problem, rv->problem, sizeof(out->problem));
	pthread_mutex_unlock(&rv->mu);
}

size_t gw_revoc_crl_expiries(struct gw_revoc_crl_expiry *out, size_t max)
{
	struct gw_revoc *rv = gw_revoc_global;
	size_t n = 0;
	struct tm tm;

	if (rv == NULL)
		return 0;
	pthread_mutex_lock(&rv->mu);
	for (size_t i = 0; i < rv->n_crls && n < max; i++) {
		const ASN1_TIME *next = rv->crls[i].crl != NULL
						? X509_CRL_get0_nextUpdate(rv->crls[i].crl)
						: NULL;

		if (next == NULL || ASN1_TIME_to_tm(next, &tm) != 1)
			continue;
		out[n].index = i + 1;
		out[n].next_update = timegm(&tm);
		X509_NAME_oneline(X509_CRL_get_issuer(rv->crls[i].crl), out[n].issuer,
				  (int)sizeof(out[n].issuer));
		n++;
	}
	pthread_mutex_unlock(&rv->mu);
	return n;
}
