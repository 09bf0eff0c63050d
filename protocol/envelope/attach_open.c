/* Verifying and opening envelopes of versions 1 to 3 (SPEC 17.8): for version 3, the signed
 * list read and checked, and on opening the descriptor decrypted and matched with it. */
#include <string.h>

#include "attach_xml.h"
#include "verify_internal.h"

/* The signed list of a verified envelope version 3 into *att (NULL for versions 1 and 2). */
static mla_err read_signed_list(const struct env_parts *p, const mla_limits *limits,
				mla_attach_list **att, mla_diag *diag)
{
	mla_attach_list *l = NULL;
	mla_err r;

	*att = NULL;
	if (p->version != MLA_ENVELOPE_VERSION_ATTACH)
		return MLA_OK;
	if ((r = mla_attach_list_new(&l)) != MLA_OK)
		return r;
	if ((r = attach_xml_read_list(p->attachments, limits->max_attachment_bytes, l, diag)) !=
	    MLA_OK) {
		mla_attach_list_free(l);
		return r;
	}
	*att = l;
	return MLA_OK;
}

mla_err mla_envelope_verify_attached(const uint8_t *env, size_t env_len, const mla_trust *trust,
				     const mla_limits *limits, mla_verified *out,
				     mla_attach_list **att, mla_diag *diag)
{
	struct env_parts p;
	mla_err r;

	*att = NULL;
	if ((r = verify_envelope_doc(env, env_len, trust, limits, MLA_ENVELOPE_VERSION_ATTACH, &p,
				     out, diag)) == MLA_OK)
		r = read_signed_list(&p, limits, att, diag);
	xmlFreeDoc(p.doc);
	return r;
}

mla_err mla_envelope_attach_list_unsigned(const uint8_t *env, size_t env_len,
					  const mla_limits *limits, mla_header *header,
					  mla_attach_list **att, mla_diag *diag)
{
	mla_verified out;
	struct env_parts p;
	mla_err r;

	*att = NULL;
	if ((r = read_envelope_doc_unsigned(env, env_len, limits, MLA_ENVELOPE_VERSION_ATTACH, &p,
					    &out, diag)) == MLA_OK)
		r = read_signed_list(&p, limits, att, diag);
	if (r == MLA_OK)
		*header = out.header;
	xmlFreeDoc(p.doc);
	return r;
}

/* The descriptor: decrypted with the document's key, bounded like a document of at most
 * 1 MiB, then read into the list's private parts. */
static mla_err open_descriptor(const struct env_parts *p, const mla_privkey *key,
			       const mla_limits *limits, mla_attach_list *l, mla_diag *diag)
{
	mla_limits lim = *limits;
	mla_buf desc;
	mla_err r;

	if (lim.max_document_bytes > ((size_t)1 << 20))
		lim.max_document_bytes = (size_t)1 << 20;
	mla_buf_init_secret(&desc, lim.max_document_bytes + 1);
	if ((r = open_decrypt_inflate(p->enc_desc, key, &lim, "attachment descriptor", &desc,
				      diag)) == MLA_OK)
		r = attach_xml_read_descriptor(desc.data, desc.len, limits, l, diag);
	mla_buf_free(&desc);
	return r;
}

mla_err mla_envelope_open_attached(const uint8_t *env, size_t env_len, const mla_trust *trust,
				   const mla_keyring *keys, const char *own_state,
				   const mla_limits *limits, mla_verified *out, mla_buf *doc,
				   mla_attach_list **att, mla_diag *diag)
{
	const mla_privkey *key = NULL;
	mla_attach_list *l = NULL;
	struct env_parts p;
	mla_err r;

	*att = NULL;
	if ((r = open_envelope_doc(env, env_len, trust, keys, own_state, limits,
				   MLA_ENVELOPE_VERSION_ATTACH, &p, &key, out, doc, diag)) !=
		    MLA_OK ||
	    (r = read_signed_list(&p, limits, &l, diag)) != MLA_OK)
		goto out;
	if (l != NULL && (r = open_descriptor(&p, key, limits, l, diag)) != MLA_OK)
		goto out;
	*att = l;
	l = NULL;
out:
	mla_attach_list_free(l);
	if (r != MLA_OK)
		mla_buf_free(doc);
	xmlFreeDoc(p.doc);
	return r;
}
