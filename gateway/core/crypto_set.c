/* Loading a thread's key set from the configuration (see crypto_set.h). */
#include <stdlib.h>
#include <string.h>

#include "crypto_set.h"
#include "revoc.h"
#include "mlagw/codec.h"

static mla_err load_keyring(const struct gw_config *c, mla_keyring **out, mla_diag *diag)
{
	mla_err r;

	if ((r = mla_keyring_new(out)) != MLA_OK)
		return r;
	if ((r = mla_keyring_add_file(*out, c->encrypt.cert, c->encrypt.key, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < c->n_old_encrypt; i++)
		if ((r = mla_keyring_add_file(*out, c->old_encrypt[i].cert, c->old_encrypt[i].key,
					      diag)) != MLA_OK)
			return r;
	return MLA_OK;
}

mla_err gw_trust_load(const struct gw_config *c, mla_trust **out, mla_diag *diag)
{
	const char *paths[GW_MAX_ROOTS];
	mla_err r;

	for (size_t i = 0; i < c->n_roots; i++)
		paths[i] = c->roots[i];
	if ((r = mla_trust_load_files(paths, c->n_roots, out, diag)) == MLA_OK)
		gw_revoc_attach(*out); /* SPEC 18.7: every signer this set validates */
	return r;
}

static mla_err load_peers(const struct gw_config *c, struct gw_crypto *k, mla_diag *diag)
{
	mla_err r;

	for (size_t i = 0; i < c->n_peers; i++) {
		memcpy(k->peers[i].state, c->peers[i].state, 3);
		const struct gw_peer *p = &c->peers[i];
		char label[32];
		/* configured file first: an override of the directory's certificate */
		if (p->encrypt_cert[0] != '\0')
			r = mla_recipient_load(p->encrypt_cert, &k->peers[i].rcpt, diag);
		else if ((r = mla_snprintf(label, sizeof(label), "of %s in the directory",
					   p->state)) == MLA_OK)
			r = mla_recipient_from_der(p->encrypt_der, p->encrypt_der_len, label,
						   &k->peers[i].rcpt, diag);
		if (r != MLA_OK)
			return r;
		k->n_peers = i + 1;
	}
	return MLA_OK;
}

mla_err gw_crypto_load(const struct gw_config *c, struct gw_crypto **out, mla_diag *diag)
{
	struct gw_crypto *k = calloc(1, sizeof(*k));
	mla_err r;

	*out = NULL;
	if (k == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_signer_load(c->sign.cert, c->sign.key, &k->signer, diag)) != MLA_OK ||
	    (r = load_keyring(c, &k->keys, diag)) != MLA_OK ||
	    (r = gw_trust_load(c, &k->trust, diag)) != MLA_OK ||
	    (r = load_peers(c, k, diag)) != MLA_OK) {
		gw_crypto_free(k);
		return r;
	}
	*out = k;
	return MLA_OK;
}

void gw_crypto_free(struct gw_crypto *k)
{
	if (k == NULL)
		return;
	mla_signer_free(k->signer);
	mla_keyring_free(k->keys);
	mla_trust_free(k->trust);
	for (size_t i = 0; i < k->n_peers; i++)
		mla_recipient_free(k->peers[i].rcpt);
	free(k);
}

const mla_recipient *gw_crypto_recipient(const struct gw_crypto *k, const char *state)
{
	for (size_t i = 0; i < k->n_peers; i++)
		if (strcmp(k->peers[i].state, state) == 0)
			return k->peers[i].rcpt;
	return NULL;
}

struct gw_snapshot *gw_snapshot_new(const struct gw_config *cfg, unsigned gen)
{
	struct gw_snapshot *s = malloc(sizeof(*s));

	if (s == NULL)
		return NULL;
	s->refs = 1;
	s->gen = gen;
	s->cfg = *cfg;
	s->dir = NULL;
	mla_buf_init(&s->dir_doc, MLA_DIR_MAX_BYTES);
	mla_buf_init(&s->dir_entry, MLA_DIR_MAX_ENTRY_BYTES);
	return s;
}

struct gw_snapshot *gw_snapshot_ref(struct gw_snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void gw_snapshot_unref(struct gw_snapshot *s)
{
	if (s != NULL && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		mla_directory_free(s->dir);
		mla_buf_free(&s->dir_doc);
		mla_buf_free(&s->dir_entry);
		free(s);
	}
}
