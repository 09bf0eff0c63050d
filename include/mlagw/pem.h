/* Certificates from PEM files, and writing keys and certificates (mlagw pki). Private keys
 * are read only through include/mlagw/privkey.h, with its file permission checks. */
#ifndef MLAGW_PEM_H
#define MLAGW_PEM_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mlagw/error.h"

/* Loads one or more PEM certificates, first one first. Fails on a file with none. */
mla_err mla_pem_load_certs(const char *path, STACK_OF(X509) **out, mla_diag *diag);
/* Loads exactly the first certificate of a PEM file. */
mla_err mla_pem_load_cert(const char *path, X509 **out, mla_diag *diag);
/* Writes a private key as PKCS#8 PEM with mode 0600. Refuses to overwrite unless overwrite != 0. */
mla_err mla_pem_write_key(const char *path, EVP_PKEY *key, int overwrite, mla_diag *diag);
/* Writes a certificate as PEM with mode 0644. Refuses to overwrite unless overwrite != 0. */
mla_err mla_pem_write_cert(const char *path, X509 *cert, int overwrite, mla_diag *diag);
/* Lowercase hex SHA-256 of the certificate's DER encoding (65 bytes with the NUL). */
mla_err mla_cert_fingerprint(X509 *cert, char out[65]);

#endif
