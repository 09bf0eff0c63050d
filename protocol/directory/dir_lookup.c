/* Questions a gateway asks a verified directory (which gateway, which certificate, which
 * competent authority, which languages), and what changed between two directories. */
#include <string.h>

#include <openssl/x509.h>

#include "dir_internal.h"
#include "mlagw/codec.h"

const mla_dir_entry *mla_directory_find(const mla_directory *d, const char *state)
{
	for (size_t i = 0; d != NULL && state != NULL && i < d->n; i++)
		if (strcmp(d->entries[i].state, state) == 0)
			return &d->entries[i];
	return NULL;
}

static mla_err find(const mla_directory *d, const char *state, const mla_dir_entry **e,
		    mla_diag *diag)
{
	if ((*e = mla_directory_find(d, state)) == NULL)
		return mla_fail(diag, MLA_ERR_UNKNOWN_STATE, "directory serial %llu has no entry "
				"for %.2s", d != NULL ? (unsigned long long)d->serial : 0ULL,
				state != NULL ? state : "?");
	return MLA_OK;
}

mla_err mla_directory_gateway(const mla_directory *d, const char *state, const char **url,
			      mla_diag *diag)
{
	const mla_dir_entry *e;
	mla_err r;

	if ((r = find(d, state, &e, diag)) != MLA_OK)
		return r;
	*url = e->urls[0];
	return MLA_OK;
}

mla_err mla_directory_cert(const mla_directory *d, const char *state, mla_dir_use use,
			   time_t at, X509 **cert, mla_diag *diag)
{
	const mla_dir_entry *e;
	const mla_dir_cert *c;
	mla_err r;

	if ((unsigned)use >= MLA_DIR_USES)
		return MLA_ERR_ARG;
	if ((r = find(d, state, &e, diag)) != MLA_OK)
		return r;
	c = &e->certs[use];
	*cert = c->next != NULL && at >= c->next_from ? c->next : c->current;
	return MLA_OK;
}

mla_err mla_directory_authority(const mla_directory *d, const char *state, const char *kind,
				const mla_dir_authority **a, mla_diag *diag)
{
	const mla_dir_entry *e;
	mla_err r;
	int k = -1;

	if ((r = find(d, state, &e, diag)) != MLA_OK)
		return r;
	for (int i = 0; kind != NULL && mla_kinds[i] != NULL; i++)
		if (strcmp(mla_kinds[i], kind) == 0)
			k = i;
	for (size_t i = 0; k >= 0 && i < e->n_auth; i++)
		if ((e->auth[i].kinds & (UINT32_C(1) << k)) != 0) {
			*a = &e->auth[i];
			return MLA_OK;
		}
	return mla_fail(diag, MLA_ERR_NO_AUTHORITY, "%s has no competent authority for %.40s "
			"in directory serial %llu", state, kind != NULL ? kind : "?",
			(unsigned long long)d->serial);
}

mla_err mla_dir_authority_accepts(const mla_dir_authority *a, const char *lang, mla_diag *diag)
{
	char list[MLA_DIR_MAX_LANGS * 4 + 1] = "";
	size_t used = 0;

	for (size_t i = 0; i < a->n_langs; i++) {
		if (lang != NULL && strcmp(a->langs[i], lang) == 0)
			return MLA_OK;
		used += (size_t)mla_snprintf_cut(list + used, sizeof(list) - used, "%s%s",
						 i > 0 ? " " : "", a->langs[i]);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	return mla_fail(diag, MLA_ERR_LANGUAGE, "%.60s does not accept language '%.8s' (accepts "
			"%s)", a->name, lang != NULL ? lang : "", list);
}

static int cert_eq(X509 *a, X509 *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return X509_cmp(a, b) == 0;
}

static int auth_eq(const mla_dir_entry *a, const mla_dir_entry *b)
{
	if (a->n_auth != b->n_auth)
		return 0;
	for (size_t i = 0; i < a->n_auth; i++) {
		const mla_dir_authority *x = &a->auth[i], *y = &b->auth[i];
		if (strcmp(x->name, y->name) != 0 || x->central != y->central ||
		    x->kinds != y->kinds || x->n_langs != y->n_langs ||
		    memcmp(x->langs, y->langs, sizeof(x->langs[0]) * x->n_langs) != 0)
			return 0;
	}
	return 1;
}

static int urls_eq(const mla_dir_entry *a, const mla_dir_entry *b)
{
	if (a->n_urls != b->n_urls)
		return 0;
	for (size_t i = 0; i < a->n_urls; i++)
		if (strcmp(a->urls[i], b->urls[i]) != 0)
			return 0;
	return 1;
}

static int contact_eq(const mla_dir_entry *a, const mla_dir_entry *b)
{
	if (a->n_channels != b->n_channels || strcmp(a->contact_name, b->contact_name) != 0 ||
	    strcmp(a->contact_phone, b->contact_phone) != 0 ||
	    strcmp(a->contact_email, b->contact_email) != 0)
		return 0;
	for (size_t i = 0; i < a->n_channels; i++)
		if (strcmp(a->channels[i].type, b->channels[i].type) != 0 ||
		    strcmp(a->channels[i].value, b->channels[i].value) != 0)
			return 0;
	return 1;
}

static mla_err line(mla_buf *out, size_t *changes, const char *sign, const char *state,
		    const char *what)
{
	(*changes)++;
	return mla_buf_printf(out, "%s %s %s\n", sign, state, what);
}

static mla_err diff_entry(const mla_dir_entry *a, const mla_dir_entry *b, mla_buf *out,
			  size_t *n)
{
	char what[64];
	mla_err r = MLA_OK;

	if (!urls_eq(a, b))
		r = line(out, n, "~", a->state, "gateway URLs changed");
	if (r == MLA_OK && !cert_eq(a->root, b->root))
		r = line(out, n, "~", a->state, "root certificate changed");
	for (int u = 0; u < MLA_DIR_USES && r == MLA_OK; u++) {
		const mla_dir_cert *x = &a->certs[u], *y = &b->certs[u];
		(void)mla_snprintf_cut(what, sizeof(what), "%s certificate changed",
				       mla_dir_use_name((mla_dir_use)u)); /* a label */
		if (!cert_eq(x->current, y->current))
			r = line(out, n, "~", a->state, what);
		(void)mla_snprintf_cut(what, sizeof(what), "next %s certificate changed",
				       mla_dir_use_name((mla_dir_use)u)); /* a label */
		if (r == MLA_OK && (!cert_eq(x->next, y->next) || x->next_from != y->next_from))
			r = line(out, n, "~", a->state, what);
	}
	if (r == MLA_OK && !auth_eq(a, b))
		r = line(out, n, "~", a->state, "authorities, kinds or languages changed");
	if (r == MLA_OK && !contact_eq(a, b))
		r = line(out, n, "~", a->state, "channels or urgent contact changed");
	if (r == MLA_OK && (a->valid_from != b->valid_from || a->valid_until != b->valid_until))
		r = line(out, n, "~", a->state, "validity period changed");
	return r;
}

mla_err mla_directory_diff(const mla_directory *a, const mla_directory *b, mla_buf *out,
			   size_t *changes)
{
	mla_err r = MLA_OK;

	*changes = 0;
	for (size_t i = 0; i < a->n && r == MLA_OK; i++) {
		const mla_dir_entry *e = &a->entries[i], *f = mla_directory_find(b, e->state);
		r = f == NULL ? line(out, changes, "-", e->state, "removed")
			      : diff_entry(e, f, out, changes);
	}
	for (size_t i = 0; i < b->n && r == MLA_OK; i++)
		if (mla_directory_find(a, b->entries[i].state) == NULL)
			r = line(out, changes, "+", b->entries[i].state, "added");
	return r;
}
