/* A verified directory as JSON for people and scripts (mlagw directory show; SPEC 18,
 * Showing): certificates by subject, SHA-256 fingerprint and validity, never their bytes. */
#include <string.h>

#include <openssl/x509.h>

#include "dir_internal.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "mlagw/pem.h"

static json_t *time_json(time_t t)
{
	char s[MLA_TIME_LEN];

	mla_time_format(t, s);
	return json_string(s);
}

static json_t *cert_json(X509 *x)
{
	char fp[65] = "", subject[256] = "";

	if (x == NULL || mla_cert_fingerprint(x, fp) != MLA_OK)
		return json_null();
	X509_NAME_oneline(X509_get_subject_name(x), subject, (int)sizeof(subject));
	return json_pack("{s:s, s:s}", "subject", subject, "sha256", fp);
}

static json_t *pair_json(const mla_dir_cert *c)
{
	json_t *o = json_pack("{s:o}", "current", cert_json(c->current));

	if (o != NULL && c->next != NULL) {
		json_object_set_new(o, "next", cert_json(c->next));
		json_object_set_new(o, "next_from", time_json(c->next_from));
	}
	return o;
}

static json_t *authority_json(const mla_dir_authority *a)
{
	json_t *kinds = json_array(), *langs = json_array();

	for (int k = 0; mla_kinds[k] != NULL && kinds != NULL; k++)
		if ((a->kinds & (UINT32_C(1) << k)) != 0)
			json_array_append_new(kinds, json_string(mla_kinds[k]));
	for (size_t i = 0; i < a->n_langs && langs != NULL; i++)
		json_array_append_new(langs, json_string(a->langs[i]));
	return json_pack("{s:s, s:b, s:o, s:o}", "name", a->name, "central", a->central,
			 "kinds", kinds, "languages", langs);
}

static json_t *entry_json(const mla_dir_entry *e)
{
	json_t *urls = json_array(), *auth = json_array(), *chans = json_array();
	json_t *certs = json_object();

	for (size_t i = 0; i < e->n_urls && urls != NULL; i++)
		json_array_append_new(urls, json_string(e->urls[i]));
	for (size_t i = 0; i < e->n_auth && auth != NULL; i++)
		json_array_append_new(auth, authority_json(&e->auth[i]));
	for (size_t i = 0; i < e->n_channels && chans != NULL; i++)
		json_array_append_new(chans, json_pack("{s:s, s:s}", "type", e->channels[i].type,
						       "value", e->channels[i].value));
	for (int u = 0; u < MLA_DIR_USES && certs != NULL; u++)
		json_object_set_new(certs, mla_dir_use_name((mla_dir_use)u), pair_json(&e->certs[u]));
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:s, s:s, s:s}}",
			 "state", e->state, "valid_from", time_json(e->valid_from),
			 "valid_until", time_json(e->valid_until), "gateways", urls,
			 "root", cert_json(e->root), "certificates", certs, "authorities", auth,
			 "channels", chans, "urgent_contact", "name", e->contact_name, "phone",
			 e->contact_phone, "email", e->contact_email);
}

mla_err mla_directory_json(const mla_directory *d, mla_buf *out)
{
	json_t *entries = json_array();
	char serial[24];

	if (mla_snprintf(serial, sizeof(serial), "%llu", (unsigned long long)d->serial) != MLA_OK)
		return MLA_ERR_INTERNAL;
	for (size_t i = 0; i < d->n && entries != NULL; i++)
		json_array_append_new(entries, entry_json(&d->entries[i]));
	/* the serial as a string: JSON numbers lose precision past 2^53 */
	return mla_json_dump(json_pack("{s:s, s:o, s:o, s:s, s:o}", "serial", serial,
				       "issued_at", time_json(d->issued_at), "expires",
				       time_json(d->expires), "publisher", d->publisher,
				       "entries", entries),
			     out);
}
