/* Key holders: the sender's signing identity, a recipient's encryption certificate, the
 * trusted State roots and this gateway's decryption keyring. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>

#include "keys_internal.h"
#include "seal_internal.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/privkey.h"

mla_err keys_keyname(X509 *cert, char out[MLA_KEYNAME_MAX])
{
	char fp[65];
	mla_err r;

	if ((r = mla_cert_fingerprint(cert, fp)) != MLA_OK)
		return r;
	return mla_snprintf(out, MLA_KEYNAME_MAX, "sha256:%s", fp);
}

xmlSecKeyPtr keys_xmlsec_key(EVP_PKEY *pkey, const char *name)
{
	xmlSecKeyDataPtr data = NULL;
	xmlSecKeyPtr key = NULL;

	if (EVP_PKEY_up_ref(pkey) != 1)
		return NULL;
	if ((data = xmlSecOpenSSLEvpKeyAdopt(pkey)) == NULL) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((key = xmlSecKeyCreate()) == NULL || xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		goto fail;
	}
	if (name != NULL && xmlSecKeySetName(key, BAD_CAST name) < 0)
		goto fail;
	return key;
fail:
	if (key != NULL)
		xmlSecKeyDestroy(key);
	return NULL;
}

/* Attaches the certificate chain so signatures carry it in ds:X509Data. */
static mla_err attach_chain(xmlSecKeyPtr key, STACK_OF(X509) *chain)
{
	xmlSecKeyDataPtr x509 = xmlSecKeyEnsureData(key, xmlSecOpenSSLKeyDataX509Id);
	X509 *c;

	if (x509 == NULL)
		return MLA_ERR_INTERNAL;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		if ((c = X509_dup(sk_X509_value(chain, i))) == NULL)
			return MLA_ERR_NOMEM;
		if (xmlSecOpenSSLKeyDataX509AdoptCert(x509, c) < 0) {
			X509_free(c);
			return MLA_ERR_INTERNAL;
		}
	}
	return MLA_OK;
}

/* The signing key's type: EC, or RSA of at least 2048 bits (checked on its public half). */
static mla_err check_signing_key(const mla_privkey *key, const char *key_path, int *is_ec,
				 mla_diag *diag)
{
	const EVP_PKEY *pub = mla_privkey_public(key);
	int id = EVP_PKEY_get_base_id(pub);

	*is_ec = id == EVP_PKEY_EC;
	if (!*is_ec && !(id == EVP_PKEY_RSA && EVP_PKEY_get_bits(pub) >= 2048))
		return mla_fail(diag, MLA_ERR_CERT_WEAK_KEY,
				"signing key %s must be EC P-256/P-384 or RSA >= 2048 bits",
				key_path);
	return MLA_OK;
}

mla_err mla_signer_load(const char *cert_path, const char *key_path, mla_signer **out,
			mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	mla_signer *s = NULL;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_privkey_load(key_path, &s->key, diag)) != MLA_OK ||
	    (r = mla_pem_load_certs(cert_path, &s->chain, diag)) != MLA_OK)
		goto out;
	if (X509_check_private_key(sk_X509_value(s->chain, 0), mla_privkey_public(s->key)) != 1) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "signing key %s does not match certificate %s",
			     key_path, cert_path);
		goto out;
	}
	if ((r = check_signing_key(s->key, key_path, &s->is_ec, diag)) != MLA_OK)
		goto out;
	/* xmlsec drives the signature itself: it gets the key object (privkey.h), or a stand-in
	 * whose signature the keyholder's replaces (seal_elsewhere.c) */
	s->elsewhere = mla_privkey_elsewhere(s->key);
	if ((s->xkey = keys_xmlsec_key(s->elsewhere ? seal_stand_in_key(s->is_ec)
						    : mla_privkey_evp(s->key),
				       NULL)) == NULL) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot use signing key %s with xmlsec", key_path);
		goto out;
	}
	if ((r = attach_chain(s->xkey, s->chain)) != MLA_OK)
		goto out;
	*out = s;
	s = NULL;
	r = MLA_OK;
out:
	mla_signer_free(s);
	return r;
}

void mla_signer_free(mla_signer *s)
{
	if (s == NULL)
		return;
	if (s->xkey != NULL)
		xmlSecKeyDestroy(s->xkey);
	mla_privkey_free(s->key);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}

static int is_rsa_encryption_cert(X509 *cert)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert);

	return pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
	       EVP_PKEY_get_bits(pk) >= 2048;
}

/* The checks every recipient certificate passes, wherever it came from (named by label). */
static mla_err recipient_finish(mla_recipient *rc, const char *label, mla_recipient **out,
				mla_diag *diag)
{
	mla_err r;

	if (!is_rsa_encryption_cert(rc->cert))
		r = mla_fail(diag, MLA_ERR_CERT_WEAK_KEY,
			     "recipient certificate %s must hold an RSA key of at least 2048 bits",
			     label);
	else if ((X509_get_extension_flags(rc->cert) & EXFLAG_KUSAGE) &&
		 !(X509_get_key_usage(rc->cert) & KU_KEY_ENCIPHERMENT))
		r = mla_fail(diag, MLA_ERR_CERT_USAGE,
			     "recipient certificate %s does not allow keyEncipherment", label);
	else
		r = keys_keyname(rc->cert, rc->keyname);
	if (r == MLA_OK)
		*out = rc;
	else
		mla_recipient_free(rc);
	return r;
}

mla_err mla_recipient_load(const char *cert_path, mla_recipient **out, mla_diag *diag)
{
	mla_recipient *rc = NULL;
	mla_err r;

	*out = NULL;
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return MLA_ERR_NOMEM;
	if ((r = mla_pem_load_cert(cert_path, &rc->cert, diag)) != MLA_OK) {
		mla_recipient_free(rc);
		return r;
	}
	return recipient_finish(rc, cert_path, out, diag);
}

mla_err mla_recipient_from_der(const uint8_t *der, size_t len, const char *label,
			       mla_recipient **out, mla_diag *diag)
{
	const unsigned char *p = der;
	mla_recipient *rc = NULL;

	*out = NULL;
	if (len == 0 || len > LONG_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "recipient certificate %s is empty", label);
	if ((rc = calloc(1, sizeof(*rc))) == NULL)
		return MLA_ERR_NOMEM;
	if ((rc->cert = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		mla_recipient_free(rc);
		return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED,
				"recipient certificate %s is not one DER certificate", label);
	}
	return recipient_finish(rc, label, out, diag);
}

void mla_recipient_free(mla_recipient *r)
{
	if (r == NULL)
		return;
	X509_free(r->cert);
	free(r);
}

mla_err mla_keyring_new(mla_keyring **out)
{
	mla_keyring *k;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return MLA_ERR_NOMEM;
	*out = k;
	return MLA_OK;
}

mla_err mla_keyring_add_file(mla_keyring *k, const char *cert_path, const char *key_path,
			     mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	mla_privkey *key = NULL;
	const EVP_PKEY *pub;
	X509 *cert = NULL;
	char name[MLA_KEYNAME_MAX];

	if (k->n >= MLA_KEYRING_MAX)
		return mla_fail(diag, MLA_ERR_CONFIG, "more than %d decryption keys", MLA_KEYRING_MAX);
	if ((r = mla_privkey_load(key_path, &key, diag)) != MLA_OK ||
	    (r = mla_pem_load_cert(cert_path, &cert, diag)) != MLA_OK)
		goto out;
	pub = mla_privkey_public(key);
	if (X509_check_private_key(cert, pub) != 1) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "decryption key %s does not match certificate %s",
			     key_path, cert_path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pub) < 2048) {
		r = mla_fail(diag, MLA_ERR_CERT_WEAK_KEY,
			     "decryption key %s must be RSA of at least 2048 bits", key_path);
		goto out;
	}
	if ((r = keys_keyname(cert, name)) != MLA_OK ||
	    (r = mla_strcpy(k->names[k->n], MLA_KEYNAME_MAX, name)) != MLA_OK)
		goto out;
	k->pkeys[k->n++] = key;
	key = NULL; /* kept: reusing one key object keeps OpenSSL's RSA blinding and Montgomery
		     * set-up across decryptions */
	r = MLA_OK;
out:
	mla_privkey_free(key);
	X509_free(cert);
	return r;
}

const mla_privkey *keyring_key(const mla_keyring *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->names[i], name) == 0)
			return k->pkeys[i];
	return NULL;
}

int keyring_has(const mla_keyring *k, const char *name)
{
	return keyring_key(k, name) != NULL;
}

void mla_keyring_free(mla_keyring *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		mla_privkey_free(k->pkeys[i]);
	free(k);
}
