/* Our TLS client identity towards the peers: our certificate chain and the TLS key (privkey.h), set on
 * the SSL_CTX of each new connection through CURLOPT_SSL_CTX_FUNCTION, so that curl never
 * gets the key's bytes and no second copy of them exists in memory. */
#include <stdlib.h>

#include <openssl/ssl.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/revoc.h"
#include "mlagw/pem.h"
#include "peer_identity_internal.h"

mla_err peer_identity_load(const char *cert_path, const char *key_path,
			    struct peer_identity **out, mla_diag *diag)
{
	struct peer_identity *id = calloc(1, sizeof(*id));
	mla_err r = MLA_ERR_NOMEM;

	*out = NULL;
	if (id == NULL)
		return mla_fail(diag, r, "out of memory for the TLS identity");
	id->refs = 1;
	if ((r = mla_privkey_load(key_path, &id->key, diag)) != MLA_OK ||
	    (r = mla_pem_load_certs(cert_path, &id->chain, diag)) != MLA_OK)
		goto out;
	id->leaf = sk_X509_shift(id->chain); /* the file holds at least one certificate */
	*out = id;
	id = NULL;
out:
	peer_identity_unref(id);
	return r;
}

void peer_identity_replaces(struct peer_identity *id, const struct peer_identity *old)
{
	if (old == NULL)
		return;
	if (X509_cmp(id->leaf, old->leaf) == 0 &&
	    EVP_PKEY_eq(mla_privkey_public(id->key), mla_privkey_public(old->key)) == 1)
		id->since_ms = old->since_ms;
	else
		id->since_ms = gw_mono_ms();
}

struct peer_identity *peer_identity_ref(struct peer_identity *id)
{
	id->refs++;
	return id;
}

void peer_identity_unref(struct peer_identity *id)
{
	if (id == NULL || --id->refs > 0)
		return;
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	mla_privkey_free(id->key);
	free(id);
}

/* An OCSP answer the server stapled (TLS 1.3 carries it with the certificate, so it is here
 * when the chain is verified), verified and kept as a fetched one would be. */
static void take_staple(X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(x);
	const unsigned char *der = NULL;
	long len = ssl != NULL ? SSL_get_tlsext_status_ocsp_resp(ssl, &der) : -1;

	if (len > 0 && der != NULL && sk_X509_num(chain) >= 2)
		gw_revoc_offer(sk_X509_value(chain, 0), sk_X509_value(chain, 1), der, (size_t)len);
}

/* The peer's server certificate, once its chain verified: not revoked (SPEC 18.7). On the
 * loop thread, so from what the revocation cache holds; refused, the handshake fails and
 * the exchange is retried as after any transport error. */
static int verify_not_revoked(int ok, X509_STORE_CTX *x)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	if (ok && X509_STORE_CTX_get_error_depth(x) == 0)
		take_staple(x);
	if (!ok || X509_STORE_CTX_get_error_depth(x) != 0 ||
	    (r = gw_revoc_check_chain(X509_STORE_CTX_get0_chain(x), "peer TLS server", &d)) ==
		    MLA_OK)
		return ok;
	gw_log_limited(GW_LOG_WARN, "peer-tls-refused", mla_errname(r), NULL,
		       "side=client error=%s reason=\"%s\"", mla_errname(r), d.msg);
	X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REVOKED);
	return 0;
}

/* CURLOPT_SSL_CTX_FUNCTION: curl calls it for each new connection, before the handshake.
 * The SSL_CTX takes its own references, and checks that the key is the leaf's. */
static CURLcode use_identity(CURL *easy, void *sslctx, void *arg)
{
	const struct peer_identity *id = arg;

	(void)easy;
	if (SSL_CTX_use_cert_and_key(sslctx, id->leaf, mla_privkey_evp(id->key), id->chain, 1) !=
	    1)
		return CURLE_SSL_CERTPROBLEM;
	/* curl set SSL_VERIFY_PEER (the relay verifies peers) and verifies the result itself */
	SSL_CTX_set_verify(sslctx, SSL_CTX_get_verify_mode(sslctx), verify_not_revoked);
	SSL_CTX_set_tlsext_status_type(sslctx, TLSEXT_STATUSTYPE_ocsp); /* ask for a staple */
	return CURLE_OK;
}

void peer_identity_set(CURL *easy, struct peer_identity *id)
{
	int64_t age;

	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, use_identity);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, id);
	if (id->since_ms == 0)
		return;
	/* curl no longer sees our certificate among the options it matches connections on:
	 * one opened before this identity replaced another (whole seconds, one spare) must not
	 * carry this exchange under the old certificate */
	age = (gw_mono_ms() - id->since_ms) / 1000 - 1;
	if (age < 1)
		curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
	else
		curl_easy_setopt(easy, CURLOPT_MAXLIFETIME_CONN, (long)age);
}
