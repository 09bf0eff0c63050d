/* The revocation checker's state, shared by revoc.c (decisions) and revoc_fetch.c (fetching
 * and the disk cache). Every field below mu is read and written with mu held. */
#ifndef MLAGW_GATEWAY_REVOC_INTERNAL_H
#define MLAGW_GATEWAY_REVOC_INTERNAL_H

#include <pthread.h>

#include "bg_fetch.h"
#include "mlagw/revoc.h"
#include "revoc.h"

#define RV_CERTS 128            /* certificates followed by OCSP */
#define RV_CRLS (GW_REV_CRLS + 32) /* configured CRLs and distribution points */
#define RV_RETRY_MS 2000        /* a wanted or failed fetch is tried again this soon */

struct rv_cert {
	uint8_t fp[32];        /* SHA-256 of the leaf's DER */
	X509 *leaf, *issuer;   /* owned references */
	char url[GW_URL_MAX];  /* its OCSP responder */
	mla_revoc_status st;   /* the last verified answer, when have */
	int have, want;
	time_t failed_at;      /* the last fetch that failed (workers wait RV_RETRY_MS) */
	uint8_t *der;          /* the answer itself (stapled when this is our TLS leaf) */
	size_t der_len;
};

struct rv_crl {
	char src[PATH_MAX];    /* a file, or an http(s) URL */
	X509_CRL *crl;         /* the last one read (verified against the issuer when used) */
	int configured, want;
	time_t failed_at;
};

struct gw_revoc {
	pthread_mutex_t mu;
	int fail_open, ocsp_on;
	uint64_t timeout_ms, refresh_ms;
	char cache_dir[PATH_MAX];  /* STORE.revocation/ */
	struct rv_cert certs[RV_CERTS];
	size_t n_certs;
	struct rv_crl crls[RV_CRLS];
	size_t n_crls;
	pthread_t loop;
	int loop_set;
	struct bg_job *job;
	volatile int abort;
	uint64_t revoked, unknown_refused, unknown_passed, fetch_failed;
	time_t last_unknown;       /* the last certificate of unknown status, refused or not */
	char problem[MLA_DIAG_MAX];
};

/* Whether a fetch that failed at t may be tried again by a worker now. */
#define RV_MAY_RETRY(t) ((t) == 0 || time(NULL) - (t) >= RV_RETRY_MS / 1000)

/* revoc_fetch.c: a fresh OCSP answer for certs[i] and the CRL at crls[i], fetched now
 * (blocking; mu not held by the caller); 1 when one was had. */
int rv_fetch_ocsp(struct gw_revoc *rv, size_t i);
int rv_fetch_crl(struct gw_revoc *rv, size_t i);
/* Keeps an answer verified for certs[i] (der copied; NULL keeps the one held). mu not held. */
void rv_keep_ocsp(struct gw_revoc *rv, size_t i, const mla_revoc_status *st,
		  const uint8_t *der, size_t len);
/* The OCSP entry of leaf, added if new (SIZE_MAX when full or on error). mu held. */
size_t rv_cert_entry(struct gw_revoc *rv, X509 *leaf, X509 *issuer, const char *url);
/* Records a fetch problem for health and the log (mu not held). */
void rv_problem(struct gw_revoc *rv, const char *what, const char *why);
/* The refresher's job: prepare, run and done (bg_fetch.h). */
int rv_job_prepare(void *arg);
void rv_job_run(void *arg);
void rv_job_done(void *arg);

#endif
