/* Audit bundle verification of a log whose audit key changed (SPEC 14 "Audit key changes";
 * SPEC 15 format 3, step 5a): the certificates `audit`, `audit.2`, ... are the log's keys in
 * order; the n-th audit-key-changed entry names key n+1's certificate; checkpoint j is signed
 * by key 1 + (the changes below the size of checkpoint j - 1), so the checkpoint covering a
 * change is signed under the key it replaces; at most one change between two checkpoints;
 * each certificate is judged (validity and chain) at the time of the last entry its key
 * signed for, not at the time of the audit. */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

size_t audit_later_keys(const struct vctx *v)
{
	size_t n = 0;

	for (size_t i = 2; i < v->b->n && v->b->rec[i].type == MLA_BUNDLE_CERTIFICATE; i++)
		n += strncmp(v->b->rec[i].name, "audit.", 6) == 0;
	return n;
}

static int keep_key(struct vctx *v, const mla_note_verifier *key, X509 *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);

	if (len <= 0) {
		X509_free(cert);
		return -1;
	}
	v->keys[v->nkeys].v = *key;
	v->keys[v->nkeys].cert = cert;
	(void)SHA256(der, (size_t)len, v->keys[v->nkeys].sha);
	OPENSSL_free(der);
	v->nkeys++;
	return 0;
}

int audit_take_keys(struct vctx *v, X509 *cert)
{
	size_t later = audit_later_keys(v);

	if ((v->keys = calloc(later + 1, sizeof(*v->keys))) == NULL ||
	    (v->key_verifiers = calloc(later + 1, sizeof(*v->key_verifiers))) == NULL) {
		X509_free(cert);
		return -1;
	}
	if (keep_key(v, &v->key, cert) != 0)
		return -1;
	for (size_t i = 2; i < 2 + later; i++) {
		mla_note_verifier key;
		X509 *c = NULL;

		if (audit_own_cert(v, &v->b->rec[i], 0, &key, &c)) {
			if (keep_key(v, &key, c) != 0)
				return -1;
			v->fam[F_CERT].ok++;
		} else {
			return 0; /* a later key refused: the schedule cannot be followed past it */
		}
	}
	return 0;
}

const mla_note_verifier *audit_keys(struct vctx *v)
{
	for (size_t i = 0; i < v->nkeys; i++)
		v->key_verifiers[i] = v->keys[i].v;
	return v->key_verifiers;
}

size_t audit_signer(uint64_t signers)
{
	size_t i = 0;

	while (i < 63 && !(signers & (UINT64_C(1) << i)))
		i++;
	return i;
}

/* The entries' audit-key-changed seqs, ascending (entries are in seq order). */
static size_t changes_of(const struct vctx *v, uint64_t *seqs, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < v->nkept; i++)
		if (v->entries[i].event == MLA_AUDIT_AUDIT_KEY_CHANGED) {
			if (n < max)
				seqs[n] = v->entries[i].seq;
			n++;
		}
	return n;
}

/* The n-th change names key n+1's certificate. */
static void check_named(struct vctx *v)
{
	size_t k = 0;

	for (size_t i = 0; i < v->nkept; i++) {
		const struct ventry *e = &v->entries[i];

		if (e->event != MLA_AUDIT_AUDIT_KEY_CHANGED)
			continue;
		if (++k < v->nkeys &&
		    memcmp(audit_entry_extra(v, e)->sha, v->keys[k].sha, 32) != 0)
			vfailn(v, F_CERT, MLA_AUDIT_R_KEY_CHANGE, MLA_BUNDLE_ENTRY, e->seq,
			       "entry %llu (audit-key-changed): names another certificate than "
			       "audit.%zu", (unsigned long long)e->seq, k + 1);
	}
	if (k + 1 != v->nkeys)
		vfail(v, F_CERT, MLA_AUDIT_R_KEY_CHANGE, MLA_BUNDLE_CERTIFICATE, "audit",
		      "bundle: %zu audit certificate(s) for %zu audit-key-changed entries (one more "
		      "than the changes is needed)", v->nkeys, k);
}

/* The time of entry seq, the last of an opened checkpoint (verify_entries keeps those), or 0
 * when it did not parse at its seq. */
static time_t entry_time(struct vctx *v, uint64_t seq)
{
	struct vcp cp;
	int err = 0;
	long k = cptab_find(&v->cpt, seq + 1, &err);

	if (err || (k >= 0 && cptab_get(&v->cpt, (size_t)k, &cp) != 0)) {
		v->tmp_failed = 1;
		return 0;
	}
	return k >= 0 ? (time_t)(cp.last_ms / 1000) : 0;
}

/* Audit key k (its record name) against the CRLs: its checkpoints cover entries up to
 * last_entry, recorded at at, so it signed at or after that time (SPEC 15 "Revocation"). */
static void key_not_revoked(struct vctx *v, size_t k, const char *name, time_t at,
			    uint64_t last_entry)
{
	char what[160];

	audit_revoc_reset(v);
	if (!audit_revoked_own(v, v->keys[k].cert, "audit", &v->hit))
		return;
	(void)mla_snprintf_cut(what, sizeof(what), "the checkpoints of audit key %s, which cover "
			       "entry %llu", name, (unsigned long long)last_entry);
	audit_revoc_judge(v, MLA_BUNDLE_CERTIFICATE, name, (int64_t)at, what);
}

/* Each key's certificate was valid when it last signed: at the time of the last entry its
 * last checkpoint covers (an archived bundle verifies after the certificate expired). */
static void check_key_times(struct vctx *v, const uint64_t *last_size)
{
	for (size_t k = 0; k < v->nkeys; k++) {
		time_t at = last_size[k] > 0 ? entry_time(v, last_size[k] - 1) : 0;
		char name[24], why[300] = "";

		if (at == 0)
			continue; /* signed no checkpoint of the bundle: its chain was checked */
		if (k == 0)
			mla_require(mla_strcpy(name, sizeof(name), "audit") == MLA_OK);
		else
			mla_require(mla_snprintf(name, sizeof(name), "audit.%zu", k + 1) == MLA_OK);
		if (X509_cmp_time(X509_get0_notBefore(v->keys[k].cert), &at) > 0 ||
		    X509_cmp_time(X509_get0_notAfter(v->keys[k].cert), &at) < 0)
			vfail(v, F_CERT, MLA_AUDIT_R_CERT_CHAIN, MLA_BUNDLE_CERTIFICATE, name,
			      "certificate %s: not valid at the time of the last entry its key "
			      "signed for (entry %llu)", name, (unsigned long long)last_size[k] - 1);
		else if (!audit_chain_to_root_at(v, v->keys[k].cert, v->state, at, why,
						 sizeof(why)))
			vfail(v, F_CERT, MLA_AUDIT_R_CERT_CHAIN, MLA_BUNDLE_CERTIFICATE, name,
			      "certificate %s: %s", name, why);
		else
			key_not_revoked(v, k, name, at, last_size[k] - 1);
	}
}

/* Checkpoint j is signed by key 1 + the changes below checkpoint j - 1's size. */
static void check_schedule(struct vctx *v, const uint64_t *seqs, size_t nch,
			   uint64_t *last_size)
{
	uint64_t prev = 0;
	size_t c = 0;
	struct vcp row;

	for (size_t j = 0; j < v->ncps; j++) {
		const struct vcp *cp = &row;
		size_t want = c, in_span = 0;

		if (cptab_get(&v->cpt, j, &row) != 0) {
			v->tmp_failed = 1;
			return;
		}
		if (cp->size == 0)
			continue; /* refused already */
		for (size_t i = c; i < nch && seqs[i] < cp->size; i++)
			in_span += seqs[i] >= prev;
		if (in_span > 1)
			vfailn(v, F_CHECKPOINTS, MLA_AUDIT_R_KEY_CHANGE, MLA_BUNDLE_CHECKPOINT,
			       cp->size, "checkpoint %llu: covers %zu audit key changes since the "
			       "previous one (at most one)", (unsigned long long)cp->size, in_span);
		if (cp->key != want)
			vfailn(v, F_CHECKPOINTS, MLA_AUDIT_R_KEY_CHANGE, MLA_BUNDLE_CHECKPOINT,
			       cp->size, "checkpoint %llu: signed by audit key %zu where the log's "
			       "changes call for key %zu", (unsigned long long)cp->size,
			       (size_t)cp->key + 1, want + 1);
		else if (want < v->nkeys)
			last_size[want] = cp->size;
		while (c < nch && seqs[c] < cp->size)
			c++; /* changes this checkpoint covers take effect after it */
		prev = cp->size;
	}
}

int verify_keys(struct vctx *v)
{
	uint64_t *seqs, *last_size;
	size_t nch;

	if (!v->have_key)
		return 0; /* reported by verify_certificate */
	nch = changes_of(v, NULL, 0);
	if (nch == 0 && v->nkeys == 1) { /* one key: judged by verify_certificate */
		if (v->nentries > 0 && v->last_ms > 0)
			key_not_revoked(v, 0, "audit", (time_t)(v->last_ms / 1000),
					v->nentries - 1);
		return 0;
	}
	seqs = calloc(nch + 1, sizeof(*seqs));
	last_size = calloc(v->nkeys + 1, sizeof(*last_size));
	if (seqs == NULL || last_size == NULL) {
		free(seqs);
		free(last_size);
		return -1;
	}
	(void)changes_of(v, seqs, nch);
	check_named(v);
	check_schedule(v, seqs, nch, last_size);
	check_key_times(v, last_size);
	free(seqs);
	free(last_size);
	return 0;
}
