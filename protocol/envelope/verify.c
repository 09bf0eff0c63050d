/* Envelope verification without private keys: structure, algorithms, base64, schema, header,
 * signer chain, signature and coverage, in that order, each with its own error. */
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "algs.h"
#include "b64check.h"
#include "certcheck.h"
#include "header_xml.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "protocol_ns.h"
#include "verify_internal.h"
#include "xml_safe.h"

/* The envelope version (SPEC 11 rule 1), fixed by the root's namespace: a root in
 * urn:mlagw:envelope:2 is version 2, in urn:mlagw:envelope:3 version 3 (when the caller reads
 * it), any other is read as version 1 (and refused by wrap_locate unless it is an envelope of
 * version 1). The root's version attribute must agree: the schema of each version fixes it. */
static void pick_version(struct env_parts *p)
{
	xmlNodePtr root = xmlDocGetRootElement(p->doc);

	p->version = 1;
	if (xml_is(root, MLA_NS2, "Envelope"))
		p->version = 2;
	else if (xml_is(root, MLA_NS3, "Envelope"))
		p->version = 3;
	p->shape = p->version == 3 ? &wrap_envelope3
		   : p->version == 2 ? &wrap_envelope2 : &wrap_envelope;
}

/* The Header, Payload and Signature, exactly as the version's shape describes them. */
static mla_err locate_parts(struct env_parts *p, const xml_safe_counts *c, int max_version,
			    mla_diag *diag)
{
	mla_err r;

	if ((r = wrap_root_version(p->doc, "urn:mlagw:envelope:", "Envelope", "envelope",
				   (unsigned long)max_version, diag)) != MLA_OK)
		return r;
	pick_version(p);
	if ((r = wrap_locate(p->doc, c, p->shape, &p->wrap, diag)) != MLA_OK)
		return r;
	p->root = p->wrap.root;
	p->header = p->wrap.child[0];
	p->payload = p->wrap.child[1];
	p->signature = p->wrap.child[2];
	return MLA_OK;
}

static xmlNodePtr key_name_of(xmlNodePtr enc_data)
{
	xmlNodePtr ki = xml_first_child(enc_data, DS_NS, "KeyInfo");
	xmlNodePtr ek = xml_first_child(ki, XENC_NS, "EncryptedKey");

	return xml_first_child(xml_first_child(ek, DS_NS, "KeyInfo"), DS_NS, "KeyName");
}

/* Version 3 (SPEC 17.6): the descriptor is the Payload's second EncryptedData, for the same
 * recipient key as the document; the list is the Header's Attachments. */
static mla_err find_attachment_parts(struct env_parts *p, mla_diag *diag)
{
	xmlNodePtr kn;
	xmlChar *a, *b;
	int same;

	p->enc_desc = xml_next_element(p->enc_data->next);
	p->attachments = xml_first_child(p->header, MLA_NS3, "Attachments");
	kn = key_name_of(p->enc_desc);
	if (!xml_is(p->enc_desc, XENC_NS, "EncryptedData") || kn == NULL || p->attachments == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "envelope version 3 without its attachment "
				"list or descriptor");
	a = xmlNodeGetContent(kn);
	b = xmlNodeGetContent(p->key_name);
	same = a != NULL && b != NULL && xmlStrEqual(a, b);
	xmlFree(a);
	xmlFree(b);
	if (!same)
		return mla_fail(diag, MLA_ERR_SCHEMA, "the attachment descriptor is encrypted for "
				"another key than the document");
	return MLA_OK;
}

static mla_err find_key_name(struct env_parts *p, mla_diag *diag)
{
	p->enc_data = xml_first_child(p->payload, XENC_NS, "EncryptedData");
	p->key_name = key_name_of(p->enc_data);
	if (p->enc_data == NULL || p->key_name == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "payload has no EncryptedData with a KeyName");
	return p->version == 3 ? find_attachment_parts(p, diag) : MLA_OK;
}

mla_err verify_extract_chain(xmlNodePtr signature, STACK_OF(X509) **out, mla_diag *diag)
{
	xmlNodePtr ki = xml_first_child(signature, DS_NS, "KeyInfo");
	xmlNodePtr xd = xml_first_child(ki, DS_NS, "X509Data");
	STACK_OF(X509) *chain = sk_X509_new_null();
	mla_err r = MLA_OK;
	mla_buf der;

	mla_buf_init(&der, 64 << 10);
	for (xmlNodePtr c = xd != NULL ? xd->children : NULL; c != NULL && r == MLA_OK;
	     c = c->next) {
		const unsigned char *q;
		X509 *x;
		if (!xml_is(c, DS_NS, "X509Certificate"))
			continue;
		mla_buf_reset(&der);
		if ((r = b64_decode_element(c, &der)) != MLA_OK) {
			mla_fail(diag, r, "invalid base64 in X509Certificate");
			break;
		}
		q = der.data;
		if ((x = d2i_X509(NULL, &q, (long)der.len)) == NULL || !sk_X509_push(chain, x)) {
			X509_free(x);
			r = mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "signer certificate is not DER X.509");
		}
	}
	mla_buf_free(&der);
	if (r == MLA_OK && sk_X509_num(chain) == 0)
		r = mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "signature carries no X509Certificate");
	if (r != MLA_OK) {
		sk_X509_pop_free(chain, X509_free);
		return r;
	}
	*out = chain;
	return MLA_OK;
}

static mla_err describe_signer(X509 *leaf, mla_verified *out)
{
	mla_err r;

	if (X509_NAME_oneline(X509_get_subject_name(leaf), out->signer_subject,
			      (int)sizeof(out->signer_subject)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_cert_fingerprint(leaf, out->signer_fingerprint)) != MLA_OK)
		return r;
	return MLA_OK;
}

/* SPEC 3: the Header's Id is "H-" and the Payload's "P-" + MessageId, as sealing makes
 * them, so the signed parts name the message they belong to. */
static mla_err check_part_id(xmlNodePtr part, char prefix, const char *name,
			     const char *message_id, mla_diag *diag)
{
	xmlChar *id = xmlGetNoNsProp(part, BAD_CAST "Id");
	char want[MLA_UUID_LEN + 3];
	mla_err r = MLA_OK;

	if (id == NULL || mla_snprintf(want, sizeof(want), "%c-%s", prefix, message_id) != MLA_OK ||
	    strcmp((const char *)id, want) != 0)
		r = mla_fail(diag, MLA_ERR_HEADER, "%s Id is not %c- and its MessageId", name,
			     prefix);
	xmlFree(id);
	return r;
}

static mla_err check_before_crypto(struct env_parts *p, const xml_safe_counts *counts,
				   int max_version, mla_verified *out, mla_diag *diag)
{
	mla_err r;

	if ((r = locate_parts(p, counts, max_version, diag)) != MLA_OK ||
	    (r = algs_check_tree(p->root, diag)) != MLA_OK ||
	    (r = b64check_tree(p->root, diag)) != MLA_OK ||
	    (r = schema_validate(p->doc, diag)) != MLA_OK ||
	    (r = find_key_name(p, diag)) != MLA_OK)
		return r;
	if ((r = header_read(p->header, p->version, &out->header, diag)) != MLA_OK ||
	    (r = check_part_id(p->header, 'H', "Header", out->header.message_id, diag)) != MLA_OK)
		return r;
	return check_part_id(p->payload, 'P', "Payload", out->header.message_id, diag);
}

mla_err read_envelope_doc_unsigned(const uint8_t *env, size_t env_len, const mla_limits *limits,
				   int max_version, struct env_parts *p, mla_verified *out,
				   mla_diag *diag)
{
	xml_safe_counts counts;
	mla_err r;

	memset(p, 0, sizeof(*p));
	memset(out, 0, sizeof(*out));
	if ((r = xml_safe_parse(env, env_len, limits, &p->doc, &counts, diag)) != MLA_OK)
		return r;
	return check_before_crypto(p, &counts, max_version, out, diag);
}

mla_err verify_envelope_doc(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, int max_version, struct env_parts *p,
			    mla_verified *out, mla_diag *diag)
{
	mla_err r;
	xml_safe_counts counts;
	X509 *leaf = NULL;
	xmlChar *kn = NULL;

	memset(p, 0, sizeof(*p));
	memset(out, 0, sizeof(*out));
	if ((r = xml_safe_parse(env, env_len, limits, &p->doc, &counts, diag)) != MLA_OK ||
	    (r = check_before_crypto(p, &counts, max_version, out, diag)) != MLA_OK)
		goto out;
	if ((r = certcheck_signature_signer(trust, out->header.from_state, p->signature,
					    limits->verify_time, "signer", "envelope", &leaf,
					    diag)) != MLA_OK ||
	    (r = dsig_verify_shape(p->shape, &p->wrap, X509_get0_pubkey(leaf), diag)) !=
		    MLA_OK ||
	    (r = describe_signer(leaf, out)) != MLA_OK ||
	    (r = envelope_payload_digest(p, out->payload_digest, diag)) != MLA_OK)
		goto out;
	kn = xmlNodeGetContent(p->key_name);
	/* a KeyName is sha256: and 64 hex digits (SPEC section 4): a longer one is invalid */
	if (mla_strcpy(out->recipient_key, sizeof(out->recipient_key),
		       kn != NULL ? (const char *)kn : "") != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_HEADER, "KeyName longer than %zu bytes",
			     sizeof(out->recipient_key) - 1);
		goto out;
	}
	SHA256(env, env_len, out->digest);
	out->authenticated = 1;
	r = MLA_OK;
out:
	xmlFree(kn);
	X509_free(leaf);
	return r;
}

mla_err mla_envelope_verify(const uint8_t *env, size_t env_len, const mla_trust *trust,
			    const mla_limits *limits, mla_verified *out, mla_diag *diag)
{
	struct env_parts p;
	mla_err r;

	r = verify_envelope_doc(env, env_len, trust, limits, MLA_ENVELOPE_VERSION_MAX, &p, out,
				diag);
	xmlFreeDoc(p.doc);
	return r;
}
