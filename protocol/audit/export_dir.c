/* The directory documents of an audit bundle (SPEC 15 format 5, 18.6): each exported
 * directory-adopted entry names the SHA-256 of the signed directory it records; the source's
 * document of that digest goes into the bundle as `directory <hex>`, after the receipts, in
 * ascending name. One 32-byte digest per directory-adopted entry is kept (a gateway adopts a
 * serial a week or so), and one document (at most 4 MiB) at a time. */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "mlagw/codec.h"

mla_err export_remember_directory(struct export_ctx *x, const mla_audit_entry *e)
{
	void *p = mla_grow(x->dirs, &x->capdirs, x->ndirs, sizeof(*x->dirs));

	if (p == NULL)
		return export_fail(x, MLA_AUDIT_EXPORT_BUNDLE, MLA_ERR_NOMEM, "out of memory");
	x->dirs = p;
	memcpy(x->dirs[x->ndirs++], e->dir_sha256, 32);
	return MLA_OK;
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

struct dir_put {
	struct export_ctx *x;
	const char *name;
};

static mla_err put_doc(const uint8_t *data, size_t len, void *arg)
{
	struct dir_put *d = arg;

	return export_put(d->x, MLA_BUNDLE_DIRECTORY, d->name, data, len);
}

mla_err export_directories(struct export_ctx *x)
{
	const mla_audit_source *s = x->src;
	size_t n = 0;

	if (x->ndirs == 0)
		return MLA_OK;
	qsort(x->dirs, x->ndirs, sizeof(*x->dirs), cmp_digest); /* hex order is byte order */
	for (size_t i = 0; i < x->ndirs; i++)
		if (n == 0 || memcmp(x->dirs[n - 1], x->dirs[i], 32) != 0)
			memmove(x->dirs[n++], x->dirs[i], 32);
	x->ndirs = n;
	for (size_t i = 0; i < n; i++) {
		char name[65];
		mla_diag d = {MLA_OK, ""};
		struct dir_put p = {x, name};
		mla_err r = MLA_ERR_NOT_FOUND;

		mla_require(mla_hex_encode(x->dirs[i], 32, name, sizeof(name)) == MLA_OK);
		if (s->directory != NULL)
			r = s->directory(s->ctx, x->dirs[i], put_doc, &p, &d);
		if (r == MLA_ERR_NOT_FOUND) {
			x->res->warnings |= MLA_AUDIT_EXPORT_W_NO_DIRECTORY;
			continue;
		}
		if ((r = export_source_done(x, r, &d)) != MLA_OK)
			return r;
		x->res->directories++;
	}
	return MLA_OK;
}
