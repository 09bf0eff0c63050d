/* Test and demo PKI: a root CA per State and the gateway's four leaf certificates
 * (TLS, envelope signing, encryption, audit). Production States bring their own. */
#ifndef MLAGW_PKI_H
#define MLAGW_PKI_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mlagw/error.h"

typedef enum mla_key_type {
	MLA_KEY_EC_P256,
	MLA_KEY_RSA,
	MLA_KEY_ED25519
} mla_key_type;

typedef enum mla_cert_role {
	MLA_ROLE_ROOT,    /* CA:TRUE, keyCertSign+cRLSign */
	MLA_ROLE_TLS,     /* digitalSignature, serverAuth+clientAuth, SAN */
	MLA_ROLE_SIGN,    /* digitalSignature+nonRepudiation */
	MLA_ROLE_ENCRYPT, /* keyEncipherment */
	MLA_ROLE_AUDIT    /* digitalSignature (Ed25519 checkpoints) */
} mla_cert_role;

/* Where relying parties find a certificate's revocation status (SPEC 18.7): a CRL
 * distribution point and an OCSP responder (authorityInfoAccess), each an http(s) URL
 * or NULL for none. Put in every leaf certificate issued with them. */
typedef struct mla_pki_urls {
	const char *crl;
	const char *ocsp;
} mla_pki_urls;

typedef struct mla_pki_opts {
	const char *state;   /* ISO 3166-1 alpha-2, upper case */
	const char *out_dir; /* files go to out_dir/STATE/ */
	int rsa_bits;        /* encryption key size; 0 means 3072 */
	long days;           /* leaf validity; 0 means 730 */
	const char *hosts;   /* comma-separated TLS SAN entries; NULL means "localhost,127.0.0.1" */
	int overwrite;       /* replace an existing STATE directory's files */
	mla_pki_urls urls;   /* revocation URLs for the leaves; NULLs for none */
	/* the leaves' private keys (tls, sign, encrypt, audit) go to keys_dir/STATE/ (mode 0700,
	 * made if missing), out of the network daemon's reach (docs/internals/keys.md); NULL:
	 * beside the certificates. root.key always stays with root.crt (the test CA's). */
	const char *keys_dir;
} mla_pki_opts;

/* The folder of STATE's leaf keys under opts (keys_dir/STATE or out_dir/STATE) into out. */
mla_err mla_pki_key_dir(const mla_pki_opts *opts, char *out, size_t cap, mla_diag *diag);
/* Creates out_dir/STATE/{root,tls,sign,encrypt,audit}.{crt,key} (the leaf keys in
 * keys_dir/STATE/ when set); keys PKCS#8 mode 0600. */
mla_err mla_pki_init(const mla_pki_opts *opts, mla_diag *diag);

/* Generates a key: EC P-256, RSA of bits (>= 2048), or Ed25519. */
mla_err mla_pki_keygen(mla_key_type type, int bits, EVP_PKEY **out, mla_diag *diag);

/* Issues a certificate for key with the extensions of role, subject C=state, O=..., CN=cn,
 * valid from not_before to not_after. For MLA_ROLE_ROOT issuer and issuer_key are NULL
 * (self-signed). hosts is used for MLA_ROLE_TLS only. */
mla_err mla_pki_issue(mla_cert_role role, const char *state, const char *cn, EVP_PKEY *key,
		      X509 *issuer, EVP_PKEY *issuer_key, time_t not_before, time_t not_after,
		      const char *hosts, X509 **out, mla_diag *diag);
/* mla_pki_issue that also names where the certificate's revocation status is published
 * (leaves only; urls may be NULL). */
mla_err mla_pki_issue_with(mla_cert_role role, const char *state, const char *cn,
			   EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, time_t not_before,
			   time_t not_after, const char *hosts, const mla_pki_urls *urls,
			   X509 **out, mla_diag *diag);

/* ---- keys in a PKCS#11 token (certs/pki_init_token.c, docs/internals/keys.md) ---- */

#define MLA_PKI_TOKEN_KEYS 3 /* tls, sign, encrypt: the audit key stays a file */
#define MLA_PKI_URI_MAX 1024

/* mla_pki_init, then the TLS and signing keys (EC P-256) and the encryption key (RSA of
 * o->rsa_bits) generated in the token uri names ("pkcs11:token=LABEL?module-path=MODULE"),
 * logged in with the PIN that the whole file pin_file (an absolute path) holds: objects
 * labelled tls, sign and encrypt (ids 01, 02, 03), private halves sensitive and never
 * extractable. Each certificate is issued by the State's root for a request signed in the
 * token (NAME.csr kept beside it, for a real CA), and the file key mla_pki_init made is
 * overwritten and removed. key_uris gets the pkcs11: URIs to configure as tls_key, sign_key and
 * encrypt_key (with module-path and pin-source=file:pin_file). The token is checked first: a
 * wrong PIN, or a label already taken (destroyed with o->overwrite), leaves no file. */
mla_err mla_pki_init_token(const mla_pki_opts *o, const char *uri, const char *pin_file,
			   char key_uris[MLA_PKI_TOKEN_KEYS][MLA_PKI_URI_MAX], mla_diag *diag);

/* ---- revocation (certs/pki_revoke.c) ----
 * A State's issued and revoked certificates are listed in state_dir/index.txt in the
 * format of OpenSSL's `ca` database, so `openssl ocsp -index` answers for them. */

/* Lists cert (issued under state_dir/root.crt) as valid; mla_pki_init does it for its leaves. */
mla_err mla_pki_index_add(const char *state_dir, X509 *cert, mla_diag *diag);
/* Marks cert revoked at when (its line changed, or added). MLA_ERR_EXISTS when it already is;
 * MLA_ERR_CERT_UNTRUSTED when state_dir's root did not issue it. */
mla_err mla_pki_revoke(const char *state_dir, X509 *cert, time_t when, mla_diag *diag);
/* Writes a CRL (version 2, signed by state_dir/root.key with SHA-256, CRL number and
 * authority key identifier) of every certificate the index lists as revoked, valid from
 * this_update to next_update, as PEM to out_path (mode 0644, replaced atomically). */
mla_err mla_pki_crl(const char *state_dir, time_t this_update, time_t next_update,
		    const char *out_path, mla_diag *diag);

/* ---- renewal (certs/pki_renew.c, protocol/SPEC.md 18.9) ---- */

typedef struct mla_pki_renew_opts {
	const char *state;   /* ISO 3166-1 alpha-2, upper case */
	const char *pki_dir; /* the State's files are pki_dir/STATE (root.crt, and root.key
			      * when its CA is this test PKI) */
	const char *out_dir; /* the new files; NULL: pki_dir/STATE/next (created) */
	const char *uses;    /* "tls,sign,encrypt,audit" or some of them; NULL: all four */
	int csr_only;        /* keys and requests only, even with root.key at hand */
	int rsa_bits;        /* encryption key size; 0 means 3072 */
	long days;           /* validity of certificates issued here; 0 means 730 */
	const char *hosts;   /* TLS SAN entries; NULL means "localhost,127.0.0.1" */
	int overwrite;       /* replace files of an earlier renewal in out_dir */
} mla_pki_renew_opts;

/* Writes, per use, NAME.key (PKCS#8, mode 0600) and NAME.csr (PKCS#10, signed with the new
 * key) into the output directory, and NAME.crt issued by the State's test root when
 * root.key is there and csr_only is 0. Never touches the files in use. */
mla_err mla_pki_renew(const mla_pki_renew_opts *opts, mla_diag *diag);

/* Issues out_crt for the request csr_path (its signature and key type checked) as the leaf
 * use ("tls", "sign", "encrypt", "audit") of state, signed by state_dir/root.{crt,key}. */
mla_err mla_pki_issue_csr(const char *state_dir, const char *state, const char *use,
			  const char *csr_path, long days, const char *hosts,
			  const char *out_crt, int overwrite, mla_diag *diag);

#endif
