/* A small cache of signer chains already validated against a trust set (see
 * certcheck_signature_signer in certcheck.h). Gateways see the same few signing certificates
 * over and over; decoding them and building their path was a fifth of the cost of opening an
 * envelope. The cache belongs to one mla_trust, which is used by one thread at a time. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "certcheck.h"
#include "mlagw/codec.h"
#include "protocol_ns.h"
#include "verify_internal.h"
#include "xml_safe.h"

#define CACHE_SLOTS 16

struct chain_cache_entry {
	uint8_t key[32];
	STACK_OF(X509) *path; /* validated: leaf first, root last (NULL: a free slot) */
	time_t from, to;
	uint64_t used;
};

struct chain_cache {
	struct chain_cache_entry e[CACHE_SLOTS];
	uint64_t tick;
};

struct chain_cache *chain_cache_new(void)
{
	return calloc(1, sizeof(struct chain_cache));
}

void chain_cache_clear(struct chain_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		sk_X509_pop_free(c->e[i].path, X509_free);
	memset(c, 0, sizeof(*c));
}

void chain_cache_free(struct chain_cache *c)
{
	chain_cache_clear(c);
	free(c);
}

/* SHA-256 over the State and the certificates' text exactly as carried. */
static int chain_key(const char *state, xmlNodePtr signature, uint8_t key[32])
{
	xmlNodePtr xd = xml_first_child(xml_first_child(signature, DS_NS, "KeyInfo"), DS_NS,
					"X509Data");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(md, state, 2) == 1;

	for (xmlNodePtr c = xd != NULL ? xd->children : NULL; ok && c != NULL; c = c->next) {
		if (!xml_is(c, DS_NS, "X509Certificate"))
			continue;
		for (xmlNodePtr t = c->children; ok && t != NULL; t = t->next)
			if (t->type == XML_TEXT_NODE && t->content != NULL)
				ok = EVP_DigestUpdate(md, t->content, strlen((char *)t->content)) == 1;
		ok = ok && EVP_DigestUpdate(md, "|", 1) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(md, key, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static struct chain_cache_entry *lookup(struct chain_cache *c, const uint8_t key[32])
{
	for (size_t i = 0; c != NULL && i < CACHE_SLOTS; i++)
		if (c->e[i].path != NULL && memcmp(c->e[i].key, key, 32) == 0)
			return &c->e[i];
	return NULL;
}

/* Keeps path (owned from now on) under key. */
static void insert(struct chain_cache *c, const uint8_t key[32], STACK_OF(X509) *path,
		   const time_t window[2])
{
	struct chain_cache_entry *victim = &c->e[0];

	for (size_t i = 1; i < CACHE_SLOTS; i++)
		if (c->e[i].used < victim->used)
			victim = &c->e[i];
	sk_X509_pop_free(victim->path, X509_free);
	memcpy(victim->key, key, 32);
	victim->path = path;
	victim->from = window[0];
	victim->to = window[1];
	victim->used = ++c->tick;
}

static mla_err full_check(const mla_trust *trust, const char *state, xmlNodePtr signature,
			  time_t at, const char *role, const char *doc, STACK_OF(X509) **path,
			  time_t window[2], mla_diag *diag)
{
	STACK_OF(X509) *chain = NULL;
	mla_err r;

	if ((r = verify_extract_chain(signature, &chain, diag)) != MLA_OK)
		return r;
	r = certcheck_signer(trust, state, chain, at, role, doc, window, path, diag);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

/* The trust set's revocation check along a validated path (after the cache too: a
 * certificate revoked after its path was cached is refused from then on): each certificate
 * but the root against the next one, its issuer, the leaf first (SPEC 18.7). */
static mla_err check_revocation(const mla_trust *trust, STACK_OF(X509) *path, time_t at,
				const char *role, mla_diag *diag)
{
	char ca_role[96];
	mla_err r = MLA_OK;

	if (trust->revoc_fn == NULL)
		return MLA_OK;
	(void)mla_snprintf_cut(ca_role, sizeof(ca_role), "%s's issuing CA", role);
	for (int i = 0; r == MLA_OK && i + 1 < sk_X509_num(path); i++)
		r = trust->revoc_fn(trust->revoc_arg, sk_X509_value(path, i),
				    sk_X509_value(path, i + 1), at, i == 0 ? role : ca_role, diag);
	return r;
}

mla_err certcheck_signature_signer(const mla_trust *trust, const char *state,
				   xmlNodePtr signature, time_t at, const char *role,
				   const char *doc, X509 **leaf, mla_diag *diag)
{
	struct chain_cache *c = trust_chain_cache(trust);
	struct chain_cache_entry *e;
	STACK_OF(X509) *path = NULL, *fresh = NULL;
	time_t when = at != 0 ? at : time(NULL), window[2];
	uint8_t key[32];
	int keyed = c != NULL && chain_key(state, signature, key);
	mla_err r;

	*leaf = NULL;
	if (keyed && (e = lookup(c, key)) != NULL && when >= e->from && when <= e->to) {
		e->used = ++c->tick;
		path = e->path;
	} else if ((r = full_check(trust, state, signature, at, role, doc, &fresh, window,
				   diag)) != MLA_OK) {
		return r;
	} else {
		path = fresh;
		if (keyed) {
			insert(c, key, fresh, window); /* the cache owns it now */
			fresh = NULL;
		}
	}
	if ((r = check_revocation(trust, path, at, role, diag)) == MLA_OK &&
	    X509_up_ref(sk_X509_value(path, 0)) == 1)
		*leaf = sk_X509_value(path, 0);
	else if (r == MLA_OK)
		r = MLA_ERR_INTERNAL;
	sk_X509_pop_free(fresh, X509_free);
	return r;
}
