/* Re-sealing (protocol/SPEC.md section 13, Time): an envelope this gateway sealed, signed again
 * with a new Created after the receiver refused it for its time. The Header is otherwise the
 * same and the encrypted Payload is copied as it is, so neither the document nor a content key
 * is needed, and an auditor sees both seals carry the same Payload digest. */
#include <string.h>

#include "attach_xml.h"
#include "b64check.h"
#include "mlagw/codec.h"
#include "protocol_ns.h"
#include "seal_internal.h"
#include "verify_internal.h"

/* The DigestValue of the signature's reference to the Payload: after the signature verified,
 * the SHA-256 of the Payload's canonical form. */
mla_err envelope_payload_digest(const struct env_parts *p, uint8_t out[32], mla_diag *diag)
{
	xmlNodePtr si = xml_first_child(p->signature, DS_NS, "SignedInfo");
	mla_buf d;
	mla_err r = MLA_ERR_SIG_NOT_COVERED;

	mla_buf_init(&d, 64);
	for (xmlNodePtr ref = si != NULL ? si->children : NULL; ref != NULL; ref = ref->next) {
		xmlChar *uri;
		int is_payload;

		if (!xml_is(ref, DS_NS, "Reference"))
			continue;
		uri = xmlGetNoNsProp(ref, BAD_CAST "URI");
		is_payload = uri != NULL && wrap_uri_is(uri, p->payload);
		xmlFree(uri);
		if (!is_payload)
			continue;
		r = b64_decode_element(xml_first_child(ref, DS_NS, "DigestValue"), &d);
		if (r == MLA_OK && d.len != 32)
			r = MLA_ERR_SIG_INVALID;
		if (r == MLA_OK)
			memcpy(out, d.data, 32);
		break;
	}
	mla_buf_free(&d);
	return r == MLA_OK ? MLA_OK
			   : mla_fail(diag, r, "envelope: no SHA-256 digest of the Payload");
}

/* Appends a deep copy of node to parent in the new document. */
static mla_err copy_into(xmlNodePtr node, xmlDocPtr doc, xmlNodePtr parent, mla_diag *diag)
{
	xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);

	if (copy == NULL || xmlAddChild(parent, copy) == NULL) {
		xmlFreeNode(copy);
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot copy the encrypted payload");
	}
	return MLA_OK;
}

/* The new document: the verified header with created, and a copy of the old EncryptedData
 * (version 3: both, and the Header's list of attachments, SPEC 17.8). */
static mla_err build_again(const struct env_parts *old, const mla_header *h,
			   struct seal_skeleton *s, mla_diag *diag)
{
	mla_err r;

	if ((r = mla_header_check(h, diag)) != MLA_OK)
		return r;
	if ((r = seal_build_skeleton(h, s)) != MLA_OK)
		return mla_fail(diag, r, "cannot build the envelope header");
	if ((r = copy_into(old->enc_data, s->doc, s->payload, diag)) != MLA_OK)
		return r;
	if (old->version != 3)
		return MLA_OK;
	if ((r = copy_into(old->enc_desc, s->doc, s->payload, diag)) != MLA_OK)
		return r;
	/* read and written again rather than copied: the same bytes as the first seal */
	return attach_xml_copy_list(old->attachments, s->header, diag);
}

mla_err mla_envelope_reseal(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_signer *signer, time_t created, const mla_limits *limits,
			    mla_buf *out, mla_diag *diag)
{
	struct seal_skeleton s;
	struct env_parts old;
	mla_verified v;
	mla_err r;

	memset(&s, 0, sizeof(s));
	mla_buf_init(out, 0);
	if ((r = verify_envelope_doc(env, env_len, trust, limits,
				     MLA_ENVELOPE_VERSION_ATTACH, &old, &v, diag)) != MLA_OK)
		goto out;
	v.header.created = created;
	if ((r = build_again(&old, &v.header, &s, diag)) != MLA_OK ||
	    (r = seal_sign_doc(s.root, s.header_id, s.payload_id, signer, diag)) != MLA_OK ||
	    (r = seal_serialize(s.doc, "envelope", limits, out, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	xmlFreeDoc(old.doc);
	xmlFreeDoc(s.doc);
	return r;
}
