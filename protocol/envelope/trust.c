/* Trusted State roots: one X509_STORE per State, the State taken from the root's countryName. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "keys_internal.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"

mla_err mla_trust_new(mla_trust **out)
{
	*out = calloc(1, sizeof(**out));
	if (*out == NULL)
		return MLA_ERR_NOMEM;
	if (((*out)->cache = chain_cache_new()) == NULL) {
		free(*out);
		*out = NULL;
		return MLA_ERR_NOMEM;
	}
	return MLA_OK;
}

struct chain_cache *trust_chain_cache(const mla_trust *t)
{
	return t->cache;
}

void mla_trust_set_revocation(mla_trust *t, mla_revocation_fn fn, void *arg)
{
	t->revoc_fn = fn;
	t->revoc_arg = arg;
}

X509 *mla_trust_find_issuer(const mla_trust *t, const char *state, X509 *leaf)
{
	X509_STORE *store = trust_store_for(t, state);
	X509_STORE_CTX *ctx = store != NULL ? X509_STORE_CTX_new() : NULL;
	X509 *issuer = NULL;

	if (ctx != NULL && (X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1 ||
			    X509_STORE_CTX_get1_issuer(&issuer, ctx, leaf) != 1))
		issuer = NULL;
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return issuer;
}

void mla_trust_free(mla_trust *t)
{
	if (t == NULL)
		return;
	chain_cache_free(t->cache);
	for (size_t i = 0; i < t->n; i++)
		X509_STORE_free(t->roots[i].store);
	free(t);
}

X509_STORE *trust_store_for(const mla_trust *t, const char *state)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->roots[i].state, state) == 0)
			return t->roots[i].store;
	return NULL;
}

static mla_err root_state(X509 *root, char state[3], mla_diag *diag)
{
	X509_NAME *name = X509_get_subject_name(root);
	char c[8] = "";

	if (X509_NAME_get_text_by_NID(name, NID_countryName, c, (int)sizeof(c)) != 2 ||
	    c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z')
		return mla_fail(diag, MLA_ERR_CERT_FILE,
				"root certificate has no ISO 3166-1 alpha-2 countryName (C=)");
	state[0] = c[0];
	state[1] = c[1];
	state[2] = '\0';
	return MLA_OK;
}

static mla_err check_root(X509 *root, mla_diag *diag)
{
	if (X509_check_ca(root) == 0)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "trusted root is not a CA certificate");
	if (X509_check_issued(root, root) != X509_V_OK)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "trusted root is not self-signed");
	return MLA_OK;
}

static mla_err add_root(mla_trust *t, const char *state, X509 *root)
{
	X509_STORE *store = trust_store_for(t, state);
	struct mla_trust_root *slot;

	if (store == NULL) {
		if (t->n >= MLA_TRUST_MAX)
			return MLA_ERR_CONFIG;
		slot = &t->roots[t->n];
		if (mla_strcpy(slot->state, sizeof(slot->state), state) != MLA_OK)
			return MLA_ERR_CONFIG;
		if ((slot->store = X509_STORE_new()) == NULL)
			return MLA_ERR_NOMEM;
		t->n++;
		store = slot->store;
	}
	/* a new root can change what chains validate: forget earlier results */
	chain_cache_clear(t->cache);
	/* a State may hold several roots, e.g. during a root renewal */
	return X509_STORE_add_cert(store, root) == 1 ? MLA_OK : MLA_ERR_INTERNAL;
}

mla_err mla_trust_add_cert(mla_trust *t, X509 *root, mla_diag *diag)
{
	char state[3];
	mla_err r;

	if ((r = root_state(root, state, diag)) != MLA_OK || (r = check_root(root, diag)) != MLA_OK)
		return r;
	if ((r = add_root(t, state, root)) != MLA_OK)
		return mla_fail(diag, r, "cannot add the root of %s to the trust set", state);
	return MLA_OK;
}

mla_err mla_trust_add_file(mla_trust *t, const char *root_path, mla_diag *diag)
{
	STACK_OF(X509) *certs = NULL;
	char why[MLA_DIAG_MAX];
	mla_err r;

	if ((r = mla_pem_load_certs(root_path, &certs, diag)) != MLA_OK)
		return r;
	for (int i = 0; i < sk_X509_num(certs) && r == MLA_OK; i++) {
		if ((r = mla_trust_add_cert(t, sk_X509_value(certs, i), diag)) != MLA_OK) {
			(void)mla_snprintf_cut(why, sizeof(why), "%s", mla_diag_message(diag));
			mla_fail(diag, r, "%s: %s", root_path, why);
		}
	}
	sk_X509_pop_free(certs, X509_free);
	return r;
}

mla_err mla_trust_load_files(const char *const *paths, size_t n, mla_trust **out,
			     mla_diag *diag)
{
	mla_trust *t = NULL;
	mla_err r;

	*out = NULL;
	if ((r = mla_trust_new(&t)) != MLA_OK)
		return r;
	for (size_t i = 0; i < n && r == MLA_OK; i++)
		r = mla_trust_add_file(t, paths[i], diag);
	if (r != MLA_OK) {
		mla_trust_free(t);
		return r;
	}
	*out = t; /* ownership moves to the caller */
	return MLA_OK;
}
