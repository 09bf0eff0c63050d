/* The audit verifier's trust set (include/mlagw/audit.h): the States' roots from a directory,
 * both as an envelope/receipt trust set and as certificates by State, so that the audit and
 * peer certificates are chained to the root of their own State only. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "mlagw/pem.h"
#include "verify_internal.h"

void mla_audit_trust_free(mla_audit_trust *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nroots; i++)
		X509_free(t->roots[i]);
	free(t->roots);
	free(t->states);
	mla_trust_free(t->trust);
	free(t->dir);
	free(t);
}

/* path as a root: in the trust set (refusing what it refuses), and kept with its State when
 * it is a certificate with a country (others only serve envelopes and receipts). */
static mla_err add_root(mla_audit_trust *t, const char *path, size_t *cap, mla_diag *diag)
{
	mla_diag g = {MLA_OK, ""};
	X509 *root = NULL;
	void *p;
	mla_err r = MLA_OK;

	if (mla_trust_add_file(t->trust, path, &g) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_CERT_FILE, "%s: %s", path, mla_diag_message(&g));
		goto out;
	}
	if (mla_pem_load_cert(path, &root, NULL) != MLA_OK)
		goto out; /* as before the move: such a root chains nothing */
	r = MLA_ERR_NOMEM;
	if ((p = mla_grow(t->roots, cap, t->nroots, sizeof(*t->roots))) == NULL)
		goto out;
	t->roots = p;
	/* states grows with roots: same capacity */
	if ((p = realloc(t->states, *cap * sizeof(*t->states))) == NULL)
		goto out;
	t->states = p;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_countryName,
				      t->states[t->nroots], 3) != 2)
		t->states[t->nroots][0] = '\0';
	t->roots[t->nroots++] = root;
	root = NULL;
	r = MLA_OK;
out:
	X509_free(root);
	return r == MLA_ERR_NOMEM ? mla_fail(diag, r, "out of memory") : r;
}

/* Whether name is "*.crt" with something before the dot. */
static int is_crt(const char *name)
{
	size_t len = strlen(name);

	return len >= 5 && strcmp(name + len - 4, ".crt") == 0;
}

mla_err mla_audit_trust_load(const char *dir, mla_audit_trust **out, mla_diag *diag)
{
	mla_audit_trust *t = calloc(1, sizeof(*t));
	DIR *d = NULL;
	struct dirent *de;
	size_t cap = 0, n = 0;
	mla_err r = MLA_ERR_NOMEM;

	*out = NULL;
	if (t == NULL || (t->dir = strdup(dir)) == NULL || mla_trust_new(&t->trust) != MLA_OK) {
		(void)mla_fail(diag, r, "out of memory");
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "cannot read %s", dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];

		if (!is_crt(de->d_name) ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			continue;
		if ((r = add_root(t, path, &cap, diag)) != MLA_OK)
			goto out;
		n++;
	}
	if (n == 0) {
		r = mla_fail(diag, MLA_ERR_ARG, "no root certificate (*.crt) in %s", dir);
		goto out;
	}
	*out = t;
	t = NULL;
	r = MLA_OK;
out:
	if (d != NULL)
		closedir(d);
	mla_audit_trust_free(t);
	return r;
}
