/* The OCSP answers of an audit bundle (SPEC 15 step 1a, 18.7; family `revocation`): each
 * `ocsp` record (format 6) must hash to its name and be one successful, basic DER
 * OCSPResponse about certificates of one root of the auditor's trust set, signed by that
 * root or by a responder it certified for OCSP signing and the answer includes; each
 * certificate it says is revoked joins the table the crl records fill (verify_crl.c), so a
 * signature made at or after its revocationTime fails (`revoked`) as with a CRL. A "good"
 * answer is evidence too (counted). Memory: one answer at a time (at most 64 KiB). */
#include <string.h>

#include "mlagw/revoc.h"
#include "verify_internal.h"

struct otake {
	struct vctx *v;
	uint16_t root;
};

static int take_revoked(void *arg, const uint8_t *serial, size_t len, int negative, time_t at)
{
	struct otake *t = arg;

	return audit_revoked_add(t->v, t->root, serial, len, negative, at);
}

static void ocsp_fail(struct vctx *v, const char *name, const char *why)
{
	vfail(v, F_REVOC, MLA_AUDIT_R_OCSP, MLA_BUNDLE_OCSP, name, "ocsp %.16s...: %s", name, why);
}

/* The root of the trust set the answer is about, or -1. */
static long answer_root(const struct vctx *v, OCSP_BASICRESP *bs)
{
	for (size_t i = 0; v->trust != NULL && i < v->trust->nroots; i++)
		if (mla_ocsp_about_root(bs, v->trust->roots[i]))
			return (long)i;
	return -1;
}

/* The revoked certificates of a verified answer into the table; 0, or -1 on no memory. */
static int take_answer(struct vctx *v, const char *name, OCSP_BASICRESP *bs, uint16_t root)
{
	struct otake t = {v, root};
	size_t before = v->nrevs, good = 0;
	int r = mla_ocsp_each_revoked(bs, take_revoked, &t, &good);

	if (r == -1)
		return -1;
	if (r != 0) {
		v->nrevs = before; /* nothing of a refused answer is used */
		ocsp_fail(v, name, r == 1 ? "more revoked certificates than a verifier keeps "
					    "(MLA_AUDIT_REVOKED_MAX in all)"
					  : "a revoked status without a revocationTime, or a serial "
					    "of more than 20 octets");
		return 0;
	}
	v->fam[F_REVOC].ok++;
	v->ocsps_ok++;
	return 0;
}

static int check_record(struct vctx *v, const mla_bundle_record *rec, mla_buf *buf)
{
	mla_bundle_record der;
	mla_diag d = {MLA_OK, ""};
	OCSP_BASICRESP *bs = NULL;
	long root;
	int rc = 0;

	if (audit_revoc_record(v, rec, buf, &der) != 0)
		return 0; /* recorded */
	if (mla_ocsp_parse_der(der.data, der.len, &bs, &d) != MLA_OK)
		ocsp_fail(v, rec->name, mla_diag_message(&d));
	else if ((root = answer_root(v, bs)) < 0)
		ocsp_fail(v, rec->name, "not about certificates issued by one root of the trust set");
	else if (mla_ocsp_verify_issued(bs, v->trust->roots[root], &d) != MLA_OK)
		ocsp_fail(v, rec->name, mla_diag_message(&d));
	else
		rc = take_answer(v, rec->name, bs, (uint16_t)root);
	OCSP_BASICRESP_free(bs);
	return rc;
}

int verify_ocsps(struct vctx *v)
{
	mla_buf buf;
	int rc = 0;

	if (v->b == NULL || v->b->count[MLA_BUNDLE_OCSP] == 0)
		return 0;
	mla_buf_init(&buf, MLA_OCSP_MAX_BYTES + 1);
	for (size_t i = 0; i < v->b->n && rc == 0; i++)
		if (v->b->rec[i].type == MLA_BUNDLE_OCSP)
			rc = check_record(v, &v->b->rec[i], &buf);
	mla_buf_free(&buf);
	return rc;
}
