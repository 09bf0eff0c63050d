/* Receipt verification, in the order of envelope verification (protocol/SPEC.md, sections 6
 * and 12): hardened parse, structure, algorithms, base64, schema, body fields, then the signer
 * chain to the root of the receiver State and the signature over exactly the Body. */
#include <string.h>

#include "algs.h"
#include "b64check.h"
#include "certcheck.h"
#include "protocol_ns.h"
#include "receipt_internal.h"
#include "verify_internal.h"
#include "xml_safe.h"

struct receipt_parts {
	xmlDocPtr doc;
	const struct wrap_shape *shape; /* wrap_receipt, 2 or 3, by the version */
	struct wrap_parts wrap; /* Body, Signature, as the shape describes them */
	xmlNodePtr root, body, signature;
};

/* The shape of the receipt's version, chosen by the root's namespace (SPEC 11 rule 2);
 * any other root is refused by the version 1 shape, naming what a receipt is. */
static const struct wrap_shape *shape_of(xmlDocPtr doc)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);

	if (root != NULL && root->ns != NULL &&
	    xmlStrEqual(root->ns->href, BAD_CAST MLA_RECEIPT2_NS))
		return &wrap_receipt2;
	if (root != NULL && root->ns != NULL &&
	    xmlStrEqual(root->ns->href, BAD_CAST MLA_RECEIPT3_NS))
		return &wrap_receipt3;
	return &wrap_receipt;
}

static mla_err locate(struct receipt_parts *p, const xml_safe_counts *c, mla_diag *diag)
{
	mla_err r;

	if ((r = wrap_root_version(p->doc, "urn:mlagw:receipt:", "Receipt", "receipt", 3, diag)) !=
	    MLA_OK)
		return r;
	p->shape = shape_of(p->doc);
	if ((r = wrap_locate(p->doc, c, p->shape, &p->wrap, diag)) != MLA_OK)
		return r;
	p->root = p->wrap.root;
	p->body = p->wrap.child[0];
	p->signature = p->wrap.child[1];
	return MLA_OK;
}

static mla_err check_before_crypto(struct receipt_parts *p, const xml_safe_counts *counts,
				   mla_receipt *out, mla_receipt_problems *problems,
				   mla_receipt_attachments *atts, mla_diag *diag)
{
	mla_err r;

	if ((r = locate(p, counts, diag)) != MLA_OK ||
	    (r = algs_check_tree(p->root, diag)) != MLA_OK ||
	    (r = b64check_tree(p->root, diag)) != MLA_OK ||
	    (r = schema_validate(p->doc, diag)) != MLA_OK)
		return r;
	return receipt_body_read(p->body, out, problems, atts, diag);
}

static mla_err check_signer(struct receipt_parts *p, const mla_trust *trust,
			    const mla_limits *limits, const mla_receipt *rc, mla_diag *diag)
{
	X509 *leaf = NULL;
	mla_err r;

	/* the receipt speaks for its receiver: that State's root must vouch for the signer */
	if ((r = certcheck_signature_signer(trust, rc->receiver_state, p->signature,
					    limits->verify_time, "receipt signer", "receipt", &leaf,
					    diag)) == MLA_OK)
		r = dsig_verify_shape(p->shape, &p->wrap, X509_get0_pubkey(leaf), diag);
	X509_free(leaf);
	return r;
}

mla_err mla_receipt_verify(const uint8_t *xml, size_t len, const mla_trust *trust,
			   const mla_limits *limits, mla_receipt *out, mla_diag *diag)
{
	return mla_receipt_verify_problems(xml, len, trust, limits, out, NULL, diag);
}

mla_err mla_receipt_verify_problems(const uint8_t *xml, size_t len, const mla_trust *trust,
				    const mla_limits *limits, mla_receipt *out,
				    mla_receipt_problems *problems, mla_diag *diag)
{
	return mla_receipt_verify_attached(xml, len, trust, limits, out, problems, NULL, diag);
}

mla_err mla_receipt_verify_attached(const uint8_t *xml, size_t len, const mla_trust *trust,
				    const mla_limits *limits, mla_receipt *out,
				    mla_receipt_problems *problems, mla_receipt_attachments *atts,
				    mla_diag *diag)
{
	struct receipt_parts p;
	xml_safe_counts counts;
	mla_err r;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	if ((r = xml_safe_parse(xml, len, limits, &p.doc, &counts, diag)) != MLA_OK ||
	    (r = check_before_crypto(&p, &counts, out, problems, atts, diag)) != MLA_OK ||
	    (r = check_signer(&p, trust, limits, out, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	/* nothing of an unverified receipt may be mistaken for a fact */
	if (r != MLA_OK) {
		memset(out, 0, sizeof(*out));
		if (problems != NULL)
			memset(problems, 0, sizeof(*problems));
		if (atts != NULL)
			memset(atts, 0, sizeof(*atts));
	}
	xmlFreeDoc(p.doc);
	return r;
}
