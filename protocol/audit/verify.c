/* Audit bundle verification (include/mlagw/audit.h): runs the check families of verify_*.c
 * on each bundle, the split-view check across them, and hands the outcome back as a result;
 * the failures recorded here are what mlagw audit verify prints, one line each. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "verify_internal.h"

static const char *const check_names[MLA_AUDIT_CHECK_N] = {
	"bundle", "certificate", "checkpoints", "entries", "tree", "witness", "proofs",
	"envelopes", "receipts", "delivered", "attachments", "directories", "revocation",
};

static const char *const refusal_names[MLA_AUDIT_R_N] = {
	"none", "container", "manifest", "cert-form", "cert-state", "cert-chain",
	"checkpoint-signature", "checkpoint-name", "no-checkpoint", "entry-form", "entry-seq",
	"entry-time", "tree-short", "tree-root", "tree-consistency", "tree-uncovered", "peer-cert",
	"cosignature", "uncertified-signer", "witnessed", "proof-form", "proof-checkpoint",
	"proof-invalid", "proof-missing", "order", "envelope-invalid", "receipt-invalid",
	"message-id", "receipt-match", "digest", "unreferenced", "missing", "not-selected",
	"delivered", "split-roots", "split-log", "split-witness", "unverified", "no-state",
	"epoch-link", "seal", "key-change", "attachment", "attachment-unlisted", "directory",
	"crl", "revoked", "ocsp",
};

const char *mla_audit_check_name(mla_audit_check c)
{
	return (unsigned)c < MLA_AUDIT_CHECK_N ? check_names[c] : NULL;
}

const char *mla_audit_refusal_name(mla_audit_refusal r)
{
	return (unsigned)r < MLA_AUDIT_R_N ? refusal_names[r] : NULL;
}

/* Whether s[0..] starts a UTF-8 sequence jansson accepts (no overlong form, surrogate or
 * code point beyond U+10FFFF): its length, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0], cp;
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : (c & 0xf0) == 0xe0 ? 3
		 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

	if (n <= 1)
		return n;
	cp = c & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A diagnostic may quote tampered bytes: one line, and when it is not valid UTF-8 (a JSON
 * report could not hold it) '?' for every byte beyond ASCII. */
static void sanitize(char *msg)
{
	size_t n = 1;

	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	for (const char *p = msg; *p != '\0'; p += n)
		if ((n = utf8_len((const unsigned char *)p)) == 0)
			break;
	for (char *p = msg; *p != '\0' && n == 0; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
}

/* ---- failures found out of their order (the message checks join by message: SPEC 15
 * "Verifier memory"), each with the key of where the steps would have found it; the first
 * ones by key that fit in the list are kept (a heap whose top is the last kept), the others
 * only counted ---- */

static int dkey_cmp(const struct vdkey *x, const struct vdkey *y)
{
	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	if (x->b != y->b)
		return x->b < y->b ? -1 : 1;
	return (x->sub > y->sub) - (x->sub < y->sub);
}

static void dheap_down(struct vdefer *d, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, k = i;
		struct vdfail t;

		if (l < d->n && dkey_cmp(&d->h[l].k, &d->h[k].k) > 0)
			k = l;
		if (r < d->n && dkey_cmp(&d->h[r].k, &d->h[k].k) > 0)
			k = r;
		if (k == i)
			return;
		t = d->h[i];
		d->h[i] = d->h[k];
		d->h[k] = t;
		i = k;
	}
}

static void dheap_up(struct vdefer *d, size_t i)
{
	while (i > 0 && dkey_cmp(&d->h[(i - 1) / 2].k, &d->h[i].k) < 0) {
		struct vdfail t = d->h[i];

		d->h[i] = d->h[(i - 1) / 2];
		d->h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

void vdefer_begin(struct vctx *v)
{
	memset(&v->defer, 0, sizeof(v->defer));
	v->defer.on = 1;
	v->defer.cap = v->nfailures < MLA_AUDIT_FAILURES_LISTED
			       ? MLA_AUDIT_FAILURES_LISTED - v->nfailures : 0;
}

void vdefer_at(struct vctx *v, unsigned phase, uint64_t a, uint64_t b, uint32_t sub)
{
	v->defer.cur.phase = (uint8_t)phase;
	v->defer.cur.a = a;
	v->defer.cur.b = b;
	v->defer.cur.sub = sub;
}

void vdefer_put(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
		const char *rec, const char *fmt, va_list ap)
{
	struct vdefer *d = &v->defer;
	struct vdkey k = d->cur;
	struct vdfail *slot;
	char msg[512];

	d->cur.sub++; /* the next failure at the same place comes after this one */
	if (d->n == d->cap && (d->n == 0 || dkey_cmp(&k, &d->h[0].k) > 0)) {
		v->unlisted++; /* after every one kept */
		return;
	}
	if (d->n == d->cap) { /* the last kept goes: this one comes before it */
		free(d->h[0].f.message);
		d->h[0] = d->h[--d->n];
		dheap_down(d, 0);
		v->unlisted++;
	}
	if (d->h == NULL && (d->h = calloc(d->cap, sizeof(*d->h))) == NULL) {
		v->nomem = 1;
		return;
	}
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a diagnostic: a marked cut is fine */
	sanitize(msg);
	slot = &d->h[d->n];
	memset(slot, 0, sizeof(*slot));
	if ((slot->f.message = strdup(msg)) == NULL) {
		v->nomem = 1;
		return;
	}
	slot->k = k;
	slot->f.check = (mla_audit_check)f;
	slot->f.refusal = why;
	slot->f.record_type = t;
	mla_require(mla_strcpy(slot->f.record, sizeof(slot->f.record), rec) == MLA_OK);
	dheap_up(d, d->n++);
}

static int cmp_dfail(const void *a, const void *b)
{
	return dkey_cmp(&((const struct vdfail *)a)->k, &((const struct vdfail *)b)->k);
}

int vdefer_end(struct vctx *v)
{
	struct vdefer *d = &v->defer;
	mla_audit_failure *p;
	int rc = 0;

	d->on = 0;
	if (d->n > 0)
		qsort(d->h, d->n, sizeof(*d->h), cmp_dfail);
	for (size_t i = 0; i < d->n; i++) {
		if (rc == 0 &&
		    (p = mla_grow(v->failures, &v->capfailures, v->nfailures, sizeof(*p))) != NULL) {
			v->failures = p;
			v->failures[v->nfailures++] = d->h[i].f;
			continue;
		}
		rc = -1;
		free(d->h[i].f.message);
	}
	free(d->h);
	memset(d, 0, sizeof(*d));
	if (rc != 0)
		v->nomem = 1;
	return rc;
}

static void vfail_ap(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
		     const char *rec, const char *fmt, va_list ap)
	__attribute__((format(printf, 6, 0)));
static void vfail_ap(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
		     const char *rec, const char *fmt, va_list ap)
{
	char msg[512];
	mla_audit_failure *p;

	v->fam[f].failed++;
	if (v->defer.on) {
		vdefer_put(v, f, why, t, rec, fmt, ap);
		return;
	}
	if (v->nfailures >= MLA_AUDIT_FAILURES_LISTED) {
		v->unlisted++;
		return;
	}
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a diagnostic: a marked cut is fine */
	sanitize(msg);
	if ((p = mla_grow(v->failures, &v->capfailures, v->nfailures, sizeof(*p))) == NULL) {
		v->nomem = 1;
		return;
	}
	v->failures = p;
	p = &v->failures[v->nfailures];
	memset(p, 0, sizeof(*p));
	if ((p->message = strdup(msg)) == NULL) {
		v->nomem = 1;
		return;
	}
	p->check = (mla_audit_check)f;
	p->refusal = why;
	p->record_type = t;
	/* every caller names a bundle record (MLA_BUNDLE_NAME_MAX), a message id or a number */
	mla_require(mla_strcpy(p->record, sizeof(p->record), rec) == MLA_OK);
	v->nfailures++;
}

void vfail(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
	   const char *rec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_ap(v, f, why, t, rec, fmt, ap);
	va_end(ap);
}

void vfailn(struct vctx *v, enum vfam_id f, mla_audit_refusal why, mla_bundle_type t,
	    uint64_t rec, const char *fmt, ...)
{
	char name[24];
	va_list ap;

	mla_require(mla_snprintf(name, sizeof(name), "%llu", (unsigned long long)rec) == MLA_OK);
	va_start(ap, fmt);
	vfail_ap(v, f, why, t, name, fmt, ap);
	va_end(ap);
}

size_t audit_failures(const struct vctx *v)
{
	size_t n = 0;

	for (int f = 0; f < F_N; f++)
		n += v->fam[f].failed;
	return n;
}

void audit_vctx_init(struct vctx *v, const mla_bundle *b, FILE *f, const mla_audit_trust *trust)
{
	memset(v, 0, sizeof(*v));
	v->b = b;
	v->f = f;
	v->trust = trust;
	v->last_cp = -1;
	v->cpt.fd = -1;
	mla_limits_default(&v->limits);
}

int audit_run_checks(struct vctx *v)
{
	int (*const steps[])(struct vctx *) = {
		verify_manifest, verify_crls, audit_prepass, verify_certificate, verify_checkpoints,
		verify_entries,
		verify_keys, verify_tree, verify_witness, verify_messages, verify_proofs,
		verify_directories,
	};

	if (v->b != NULL && v->b->count[MLA_BUNDLE_CHECKPOINT] > 0) {
		if (cptab_open(&v->cpt) != 0) {
			v->tmp_failed = 1;
			return -1;
		}
		v->have_cpt = 1;
	}
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i](v) != 0 || v->nomem || v->tmp_failed) {
			audit_revoc_hook(v, 0);
			return -1;
		}
		if (steps[i] == verify_crls) /* from now on signers are looked up in the CRLs */
			audit_revoc_hook(v, 1);
	}
	audit_revoc_hook(v, 0);
	return 0;
}

static void free_failures(mla_audit_failure *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].message);
	free(f);
}

void audit_vctx_free(struct vctx *v)
{
	for (size_t i = 0; i < v->defer.n; i++) /* the checks stopped while deferring */
		free(v->defer.h[i].f.message);
	free(v->defer.h);
	memset(&v->defer, 0, sizeof(v->defer));
	if (v->have_psort)
		xsort_free(&v->psort);
	v->have_psort = 0;
	free(v->entries);
	free(v->revs);
	v->revs = NULL;
	v->nrevs = v->caprevs = 0;
	free(v->att_msgs);
	free(v->dirs);
	free(v->extras);
	free(v->held);
	free(v->pleaves);
	if (v->have_cpt)
		cptab_close(&v->cpt);
	v->have_cpt = 0;
	for (size_t i = 0; i < v->nkeys; i++)
		X509_free(v->keys[i].cert);
	free(v->keys);
	free(v->key_verifiers);
	if (v->have_msort)
		xsort_free(&v->msort);
	v->have_msort = 0;
	free(v->resealed);
	free(v->peers);
	free(v->heads);
	free(v->selected);
	free_failures(v->failures, v->nfailures);
	v->failures = NULL;
	v->nfailures = 0;
}

void audit_bundle_result_free(mla_audit_bundle_result *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->directories);
	free_failures(r->failures, r->nfailures);
}

mla_audit_bundle_result *audit_vctx_result(struct vctx *v, const char *name)
{
	mla_audit_bundle_result *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->name = strdup(name)) == NULL) {
		audit_bundle_result_free(r);
		free(r);
		return NULL;
	}
	memcpy(r->state, v->state, sizeof(r->state));
	for (int t = 0; v->b != NULL && t < MLA_BUNDLE_TYPE_N; t++)
		r->records[t] = (size_t)v->b->count[t];
	r->cosignatures = v->cosignatures;
	for (int f = 0; f < F_N; f++) {
		r->ok[f] = v->fam[f].ok;
		r->failed[f] = v->fam[f].failed;
	}
	r->nheads = v->heads_seen;
	r->failures = v->failures; /* moved */
	r->nfailures = v->nfailures;
	r->unlisted = v->unlisted;
	r->attachments_dir = v->att_dir != NULL;
	r->attachments_absent = v->att_absent;
	r->crls = v->crls_ok;
	r->ocsps = v->ocsps_ok;
	r->directories = v->dirs; /* moved */
	r->ndirectories = v->ndirs;
	v->dirs = NULL;
	v->ndirs = v->capdirs = 0;
	v->failures = NULL;
	v->nfailures = v->capfailures = 0;
	return r;
}

/* The bundle of in as a stream: its file, or its bytes in memory (reconcile_side.c too). */
FILE *audit_open_input(const mla_audit_input *in, mla_diag *d)
{
	FILE *f = in->data != NULL ? fmemopen((void *)in->data, in->len, "rb")
				   : fopen(in->path != NULL ? in->path : "", "rb");

	if (f == NULL)
		mla_fail(d, MLA_ERR_IO, "cannot read %s: %s", in->name, strerror(errno));
	else if (in->data == NULL)
		(void)setvbuf(f, NULL, _IOFBF, (size_t)1 << 20); /* fewer reads; a hint only */
	return f;
}

/* One bundle into v (with its index in b): the container, then every check; a bundle that
 * does not verify is 0 here (its failures are in v), -1 when out of memory. */
struct head_out {
	mla_audit_head_fn fn;
	void *arg;
	int pool;
};

static int verify_one(struct vctx *v, const mla_audit_input *in, const mla_audit_attach_in *att,
		      mla_bundle *b, const mla_audit_trust *trust, const struct head_out *ho,
		      size_t i)
{
	mla_diag d = {MLA_OK, ""};
	FILE *f = audit_open_input(in, &d);

	audit_vctx_init(v, NULL, f, trust);
	v->on_head = ho->fn;
	v->head_arg = ho->arg;
	v->pool_heads = ho->pool;
	v->bundle = i;
	if (f == NULL || mla_bundle_index(f, b, &d) != MLA_OK) {
		vfail(v, F_BUNDLE, MLA_AUDIT_R_CONTAINER, MLA_BUNDLE_TYPE_N, "",
		      "malformed bundle: %s", mla_diag_message(&d));
		return v->nomem ? -1 : 0;
	}
	v->b = b;
	if (att != NULL) {
		v->att_dir = att->folder;
		v->att_required = att->required;
	}
	if (audit_run_checks(v) != 0)
		return -1;
	return v->att_dir != NULL ? audit_attach_scan(v) : 0;
}

void mla_audit_result_free(mla_audit_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nbundles; i++)
		audit_bundle_result_free(&r->bundles[i]);
	free(r->bundles);
	for (size_t i = 0; i < r->nsplits; i++)
		free(r->splits[i].message);
	free(r->splits);
	for (size_t i = 0; i < r->nlinks; i++)
		free(r->links[i].message);
	free(r->links);
	free(r);
}

/* The contexts' outcomes and the split views of x into res (which takes x's list). */
static mla_err collect(struct vctx *vs, const mla_audit_input *in, size_t n, struct vcross *x,
		       mla_audit_result *res)
{
	if ((res->bundles = calloc(n, sizeof(*res->bundles))) == NULL)
		return MLA_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		mla_audit_bundle_result *b = audit_vctx_result(&vs[i], in[i].name);
		if (b == NULL)
			return MLA_ERR_NOMEM;
		res->bundles[res->nbundles++] = *b;
		free(b);
		res->failures += res->bundles[i].nfailures + res->bundles[i].unlisted;
	}
	res->split_compared = x->compared;
	res->split_unchecked = x->unchecked;
	res->splits = x->splits;
	res->nsplits = x->nsplits;
	res->split_unlisted = x->unlisted;
	x->splits = NULL;
	res->failures += res->nsplits + res->split_unlisted;
	return MLA_OK;
}

/* The checks of every bundle and, with more than one, the split view across them. */
/* Why a bundle's checks could not run. */
static mla_err stopped(const struct vctx *v, const char *name, mla_diag *diag)
{
	if (v->head_err != MLA_OK)
		return mla_fail(diag, v->head_err, "verifying %s: stopped by the receiver of its "
				"heads", name);
	if (v->tmp_failed)
		return mla_fail(diag, MLA_ERR_IO, "verifying %s: the verifier's temporary file "
				"(TMPDIR, else /tmp) cannot be written or read", name);
	return mla_fail(diag, MLA_ERR_NOMEM, "out of memory verifying the audit bundles");
}

static mla_err verify_all(struct vctx *vs, mla_bundle *bs, const mla_audit_input *in,
			  const mla_audit_attach_in *att, size_t n,
			  const mla_audit_trust *trust, const struct head_out *ho,
			  struct vcross *x, const char **names, mla_diag *diag)
{
	for (size_t i = 0; i < n; i++) {
		names[i] = in[i].name;
		if (verify_one(&vs[i], &in[i], att != NULL ? &att[i] : NULL, &bs[i], trust, ho, i) !=
		    0)
			return stopped(&vs[i], in[i].name, diag);
		/* what a later step needs of the checkpoints is read again from the bundle:
		 * the temporary file goes now (one at a time, whatever n) */
		if (vs[i].have_cpt)
			cptab_close(&vs[i].cpt);
		vs[i].have_cpt = 0;
	}
	if (n > 1 && audit_cross_check(vs, names, n, x) != 0)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory verifying the audit bundles");
	return MLA_OK;
}

mla_err mla_audit_verify(const mla_audit_input *in, size_t n, const mla_audit_trust *trust,
			 mla_audit_result **out, mla_diag *diag)
{
	return mla_audit_verify_heads(in, n, trust, NULL, NULL, out, diag);
}

static mla_err verify_impl(const mla_audit_input *in, const mla_audit_attach_in *att, size_t n,
			   const mla_audit_trust *trust, mla_audit_head_fn on_head, void *arg,
			   mla_audit_result **out, mla_diag *diag);

mla_err mla_audit_verify_attach(const mla_audit_input *in, const mla_audit_attach_in *att,
				size_t n, const mla_audit_trust *trust, mla_audit_result **out,
				mla_diag *diag)
{
	return verify_impl(in, att, n, trust, NULL, NULL, out, diag);
}

mla_err mla_audit_verify_heads(const mla_audit_input *in, size_t n, const mla_audit_trust *trust,
			       mla_audit_head_fn on_head, void *arg, mla_audit_result **out,
			       mla_diag *diag)
{
	return verify_impl(in, NULL, n, trust, on_head, arg, out, diag);
}

static mla_err verify_impl(const mla_audit_input *in, const mla_audit_attach_in *att, size_t n,
			   const mla_audit_trust *trust, mla_audit_head_fn on_head, void *arg,
			   mla_audit_result **out, mla_diag *diag)
{
	struct head_out ho = {on_head, arg, n > 1};
	struct vctx *vs = calloc(n ? n : 1, sizeof(*vs));
	mla_bundle *bs = calloc(n ? n : 1, sizeof(*bs));
	const char **names = calloc(n ? n : 1, sizeof(*names));
	mla_audit_result *res = calloc(1, sizeof(*res));
	struct vcross x;
	mla_err r = MLA_ERR_NOMEM;

	memset(&x, 0, sizeof(x));
	*out = NULL;
	if (n == 0 || trust == NULL) {
		r = mla_fail(diag, MLA_ERR_ARG, "no bundle or no trust set to verify with");
		goto out;
	}
	if (vs == NULL || bs == NULL || names == NULL || res == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory verifying the audit bundles");
		goto out;
	}
	if ((r = verify_all(vs, bs, in, att, n, trust, &ho, &x, names, diag)) != MLA_OK)
		goto out;
	if ((r = collect(vs, in, n, &x, res)) != MLA_OK || audit_epoch_links(vs, n, res) != 0) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory verifying the audit bundles");
		goto out;
	}
	*out = res;
	res = NULL;
	r = MLA_OK;
out:
	for (size_t i = 0; vs != NULL && bs != NULL && i < n; i++) {
		if (vs[i].f != NULL)
			fclose(vs[i].f);
		audit_vctx_free(&vs[i]);
		mla_bundle_free(&bs[i]);
	}
	for (size_t i = 0; i < x.nsplits && x.splits != NULL; i++)
		free(x.splits[i].message);
	free(x.splits);
	mla_audit_result_free(res);
	free(names);
	free(vs);
	free(bs);
	return r;
}
