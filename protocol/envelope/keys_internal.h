/* Internal layout of the key holders declared opaque in include/mlagw/envelope.h. */
#ifndef MLAGW_KEYS_INTERNAL_H
#define MLAGW_KEYS_INTERNAL_H

#include <xmlsec/keys.h>
#include <xmlsec/keysmngr.h>

#include "mlagw/envelope.h"
#include "mlagw/privkey.h"

#define MLA_KEYNAME_MAX 80
#define MLA_TRUST_MAX 64
#define MLA_KEYRING_MAX 16

struct mla_signer {
	mla_privkey *key;
	STACK_OF(X509) *chain; /* leaf first */
	xmlSecKeyPtr xkey;     /* key->evp (mla_privkey_evp) with the chain as X509 data, or
				* a stand-in key when the keyholder holds the key */
	int is_ec;
	int elsewhere; /* the keyholder holds the key (seal_elsewhere.c) */
};

struct mla_recipient {
	X509 *cert;
	char keyname[MLA_KEYNAME_MAX];
};

struct mla_trust_root {
	char state[3];
	X509_STORE *store;
};

struct chain_cache;

struct mla_trust {
	struct mla_trust_root roots[MLA_TRUST_MAX];
	size_t n;
	struct chain_cache *cache; /* signer chains validated against these roots */
	mla_revocation_fn revoc_fn; /* NULL: no revocation check */
	void *revoc_arg;
};

/* chain_cache.c */
struct chain_cache *chain_cache_new(void);
void chain_cache_clear(struct chain_cache *c);
void chain_cache_free(struct chain_cache *c);
/* The trust set's cache (mutable even through a const mla_trust: it only remembers). */
struct chain_cache *trust_chain_cache(const mla_trust *t);

struct mla_keyring {
	char names[MLA_KEYRING_MAX][MLA_KEYNAME_MAX];
	mla_privkey *pkeys[MLA_KEYRING_MAX]; /* the same keys, for unwrapping content keys */
	size_t n;
};

/* The KeyName that identifies an encryption certificate: "sha256:<hex of DER>". */
mla_err keys_keyname(X509 *cert, char out[MLA_KEYNAME_MAX]);
/* The store of state's roots, or NULL. */
X509_STORE *trust_store_for(const mla_trust *t, const char *state);
/* Wraps a public or private EVP key in a fresh xmlsec key (the EVP key is up-ref'd). */
xmlSecKeyPtr keys_xmlsec_key(EVP_PKEY *pkey, const char *name);
/* Non-zero if the keyring holds a key by that name. */
int keyring_has(const mla_keyring *k, const char *name);
/* The private key of that name (borrowed), or NULL. */
const mla_privkey *keyring_key(const mla_keyring *k, const char *name);
/* Last error xmlsec reported on this thread, for diagnostics ("" when none). */
const char *crypto_last_error(void);
void crypto_clear_error(void);

#endif
