/* The relay's TLS client identity: our certificate chain and the TLS key (privkey.h), set on
 * the SSL_CTX of each new connection through CURLOPT_SSL_CTX_FUNCTION, so that curl never
 * gets the key's bytes and no second copy of them exists in memory. */
#include <stdlib.h>

#include <openssl/ssl.h>

#include "mlagw/pem.h"
#include "relay_internal.h"

mla_err relay_identity_load(const char *cert_path, const char *key_path,
			    struct relay_identity **out, mla_diag *diag)
{
	struct relay_identity *id = calloc(1, sizeof(*id));
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
	relay_identity_unref(id);
	return r;
}

struct relay_identity *relay_identity_ref(struct relay_identity *id)
{
	id->refs++;
	return id;
}

void relay_identity_unref(struct relay_identity *id)
{
	if (id == NULL || --id->refs > 0)
		return;
	X509_free(id->leaf);
	sk_X509_pop_free(id->chain, X509_free);
	mla_privkey_free(id->key);
	free(id);
}

/* CURLOPT_SSL_CTX_FUNCTION: curl calls it for each new connection, before the handshake.
 * The SSL_CTX takes its own references, and checks that the key is the leaf's. */
static CURLcode use_identity(CURL *easy, void *sslctx, void *arg)
{
	const struct relay_identity *id = arg;

	(void)easy;
	if (SSL_CTX_use_cert_and_key(sslctx, id->leaf, mla_privkey_evp(id->key), id->chain, 1) !=
	    1)
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

void relay_identity_set(CURL *easy, struct relay_identity *id)
{
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, use_identity);
	curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, id);
}
