/* The description of a State's entry, in JSON (SPEC 18, Building an entry), read into an
 * mla_dir_entry: strict (unknown or duplicate members refused), bounded, certificates read
 * from PEM files named relative to a base directory. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "dir_internal.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"

static mla_err bad(mla_diag *diag, const char *what)
{
	return mla_fail(diag, MLA_ERR_CONFIG, "entry description: %s", what);
}

/* Refuses any member of o not in the NULL-terminated list known. */
static mla_err only(json_t *o, const char *const *known, const char *where, mla_diag *diag)
{
	const char *key;
	json_t *v;

	if (!json_is_object(o))
		return mla_fail(diag, MLA_ERR_CONFIG, "entry description: %s is not an object", where);
	json_object_foreach(o, key, v) {
		size_t i = 0;
		while (known[i] != NULL && strcmp(known[i], key) != 0)
			i++;
		if (known[i] == NULL)
			return mla_fail(diag, MLA_ERR_CONFIG, "entry description: unknown member "
					"'%.40s' in %s", key, where);
	}
	return MLA_OK;
}

static mla_err get_str(json_t *o, const char *key, int required, char *out, size_t size,
		       mla_diag *diag)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && !required)
		return MLA_OK;
	if (!json_is_string(v) || mla_strcpy(out, size, json_string_value(v)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_CONFIG, "entry description: '%s' is missing, not a "
				"string or longer than %zu bytes", key, size - 1);
	return MLA_OK;
}

static mla_err get_time(json_t *o, const char *key, time_t *out, mla_diag *diag)
{
	char s[MLA_TIME_LEN];
	mla_err r;

	if ((r = get_str(o, key, 1, s, sizeof(s), diag)) != MLA_OK)
		return r;
	if ((*out = mla_time_parse(s)) < 0)
		return mla_fail(diag, MLA_ERR_CONFIG, "entry description: '%s' is not "
				"YYYY-MM-DDThh:mm:ssZ", key);
	return MLA_OK;
}

static mla_err load_cert(const char *base, const char *path, X509 **out, mla_diag *diag)
{
	char full[1024];

	if (path[0] == '/' || base == NULL || base[0] == '\0') {
		if (mla_strcpy(full, sizeof(full), path) != MLA_OK)
			return bad(diag, "certificate path too long");
	} else if (mla_snprintf(full, sizeof(full), "%s/%s", base, path) != MLA_OK) {
		return bad(diag, "certificate path too long");
	}
	return mla_pem_load_cert(full, out, diag);
}

static mla_err read_pair(json_t *o, const char *use, const char *base, mla_dir_cert *c,
			 mla_diag *diag)
{
	static const char *const known[] = {"current", "next", "next_from", NULL};
	json_t *p = json_object_get(o, use);
	char path[512];
	mla_err r;

	if ((r = only(p, known, use, diag)) != MLA_OK ||
	    (r = get_str(p, "current", 1, path, sizeof(path), diag)) != MLA_OK ||
	    (r = load_cert(base, path, &c->current, diag)) != MLA_OK)
		return r;
	if (json_object_get(p, "next") == NULL)
		return json_object_get(p, "next_from") == NULL ? MLA_OK
			: bad(diag, "next_from without next");
	if ((r = get_str(p, "next", 1, path, sizeof(path), diag)) != MLA_OK ||
	    (r = load_cert(base, path, &c->next, diag)) != MLA_OK)
		return r;
	return get_time(p, "next_from", &c->next_from, diag);
}

static mla_err read_intermediates(json_t *o, const char *base, mla_dir_entry *e,
				  mla_diag *diag)
{
	json_t *list = json_object_get(o, "intermediates"), *v;
	size_t i;
	mla_err r;

	if (list == NULL)
		return MLA_OK;
	if (!json_is_array(list) || json_array_size(list) > MLA_DIR_MAX_INTERMEDIATES)
		return bad(diag, "intermediates is not an array of at most 4 files");
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			return bad(diag, "an intermediate is not a file name");
		if ((r = load_cert(base, json_string_value(v), &e->inter[e->n_inter], diag)) !=
		    MLA_OK)
			return r;
		e->n_inter++;
	}
	return MLA_OK;
}

static mla_err read_certs(json_t *o, const char *base, mla_dir_entry *e, mla_diag *diag)
{
	static const char *const known[] = {"tls", "signing", "encryption", "audit", NULL};
	json_t *c = json_object_get(o, "certificates");
	char path[512];
	mla_err r;

	if ((r = get_str(o, "root", 1, path, sizeof(path), diag)) != MLA_OK ||
	    (r = load_cert(base, path, &e->root, diag)) != MLA_OK ||
	    (r = read_intermediates(o, base, e, diag)) != MLA_OK ||
	    (r = only(c, known, "certificates", diag)) != MLA_OK)
		return r;
	for (int u = 0; u < MLA_DIR_USES; u++)
		if ((r = read_pair(c, mla_dir_use_name((mla_dir_use)u), base, &e->certs[u],
				   diag)) != MLA_OK)
			return r;
	return MLA_OK;
}

static int kind_bit(const char *kind)
{
	for (int i = 0; mla_kinds[i] != NULL; i++)
		if (strcmp(mla_kinds[i], kind) == 0)
			return i;
	return -1;
}

/* An ISO 639 code: 2 or 3 lower-case letters. */
static int is_language(json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = s != NULL ? strlen(s) : 0;

	return n >= 2 && n <= 3 && strspn(s, "abcdefghijklmnopqrstuvwxyz") == n;
}

static mla_err read_authority(json_t *o, mla_dir_authority *a, mla_diag *diag)
{
	static const char *const known[] = {"name", "central", "kinds", "languages", NULL};
	json_t *kinds = json_object_get(o, "kinds"), *langs = json_object_get(o, "languages");
	json_t *v;
	size_t i;
	mla_err r;
	int k;

	if ((r = only(o, known, "an authority", diag)) != MLA_OK ||
	    (r = get_str(o, "name", 1, a->name, sizeof(a->name), diag)) != MLA_OK)
		return r;
	if (json_object_get(o, "central") != NULL && !json_is_boolean(json_object_get(o, "central")))
		return bad(diag, "an authority's central is not true or false");
	a->central = json_is_true(json_object_get(o, "central"));
	if ((kinds != NULL && !json_is_array(kinds)) || !json_is_array(langs) ||
	    json_array_size(langs) > MLA_DIR_MAX_LANGS)
		return bad(diag, "an authority's kinds or languages is not an array (at most 8 "
			   "languages)");
	json_array_foreach(kinds, i, v) {
		if (!json_is_string(v) || (k = kind_bit(json_string_value(v))) < 0)
			return bad(diag, "an authority names an unknown kind");
		a->kinds |= UINT32_C(1) << k;
	}
	json_array_foreach(langs, i, v) {
		if (!is_language(v) ||
		    mla_strcpy(a->langs[i], sizeof(a->langs[i]), json_string_value(v)) != MLA_OK)
			return bad(diag, "a language is not 2 or 3 lower-case letters (ISO 639)");
		a->n_langs++;
	}
	return MLA_OK;
}

static mla_err read_lists(json_t *o, mla_dir_entry *e, mla_diag *diag)
{
	json_t *urls = json_object_get(o, "gateways"), *auth = json_object_get(o, "authorities");
	json_t *chans = json_object_get(o, "channels"), *v;
	size_t i;
	mla_err r;

	if (!json_is_array(urls) || json_array_size(urls) > MLA_DIR_MAX_URLS ||
	    !json_is_array(auth) || json_array_size(auth) > MLA_DIR_MAX_AUTHORITIES ||
	    (chans != NULL && (!json_is_array(chans) ||
			       json_array_size(chans) > MLA_DIR_MAX_CHANNELS)))
		return bad(diag, "gateways (1-4), authorities (1-16) or channels (0-8) is not an "
			   "array of that size");
	json_array_foreach(urls, i, v)
		if (!json_is_string(v) ||
		    mla_strcpy(e->urls[e->n_urls++], sizeof(e->urls[0]), json_string_value(v)) !=
			    MLA_OK)
			return bad(diag, "a gateway URL is not a string of at most 255 bytes");
	json_array_foreach(auth, i, v)
		if ((r = read_authority(v, &e->auth[e->n_auth++], diag)) != MLA_OK)
			return r;
	json_array_foreach(chans, i, v) {
		static const char *const known[] = {"type", "value", NULL};
		mla_dir_channel *c = &e->channels[e->n_channels++];
		if ((r = only(v, known, "a channel", diag)) != MLA_OK ||
		    (r = get_str(v, "type", 1, c->type, sizeof(c->type), diag)) != MLA_OK ||
		    (r = get_str(v, "value", 1, c->value, sizeof(c->value), diag)) != MLA_OK)
			return r;
	}
	return MLA_OK;
}

static mla_err read_contact(json_t *o, mla_dir_entry *e, mla_diag *diag)
{
	static const char *const known[] = {"name", "phone", "email", NULL};
	json_t *c = json_object_get(o, "urgent_contact");
	mla_err r;

	if ((r = only(c, known, "urgent_contact", diag)) != MLA_OK ||
	    (r = get_str(c, "name", 1, e->contact_name, sizeof(e->contact_name), diag)) !=
		    MLA_OK ||
	    (r = get_str(c, "phone", 1, e->contact_phone, sizeof(e->contact_phone), diag)) !=
		    MLA_OK)
		return r;
	return get_str(c, "email", 0, e->contact_email, sizeof(e->contact_email), diag);
}

mla_err mla_dir_entry_from_json(const char *json, size_t len, const char *base_dir,
				mla_dir_entry *out, mla_diag *diag)
{
	static const char *const known[] = {"state", "valid_from", "valid_until", "gateways",
					    "root", "intermediates", "certificates", "authorities",
					    "channels", "urgent_contact", NULL};
	json_error_t jerr;
	json_t *o = NULL;
	mla_err r;

	memset(out, 0, sizeof(*out));
	if (len > MLA_DIR_MAX_JSON_BYTES)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "entry description of %zu bytes exceeds "
				"the limit of %zu", len, MLA_DIR_MAX_JSON_BYTES);
	if ((o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return mla_fail(diag, MLA_ERR_CONFIG, "entry description is not JSON (line %d): %.80s",
				jerr.line, jerr.text);
	if ((r = only(o, known, "the entry", diag)) == MLA_OK &&
	    (r = get_str(o, "state", 1, out->state, sizeof(out->state), diag)) == MLA_OK &&
	    (r = get_time(o, "valid_from", &out->valid_from, diag)) == MLA_OK &&
	    (r = get_time(o, "valid_until", &out->valid_until, diag)) == MLA_OK &&
	    (r = read_certs(o, base_dir, out, diag)) == MLA_OK &&
	    (r = read_lists(o, out, diag)) == MLA_OK &&
	    (r = read_contact(o, out, diag)) == MLA_OK)
		r = dir_entry_check(out, diag);
	json_decref(o);
	return r;
}
