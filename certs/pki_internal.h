/* Shared by the test PKI's commands (pki_init.c, pki_renew.c, pki_issue.c): the gateway's
 * four leaves and the subject every certificate of a State carries. */
#ifndef MLAGW_CERTS_PKI_INTERNAL_H
#define MLAGW_CERTS_PKI_INTERNAL_H

#include <openssl/x509.h>

#include "mlagw/pki.h"

/* A leaf certificate of the gateway: its file name, key type and subject CN. */
struct pki_leaf_spec {
	mla_cert_role role;
	const char *name;
	mla_key_type key_type;
	const char *cn_suffix;
};

static const struct pki_leaf_spec pki_leaves[] = {
	{MLA_ROLE_TLS, "tls", MLA_KEY_EC_P256, "gateway TLS"},
	{MLA_ROLE_SIGN, "sign", MLA_KEY_EC_P256, "gateway envelope signing"},
	{MLA_ROLE_ENCRYPT, "encrypt", MLA_KEY_RSA, "gateway envelope encryption"},
	{MLA_ROLE_AUDIT, "audit", MLA_KEY_ED25519, "gateway audit log"},
};
#define PKI_N_LEAVES (sizeof(pki_leaves) / sizeof(pki_leaves[0]))

/* Adds C=state, O="<state> Ministry of Justice (test PKI)", CN=cn to name. */
mla_err pki_subject(X509_NAME *name, const char *state, const char *cn, mla_diag *diag);

/* The leaf named name ("tls", "sign", "encrypt", "audit"), or NULL. */
const struct pki_leaf_spec *pki_leaf_by_name(const char *name);

/* state_dir/root.crt and, when key is not NULL, its key, state_dir/root.key (the test CA). */
struct mla_privkey;
mla_err pki_load_root(const char *state_dir, X509 **root, struct mla_privkey **key,
		      mla_diag *diag);

/* A request for key, subject as the State's leaves carry it, signed with key (pki_renew.c). */
mla_err pki_make_csr(const char *state, const struct pki_leaf_spec *s, EVP_PKEY *key,
		     X509_REQ **out, mla_diag *diag);
/* Writes req as PEM to path (mode 0644, synced); MLA_ERR_EXISTS unless overwrite. */
mla_err pki_write_csr(const char *path, X509_REQ *req, int overwrite, mla_diag *diag);

#endif
