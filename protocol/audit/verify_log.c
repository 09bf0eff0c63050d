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
	return (size_t)b->count[t];
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
		    MLA_OK); /* 19 bytes and a 32-bit number fit */
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
	if (v->b->format >= 5)
		manifest_count(v, counts, "directories", MLA_BUNDLE_DIRECTORY);
	if (v->b->format >= 6)
		manifest_count(v, counts, "crls", MLA_BUNDLE_CRL);
	if (v->b->format >= 6)
		manifest_count(v, counts, "ocsp_answers", MLA_BUNDLE_OCSP);
	if (!json_is_integer(pc) || json_integer_value(pc) != (json_int_t)npc)
		MFAIL(v, "manifest: counts.peer_certificates is not the %zu peer certificates the "
		      "bundle holds", npc);
	if (!json_is_integer(first) || json_integer_value(first) != 0 || !json_is_integer(last) ||
	    json_integer_value(last) != (json_int_t)ne - 1)
		MFAIL(v, "manifest: first_seq/last_seq do not span the %zu entries", ne);
}

/* checkpoint_sizes: the checkpoint records' names, in order. -1: no memory. */
static int manifest_sizes(struct vctx *v, json_t *j)
{
	json_t *sizes = json_object_get(j, "checkpoint_sizes"), *s;
	size_t i;
	char name[24];
	struct vregion g;
	mla_bundle_record r;

	if (v->b->format >= 4)
		return 0; /* none: the checkpoint records' names are the sizes */
	if (!json_is_array(sizes) ||
	    json_array_size(sizes) != count_type(v->b, MLA_BUNDLE_CHECKPOINT)) {
		MFAIL(v, "manifest: checkpoint_sizes do not list the checkpoints");
		return 0;
	}
	/* formats 2 and 3 (up to 4,000,000 records): the checkpoint records read once */
	if (vregion_open(v, &g, MLA_BUNDLE_CHECKPOINT) != 0)
		return -1;
	json_array_foreach(sizes, i, s) {
		if (vregion_next(&g, &r) != 1)
			break; /* the file changed: recorded */
		mla_require(mla_snprintf(name, sizeof(name), "%lld",
					 (long long)json_integer_value(s)) == MLA_OK);
		if (!json_is_integer(s) || strcmp(name, r.name) != 0)
			MFAIL(v, "manifest: checkpoint_sizes[%zu] is not checkpoint %s", i, r.name);
	}
	return vregion_close(&g);
}

/* Whether o is an object of exactly the n keys (SPEC 11 rule 3: what a version does not
 * name is refused; a missing key is refused by its own check, and reported here too). */
static int exact_keys(json_t *o, const char *const *keys, size_t n)
{
	size_t have = 0;

	if (!json_is_object(o))
		return 0;
	for (size_t i = 0; i < n; i++)
		have += json_object_get(o, keys[i]) != NULL;
	return have == n && json_object_size(o) == n;
}

/* The members of format 2 and 3, no more and no fewer, at every level. */
static void manifest_keys(struct vctx *v, json_t *j)
{
	static const char *const top[] = {"format", "state", "origin", "first_seq", "last_seq",
					  "counts", "filter", "checkpoint_sizes"};
	/* format 4 lists no sizes (a log's checkpoints outgrow a manifest): the last member */
	size_t ntop = sizeof(top) / sizeof(top[0]) - (v->b->format >= 4);
	static const char *const counts[] = {"entries", "checkpoints", "witnessed",
					     "peer_certificates", "proofs", "envelopes",
					     "receipts", "directories", "crls",
					     "ocsp_answers"};
	/* format 5 counts its directory documents too, format 6 its CRLs and OCSP answers: the
	 * last members */
	size_t ncounts = sizeof(counts) / sizeof(counts[0]) - (v->b->format < 5) -
			 2 * (v->b->format < 6);
	static const char *const filter[] = {"case", "from", "to"};

	if (!exact_keys(j, top, ntop))
		MFAIL(v, "manifest: its members are not exactly format, state, origin, first_seq, "
		      "last_seq, %scounts and filter", v->b->format >= 4 ? "" : "checkpoint_sizes, ");
	if (!exact_keys(json_object_get(j, "counts"), counts, ncounts))
		MFAIL(v, "manifest: counts is not exactly {entries, checkpoints, witnessed, "
		      "peer_certificates, proofs, envelopes, receipts%s%s}",
		      v->b->format >= 5 ? ", directories" : "", v->b->format >= 6 ? ", crls, ocsp_answers" : "");
	if (!exact_keys(json_object_get(j, "filter"), filter, 3))
		MFAIL(v, "manifest: filter is not exactly {case, from, to}");
}

int verify_manifest(struct vctx *v)
{
	const mla_bundle_record *m = &v->b->rec[0];
	json_error_t je;
	json_t *j = json_loadb((const char *)m->data, m->len, JSON_REJECT_DUPLICATES, &je);
	size_t failed = v->fam[F_BUNDLE].failed;
	int rc;

	if (strcmp(m->name, "manifest") != 0)
		MFAIL(v, "manifest: the record is named '%s'", m->name);
	if (!json_is_object(j)) {
		MFAIL(v, "manifest: not a JSON object (%s)", je.text);
		json_decref(j);
		return 0;
	}
	manifest_keys(v, j);
	manifest_identity(v, j);
	manifest_filter_keys(v, json_object_get(j, "filter"));
	manifest_counts(v, j);
	rc = manifest_sizes(v, j);
	if (v->fam[F_BUNDLE].failed == failed)
		v->fam[F_BUNDLE].ok++;
	json_decref(j);
	return rc;
}

/* The time of the bundle's last entry (entries are in seq order and, as checked later, in
 * time order), or 0 when it cannot be read (audit_prepass): the audit certificate is judged
 * as at then. */
static time_t last_entry_time(const struct vctx *v)
{
	return (time_t)(v->last_ms / 1000);
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
	X509 *cert = audit_one_pem_cert(c); /* as strict as the peers' (verify_cert.c) */
	char why[300] = "", st[3] = "";
	const char *bad = NULL;
	int ok = 0;

	if (v->state[0] == '\0')
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_STATE, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate: the manifest names no State to check it against");
	else if (cert == NULL)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: not one PEM certificate", c->name);
	else if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, st,
					   3) != 2 || strcmp(st, v->state) != 0)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_STATE, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: subject State '%s' is not the bundle's %s", c->name, st,
		      v->state);
	else if ((bad = audit_cert_key_problem(cert)) != NULL)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: %s", c->name, bad);
	else if (!audit_chain_to_root(v, cert, v->state, check_time, why, sizeof(why)))
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_CHAIN, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: %s", c->name, why);
	else if (mla_note_verifier_from_key(v->origin, X509_get0_pubkey(cert), key, NULL) !=
		 MLA_OK)
		vfail(v, F_CERT, MLA_AUDIT_R_CERT_FORM, MLA_BUNDLE_CERTIFICATE, c->name,
		      "certificate %s: unusable audit key", c->name);
	else
		ok = 1;
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

/* One checkpoint record (row ncps - 1) opened: its row (size 0 when refused). */
static void open_checkpoint(struct vctx *v, const mla_bundle_record *r, uint64_t *last,
			    struct vcp *row)
{
	mla_diag d = {MLA_OK, ""};
	uint64_t signers = 0;
	mla_checkpoint cp;
	char name[24];

	memset(row, 0, sizeof(*row));
	if (!v->have_key) {
		vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_BUNDLE_CHECKPOINT,
		      r->name, "checkpoint %s: no verified audit key", r->name);
		return;
	}
	if (mla_checkpoint_open((const char *)r->data, r->len, audit_keys(v), v->nkeys, &cp,
				&signers, &d) != MLA_OK) {
		vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_SIG, MLA_BUNDLE_CHECKPOINT,
		      r->name, "checkpoint %s: signature or form refused: %s",
		      r->name, mla_diag_message(&d));
		return;
	}
	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)cp.size) ==
		    MLA_OK);
	if (strcmp(name, r->name) != 0 || strcmp(cp.origin, v->origin) != 0 ||
	    cp.size <= *last) {
		vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_CHECKPOINT_NAME, MLA_BUNDLE_CHECKPOINT,
		      r->name, "checkpoint %s: signed size %s, origin %s: not the "
		      "record's name, the bundle's log, or not ascending", r->name, name,
		      cp.origin);
		return;
	}
	*last = cp.size;
	row->size = cp.size;
	memcpy(row->root, cp.root, 32);
	row->key = (uint32_t)audit_signer(signers);
	v->fam[F_CHECKPOINTS].ok++;
}

/* Each checkpoint record, in one read: a row each (verify_cptab.c), nothing kept in memory
 * but the latest opened one's size. */
int verify_checkpoints(struct vctx *v)
{
	uint64_t last = 0;
	struct vregion g;
	mla_bundle_record r;
	struct vcp row;

	if (vregion_open(v, &g, MLA_BUNDLE_CHECKPOINT) != 0)
		return -1;
	while (vregion_next(&g, &r) == 1) {
		open_checkpoint(v, &r, &last, &row);
		if (cptab_put(&v->cpt, v->ncps, &row) != 0) {
			v->tmp_failed = 1;
			break;
		}
		if (row.size != 0) {
			v->last_cp = (long)v->ncps;
			v->last_cp_size = row.size;
		}
		v->final_cp_size = row.size;
		v->ncps++;
	}
	if (vregion_close(&g) != 0)
		return -1;
	if (v->b->count[MLA_BUNDLE_CHECKPOINT] == 0)
		vfail(v, F_CHECKPOINTS, MLA_AUDIT_R_NO_CHECKPOINT, MLA_BUNDLE_TYPE_N, "",
		      "bundle: no checkpoint");
	return 0;
}

/* Every opened checkpoint's root against the root of its entries (verify_entries compared
 * them in its read); roots of the same entries are consistent with each other by
 * construction, so a verified root is also consistent with every earlier verified one. */
int verify_tree(struct vctx *v)
{
	struct vcp cp;

	for (size_t i = 0; i < v->ncps; i++) {
		if (cptab_get(&v->cpt, i, &cp) != 0) {
			v->tmp_failed = 1;
			return -1;
		}
		if (cp.size == 0)
			continue;
		if (cp.size > v->nentries) {
			vfailn(v, F_TREE, MLA_AUDIT_R_TREE_SHORT, MLA_BUNDLE_CHECKPOINT, cp.size,
			       "checkpoint %llu: covers more entries than the bundle's %zu "
			      "(entries missing)", (unsigned long long)cp.size, v->nentries);
			continue;
		}
		if (!cp.tree) {
			vfailn(v, F_TREE, MLA_AUDIT_R_TREE_ROOT, MLA_BUNDLE_CHECKPOINT, cp.size,
			       "checkpoint %llu: signed root differs from the root of "
			      "entries 0..%llu (an entry was altered, added, removed or reordered)",
			      (unsigned long long)cp.size, (unsigned long long)cp.size - 1);
			continue;
		}
		v->fam[F_TREE].ok++;
	}
	if (v->ncps > 0 && v->final_cp_size != 0 && v->final_cp_size < v->nentries)
		vfailn(v, F_TREE, MLA_AUDIT_R_TREE_UNCOVERED, MLA_BUNDLE_ENTRY, v->final_cp_size,
		       "entry %llu: beyond the latest checkpoint (%zu entries, latest "
		       "checkpoint %llu)", (unsigned long long)v->final_cp_size, v->nentries,
		      (unsigned long long)v->final_cp_size);
	return 0;
}
