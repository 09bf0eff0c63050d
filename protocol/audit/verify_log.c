/* Audit bundle verification, the log's own checks: manifest, audit certificate (chain to the
 * State's root, Ed25519), checkpoint signatures, entries (canonical, dense, ordered in time)
 * and the RFC 6962 roots and consistency of the checkpoints recomputed from the entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "verify_internal.h"

static int state_ok(const char *s)
{
	return s != NULL && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' &&
	       s[1] <= 'Z';
}

static size_t count_type(const mla_bundle *b, mla_bundle_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < b->n; i++)
		n += b->rec[i].type == t;
	return n;
}

/* A failure of the manifest record. */
#define MFAIL(v, ...)                                                                     \
	vfail(v, F_BUNDLE, MLA_AUDIT_R_MANIFEST, MLA_BUNDLE_MANIFEST, (v)->b->rec[0].name, \
	      __VA_ARGS__)

static void manifest_count(struct vctx *v, json_t *counts, const char *key, mla_bundle_type t)
{
	json_t *c = json_object_get(counts, key);
	size_t have = count_type(v->b, t);

	if (!json_is_integer(c) || json_integer_value(c) != (json_int_t)have)
		MFAIL(v, "manifest: counts.%s says %lld, the bundle holds %zu %s records", key,
		      json_is_integer(c) ? (long long)json_integer_value(c) : -1LL, have,
		      mla_bundle_type_name(t));
}

/* The filter as export applied it: the verifier recomputes which messages it selects. */
static void manifest_filter(struct vctx *v, json_t *filter)
{
	const char *c = json_string_value(json_object_get(filter, "case"));
	const char *from = json_string_value(json_object_get(filter, "from"));
	const char *to = json_string_value(json_object_get(filter, "to"));

	/* no entry has a longer case id, and a cut one could select another case's messages;
	 * refused, the filter (case "") selects nothing */
	if (c != NULL && mla_strcpy(v->filter_case, sizeof(v->filter_case), c) != MLA_OK)
		MFAIL(v, "manifest: filter case is longer than %d bytes", MLA_CASE_ID_MAX);
	if (!mla_audit_filter_init(&v->filter, c != NULL ? v->filter_case : NULL, from, to))
		MFAIL(v, "manifest: filter from/to is not YYYY-MM-DD[Thh:mm:ssZ]");
}

/* Format, State and origin. */
static void manifest_identity(struct vctx *v, json_t *j)
{
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *origin = json_string_value(json_object_get(j, "origin"));
	char ost[3];
	uint32_t epoch = 1;

	char want[32];

	mla_require(mla_snprintf(want, sizeof(want), "mlagw-audit-bundle/%u", v->b->format) ==
		    MLA_OK); /* a format of one digit */
	if (!json_is_string(json_object_get(j, "format")) ||
	    strcmp(json_string_value(json_object_get(j, "format")), want) != 0)
		MFAIL(v, "manifest: format is not %s (the first line's)", want);
	if (!state_ok(state)) {
		MFAIL(v, "manifest: no State (two upper-case letters)");
		return;
	}
	memcpy(v->state, state, 3);
	v->epoch = 1;
	mla_require(mla_audit_origin_format(state, 1, v->origin) == MLA_OK);
	/* the log of one epoch of the State's (SPEC 14, "Log epochs") */
	if (origin == NULL || mla_audit_origin_parse(origin, ost, &epoch) != MLA_OK ||
	    strcmp(ost, state) != 0) {
		MFAIL(v, "manifest: origin is not %s or %s/<epoch>", v->origin, v->origin);
		return;
	}
	v->epoch = epoch;
	mla_require(mla_strcpy(v->origin, sizeof(v->origin), origin) == MLA_OK);
}

/* {case, from, to}: whether the bundle is filtered, and the filter. */
static void manifest_filter_keys(struct vctx *v, json_t *filter)
{
	/* every key present: a renamed key must not pass for an absent filter */
	static const char *const fkeys[] = {"case", "from", "to"};
	const char *fk;
	json_t *fv;

	json_object_foreach(filter, fk, fv)
		if (!json_is_null(fv))
			v->filtered = 1;
	for (size_t i = 0; i < 3; i++)
		if (!json_is_object(filter) ||
		    !(json_is_null(fv = json_object_get(filter, fkeys[i])) || json_is_string(fv))) {
			MFAIL(v, "manifest: filter is not {case, from, to}, each null or a string");
			break;
		}
	manifest_filter(v, filter);
}

/* counts, first_seq and last_seq against the records. */
static void manifest_counts(struct vctx *v, json_t *j)
{
	json_t *counts = json_object_get(j, "counts");
	json_t *pc = json_object_get(counts, "peer_certificates");
	json_t *first = json_object_get(j, "first_seq"), *last = json_object_get(j, "last_seq");
	/* the certificates after `audit`, but the later audit keys' (format 3) */
	size_t npc = count_type(v->b, MLA_BUNDLE_CERTIFICATE) - 1 - audit_later_keys(v);
	size_t ne = count_type(v->b, MLA_BUNDLE_ENTRY);

	manifest_count(v, counts, "entries", MLA_BUNDLE_ENTRY);
	manifest_count(v, counts, "checkpoints", MLA_BUNDLE_CHECKPOINT);
	manifest_count(v, counts, "envelopes", MLA_BUNDLE_ENVELOPE);
	manifest_count(v, counts, "receipts", MLA_BUNDLE_RECEIPT);
	manifest_count(v, counts, "witnessed", MLA_BUNDLE_WITNESSED);
	manifest_count(v, counts, "proofs", MLA_BUNDLE_PROOF);
	if (!json_is_integer(pc) || json_integer_value(pc) != (json_int_t)npc)
		MFAIL(v, "manifest: counts.peer_certificates is not the %zu peer certificates the "
		      "bundle holds", npc);
	if (!json_is_integer(first) || json_integer_value(first) != 0 || !json_is_integer(last) ||
	    json_integer_value(last) != (json_int_t)ne - 1)
		MFAIL(v, "manifest: first_seq/last_seq do not span the %zu entries", ne);
}

/* checkpoint_sizes: the checkpoint records' names, in order. */
static void manifest_sizes(struct vctx *v, json_t *j)
{
	json_t *sizes = json_object_get(j, "checkpoint_sizes"), *s;
	size_t i, k = 0;
	char name[24];

	if (!json_is_array(sizes) ||
	    json_array_size(sizes) != count_type(v->b, MLA_BUNDLE_CHECKPOINT)) {
		MFAIL(v, "manifest: checkpoint_sizes do not list the checkpoints");
		return;
	}
	json_array_foreach(sizes, i, s) {
		while (v->b->rec[k].type != MLA_BUNDLE_CHECKPOINT)
			k++;
		mla_require(mla_snprintf(name, sizeof(name), "%lld",
					 (long long)json_integer_value(s)) == MLA_OK);
		if (!json_is_integer(s) || strcmp(name, v->b->rec[k++].name) != 0)
			MFAIL(v, "manifest: checkpoint_sizes[%zu] is not checkpoint %s", i,
			      v->b->rec[k - 1].name);
	}
}

int verify_manifest(struct vctx *v)
{
	const mla_bundle_record *m = &v->b->rec[0];
	json_error_t je;
	json_t *j = json_loadb((const char *)m->data, m->len, JSON_REJECT_DUPLICATES, &je);
	size_t failed = v->fam[F_BUNDLE].failed;

	if (strcmp(m->name, "manifest") != 0)
		MFAIL(v, "manifest: the record is named '%s'", m->name);
	if (!json_is_object(j)) {
		MFAIL(v, "manifest: not a JSON object (%s)", je.text);
		json_decref(j);
		return 0;
	}
	manifest_identity(v, j);
	manifest_filter_keys(v, json_object_get(j, "filter"));
	manifest_counts(v, j);
	manifest_sizes(v, j);
	if (v->fam[F_BUNDLE].failed == failed)
		v->fam[F_BUNDLE].ok++;
	json_decref(j);
	return 0;
}

/* The time of the bundle's last entry (entries are in seq order and, as checked later, in
 * time order), or 0 when it cannot be read: the audit certificate is judged as at then. */
static time_t last_entry_time(const struct vctx *v)
{
	mla_audit_entry e;

	for (size_t i = v->b->n; i > 0; i--) {
		const mla_bundle_record *r = &v->b->rec[i - 1];
		if (r->type != MLA_BUNDLE_ENTRY)
			continue;
		if (mla_audit_entry_parse(r->data, r->len, &e, NULL) != MLA_OK)
			return 0;
		return (time_t)(e.time_ms / 1000);
	}
	return 0;
}

/* at: the time to judge validity at; 0 now; -1 not at all (chain and signatures only). */
static int verify_at(X509_STORE_CTX *ctx, time_t at)
{
	if (at > 0)
		X509_STORE_CTX_set_time(ctx, 0, at);
	else if (at < 0)
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	return X509_verify_cert(ctx);
}

int audit_chain_to_root(struct vctx *v, X509 *cert, const char *state, int check_time,
			char *why, size_t whylen)
{
	return audit_chain_to_root_at(v, cert, state, check_time ? last_entry_time(v) : -1, why,
				      whylen);
}

int audit_chain_to_root_at(struct vctx *v, X509 *cert, const char *state, time_t at,
			   char *why, size_t whylen)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int roots = 0, ok = 0;

	for (size_t i = 0; st != NULL && i < v->trust->nroots; i++)
		if (strcmp(v->trust->states[i], state) == 0 &&
		    X509_STORE_add_cert(st, v->trust->roots[i]) == 1)
			roots++;
	if (roots == 0)
		(void)mla_snprintf_cut(why, whylen, "no root of %s in %s", state, v->trust->dir);
	else if (ctx == NULL || X509_STORE_CTX_init(ctx, st, cert, NULL) != 1)
		(void)mla_snprintf_cut(why, whylen, "out of memory");
	else if (verify_at(ctx, at) != 1)
		(void)mla_snprintf_cut(why, whylen, "does not chain to the root of %s: %s", state,
				       X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	else
		ok = 1;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

/* One of the bundle's own audit certificates (record c): the State's, Ed25519, chaining to
 * its root (judged at the last entry's time when check_time, else whatever the time: the
 * key schedule judges each key at its own times, verify_keys.c). Its verifier under the log's
 * origin into *key and the certificate into *certp (the caller frees it); 0 on a failure. */
int audit_own_cert(struct vctx *v, const mla_bundle_record *c, int check_time,
		   mla_note_verifier *key, X509 **certp)
{
	BIO *bio = BIO_new_mem_buf(c->data, (int)c->len);
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	char why[300] = "", st[3] = "";
	int ok = 0;

	if (v->state[0] == '\0')
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_STATE, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate: the manifest names no State to check it against");
	else if (cert == NULL)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: not a PEM certificate", c->name);
	else if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, st,
					   3) != 2 || strcmp(st, v->state) != 0)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_STATE, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: subject State '%s' is not the bundle's %s", c->name, st,
		      v->state);
	else if (X509_get0_pubkey(cert) == NULL || /* a key OpenSSL cannot decode */
		 EVP_PKEY_get_base_id(X509_get0_pubkey(cert)) != EVP_PKEY_ED25519)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: the audit key is not Ed25519", c->name);
	else if (!audit_chain_to_root(v, cert, v->state, check_time, why, sizeof(why)))
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_CHAIN, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: %s", c->name, why);
	else if (mla_note_verifier_from_key(v->origin, X509_get0_pubkey(cert), key, NULL) !=
		 MLA_OK)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: unusable audit key", c->name);
	else
		ok = 1;
	BIO_free(bio);
	if (ok)
		*certp = cert;
	else
		X509_free(cert);
	return ok;
}

int verify_certificate(struct vctx *v)
{
	const mla_bundle_record *c = &v->b->rec[1];
	X509 *cert = NULL;

	if (strcmp(c->name, "audit") != 0) {
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: the audit certificate is not named audit", c->name);
		return 0;
	}
	/* with later keys (format 3), each is judged at its own times by verify_keys */
	if (!audit_own_cert(v, c, audit_later_keys(v) == 0, &v->key, &cert))
		return 0;
	v->have_key = 1;
	v->fam[F_CERT].ok++;
	return audit_take_keys(v, cert);
}

int verify_checkpoints(struct vctx *v)
{
	uint64_t last = 0;

	v->cps = calloc(v->b->n, sizeof(*v->cps));
	v->cp_key = calloc(v->b->n, sizeof(*v->cp_key));
	if (v->cps == NULL || v->cp_key == NULL)
		return -1;
	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *r = &v->b->rec[i];
		mla_checkpoint *cp = &v->cps[v->ncps++];
		mla_diag d = {MLA_OK, ""};
		uint64_t signers = 0;
		char name[24];

		if (r->type != MLA_BUNDLE_CHECKPOINT) {
			v->ncps--;
			continue;
		}
		if (!v->have_key) {
			vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_BUNDLE_CHECKPOINT,
			      r->name, "checkpoint %s: no verified audit key", r->name);
			continue;
		}
		if (mla_checkpoint_open((const char *)r->data, r->len, audit_keys(v), v->nkeys, cp,
					&signers, &d) != MLA_OK) {
			vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_BUNDLE_CHECKPOINT,
			      r->name, "checkpoint %s: signature or form refused: %s",
			      r->name, mla_diag_message(&d));
			cp->size = 0;
			continue;
		}
		mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)cp->size) ==
			    MLA_OK);
		if (strcmp(name, r->name) != 0 || strcmp(cp->origin, v->origin) != 0 ||
		    cp->size <= last) {
			vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_NAME, MLA_BUNDLE_CHECKPOINT,
			      r->name, "checkpoint %s: signed size %s, origin %s: not the "
			      "record's name, the bundle's log, or not ascending", r->name, name,
			      cp->origin);
			cp->size = 0;
			continue;
		}
		last = cp->size;
		v->cp_key[v->ncps - 1] = audit_signer(signers);
		v->fam[F_CHECKPOINTS].ok++;
	}
	if (v->ncps == 0)
		vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_NO_CHECKPOINT, MLA_BUNDLE_TYPE_N, "",
		      "bundle: no checkpoint");
	return 0;
}

/* A log of epoch N >= 2 opens with the link to epoch N-1 (entry 0, epoch-opened), and no
 * other entry is one (SPEC 14, "Log epochs"; the link itself: verify_epoch.c). */
static void epoch_rule(struct vctx *v, const mla_audit_entry *e, const char *name)
{
	char prev[MLA_AUDIT_ORIGIN_MAX + 1];

	if (e->seq != 0 || v->epoch < 2) {
		if (e->event == MLA_AUDIT_EPOCH_OPENED)
			vfail(v, F_ENTRIES, MLA_AUDIT_R_EPOCH_LINK, MLA_BUNDLE_ENTRY, name,
			      "entry %s: epoch-opened is only entry 0 of a log epoch from 2", name);
		return;
	}
	mla_require(mla_audit_origin_format(v->state, v->epoch - 1, prev) == MLA_OK);
	if (e->event != MLA_AUDIT_EPOCH_OPENED || strcmp(e->prev_origin, prev) != 0)
		vfail(v, F_ENTRIES, MLA_AUDIT_R_EPOCH_LINK, MLA_BUNDLE_ENTRY, name,
		      "entry 0: log %s must open with epoch-opened naming %s", v->origin, prev);
}

int verify_entries(struct vctx *v)
{
	mla_merkle_hasher *h = NULL;
	int64_t last_time = 0;
	size_t n = 0;

	v->entries = calloc(v->b->n, sizeof(*v->entries));
	v->leaves = calloc(v->b->n, sizeof(*v->leaves));
	if (v->entries == NULL || v->leaves == NULL || mla_merkle_hasher_new(&h) != MLA_OK)
		return -1;
	for (size_t i = 0; i < v->b->n; i++) {
		const mla_bundle_record *r = &v->b->rec[i];
		mla_audit_entry *e = &v->entries[n];
		mla_diag d = {MLA_OK, ""};
		char want[24];

		if (r->type != MLA_BUNDLE_ENTRY)
			continue;
		if (mla_merkle_hasher_leaf(h, r->data, r->len, v->leaves[n]) != MLA_OK) {
			mla_merkle_hasher_free(h);
			return -1;
		}
		mla_require(mla_snprintf(want, sizeof(want), "%zu", n) == MLA_OK);
		n++;
		if (mla_audit_entry_parse(r->data, r->len, e, &d) != MLA_OK) {
			vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_FORM, MLA_BUNDLE_ENTRY, r->name,
			      "entry %s: not a canonical entry: %s", r->name,
			      mla_diag_message(&d));
			e->seq = UINT64_MAX;
			continue;
		}
		if (strcmp(r->name, want) != 0 || e->seq != n - 1) {
			vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_SEQ, MLA_BUNDLE_ENTRY, r->name,
			      "entry %s: holds seq %llu at position %s (entry missing, "
			      "duplicated or reordered)", r->name, (unsigned long long)e->seq, want);
			e->seq = UINT64_MAX;
			continue;
		}
		epoch_rule(v, e, r->name);
		if (e->time_ms < last_time)
			vfail(v, F_ENTRIES, MLA_AUDIT_R_ENTRY_TIME, MLA_BUNDLE_ENTRY, r->name,
			      "entry %s: time goes back from the previous entry", r->name);
		else
			v->fam[F_ENTRIES].ok++;
		last_time = e->time_ms;
	}
	mla_merkle_hasher_free(h);
	v->nentries = n;
	return 0;
}

/* Every opened checkpoint's root from the entries; consistency between consecutive ones. */
int verify_tree(struct vctx *v)
{
	mla_merkle_tree *t = NULL;
	const mla_checkpoint *prev = NULL;
	uint8_t root[32];
	mla_merkle_proof p;

	if (mla_merkle_tree_new(v->nentries + 1, &t) != MLA_OK)
		return -1;
	for (size_t i = 0; i < v->nentries; i++)
		if (mla_merkle_tree_append(t, v->leaves[i]) != MLA_OK) {
			mla_merkle_tree_free(t);
			return -1;
		}
	for (size_t i = 0; i < v->ncps; i++) {
		const mla_checkpoint *cp = &v->cps[i];

		if (cp->size == 0)
			continue;
		if (cp->size > v->nentries) {
			vfailn(v, F_TREE, MLA_AUDIT_R_TREE_SHORT, MLA_BUNDLE_CHECKPOINT, cp->size,
			       "checkpoint %llu: covers more entries than the bundle's %zu "
			      "(entries missing)", (unsigned long long)cp->size, v->nentries);
			continue;
		}
		if (mla_merkle_tree_root(t, cp->size, root) != MLA_OK ||
		    memcmp(root, cp->root, 32) != 0) {
			vfailn(v, F_TREE, MLA_AUDIT_R_TREE_ROOT, MLA_BUNDLE_CHECKPOINT, cp->size,
			       "checkpoint %llu: signed root differs from the root of "
			      "entries 0..%llu (an entry was altered, added, removed or reordered)",
			      (unsigned long long)cp->size, (unsigned long long)cp->size - 1);
			continue;
		}
		if (prev != NULL &&
		    (mla_merkle_tree_consistency_proof(t, prev->size, cp->size, &p) != MLA_OK ||
		     mla_merkle_consistency_verify(prev->size, cp->size, prev->root, cp->root,
						   &p) != MLA_OK)) {
			vfailn(v, F_TREE, MLA_AUDIT_R_TREE_CONSISTENCY, MLA_BUNDLE_CHECKPOINT,
			       cp->size, "checkpoint %llu: not consistent with checkpoint %llu",
			      (unsigned long long)cp->size, (unsigned long long)prev->size);
			continue;
		}
		prev = cp;
		v->fam[F_TREE].ok++;
	}
	if (v->ncps > 0 && v->cps[v->ncps - 1].size != 0 &&
	    v->cps[v->ncps - 1].size < v->nentries)
		vfailn(v, F_TREE, MLA_AUDIT_R_TREE_UNCOVERED, MLA_BUNDLE_ENTRY,
		       v->cps[v->ncps - 1].size,
		       "entry %llu: beyond the latest checkpoint (%zu entries, latest "
		       "checkpoint %llu)", (unsigned long long)v->cps[v->ncps - 1].size, v->nentries,
		      (unsigned long long)v->cps[v->ncps - 1].size);
	mla_merkle_tree_free(t);
	return 0;
}
