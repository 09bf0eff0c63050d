/* Sealing an envelope version 3 (SPEC 17.8): version 2's envelope with the list of
 * attachments as the Header's last element and the attachment descriptor encrypted as the
 * Payload's second EncryptedData, both under the one signature. */
#include <string.h>

#include "attach_xml.h"
#include "compress.h"
#include "seal_internal.h"

/* The document and then the descriptor, each gzip'd and encrypted into the Payload. */
static mla_err encrypt_both(struct seal_skeleton *s, const uint8_t *doc, size_t doc_len,
			    const mla_attach_list *att, const mla_recipient *recipient,
			    const mla_limits *limits, mla_diag *diag)
{
	mla_buf gz, desc;
	mla_err r;

	mla_buf_init_secret(&gz, limits->max_envelope_bytes);
	mla_buf_init_secret(&desc, 0);
	if ((r = compress_gzip(doc, doc_len, &gz, diag)) != MLA_OK ||
	    (r = seal_encrypt_payload(s->payload, &gz, recipient, diag)) != MLA_OK ||
	    (r = attach_xml_write_descriptor(att, &desc, diag)) != MLA_OK)
		goto out;
	mla_buf_reset(&gz);
	if ((r = compress_gzip(desc.data, desc.len, &gz, diag)) != MLA_OK ||
	    (r = seal_encrypt_payload(s->payload, &gz, recipient, diag)) != MLA_OK)
		goto out;
out:
	mla_buf_free(&desc);
	mla_buf_free(&gz);
	return r;
}

mla_err mla_envelope_seal_attached(const mla_header *h, const uint8_t *doc, size_t doc_len,
				   const mla_attach_list *att, const mla_signer *signer,
				   const mla_recipient *recipient, const mla_limits *limits,
				   mla_buf *out, mla_diag *diag)
{
	struct seal_skeleton s;
	mla_err r;

	memset(&s, 0, sizeof(s));
	mla_buf_init(out, 0);
	if (doc_len > limits->max_document_bytes) {
		r = mla_fail(diag, MLA_ERR_TOO_LARGE, "document of %zu bytes exceeds the limit of %zu",
			     doc_len, limits->max_document_bytes);
		goto out;
	}
	if ((r = mla_header_check(h, diag)) != MLA_OK)
		goto out;
	if (mla_header_version(h) != MLA_ENVELOPE_VERSION_ATTACH) {
		r = mla_fail(diag, MLA_ERR_HEADER, "attachments need envelope version 3; the header "
			     "is of version %d", mla_header_version(h));
		goto out;
	}
	if (!att->has_private) {
		r = mla_fail(diag, MLA_ERR_ARG, "attachments to seal without their descriptor");
		goto out;
	}
	if ((r = mla_attach_list_check(att, limits->max_attachment_bytes, diag)) != MLA_OK)
		goto out;
	if ((r = seal_build_skeleton(h, &s)) != MLA_OK ||
	    (r = attach_xml_write_list(s.header, att)) != MLA_OK) {
		mla_fail(diag, r, "cannot build the envelope header");
		goto out;
	}
	if ((r = encrypt_both(&s, doc, doc_len, att, recipient, limits, diag)) != MLA_OK ||
	    (r = seal_sign_doc(s.root, s.header_id, s.payload_id, signer, diag)) != MLA_OK ||
	    (r = seal_serialize(s.doc, "envelope", limits, out, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	xmlFreeDoc(s.doc);
	return r;
}
