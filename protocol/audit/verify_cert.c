/* Audit bundle verification, the strict reading of a certificate record (SPEC 15 steps 2 and
 * 6), one function for the audit certificate and the peers': exactly one PEM certificate and
 * nothing else, an Ed25519 key whose key usage allows digitalSignature. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "verify_internal.h"

static int is_space(uint8_t c)
{
	return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}

/* Whether r ends in the PEM end line and whitespace only. OpenSSL's reader also takes an end
 * line with other bytes after its dashes ("-----END CERTIFICATE-----\xb7"), which leaves
 * nothing after the block for audit_one_pem_cert to see. */
static int ends_in_pem_end(const mla_bundle_record *r)
{
	static const char tail[] = "-----END CERTIFICATE-----";
	size_t n = r->len;

	while (n > 0 && is_space(r->data[n - 1]))
		n--;
	return n >= sizeof(tail) - 1 &&
	       memcmp(r->data + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0;
}

/* The DER of the one block, which must be all of one certificate (OpenSSL's reader ignores
 * bytes after the certificate's DER inside the base64). */
static X509 *der_cert(const unsigned char *der, long len)
{
	const unsigned char *p = der;
	X509 *cert = d2i_X509(NULL, &p, len);

	if (cert != NULL && p != der + len) {
		X509_free(cert);
		cert = NULL;
	}
	return cert;
}

X509 *audit_one_pem_cert(const mla_bundle_record *r)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----";
	char *name = NULL, *header = NULL, rest[256];
	unsigned char *der = NULL;
	long len = 0;
	BIO *bio;
	X509 *cert = NULL;
	int n;

	if (r->len < sizeof(head) - 1 || memcmp(r->data, head, sizeof(head) - 1) != 0 ||
	    !ends_in_pem_end(r) || r->len > INT32_MAX ||
	    (bio = BIO_new_mem_buf(r->data, (int)r->len)) == NULL)
		return NULL;
	/* one block named CERTIFICATE, without PEM headers (no encryption, no comments) */
	if (PEM_read_bio(bio, &name, &header, &der, &len) == 1 && strcmp(name, "CERTIFICATE") == 0 &&
	    header[0] == '\0')
		cert = der_cert(der, len);
	while (cert != NULL && (n = BIO_read(bio, rest, sizeof(rest))) > 0)
		for (int i = 0; i < n && cert != NULL; i++)
			if (!is_space((uint8_t)rest[i])) {
				X509_free(cert);
				cert = NULL;
			}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	return cert;
}

const char *audit_cert_key_problem(X509 *cert)
{
	EVP_PKEY *pk = X509_get0_pubkey(cert); /* NULL: a key OpenSSL cannot decode */

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519)
		return "not an Ed25519 audit key";
	if (!(X509_get_extension_flags(cert) & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE))
		return "its key usage does not allow digitalSignature";
	return NULL;
}
