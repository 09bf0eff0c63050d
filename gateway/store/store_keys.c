/* The audit keys this gateway has signed checkpoints with (store_check.h): one meta row each,
 * "audit_key.<SHA-256 of the raw Ed25519 key, hex>" = "<size of the first checkpoint it
 * signed> <vkey>", written in the transaction of that checkpoint (store_checkpoint_put_key),
 * so that a checkpoint signed before a rotation still verifies, and one that verifies under no
 * key this gateway has held is known for damage. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "mlagw/codec.h"
#include "store_check.h"
#include "store_internal.h"

#define KEY_PREFIX "audit_key."

void store_keyring_free(struct store_keyring *k)
{
	free(k->v);
	free(k->first);
	memset(k, 0, sizeof(*k));
}

mla_err store_keyring_add(struct store_keyring *k, const mla_note_verifier *v, uint64_t first)
{
	for (size_t i = 0; i < k->n; i++)
		if (memcmp(k->v[i].key, v->key, sizeof(v->key)) == 0 &&
		    strcmp(k->v[i].name, v->name) == 0)
			return MLA_OK;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 4;
		mla_note_verifier *nv = realloc(k->v, cap * sizeof(*nv));
		uint64_t *nf;

		if (nv == NULL)
			return MLA_ERR_NOMEM;
		k->v = nv;
		if ((nf = realloc(k->first, cap * sizeof(*nf))) == NULL)
			return MLA_ERR_NOMEM;
		k->first = nf;
		k->cap = cap;
	}
	k->v[k->n] = *v;
	k->first[k->n++] = first;
	return MLA_OK;
}

/* A meta row's value: "<first size> <vkey>". */
static mla_err add_value(struct store_keyring *k, const char *value, mla_diag *diag)
{
	const char *sp = strchr(value, ' ');
	char num[24];
	mla_note_verifier v;
	uint64_t first;

	if (sp == NULL || (size_t)(sp - value) >= sizeof(num))
		return mla_fail(diag, MLA_ERR_STORE, "store: an audit key row is damaged");
	memcpy(num, value, (size_t)(sp - value));
	num[sp - value] = '\0';
	if (mla_parse_u64(num, 0, INT64_MAX, &first) != MLA_OK ||
	    mla_note_vkey_parse(sp + 1, &v, NULL) != MLA_OK || v.type != MLA_NOTE_SIG_ED25519)
		return mla_fail(diag, MLA_ERR_STORE, "store: an audit key row is damaged");
	return store_keyring_add(k, &v, first);
}

static mla_err row_key(const char *vkey, char key[sizeof(KEY_PREFIX) + 64], mla_diag *diag)
{
	mla_note_verifier v;
	uint8_t h[32];

	if (mla_note_vkey_parse(vkey, &v, diag) != MLA_OK)
		return MLA_ERR_ARG;
	(void)SHA256(v.key, sizeof(v.key), h);
	memcpy(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	return mla_hex_encode(h, sizeof(h), key + sizeof(KEY_PREFIX) - 1, 65);
}

mla_err store_audit_key_add(gw_store *s, const char *vkey, uint64_t first, mla_diag *diag)
{
	char key[sizeof(KEY_PREFIX) + 64], value[24 + MLA_NOTE_VKEY_MAX];
	mla_err r;

	if ((r = row_key(vkey, key, diag)) != MLA_OK ||
	    (r = mla_snprintf(value, sizeof(value), "%llu %s", (unsigned long long)first, vkey)) !=
		    MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "store: audit key: bad verifier key");
	return store_meta_put(s, key, value, 0, diag); /* the first checkpoint's size stays */
}

mla_err store_keyring_load(gw_store *s, struct store_keyring *k, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r = MLA_OK;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key >= 'audit_key.' AND "
				     "key < 'audit_key/' ORDER BY key", -1, &st, NULL)) != SQLITE_OK)
		return store_fail(s, rc, "audit keys", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = sqlite3_column_text(st, 0) == NULL
			    ? mla_fail(diag, MLA_ERR_STORE, "store: an audit key row is damaged")
			    : add_value(k, (const char *)sqlite3_column_text(st, 0), diag);
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "audit keys", diag);
	(void)sqlite3_finalize(st);
	return r == MLA_ERR_NOMEM ? mla_fail(diag, r, "store: out of memory") : r;
}

static mla_err meta_key(const char *key, const char *value, void *arg)
{
	struct store_keyring *k = arg;

	if (strncmp(key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1) != 0)
		return MLA_OK;
	return add_value(k, value, NULL);
}

mla_err store_reader_keyring(store_reader *r, struct store_keyring *k, mla_diag *diag)
{
	mla_err e = store_reader_meta(r, meta_key, k, diag);

	if (e == MLA_ERR_STORE && diag != NULL && diag->msg[0] == '\0')
		return mla_fail(diag, e, "store: an audit key row is damaged");
	return e;
}

mla_err store_keyring_open(const struct store_keyring *k, const char *note, size_t len,
			   mla_checkpoint *cp, size_t *which, mla_diag *diag)
{
	mla_err r = MLA_ERR_CERT_UNTRUSTED;
	uint64_t signers = 0;

	/* at most MLA_NOTE_VERIFIERS_MAX keys per opening: a long-lived store may hold more */
	for (size_t at = 0; at < k->n; at += MLA_NOTE_VERIFIERS_MAX) {
		size_t n = k->n - at < MLA_NOTE_VERIFIERS_MAX ? k->n - at : MLA_NOTE_VERIFIERS_MAX;

		if ((r = mla_checkpoint_open(note, len, k->v + at, n, cp, &signers, NULL)) != MLA_OK)
			continue;
		for (size_t i = 0; i < n; i++)
			if (signers & (UINT64_C(1) << i)) {
				*which = at + i;
				return MLA_OK;
			}
	}
	return mla_fail(diag, r == MLA_OK ? MLA_ERR_CERT_UNTRUSTED : r,
			"does not verify under any of the %zu audit keys this gateway has held",
			k->n);
}

/* ---- the audit certificates (SPEC 14 "Audit key changes"): meta
 * "audit_cert.<SHA-256 of the DER, hex>" = base64 of the DER, one per audit key this gateway
 * used, so that export can give an auditor each certificate of a log that changed keys ---- */

#define CERT_PREFIX "audit_cert."

mla_err store_audit_cert_put(gw_store *s, const uint8_t *der, size_t len, mla_diag *diag)
{
	char key[sizeof(CERT_PREFIX) + 64], value[STORE_META_MAX];
	uint8_t h[32];

	if (der == NULL || len == 0 || MLA_B64_LEN(len) >= sizeof(value))
		return mla_fail(diag, MLA_ERR_ARG, "store: audit certificate of %zu bytes: too "
				"large for the store's record", len);
	(void)SHA256(der, len, h);
	memcpy(key, CERT_PREFIX, sizeof(CERT_PREFIX) - 1);
	if (mla_hex_encode(h, sizeof(h), key + sizeof(CERT_PREFIX) - 1, 65) != MLA_OK ||
	    mla_b64_encode(der, len, value, sizeof(value)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "store: audit certificate: encoding");
	return store_meta_put(s, key, value, 0, diag);
}

struct cert_walk {
	store_cert_fn fn;
	void *arg;
	mla_err err;
};

static mla_err meta_cert(const char *key, const char *value, void *arg)
{
	struct cert_walk *w = arg;
	uint8_t der[STORE_META_MAX];
	size_t n = 0;

	if (strncmp(key, CERT_PREFIX, sizeof(CERT_PREFIX) - 1) != 0)
		return MLA_OK;
	if (mla_b64_decode(value, strlen(value), der, sizeof(der), &n) != MLA_OK || n == 0)
		return w->err = MLA_ERR_STORE;
	return w->fn(der, n, w->arg);
}

mla_err store_reader_audit_certs(store_reader *r, store_cert_fn fn, void *arg, mla_diag *diag)
{
	struct cert_walk w = {fn, arg, MLA_OK};
	mla_err e = store_reader_meta(r, meta_cert, &w, diag);

	if (w.err != MLA_OK)
		return mla_fail(diag, w.err, "store: an audit certificate row is damaged");
	return e;
}
