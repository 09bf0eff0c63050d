/* Fetching CRLs and OCSP answers (see revoc.h): libcurl through bg_fetch.c, never on the event
 * loop thread; each answer verified before it is kept, in memory and in the disk cache
 * (STORE.revocation/), which a start reads when the network does not answer. The refresher
 * fetches again what is wanted, missing or due within the refresh interval. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "log.h"
#include "mlagw/codec.h"
#include "revoc_internal.h"

/* STORE.revocation/PREFIX-HEX, HEX the SHA-256 of key (the source or the certificate). */
static int cache_path(const struct gw_revoc *rv, const char *prefix, const void *key,
		      size_t len, char out[PATH_MAX])
{
	uint8_t d[32];
	char h[65];

	SHA256(key, len, d);
	return mla_hex_encode(d, sizeof(d), h, sizeof(h)) == MLA_OK &&
	       mla_snprintf(out, PATH_MAX, "%s/%s-%s", rv->cache_dir, prefix, h) == MLA_OK;
}

static void cache_write(const struct gw_revoc *rv, const char *path, const mla_buf *b)
{
	char tmp[PATH_MAX];
	int fd, ok;

	if (mkdir(rv->cache_dir, 0700) != 0 && errno != EEXIST)
		return;
	if (mla_snprintf(tmp, sizeof(tmp), "%s.tmp", path) != MLA_OK ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return;
	ok = write(fd, b->data, b->len) == (ssize_t)b->len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		(void)unlink(tmp);
}

static int file_read(const char *path, mla_buf *out)
{
	FILE *fp = fopen(path, "rbe");
	uint8_t chunk[4096];
	size_t n;
	int ok = fp != NULL;

	mla_buf_reset(out);
	while (ok && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		ok = mla_buf_append(out, chunk, n) == MLA_OK;
	if (fp != NULL) {
		ok = ok && !ferror(fp);
		fclose(fp);
	}
	return ok;
}

void rv_problem(struct gw_revoc *rv, const char *what, const char *why)
{
	pthread_mutex_lock(&rv->mu);
	rv->fetch_failed++;
	(void)mla_snprintf_cut(rv->problem, sizeof(rv->problem), "%s: %s", what, why);
	pthread_mutex_unlock(&rv->mu);
	gw_log_limited(GW_LOG_WARN, "revocation-fetch-failed", what, NULL, "reason=\"%s\"", why);
}

static int http(struct gw_revoc *rv, const char *url, const char *type, const mla_buf *post,
		size_t max, mla_buf *body, char *err, size_t err_len)
{
	uint64_t t = rv->timeout_ms;
	struct bg_http q = {url, "http,https", NULL, type, post != NULL ? post->data : NULL,
			    post != NULL ? post->len : 0, t, t, max, &rv->abort};

	return bg_http_fetch(&q, body, err, err_len);
}

/* The answer relied on, kept for the audit trail (SPEC 18.7): STORE.revocation/
 * ocsp-answer-HEX, HEX the SHA-256 of its DER, where audit export finds it. Only when it is
 * the first this process relied on for the certificate or says something else than the
 * previous one (good and revoked, another revocation time): a good status refreshed hourly
 * does not grow the folder, and the first revoked answer is always kept. */
static void keep_for_audit(const struct gw_revoc *rv, const uint8_t *der, size_t len)
{
	char path[PATH_MAX];
	mla_buf b = {.data = (uint8_t *)der, .len = len, .cap = len, .max = len};

	if (cache_path(rv, "ocsp-answer", der, len, path) && access(path, F_OK) != 0)
		cache_write(rv, path, &b);
}

void rv_keep_ocsp(struct gw_revoc *rv, size_t i, const mla_revoc_status *st,
		  const uint8_t *der, size_t len)
{
	uint8_t *copy = der != NULL ? OPENSSL_memdup(der, len) : NULL;
	int keep;

	pthread_mutex_lock(&rv->mu);
	/* an answer about an intermediate CA's certificate is not kept: an auditor judges only
	 * what a root issued (SPEC 15 "Revocation") and would refuse it */
	keep = (!rv->certs[i].have || rv->certs[i].st.revoked != st->revoked ||
		   (st->revoked && rv->certs[i].st.revoked_at != st->revoked_at)) &&
		  X509_check_issued(rv->certs[i].issuer, rv->certs[i].issuer) == X509_V_OK;
	rv->certs[i].st = *st;
	rv->certs[i].have = 1;
	rv->certs[i].want = 0;
	rv->certs[i].failed_at = 0;
	if (copy != NULL) {
		OPENSSL_free(rv->certs[i].der);
		rv->certs[i].der = copy;
		rv->certs[i].der_len = len;
	}
	if (strncmp(rv->problem, "OCSP", 4) == 0)
		rv->problem[0] = '\0';
	pthread_mutex_unlock(&rv->mu);
	if (keep && der != NULL)
		keep_for_audit(rv, der, len);
}

int rv_fetch_ocsp(struct gw_revoc *rv, size_t i)
{
	char url[GW_URL_MAX], path[PATH_MAX], err[MLA_DIAG_MAX] = "";
	mla_diag d = {MLA_OK, ""};
	mla_revoc_status st;
	X509 *leaf, *issuer;
	mla_buf req, body;
	int ok = 0, cached;

	pthread_mutex_lock(&rv->mu);
	leaf = rv->certs[i].leaf;
	issuer = rv->certs[i].issuer;
	memcpy(url, rv->certs[i].url, sizeof(url));
	X509_up_ref(leaf);
	X509_up_ref(issuer);
	pthread_mutex_unlock(&rv->mu);
	mla_buf_init(&req, MLA_OCSP_MAX_BYTES);
	mla_buf_init(&body, MLA_OCSP_MAX_BYTES);
	cached = cache_path(rv, "ocsp", rv->certs[i].fp, sizeof(rv->certs[i].fp), path);
	if (mla_ocsp_request(leaf, issuer, &req, &d) == MLA_OK &&
	    http(rv, url, "Content-Type: application/ocsp-request", &req, MLA_OCSP_MAX_BYTES,
		 &body, err, sizeof(err)) &&
	    mla_ocsp_check(body.data, body.len, leaf, issuer, time(NULL), &st, &d) == MLA_OK) {
		ok = 1;
		if (cached)
			cache_write(rv, path, &body);
	} else {
		rv_problem(rv, "OCSP", err[0] ? err : d.msg);
		/* the disk's answer, while it is current (a start with the responder down) */
		ok = cached && file_read(path, &body) &&
		     mla_ocsp_check(body.data, body.len, leaf, issuer, time(NULL), &st, NULL) ==
			     MLA_OK;
	}
	if (ok) {
		rv_keep_ocsp(rv, i, &st, body.data, body.len);
	} else {
		pthread_mutex_lock(&rv->mu);
		rv->certs[i].failed_at = time(NULL);
		pthread_mutex_unlock(&rv->mu);
	}
	X509_free(leaf);
	X509_free(issuer);
	mla_buf_free(&req);
	mla_buf_free(&body);
	return ok;
}

/* Reads the CRL at src: a file, or an http(s) URL. Either is kept in the disk cache, where
 * audit export finds the CRLs relied on (SPEC 15 format 6); only a URL's copy stands in for
 * a source that cannot be read (a configured file is the operator's to keep). */
static int read_crl(struct gw_revoc *rv, const char *src, mla_buf *body, X509_CRL **crl)
{
	char path[PATH_MAX], err[MLA_DIAG_MAX] = "";
	mla_diag d = {MLA_OK, ""};
	int url = strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0;
	int keep = cache_path(rv, "crl", src, strlen(src), path), cached = url && keep;
	int ok;

	if (url)
		ok = http(rv, src, NULL, NULL, MLA_CRL_MAX_BYTES, body, err, sizeof(err));
	else if (!(ok = file_read(src, body)))
		(void)mla_snprintf_cut(err, sizeof(err), "%s: cannot read", src);
	if (ok && mla_crl_parse(body->data, body->len, crl, &d) != MLA_OK) {
		ok = 0;
		(void)mla_snprintf_cut(err, sizeof(err), "%s: %s", src, d.msg);
	}
	if (ok && keep)
		cache_write(rv, path, body);
	if (!ok) {
		rv_problem(rv, "CRL", err);
		ok = cached && file_read(path, body) &&
		     mla_crl_parse(body->data, body->len, crl, NULL) == MLA_OK;
	}
	return ok;
}

int rv_fetch_crl(struct gw_revoc *rv, size_t i)
{
	char src[PATH_MAX];
	X509_CRL *crl = NULL;
	mla_buf body;
	int ok;

	pthread_mutex_lock(&rv->mu);
	memcpy(src, rv->crls[i].src, sizeof(src));
	pthread_mutex_unlock(&rv->mu);
	mla_buf_init(&body, MLA_CRL_MAX_BYTES);
	ok = read_crl(rv, src, &body, &crl);
	mla_buf_free(&body);
	pthread_mutex_lock(&rv->mu);
	/* the list may have changed meanwhile (a reload): find the source again */
	for (size_t k = 0; k < rv->n_crls; k++)
		if (!ok && strcmp(rv->crls[k].src, src) == 0) {
			rv->crls[k].failed_at = time(NULL);
			break;
		} else if (ok && strcmp(rv->crls[k].src, src) == 0) {
			rv->crls[k].failed_at = 0;
			if (strncmp(rv->problem, "CRL", 3) == 0)
				rv->problem[0] = '\0';
			X509_CRL_free(rv->crls[k].crl);
			rv->crls[k].crl = crl;
			rv->crls[k].want = 0;
			crl = NULL;
			break;
		}
	pthread_mutex_unlock(&rv->mu);
	X509_CRL_free(crl);
	return ok;
}

/* Whether an answer valid until next is due for a refresh now. */
static int due(const struct gw_revoc *rv, time_t next)
{
	return next <= time(NULL) + (time_t)(rv->refresh_ms / 1000);
}

/* A CRL whose nextUpdate falls within the refresh interval (or that has none). */
static int crl_due(const struct gw_revoc *rv, X509_CRL *crl)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	time_t limit = time(NULL) + (time_t)(rv->refresh_ms / 1000);

	return next == NULL || X509_cmp_time(next, &limit) <= 0;
}

int rv_job_prepare(void *arg)
{
	(void)arg;
	return 1;
}

void rv_job_run(void *arg)
{
	struct gw_revoc *rv = arg;
	size_t n_certs, n_crls;

	pthread_mutex_lock(&rv->mu);
	n_certs = rv->n_certs;
	n_crls = rv->n_crls;
	pthread_mutex_unlock(&rv->mu);
	for (size_t i = 0; i < n_certs && !rv->abort; i++) {
		int go;
		pthread_mutex_lock(&rv->mu);
		go = rv->ocsp_on && (rv->certs[i].want || !rv->certs[i].have ||
				     due(rv, rv->certs[i].st.next_update));
		pthread_mutex_unlock(&rv->mu);
		if (go)
			(void)rv_fetch_ocsp(rv, i);
	}
	for (size_t i = 0; i < n_crls && !rv->abort; i++) {
		int go;
		pthread_mutex_lock(&rv->mu);
		go = i < rv->n_crls && (rv->crls[i].want || rv->crls[i].crl == NULL ||
					rv->crls[i].configured || crl_due(rv, rv->crls[i].crl));
		pthread_mutex_unlock(&rv->mu);
		if (go)
			(void)rv_fetch_crl(rv, i);
	}
}

void rv_job_done(void *arg)
{
	struct gw_revoc *rv = arg;
	int wanted = 0;

	pthread_mutex_lock(&rv->mu);
	for (size_t i = 0; i < rv->n_certs && !wanted; i++)
		wanted = rv->ocsp_on && (rv->certs[i].want || !rv->certs[i].have);
	for (size_t i = 0; i < rv->n_crls && !wanted; i++)
		wanted = rv->crls[i].want || rv->crls[i].crl == NULL;
	pthread_mutex_unlock(&rv->mu);
	bg_job_arm(rv->job, wanted && RV_RETRY_MS < rv->refresh_ms ? RV_RETRY_MS
								    : rv->refresh_ms);
}
