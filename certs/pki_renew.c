/* Key renewal for a gateway (`mlagw pki renew`, `mlagw pki issue`; protocol/SPEC.md 18.9):
 * new key pairs and PKCS#10 requests for some or all of the four leaves, written beside the
 * keys in use (never over them), and, where the State's CA is this test PKI, certificates
 * issued from those requests. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "mlagw/privkey.h"
#include "pki_internal.h"

#define RENEW_DEFAULT_RSA_BITS 3072
#define RENEW_DEFAULT_DAYS 730L
#define RENEW_CLOCK_SKEW 300L

const struct pki_leaf_spec *pki_leaf_by_name(const char *name)
{
	for (size_t i = 0; i < PKI_N_LEAVES; i++)
		if (strcmp(pki_leaves[i].name, name) == 0)
			return &pki_leaves[i];
	return NULL;
}

mla_err pki_load_root(const char *state_dir, X509 **root, mla_privkey **key, mla_diag *diag)
{
	char path[PATH_MAX];
	mla_err r;

	*root = NULL;
	if (key != NULL)
		*key = NULL;
	if (mla_snprintf(path, sizeof(path), "%s/root.crt", state_dir) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path %s/root.crt too long", state_dir);
	if ((r = mla_pem_load_cert(path, root, diag)) != MLA_OK || key == NULL)
		return r;
	if (mla_snprintf(path, sizeof(path), "%s/root.key", state_dir) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path %s/root.key too long", state_dir);
	if ((r = mla_privkey_load(path, key, diag)) != MLA_OK) {
		X509_free(*root);
		*root = NULL;
	}
	return r;
}

/* uses: "tls,sign" or NULL for all four; *mask gets bit i for pki_leaves[i]. */
static mla_err parse_uses(const char *uses, unsigned *mask, mla_diag *diag)
{
	char word[16];

	*mask = 0;
	if (uses == NULL) {
		*mask = (1u << PKI_N_LEAVES) - 1;
		return MLA_OK;
	}
	while (*uses != '\0') {
		size_t n = strcspn(uses, ",");
		const struct pki_leaf_spec *s;

		if (n == 0 || n >= sizeof(word))
			return mla_fail(diag, MLA_ERR_ARG, "--uses: expected tls, sign, encrypt or "
					"audit, separated by commas");
		memcpy(word, uses, n);
		word[n] = '\0';
		if ((s = pki_leaf_by_name(word)) == NULL)
			return mla_fail(diag, MLA_ERR_ARG, "--uses: '%s' is not tls, sign, encrypt "
					"or audit", word);
		*mask |= 1u << (unsigned)(s - pki_leaves);
		uses += n + (uses[n] == ',');
	}
	return MLA_OK;
}

mla_err pki_write_csr(const char *path, X509_REQ *req, int overwrite, mla_diag *diag)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0)
		return mla_fail(diag, errno == EEXIST ? MLA_ERR_EXISTS : MLA_ERR_IO, "%s: %s", path,
				errno == EEXIST ? "exists (overwrite not requested)" : strerror(errno));
	if ((f = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		return mla_fail(diag, MLA_ERR_IO, "%s: %s", path, strerror(errno));
	}
	ok = PEM_write_X509_REQ(f, req) == 1;
	ok = (fflush(f) == 0 && fsync(fileno(f)) == 0) && ok;
	if (fclose(f) != 0 || !ok)
		return mla_fail(diag, MLA_ERR_IO, "cannot write %s", path);
	return MLA_OK;
}

/* A request for key, subject as the State's leaves carry it, signed with key (SHA-256;
 * Ed25519 signs without a separate digest). */
mla_err pki_make_csr(const char *state, const struct pki_leaf_spec *s, EVP_PKEY *key,
		     X509_REQ **out, mla_diag *diag)
{
	X509_REQ *req = X509_REQ_new();
	char cn[64];
	mla_err r;

	*out = NULL;
	if (req == NULL)
		return MLA_ERR_NOMEM;
	if (mla_snprintf(cn, sizeof(cn), "%s %s", state, s->cn_suffix) != MLA_OK ||
	    (r = pki_subject(X509_REQ_get_subject_name(req), state, cn, diag)) != MLA_OK) {
		X509_REQ_free(req);
		return mla_fail(diag, MLA_ERR_ARG, "cannot build the request's subject");
	}
	if (X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_sign(req, key, s->key_type == MLA_KEY_ED25519 ? NULL : EVP_sha256()) <= 0) {
		ERR_clear_error();
		X509_REQ_free(req);
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot sign the %s request", s->name);
	}
	*out = req;
	return MLA_OK;
}

static mla_err out_path(char *out, size_t n, const char *dir, const char *name, const char *ext,
			mla_diag *diag)
{
	if (mla_snprintf(out, n, "%s/%s.%s", dir, name, ext) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path %s/%s.%s too long", dir, name, ext);
	return MLA_OK;
}

/* A certificate of spec's role for the request's key, issued by root (its signature on the
 * request checked first). */
static mla_err issue_from_csr(const char *state, const struct pki_leaf_spec *s, X509_REQ *req,
			      X509 *root, const mla_privkey *root_key, long days,
			      const char *hosts, X509 **out, mla_diag *diag)
{
	EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
	time_t now = time(NULL);
	char cn[64];

	if (pub == NULL || X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "the %s request's signature does not "
				"verify with its own key", s->name);
	}
	if ((s->key_type == MLA_KEY_RSA) != (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA) ||
	    (s->key_type == MLA_KEY_ED25519) != (EVP_PKEY_get_base_id(pub) == EVP_PKEY_ED25519))
		return mla_fail(diag, MLA_ERR_ARG, "the %s request's key is of the wrong type",
				s->name);
	if (mla_snprintf(cn, sizeof(cn), "%s %s", state, s->cn_suffix) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "State code too long");
	return mla_pki_issue(s->role, state, cn, pub, root, mla_privkey_evp(root_key),
			     now - RENEW_CLOCK_SKEW, now + (time_t)days * 86400, hosts, out, diag);
}

mla_err mla_pki_issue_csr(const char *state_dir, const char *state, const char *use,
			  const char *csr_path, long days, const char *hosts,
			  const char *out_crt, int overwrite, mla_diag *diag)
{
	const struct pki_leaf_spec *s = pki_leaf_by_name(use);
	mla_privkey *root_key = NULL;
	X509_REQ *req = NULL;
	X509 *root = NULL, *cert = NULL;
	FILE *f;
	mla_err r;

	if (s == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "'%s' is not tls, sign, encrypt or audit", use);
	if ((f = fopen(csr_path, "r")) == NULL)
		return mla_fail(diag, MLA_ERR_IO, "%s: %s", csr_path, strerror(errno));
	req = PEM_read_X509_REQ(f, NULL, NULL, NULL);
	(void)fclose(f);
	if (req == NULL) {
		ERR_clear_error();
		return mla_fail(diag, MLA_ERR_ARG, "%s: not a PEM certificate request", csr_path);
	}
	if ((r = pki_load_root(state_dir, &root, &root_key, diag)) == MLA_OK &&
	    (r = issue_from_csr(state, s, req, root, root_key, days > 0 ? days :
				RENEW_DEFAULT_DAYS, hosts, &cert, diag)) == MLA_OK &&
	    (r = mla_pem_write_cert(out_crt, cert, overwrite, diag)) == MLA_OK)
		r = mla_pki_index_add(state_dir, cert, diag); /* so its OCSP status is known */
	X509_free(cert);
	X509_free(root);
	mla_privkey_free(root_key);
	X509_REQ_free(req);
	return r;
}

/* One leaf: a new key and its request, and its certificate when the test CA is at hand. */
static mla_err renew_one(const mla_pki_renew_opts *o, const char *state_dir, const char *dir,
			 const struct pki_leaf_spec *s, int issue, mla_diag *diag)
{
	char key_path[PATH_MAX], csr_path[PATH_MAX], crt_path[PATH_MAX];
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	mla_err r;

	if ((r = out_path(key_path, sizeof(key_path), dir, s->name, "key", diag)) != MLA_OK ||
	    (r = out_path(csr_path, sizeof(csr_path), dir, s->name, "csr", diag)) != MLA_OK ||
	    (r = out_path(crt_path, sizeof(crt_path), dir, s->name, "crt", diag)) != MLA_OK)
		return r;
	if ((r = mla_pki_keygen(s->key_type, o->rsa_bits > 0 ? o->rsa_bits :
				RENEW_DEFAULT_RSA_BITS, &key, diag)) == MLA_OK &&
	    (r = pki_make_csr(o->state, s, key, &req, diag)) == MLA_OK &&
	    (r = mla_pem_write_key(key_path, key, o->overwrite, diag)) == MLA_OK &&
	    (r = pki_write_csr(csr_path, req, o->overwrite, diag)) == MLA_OK && issue)
		r = mla_pki_issue_csr(state_dir, o->state, s->name, csr_path, o->days, o->hosts,
				      crt_path, o->overwrite, diag);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	return r;
}

mla_err mla_pki_renew(const mla_pki_renew_opts *o, mla_diag *diag)
{
	char state_dir[PATH_MAX], dir[PATH_MAX], root_key[PATH_MAX];
	unsigned mask;
	int issue;
	mla_err r;

	if (o->state == NULL || strlen(o->state) != 2 || o->state[0] < 'A' || o->state[0] > 'Z' ||
	    o->state[1] < 'A' || o->state[1] > 'Z')
		return mla_fail(diag, MLA_ERR_ARG, "--state: expected a State code such as ES");
	if ((r = parse_uses(o->uses, &mask, diag)) != MLA_OK)
		return r;
	if (mla_snprintf(state_dir, sizeof(state_dir), "%s/%s", o->pki_dir, o->state) != MLA_OK ||
	    mla_snprintf(dir, sizeof(dir), "%s", o->out_dir != NULL ? o->out_dir : "") !=
		    MLA_OK ||
	    (o->out_dir == NULL &&
	     mla_snprintf(dir, sizeof(dir), "%s/next", state_dir) != MLA_OK) ||
	    mla_snprintf(root_key, sizeof(root_key), "%s/root.key", state_dir) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path under %s too long", o->pki_dir);
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	/* the test CA issues when its key is here; a State's own CA gets the requests */
	issue = !o->csr_only && access(root_key, F_OK) == 0;
	for (size_t i = 0; i < PKI_N_LEAVES; i++)
		if ((mask & (1u << i)) != 0 &&
		    (r = renew_one(o, state_dir, dir, &pki_leaves[i], issue, diag)) != MLA_OK)
			return r;
	return MLA_OK;
}
