/* OCSP stapling (SPEC 18.7): the peer listener staples the answer the refresher keeps for
 * its own TLS certificate, and the relay takes a peer's stapled answer, verified as a
 * fetched one, instead of asking the responder. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "revoc_internal.h"

/* The entry of leaf if it names a responder and OCSP is on; mu held. */
static size_t entry_of(struct gw_revoc *rv, X509 *leaf, X509 *issuer)
{
	char cdp[GW_URL_MAX], ocsp[GW_URL_MAX];

	mla_cert_revoc_urls(leaf, cdp, sizeof(cdp), ocsp, sizeof(ocsp));
	if (!rv->ocsp_on || ocsp[0] == '\0' || issuer == NULL)
		return SIZE_MAX;
	return rv_cert_entry(rv, leaf, issuer, ocsp);
}

void gw_revoc_follow_own(X509 *leaf, X509_STORE *roots)
{
	struct gw_revoc *rv = gw_revoc_global;
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *issuer = NULL;

	if (rv == NULL || leaf == NULL || ctx == NULL ||
	    X509_STORE_CTX_init(ctx, roots, leaf, NULL) != 1 ||
	    X509_STORE_CTX_get1_issuer(&issuer, ctx, leaf) != 1)
		issuer = NULL;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (rv != NULL && issuer != NULL) {
		pthread_mutex_lock(&rv->mu);
		(void)entry_of(rv, leaf, issuer); /* the refresher keeps it fresh */
		pthread_mutex_unlock(&rv->mu);
	}
	X509_free(issuer);
}

int gw_revoc_staple(X509 *leaf, uint8_t **der, size_t *len)
{
	struct gw_revoc *rv = gw_revoc_global;
	uint8_t fp[32];
	unsigned int n = 0;
	int ok = 0;

	*der = NULL;
	if (rv == NULL || leaf == NULL || X509_digest(leaf, EVP_sha256(), fp, &n) != 1)
		return 0;
	pthread_mutex_lock(&rv->mu);
	for (size_t i = 0; i < rv->n_certs && !ok; i++) {
		struct rv_cert *e = &rv->certs[i];
		if (memcmp(e->fp, fp, sizeof(fp)) != 0 || !e->have || e->der == NULL ||
		    e->st.next_update <= time(NULL))
			continue;
		if ((*der = OPENSSL_memdup(e->der, e->der_len)) != NULL) {
			*len = e->der_len;
			ok = 1;
		}
	}
	pthread_mutex_unlock(&rv->mu);
	return ok;
}

void gw_revoc_offer(X509 *leaf, X509 *issuer, const uint8_t *der, size_t len)
{
	struct gw_revoc *rv = gw_revoc_global;
	mla_revoc_status st;
	size_t i;

	if (rv == NULL || leaf == NULL || issuer == NULL ||
	    mla_ocsp_check(der, len, leaf, issuer, time(NULL), &st, NULL) != MLA_OK)
		return;
	pthread_mutex_lock(&rv->mu);
	i = entry_of(rv, leaf, issuer);
	pthread_mutex_unlock(&rv->mu);
	if (i != SIZE_MAX)
		rv_keep_ocsp(rv, i, &st, der, len);
}
