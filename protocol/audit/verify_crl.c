/* The revocation evidence of an audit bundle (SPEC 15 step 1a and "Revocation", 18.7; family
 * `revocation`): each `crl` record (format 6) must hash to its name and be one DER CRL of a
 * root of the auditor's trust set (issuer, signature, dates), and the certificates it lists
 * become a sorted table; the signers of envelopes, receipts, directories and checkpoints are
 * then looked up in it, and a signature made at or after its signer's revocation time fails
 * (`revoked`), naming the certificate, its serial, the revocation time and the record. Only
 * certificates issued directly by a root are judged (the CRLs are the roots'). Memory: 32
 * bytes per revoked certificate listed (at most MLA_AUDIT_REVOKED_MAX), one CRL at a time. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "mlagw/codec.h"
#include "mlagw/revoc.h"
#include "verify_internal.h"

/* Adds one listed certificate of root ctx->root. */
struct take {
	struct vctx *v;
	uint16_t root;
};

int audit_revoked_add(struct vctx *v, uint16_t root, const uint8_t *serial, size_t len,
		      int negative, time_t at)
{
	struct vrevoked *p;

	if (v->nrevs >= MLA_AUDIT_REVOKED_MAX)
		return 1;
	if ((p = mla_grow(v->revs, &v->caprevs, v->nrevs, sizeof(*v->revs))) == NULL)
		return -1;
	v->revs = p;
	p = &v->revs[v->nrevs++];
	memset(p, 0, sizeof(*p));
	p->root = root;
	p->negative = (uint8_t)(negative != 0);
	p->len = (uint8_t)len;
	memcpy(p->serial, serial, len);
	p->at = (int64_t)at;
	return 0;
}

static int take_revoked(void *arg, const uint8_t *serial, size_t len, int negative, time_t at)
{
	struct take *t = arg;

	return audit_revoked_add(t->v, t->root, serial, len, negative, at);
}

static int cmp_key(const struct vrevoked *a, const struct vrevoked *b)
{
	if (a->root != b->root)
		return a->root < b->root ? -1 : 1;
	if (a->negative != b->negative || a->len != b->len)
		return a->negative != b->negative ? a->negative - b->negative : a->len - b->len;
	return memcmp(a->serial, b->serial, a->len);
}

static int cmp_rev(const void *a, const void *b)
{
	const struct vrevoked *x = a, *y = b;
	int c = cmp_key(x, y);

	return c != 0 ? c : (x->at > y->at) - (x->at < y->at); /* the earliest first */
}

/* The root of the trust set whose subject issued crl, or -1. */
static long crl_root(const struct vctx *v, X509_CRL *crl)
{
	for (size_t i = 0; v->trust != NULL && i < v->trust->nroots; i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(v->trust->roots[i])) ==
		    0)
			return (long)i;
	return -1;
}

static void crl_fail(struct vctx *v, const char *name, const char *why)
{
	vfail(v, F_REVOC, MLA_AUDIT_R_CRL, MLA_BUNDLE_CRL, name, "crl %.16s...: %s", name, why);
}

int audit_revoc_record(struct vctx *v, const mla_bundle_record *rec, mla_buf *buf,
		       mla_bundle_record *der)
{
	uint8_t sha[32];
	char hex[65];

	if (audit_record_loaded(v, rec, F_REVOC, buf, der) != 0)
		return 1; /* recorded */
	SHA256(der->data, der->len, sha);
	mla_require(mla_hex_encode(sha, 32, hex, sizeof(hex)) == MLA_OK);
	if (strcmp(hex, rec->name) != 0) {
		vfail(v, F_REVOC, MLA_AUDIT_R_DIGEST, rec->type, rec->name,
		      "%s %.16s...: its SHA-256 is %.16s..., not its name (altered)",
		      mla_bundle_type_name(rec->type), rec->name, hex);
		return 1;
	}
	return 0;
}

/* One crl record: its name is its digest, it is a root's CRL; its list into the table. */
static int check_record(struct vctx *v, const mla_bundle_record *rec, mla_buf *buf)
{
	mla_bundle_record der;
	mla_diag d = {MLA_OK, ""};
	X509_CRL *crl = NULL;
	struct take t = {v, 0};
	char why[MLA_DIAG_MAX + 64];
	size_t before = v->nrevs;
	long root;
	int r;

	if (audit_revoc_record(v, rec, buf, &der) != 0)
		return 0; /* recorded */
	if (mla_crl_parse_der(der.data, der.len, &crl, &d) != MLA_OK) {
		crl_fail(v, rec->name, mla_diag_message(&d));
		return 0;
	}
	if ((root = crl_root(v, crl)) < 0)
		crl_fail(v, rec->name, "issued by none of the roots of the trust set");
	else if (mla_crl_verify_issued(crl, v->trust->roots[root], &d) != MLA_OK)
		crl_fail(v, rec->name, mla_diag_message(&d));
	else {
		t.root = (uint16_t)root;
		if ((r = mla_crl_each_revoked(crl, take_revoked, &t)) == -1) {
			X509_CRL_free(crl);
			return -1;
		}
		if (r != 0) {
			v->nrevs = before; /* nothing of a refused CRL is used */
			(void)mla_snprintf_cut(why, sizeof(why), "%s",
					       r == 1 ? "more revoked certificates than a verifier "
							"keeps (MLA_AUDIT_REVOKED_MAX in all)"
						      : "an entry without a date, or a serial of more "
							"than 20 octets");
			crl_fail(v, rec->name, why);
		} else {
			v->fam[F_REVOC].ok++;
			v->crls_ok++;
		}
	}
	X509_CRL_free(crl);
	return 0;
}

int verify_crls(struct vctx *v)
{
	mla_buf buf;
	int rc = 0;

	if (v->b == NULL || v->b->count[MLA_BUNDLE_CRL] + v->b->count[MLA_BUNDLE_OCSP] == 0)
		return 0;
	mla_buf_init(&buf, MLA_CRL_MAX_BYTES + 1);
	for (size_t i = 0; i < v->b->n && rc == 0; i++)
		if (v->b->rec[i].type == MLA_BUNDLE_CRL)
			rc = check_record(v, &v->b->rec[i], &buf);
	mla_buf_free(&buf);
	if (rc == 0)
		rc = verify_ocsps(v); /* into the same table */
	if (v->nrevs > 1)
		qsort(v->revs, v->nrevs, sizeof(*v->revs), cmp_rev);
	return rc;
}

/* The earliest revocation of cert, issued by root i, or NULL. */
static const struct vrevoked *lookup(const struct vctx *v, size_t root, X509 *cert)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(cert);
	struct vrevoked key;
	size_t lo = 0, hi = v->nrevs;

	if (s == NULL || s->length <= 0 || s->length > MLA_CRL_SERIAL_MAX)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.root = (uint16_t)root;
	key.negative = s->type == V_ASN1_NEG_INTEGER;
	key.len = (uint8_t)s->length;
	memcpy(key.serial, s->data, (size_t)s->length);
	while (lo < hi) { /* the first row not below key */
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(&v->revs[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->nrevs && cmp_key(&v->revs[lo], &key) == 0 ? &v->revs[lo] : NULL;
}

int audit_revoked(const struct vctx *v, X509 *cert, X509 *issuer, const char *role,
		  struct vrevhit *hit)
{
	const struct vrevoked *r = NULL;
	mla_revoc_status st;
	mla_diag d = {MLA_OK, ""};

	for (size_t i = 0; issuer != NULL && v->nrevs > 0 && i < v->trust->nroots && r == NULL;
	     i++)
		if (X509_cmp(issuer, v->trust->roots[i]) == 0)
			r = lookup(v, i, cert);
	if (r == NULL || (hit->have && hit->at <= r->at))
		return r != NULL;
	memset(&st, 0, sizeof(st));
	st.revoked = 1;
	st.revoked_at = (time_t)r->at;
	(void)mla_revoc_refuse(cert, role, &st, &d);
	hit->have = 1;
	hit->at = r->at;
	(void)mla_snprintf_cut(hit->what, sizeof(hit->what), "%s", d.msg);
	return 1;
}

int audit_revoked_own(const struct vctx *v, X509 *cert, const char *role, struct vrevhit *hit)
{
	for (size_t i = 0; v->nrevs > 0 && i < v->trust->nroots; i++)
		if (strcmp(v->trust->states[i], v->state) == 0 &&
		    X509_check_issued(v->trust->roots[i], cert) == X509_V_OK)
			return audit_revoked(v, cert, v->trust->roots[i], role, hit);
	return 0;
}

/* The trust set's revocation hook while a bundle is checked: never refuses (the records'
 * checks compare the revocation with the time the record was signed), only notes the
 * earliest revocation among the signers of the document being verified. */
static mla_err on_signer(void *arg, X509 *leaf, X509 *issuer, time_t at, const char *role,
			 mla_diag *diag)
{
	struct vctx *v = arg;

	(void)at;
	(void)diag;
	(void)audit_revoked(v, leaf, issuer, role, &v->hit);
	return MLA_OK;
}

void audit_revoc_hook(struct vctx *v, int on)
{
	if (v->trust == NULL || v->trust->trust == NULL)
		return;
	if (on && v->nrevs > 0)
		mla_trust_set_revocation(v->trust->trust, on_signer, v);
	else
		mla_trust_set_revocation(v->trust->trust, NULL, NULL);
}

void audit_revoc_reset(struct vctx *v)
{
	memset(&v->hit, 0, sizeof(v->hit));
}

void audit_revoc_judge(struct vctx *v, mla_bundle_type t, const char *name, int64_t signed_at,
		       const char *what)
{
	char when[MLA_TIME_LEN];

	if (!v->hit.have || v->hit.at > signed_at)
		return;
	mla_time_format((time_t)signed_at, when);
	vfail(v, F_REVOC, MLA_AUDIT_R_REVOKED, t, name, "%s was signed at %s, at or after its "
	      "signer's revocation: %s", what, when, v->hit.what);
}
