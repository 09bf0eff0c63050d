/* Writing directory documents (SPEC 18): a State's unsigned Entry from an mla_dir_entry, the
 * unsigned Directory around signed entries, and the signature of either. Everything written
 * is read back through the schema before it is handed out. */
#include <string.h>

#include <openssl/x509.h>

#include "dir_internal.h"
#include "keys_internal.h"
#include "mlagw/codec.h"
#include "seal_internal.h"
#include "xml_safe.h"

static const char *const use_elements[MLA_DIR_USES] = {
	"TlsCertificate", "SigningCertificate", "EncryptionCertificate", "AuditCertificate"};

static mla_err add_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
			xmlNodePtr *out)
{
	/* xmlNewTextChild escapes the text; xmlNewChild would read it as markup */
	xmlNodePtr n = xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);

	if (out != NULL)
		*out = n;
	return n != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err add_time(xmlNodePtr parent, xmlNsPtr ns, const char *name, time_t t)
{
	char s[MLA_TIME_LEN];

	mla_time_format(t, s);
	if (s[0] == '\0')
		return MLA_ERR_ARG;
	return add_text(parent, ns, name, s, NULL);
}

static mla_err add_cert(xmlNodePtr parent, xmlNsPtr ns, const char *name, X509 *x,
			xmlNodePtr *out)
{
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	mla_buf b64;
	mla_err r;

	if (len <= 0)
		return MLA_ERR_ARG;
	mla_buf_init(&b64, 32768);
	if ((r = mla_b64_encode_buf(der, (size_t)len, &b64)) == MLA_OK &&
	    (r = mla_buf_terminate(&b64)) == MLA_OK)
		r = add_text(parent, ns, name, (const char *)b64.data, out);
	OPENSSL_free(der);
	mla_buf_free(&b64);
	return r;
}

static mla_err add_pair(xmlNodePtr state, xmlNsPtr ns, const char *name, const mla_dir_cert *c)
{
	xmlNodePtr pair, next;
	char from[MLA_TIME_LEN];
	mla_err r;

	if ((pair = xmlNewChild(state, ns, BAD_CAST name, NULL)) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = add_cert(pair, ns, "Current", c->current, NULL)) != MLA_OK || c->next == NULL)
		return r;
	if ((r = add_cert(pair, ns, "Next", c->next, &next)) != MLA_OK)
		return r;
	mla_time_format(c->next_from, from);
	return xmlNewProp(next, BAD_CAST "from", BAD_CAST from) != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

static mla_err add_authority(xmlNodePtr state, xmlNsPtr ns, const mla_dir_authority *a)
{
	xmlNodePtr n = xmlNewChild(state, ns, BAD_CAST "Authority", NULL);
	mla_err r;

	if (n == NULL || (a->central && xmlNewProp(n, BAD_CAST "central", BAD_CAST "true") == NULL))
		return MLA_ERR_NOMEM;
	if ((r = add_text(n, ns, "Name", a->name, NULL)) != MLA_OK)
		return r;
	for (int k = 0; mla_kinds[k] != NULL && k < 32; k++)
		if ((a->kinds & (UINT32_C(1) << k)) != 0 &&
		    (r = add_text(n, ns, "Kind", mla_kinds[k], NULL)) != MLA_OK)
			return r;
	for (size_t i = 0; i < a->n_langs; i++)
		if ((r = add_text(n, ns, "Language", a->langs[i], NULL)) != MLA_OK)
			return r;
	return MLA_OK;
}

static mla_err add_contact(xmlNodePtr state, xmlNsPtr ns, const mla_dir_entry *e)
{
	xmlNodePtr n = xmlNewChild(state, ns, BAD_CAST "UrgentContact", NULL);
	mla_err r;

	if (n == NULL)
		return MLA_ERR_NOMEM;
	if ((r = add_text(n, ns, "Name", e->contact_name, NULL)) != MLA_OK ||
	    (r = add_text(n, ns, "Phone", e->contact_phone, NULL)) != MLA_OK ||
	    e->contact_email[0] == '\0')
		return r;
	return add_text(n, ns, "Email", e->contact_email, NULL);
}

static mla_err add_lists(xmlNodePtr st, xmlNsPtr ns, const mla_dir_entry *e)
{
	xmlNodePtr ch;
	mla_err r;

	for (size_t i = 0; i < e->n_auth; i++)
		if ((r = add_authority(st, ns, &e->auth[i])) != MLA_OK)
			return r;
	for (size_t i = 0; i < e->n_channels; i++) {
		if ((r = add_text(st, ns, "Channel", e->channels[i].value, &ch)) != MLA_OK)
			return r;
		if (xmlNewProp(ch, BAD_CAST "type", BAD_CAST e->channels[i].type) == NULL)
			return MLA_ERR_NOMEM;
	}
	return add_contact(st, ns, e);
}

mla_err dir_write_state(xmlNodePtr parent, xmlNsPtr ns, const mla_dir_entry *e)
{
	xmlNodePtr st = xmlNewChild(parent, ns, BAD_CAST "State", NULL);
	char id[8];
	mla_err r;

	if (st == NULL || mla_snprintf(id, sizeof(id), "S-%s", e->state) != MLA_OK ||
	    xmlNewProp(st, BAD_CAST "Id", BAD_CAST id) == NULL ||
	    xmlNewProp(st, BAD_CAST "code", BAD_CAST e->state) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = add_time(st, ns, "ValidFrom", e->valid_from)) != MLA_OK ||
	    (r = add_time(st, ns, "ValidUntil", e->valid_until)) != MLA_OK)
		return r;
	for (size_t i = 0; i < e->n_urls; i++)
		if ((r = add_text(st, ns, "Gateway", e->urls[i], NULL)) != MLA_OK)
			return r;
	if ((r = add_cert(st, ns, "RootCertificate", e->root, NULL)) != MLA_OK)
		return r;
	for (size_t i = 0; i < e->n_inter; i++)
		if ((r = add_cert(st, ns, "IntermediateCertificate", e->inter[i], NULL)) != MLA_OK)
			return r;
	for (int u = 0; u < MLA_DIR_USES; u++)
		if ((r = add_pair(st, ns, use_elements[u], &e->certs[u])) != MLA_OK)
			return r;
	return add_lists(st, ns, e);
}

mla_err dir_serialize(xmlDocPtr doc, size_t max, mla_buf *out, mla_diag *diag)
{
	xmlChar *mem = NULL;
	int size = 0;
	mla_err r;

	/* no re-indentation: the signed parts are canonicalised as they stand */
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (mem == NULL || size <= 0)
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot serialise the directory document");
	mla_buf_init(out, max);
	if ((r = mla_buf_append(out, mem, (size_t)size)) != MLA_OK)
		mla_fail(diag, r, "directory document of %d bytes exceeds the limit of %zu", size,
			 max);
	xmlFree(mem);
	return r;
}

/* A new document whose root is name in the directory namespace, with version="1". */
static mla_err new_doc(const char *name, xmlDocPtr *doc, xmlNodePtr *root, xmlNsPtr *ns)
{
	if ((*doc = xmlNewDoc(BAD_CAST "1.0")) == NULL ||
	    (*root = xmlNewDocNode(*doc, NULL, BAD_CAST name, NULL)) == NULL)
		return MLA_ERR_NOMEM;
	xmlDocSetRootElement(*doc, *root);
	if ((*ns = xmlNewNs(*root, BAD_CAST MLA_DIRECTORY_NS, BAD_CAST "dir")) == NULL)
		return MLA_ERR_NOMEM;
	xmlSetNs(*root, *ns);
	return xmlNewProp(*root, BAD_CAST "version", BAD_CAST "1") != NULL ? MLA_OK
									   : MLA_ERR_NOMEM;
}

/* Writes doc and reads it back through the schema: nothing invalid leaves this file. */
static mla_err finish(xmlDocPtr doc, size_t max, mla_buf *out, mla_diag *diag)
{
	xmlDocPtr back = NULL;
	mla_err r;

	if ((r = dir_serialize(doc, max, out, diag)) != MLA_OK)
		return r;
	if ((r = dir_parse(out->data, out->len, max, &back, diag)) != MLA_OK)
		mla_buf_free(out);
	xmlFreeDoc(back);
	return r;
}

mla_err mla_dir_entry_write(const mla_dir_entry *e, mla_buf *out, mla_diag *diag)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	xmlNsPtr ns;
	mla_err r;

	mla_buf_init(out, 0);
	if ((r = dir_entry_check(e, diag)) != MLA_OK)
		return r;
	if ((r = new_doc("Entry", &doc, &root, &ns)) != MLA_OK ||
	    (r = dir_write_state(root, ns, e)) != MLA_OK)
		mla_fail(diag, r, "cannot write the entry of %s", e->state);
	else
		r = finish(doc, MLA_DIR_MAX_ENTRY_BYTES, out, diag);
	xmlFreeDoc(doc);
	return r;
}

/* Copies the root of one signed Entry document, as it is, into body. */
static mla_err add_entry(xmlNodePtr body, const mla_buf *entry, size_t i, mla_diag *diag)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, copy;
	mla_err r;

	if ((r = dir_parse(entry->data, entry->len, MLA_DIR_MAX_ENTRY_BYTES, &doc, diag)) !=
	    MLA_OK)
		return r;
	root = xmlDocGetRootElement(doc);
	if (!dir_is(root, "Entry") || dir_ds_child(root, "Signature") == NULL)
		r = mla_fail(diag, MLA_ERR_SCHEMA, "document %zu is not a signed directory entry",
			     i + 1);
	else if ((copy = xmlDocCopyNode(root, body->doc, 1)) == NULL)
		r = MLA_ERR_NOMEM;
	else if (xmlAddChild(body, copy) == NULL) {
		xmlFreeNode(copy);
		r = MLA_ERR_NOMEM;
	} else if (dir_register_id(dir_child(copy, "State"), diag) != MLA_OK)
		/* verification would refuse the directory (sig-wrapping); say why here */
		r = mla_fail(diag, MLA_ERR_ARG, "document %zu is an entry of a State given before",
			     i + 1);
	xmlFreeDoc(doc);
	return r;
}

static mla_err add_head(xmlNodePtr body, xmlNsPtr ns, uint64_t serial, time_t issued_at,
			time_t expires, const char *publisher)
{
	char s[24], id[24];
	xmlNodePtr pub;
	mla_err r;

	if ((r = mla_snprintf(s, sizeof(s), "%llu", (unsigned long long)serial)) != MLA_OK ||
	    (r = mla_snprintf(id, sizeof(id), "D-%s", s)) != MLA_OK)
		return r;
	if (xmlNewProp(body, BAD_CAST "Id", BAD_CAST id) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = add_text(body, ns, "Serial", s, NULL)) != MLA_OK ||
	    (r = add_time(body, ns, "IssuedAt", issued_at)) != MLA_OK ||
	    (r = add_time(body, ns, "Expires", expires)) != MLA_OK ||
	    (r = add_text(body, ns, "Publisher", NULL, &pub)) != MLA_OK)
		return r;
	return xmlNewProp(pub, BAD_CAST "state", BAD_CAST publisher) != NULL ? MLA_OK
									    : MLA_ERR_NOMEM;
}

mla_err mla_dir_assemble(const mla_buf *entries, size_t n, uint64_t serial, time_t issued_at,
			 time_t expires, const char *publisher, mla_buf *out, mla_diag *diag)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, body;
	xmlNsPtr ns;
	mla_err r;

	mla_buf_init(out, 0);
	if (serial == 0 || n == 0 || n > MLA_DIR_MAX_STATES || issued_at >= expires ||
	    publisher == NULL || strlen(publisher) != 2)
		return mla_fail(diag, MLA_ERR_ARG, "a directory needs a serial from 1, 1 to %d "
				"entries, issued before it expires and a publisher State",
				MLA_DIR_MAX_STATES);
	if ((r = new_doc("Directory", &doc, &root, &ns)) != MLA_OK ||
	    (body = xmlNewChild(root, ns, BAD_CAST "Body", NULL)) == NULL ||
	    (r = add_head(body, ns, serial, issued_at, expires, publisher)) != MLA_OK) {
		r = mla_fail(diag, r != MLA_OK ? r : MLA_ERR_NOMEM, "cannot write the directory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = add_entry(body, &entries[i], i, diag)) != MLA_OK)
			goto out;
	/* unsigned: the schema wants a signature, so the read-back happens after signing */
	r = dir_serialize(doc, MLA_DIR_MAX_BYTES, out, diag);
out:
	xmlFreeDoc(doc);
	return r;
}

/* The part to sign: an Entry's State, a Directory's Body. */
static mla_err signed_part(xmlNodePtr root, xmlNodePtr *part, mla_diag *diag)
{
	*part = dir_is(root, "Entry") ? dir_child(root, "State")
		: dir_is(root, "Directory") ? dir_child(root, "Body") : NULL;
	if (*part == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA,
				"not an unsigned directory Entry or Directory document");
	if (dir_ds_child(root, "Signature") != NULL)
		return mla_fail(diag, MLA_ERR_EXISTS, "the document is signed already");
	return MLA_OK;
}

/* An entry is signed with the key of a certificate it lists for signing: caught here with a
 * clear message rather than by every verifier later. */
static mla_err check_entry_signer(xmlNodePtr state, const mla_signer *signer, mla_diag *diag)
{
	X509 *leaf = sk_X509_value(signer->chain, 0);
	mla_dir_entry e;
	mla_err r;

	memset(&e, 0, sizeof(e));
	if ((r = dir_read_state(state, &e, diag)) == MLA_OK &&
	    X509_cmp(leaf, e.certs[MLA_DIR_SIGNING].current) != 0 &&
	    (e.certs[MLA_DIR_SIGNING].next == NULL ||
	     X509_cmp(leaf, e.certs[MLA_DIR_SIGNING].next) != 0))
		r = mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "the certificate given is not the "
			     "signing certificate the entry of %s lists", e.state);
	mla_dir_entry_clear(&e);
	return r;
}

static mla_err sign_part(xmlNodePtr root, xmlNodePtr part, const mla_signer *signer,
			 mla_diag *diag)
{
	xmlChar *id = NULL;
	mla_err r;

	if ((r = dir_register_id(part, diag)) != MLA_OK)
		return r;
	if ((id = xmlGetProp(part, BAD_CAST "Id")) == NULL)
		return MLA_ERR_NOMEM;
	{
		const char *ids[1] = {(const char *)id};
		r = seal_sign_refs(root, ids, 1, signer, diag);
	}
	xmlFree(id);
	return r;
}

mla_err mla_dir_sign(const uint8_t *xml, size_t len, const mla_signer *signer, mla_buf *out,
		     mla_diag *diag)
{
	return dir_sign(xml, len, signer, 1, out, diag);
}

mla_err dir_sign(const uint8_t *xml, size_t len, const mla_signer *signer, int check_signer,
		 mla_buf *out, mla_diag *diag)
{
	mla_limits limits;
	xmlDocPtr doc = NULL;
	xmlNodePtr root, part;
	mla_err r;

	mla_buf_init(out, 0);
	mla_limits_default(&limits);
	limits.max_envelope_bytes = MLA_DIR_MAX_BYTES;
	limits.max_nodes = MLA_DIR_MAX_NODES;
	limits.max_depth = MLA_DIR_MAX_DEPTH;
	limits.max_attrs = MLA_DIR_MAX_ATTRS;
	/* an unsigned Directory does not match the schema (its signature is required): the
	 * read-back after signing checks it whole */
	if ((r = xml_safe_parse(xml, len, &limits, &doc, NULL, diag)) != MLA_OK)
		goto out;
	root = xmlDocGetRootElement(doc);
	if ((r = signed_part(root, &part, diag)) != MLA_OK ||
	    (check_signer && dir_is(root, "Entry") &&
	     (r = check_entry_signer(part, signer, diag)) != MLA_OK) ||
	    (r = sign_part(root, part, signer, diag)) != MLA_OK)
		goto out;
	r = finish(doc, MLA_DIR_MAX_BYTES, out, diag);
out:
	xmlFreeDoc(doc);
	return r;
}
