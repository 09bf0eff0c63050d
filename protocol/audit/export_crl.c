/* The CRLs and OCSP answers of an audit bundle (SPEC 15 format 6, 18.7): those the gateway
 * relied on, from the source (mla_audit_crl_dir and mla_audit_ocsp_dir read a gateway's
 * revocation cache), each once as DER, written as `crl <hex SHA-256 of the DER>` then
 * `ocsp <hex SHA-256>` in ascending name after the directory documents, so that an auditor
 * holding only the roots can tell which signers were revoked when. A CRL the source gives is
 * parsed (bounded, mla_crl_parse) and re-encoded; an OCSP answer is kept as the responder
 * signed it once it parses (mla_ocsp_parse_der); one that does not parse is left out (the
 * verifier judges what is there). The DER goes to a temporary file while
 * the digests are sorted: memory holds 48 bytes a CRL and one CRL at a time. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/sha.h>

#include "export_internal.h"
#include "mlagw/codec.h"
#include "mlagw/revoc.h"

struct crl_row {
	uint8_t sha[32];
	uint64_t offset, len;
};

struct crl_pass {
	mla_bundle_type type; /* MLA_BUNDLE_CRL or MLA_BUNDLE_OCSP */
	FILE *tmp;
	struct crl_row *rows;
	size_t n, cap;
	int full;
};

/* The DER of a CRL (PEM or DER, re-encoded) or of an OCSP answer (as it is) into *der
 * (OPENSSL_malloc'd); 0 when it is not one. */
static int to_der(mla_bundle_type type, const uint8_t *p, size_t len, unsigned char **der)
{
	X509_CRL *crl = NULL;
	OCSP_BASICRESP *bs = NULL;
	int n = 0;

	*der = NULL;
	if (type == MLA_BUNDLE_OCSP) {
		if (mla_ocsp_parse_der(p, len, &bs, NULL) == MLA_OK &&
		    (*der = OPENSSL_memdup(p, len)) != NULL)
			n = (int)len; /* at most MLA_OCSP_MAX_BYTES */
		OCSP_BASICRESP_free(bs);
		return n;
	}
	if (mla_crl_parse(p, len, &crl, NULL) == MLA_OK &&
	    ((n = i2d_X509_CRL(crl, der)) <= 0 || (size_t)n > MLA_CRL_MAX_BYTES))
		n = 0;
	X509_CRL_free(crl);
	return n;
}

static mla_err take_crl(const uint8_t *p, size_t len, void *arg)
{
	struct crl_pass *c = arg;
	unsigned char *der = NULL;
	int n;
	void *g;
	mla_err r = MLA_OK;

	if (c->n >= MLA_AUDIT_CRLS_MAX) {
		c->full = 1;
		return MLA_OK;
	}
	if ((n = to_der(c->type, p, len, &der)) <= 0)
		goto out; /* neither: nothing an auditor could use */
	if ((g = mla_grow(c->rows, &c->cap, c->n, sizeof(*c->rows))) == NULL) {
		r = MLA_ERR_NOMEM;
		goto out;
	}
	c->rows = g;
	SHA256(der, (size_t)n, c->rows[c->n].sha);
	c->rows[c->n].len = (uint64_t)n;
	if (fseek(c->tmp, 0, SEEK_END) != 0 || (c->rows[c->n].offset = (uint64_t)ftell(c->tmp),
						 fwrite(der, 1, (size_t)n, c->tmp) != (size_t)n)) {
		r = MLA_ERR_IO;
		goto out;
	}
	c->n++;
out:
	OPENSSL_free(der);
	return r;
}

static int cmp_row(const void *a, const void *b)
{
	return memcmp(((const struct crl_row *)a)->sha, ((const struct crl_row *)b)->sha, 32);
}

static mla_err put_row(struct export_ctx *x, const struct crl_pass *c, const struct crl_row *row,
		       mla_buf *b)
{
	char name[65];

	mla_buf_reset(b);
	if (fseek(c->tmp, (long)row->offset, SEEK_SET) != 0 ||
	    mla_buf_reserve(b, (size_t)row->len) != MLA_OK ||
	    fread(b->data, 1, (size_t)row->len, c->tmp) != (size_t)row->len)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				   "cannot read back a %s from the temporary file",
				   mla_bundle_type_name(c->type));
	b->len = (size_t)row->len;
	mla_require(mla_hex_encode(row->sha, 32, name, sizeof(name)) == MLA_OK);
	return export_put(x, c->type, name, b->data, b->len);
}

/* The documents of one type the source's callback fn gives, each once, as records; *written
 * counts them. */
static mla_err export_kind(struct export_ctx *x, mla_bundle_type type,
			   mla_err (*fn)(void *, mla_audit_bytes_fn, void *, mla_diag *),
			   size_t *written)
{
	struct crl_pass c = {type, NULL, NULL, 0, 0, 0};
	mla_diag d = {MLA_OK, ""};
	mla_buf b;
	mla_err r = MLA_OK;
	size_t n = 0;

	if (fn == NULL)
		return MLA_OK;
	mla_buf_init(&b, mla_bundle_type_max(type));
	if ((c.tmp = tmpfile()) == NULL) {
		r = export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_IO,
				"cannot create a temporary file for the %s records",
				mla_bundle_type_name(type));
		goto out;
	}
	if ((r = export_source_done(x, fn(x->src->crl_ctx, take_crl, &c, &d), &d)) != MLA_OK)
		goto out;
	if (c.n > 1) /* qsort of no rows would be given NULL, which it may not take */
		qsort(c.rows, c.n, sizeof(*c.rows), cmp_row);
	for (size_t i = 0; i < c.n; i++) /* the same document from two sources: once */
		if (n == 0 || memcmp(c.rows[n - 1].sha, c.rows[i].sha, 32) != 0)
			c.rows[n++] = c.rows[i];
	for (size_t i = 0; i < n && r == MLA_OK; i++)
		if ((r = put_row(x, &c, &c.rows[i], &b)) == MLA_OK)
			(*written)++;
out:
	if (c.tmp != NULL)
		fclose(c.tmp);
	free(c.rows);
	mla_buf_free(&b);
	return r;
}

mla_err export_crls(struct export_ctx *x)
{
	mla_err r = export_kind(x, MLA_BUNDLE_CRL, x->src->crls, &x->res->crls);

	return r == MLA_OK ? export_kind(x, MLA_BUNDLE_OCSP, x->src->ocsps, &x->res->ocsps) : r;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names PREFIX* of dir (no temporary file of the cache, *.tmp), sorted; NULL on no
 * memory. */
static char **crl_names(DIR *dir, const char *prefix, size_t *np)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	while ((e = readdir(dir)) != NULL && n < MLA_AUDIT_CRLS_MAX) {
		size_t l = strlen(e->d_name);
		void *g;

		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 ||
		    (l > 4 && strcmp(e->d_name + l - 4, ".tmp") == 0))
			continue;
		if ((g = mla_grow(names, &cap, n, sizeof(*names))) == NULL ||
		    (((char **)g)[n] = strdup(e->d_name)) == NULL) {
			names = g != NULL ? g : names;
			for (size_t i = 0; i < n; i++)
				free(names[i]);
			free(names);
			return NULL;
		}
		names = g;
		n++;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	*np = n;
	return names != NULL ? names : calloc(1, sizeof(*names));
}

/* Path's bytes into b when it is a regular file of at most max bytes; 0 otherwise. */
static int read_small(const char *path, size_t max, mla_buf *b)
{
	FILE *f = fopen(path, "rbe");
	struct stat st;
	int ok = f != NULL && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
		 (uint64_t)st.st_size <= max && st.st_size > 0;

	mla_buf_reset(b);
	ok = ok && mla_buf_reserve(b, (size_t)st.st_size) == MLA_OK &&
	     fread(b->data, 1, (size_t)st.st_size, f) == (size_t)st.st_size;
	if (ok)
		b->len = (size_t)st.st_size;
	if (f != NULL)
		fclose(f);
	return ok;
}

/* fn over the files PREFIX* of the folder path, each at most max bytes. */
static mla_err cache_files(const char *path, const char *prefix, size_t max,
			   mla_audit_bytes_fn fn, void *arg, mla_diag *diag)
{
	DIR *dir = opendir(path);
	char **names = NULL, file[4096];
	size_t n = 0;
	mla_buf b;
	mla_err r = MLA_OK;

	if (dir == NULL)
		return MLA_OK; /* no cache: the gateway fetched nothing */
	mla_buf_init(&b, max);
	if ((names = crl_names(dir, prefix, &n)) == NULL)
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n && r == MLA_OK; i++)
		if (mla_snprintf(file, sizeof(file), "%s/%s", path, names[i]) == MLA_OK &&
		    read_small(file, max, &b))
			r = fn(b.data, b.len, arg);
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	mla_buf_free(&b);
	closedir(dir);
	return r;
}

mla_err mla_audit_crl_dir(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag)
{
	return cache_files(crl_ctx, "crl-", MLA_CRL_MAX_BYTES, fn, arg, diag);
}

mla_err mla_audit_ocsp_dir(void *crl_ctx, mla_audit_bytes_fn fn, void *arg, mla_diag *diag)
{
	return cache_files(crl_ctx, MLA_AUDIT_OCSP_PREFIX, MLA_OCSP_MAX_BYTES, fn, arg, diag);
}
