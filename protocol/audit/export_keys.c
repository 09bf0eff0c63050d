/* The audit certificates of a log whose audit key changed (SPEC 14 "Audit key changes";
 * SPEC 15 format 3): `certificate audit` is the certificate of the key that signed the first
 * checkpoint, then `certificate audit.<n>` for n from 2, the one the (n-1)-th exported
 * audit-key-changed entry names, found among the certificates the source kept. A log without
 * a change keeps the one certificate the caller gives (format 2). */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "export_internal.h"
#include "mlagw/codec.h"

mla_err export_remember_key_change(struct export_ctx *x, const mla_audit_entry *e)
{
	void *p = mla_grow(x->key_changes, &x->capkey_changes, x->nkey_changes,
			   sizeof(*x->key_changes));

	if (p == NULL)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->key_changes = p;
	memcpy(x->key_changes[x->nkey_changes++], e->audit_cert_sha256, 32);
	return MLA_OK;
}

/* The certificates the source kept, as DER, each with its SHA-256. */
struct kept {
	struct kept_cert {
		uint8_t *der;
		size_t len;
		uint8_t sha[32];
	} *c;
	size_t n, cap;
};

static mla_err keep_cert(const uint8_t *der, size_t len, void *arg)
{
	struct kept *k = arg;
	void *p = mla_grow(k->c, &k->cap, k->n, sizeof(*k->c));

	if (p == NULL || (((struct kept_cert *)p)[k->n].der = malloc(len)) == NULL) {
		if (p != NULL)
			k->c = p;
		return MLA_ERR_NOMEM;
	}
	k->c = p;
	memcpy(k->c[k->n].der, der, len);
	k->c[k->n].len = len;
	(void)SHA256(der, len, k->c[k->n].sha);
	k->n++;
	return MLA_OK;
}

static void kept_free(struct kept *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->c[i].der);
	free(k->c);
}

/* Whether the certificate's key signed the first checkpoint (under the log's origin). */
static int signed_first(const struct export_ctx *x, X509 *cert)
{
	mla_note_verifier v;
	mla_checkpoint cp;

	return cert != NULL &&
	       mla_note_verifier_from_key(x->origin, X509_get0_pubkey(cert), &v, NULL) ==
		       MLA_OK &&
	       mla_checkpoint_open((const char *)x->first_note.data, x->first_note.len, &v, 1, &cp,
				   NULL, NULL) == MLA_OK;
}

/* One certificate as a PEM record named name. */
static mla_err add_pem(struct export_ctx *x, mla_buf *head, const char *name, X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	mla_err r;

	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1 || (n = BIO_get_mem_data(bio, &pem)) <= 0)
		r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	else
		r = export_add(x, head, MLA_BUNDLE_CERTIFICATE, name, pem, (size_t)n);
	BIO_free(bio);
	return r;
}

static X509 *der_cert(const struct kept_cert *c)
{
	const unsigned char *p = c->der;

	return d2i_X509(NULL, &p, (long)c->len);
}

/* The first key's certificate: the given one, or a kept one, that signed the first checkpoint. */
static X509 *first_cert(const struct export_ctx *x, const struct kept *k, const uint8_t *pem,
			size_t len)
{
	BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (signed_first(x, cert))
		return cert;
	X509_free(cert);
	for (size_t i = 0; i < k->n; i++) {
		if (signed_first(x, cert = der_cert(&k->c[i])))
			return cert;
		X509_free(cert);
	}
	return NULL;
}

/* The certificates after a change: each the kept one with the digest its entry names. */
static mla_err later_certs(struct export_ctx *x, const struct kept *k, mla_buf *head)
{
	char name[24], hex[17];
	mla_err r = MLA_OK;

	for (size_t i = 0; i < x->nkey_changes && r == MLA_OK; i++) {
		const struct kept_cert *c = NULL;
		X509 *cert;

		for (size_t j = 0; j < k->n && c == NULL; j++)
			if (memcmp(k->c[j].sha, x->key_changes[i], 32) == 0)
				c = &k->c[j];
		mla_require(mla_hex_encode(x->key_changes[i], 8, hex, sizeof(hex)) == MLA_OK);
		if (c == NULL || (cert = der_cert(c)) == NULL)
			return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_NOT_FOUND,
					   "the audit certificate %s… an audit-key-changed entry "
					   "names is not kept in the store", hex);
		mla_require(mla_snprintf(name, sizeof(name), "audit.%zu", i + 2) == MLA_OK);
		r = add_pem(x, head, name, cert);
		X509_free(cert);
	}
	return r;
}

mla_err export_audit_certs(struct export_ctx *x, const uint8_t *pem, size_t len, mla_buf *head)
{
	const mla_audit_source *s = x->src;
	struct kept k = {NULL, 0, 0};
	mla_diag d = {MLA_OK, ""};
	X509 *first;
	mla_err r;

	if (x->nkey_changes == 0)
		return export_add(x, head, MLA_BUNDLE_CERTIFICATE, "audit", pem, len);
	if (s->audit_certs == NULL)
		return export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_NOT_FOUND, "the log changed "
				   "its audit key but the source keeps no audit certificates");
	if ((r = export_source_done(x, s->audit_certs(s->ctx, keep_cert, &k, &d), &d)) != MLA_OK)
		goto out;
	if ((first = first_cert(x, &k, pem, len)) == NULL) {
		r = export_fail(x, MLA_AUDIT_EXPORT_CONTENT, MLA_ERR_NOT_FOUND, "no audit "
				"certificate given or kept is the key of the first checkpoint");
		goto out;
	}
	r = add_pem(x, head, "audit", first);
	X509_free(first);
	if (r == MLA_OK)
		r = later_certs(x, &k, head);
out:
	kept_free(&k);
	return r;
}
