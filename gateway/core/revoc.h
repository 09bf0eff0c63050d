/* Revocation checking in the gateway (SPEC 18.7): the status of peer TLS certificates and of
 * envelope, receipt and directory signers from OCSP (when a certificate names a responder)
 * and CRLs ([revocation] crl and the certificates' distribution points), kept in memory and
 * on disk beside the store, refreshed on a thread of their own. One per process, shared by
 * every thread (its state is behind a mutex). Checks never block the event loop thread: there
 * they use what is cached and ask the refresher for the rest; worker threads and the start
 * (before the loop runs) fetch what they miss, bounded by [revocation] timeout. */
#ifndef MLAGW_GATEWAY_REVOC_H
#define MLAGW_GATEWAY_REVOC_H

#include <stdint.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "conf/config.h"
#include "mlagw/envelope.h"

struct gw_revoc;

/* The process's checker (NULL before gw_revoc_start and after gw_revoc_stop). */
extern struct gw_revoc *gw_revoc_global;

/* Creates the checker with c's settings and makes it gw_revoc_global. */
mla_err gw_revoc_start(const struct gw_config *c, mla_diag *diag);
/* Arms the refresher on base; the calling thread is the loop thread from now on. */
mla_err gw_revoc_run(struct event_base *base, mla_diag *diag);
/* Takes a reloaded configuration's settings (fail mode, OCSP, CRLs, intervals). */
void gw_revoc_configure(const struct gw_config *c);
/* Stops the refresher and frees everything. */
void gw_revoc_stop(void);

/* The mla_revocation_fn the gateway's trust sets carry (arg: the struct gw_revoc). */
mla_err gw_revoc_check(void *arg, X509 *leaf, X509 *issuer, time_t at, const char *role,
		       mla_diag *diag);
/* Attaches the process's checker to a trust set (nothing while none is started). */
void gw_revoc_attach(mla_trust *t);
/* A TLS peer's verified chain (SSL_get0_verified_chain: leaf first, its issuer next): each
 * certificate but the root checked against the next one, intermediate CAs included. */
mla_err gw_revoc_check_chain(STACK_OF(X509) *verified, const char *role, mla_diag *diag);

/* Stapling (revoc_staple.c). Follows the gateway's own TLS leaf (its issuer among roots),
 * so that the refresher keeps its OCSP answer; a copy of that answer while current
 * (OPENSSL_free it), 1, or 0; a peer's stapled answer, taken when it verifies. */
void gw_revoc_follow_own(X509 *leaf, X509_STORE *roots);
int gw_revoc_staple(X509 *leaf, uint8_t **der, size_t *len);
void gw_revoc_offer(X509 *leaf, X509 *issuer, const uint8_t *der, size_t len);

/* For /healthz and /metrics: refusals since start, passes in fail-open mode, and the last
 * problem (a CRL or OCSP answer that could not be had or was stale), "" when none is
 * current; unknown_recently: a certificate of unknown status was met (refused or let
 * through) within GW_REVOC_ALERT_S. */
#define GW_REVOC_ALERT_S 600
struct gw_revoc_health {
	uint64_t revoked, unknown_refused, unknown_passed, fetch_failed;
	int fail_open, unknown_recently;
	char problem[MLA_DIAG_MAX];
};
void gw_revoc_health(struct gw_revoc_health *out);

/* The CRLs held and when each must be replaced (its nextUpdate), for the expiry warnings
 * (SPEC 18.8): at most max into out; how many. */
struct gw_revoc_crl_expiry {
	size_t index;     /* 1-based, in the checker's list: configured CRLs first */
	time_t next_update;
	char issuer[256];
};
size_t gw_revoc_crl_expiries(struct gw_revoc_crl_expiry *out, size_t max);

#endif
