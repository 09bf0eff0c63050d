/* Reading a schema-valid State element into an mla_dir_entry, and the rules across fields of
 * an entry (SPEC 18, Entry rules) that writers and readers both apply. */
#include <string.h>

#include <openssl/x509.h>

#include "dir_internal.h"
#include "mlagw/codec.h"
#include "mlagw/text.h"

static const char *const use_names[MLA_DIR_USES] = {"tls", "signing", "encryption", "audit"};
static const char *const use_elements[MLA_DIR_USES] = {
	"TlsCertificate", "SigningCertificate", "EncryptionCertificate", "AuditCertificate"};

const char *mla_dir_use_name(mla_dir_use u)
{
	return (unsigned)u < MLA_DIR_USES ? use_names[u] : "?";
}

void mla_dir_entry_clear(mla_dir_entry *e)
{
	if (e == NULL)
		return;
	X509_free(e->root);
	for (size_t i = 0; i < e->n_inter; i++)
		X509_free(e->inter[i]);
	for (int u = 0; u < MLA_DIR_USES; u++) {
		X509_free(e->certs[u].current);
		X509_free(e->certs[u].next);
	}
	memset(e, 0, sizeof(*e));
}

void mla_directory_free(mla_directory *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		mla_dir_entry_clear(&d->entries[i]);
	free(d->entries);
	free(d);
}

/* base64 of a DER certificate, exactly one certificate in strict DER. */
static mla_err read_cert(xmlNodePtr n, X509 **out, const char *what, const char *state,
			 mla_diag *diag)
{
	xmlChar *t = xmlNodeGetContent(n);
	const unsigned char *p;
	mla_buf der;
	mla_err r = MLA_ERR_SCHEMA;
	X509 *x = NULL;

	mla_buf_init(&der, 16384);
	if (t == NULL || mla_b64_decode_buf((const char *)t, strlen((const char *)t), &der) != MLA_OK)
		goto fail;
	p = der.data;
	if ((x = d2i_X509(NULL, &p, (long)der.len)) == NULL || p != der.data + der.len ||
	    i2d_X509(x, NULL) != (int)der.len)
		goto fail;
	*out = x;
	x = NULL;
	r = MLA_OK;
	goto out;
fail:
	mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: %s is not one DER certificate in base64", state,
		 what);
out:
	X509_free(x);
	xmlFree(t);
	mla_buf_free(&der);
	return r;
}

static mla_err read_time(xmlNodePtr n, time_t *out, const char *what, const char *state,
			 mla_diag *diag)
{
	char s[MLA_TIME_LEN];

	if (dir_text(n, s, sizeof(s), what, diag) != MLA_OK || (*out = mla_time_parse(s)) < 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: %s is not a time", state, what);
	return MLA_OK;
}

static mla_err read_pair(xmlNodePtr n, mla_dir_cert *c, const char *use, const char *state,
			 mla_diag *diag)
{
	xmlNodePtr next = dir_child(n, "Next");
	xmlChar *from;
	char what[48];
	time_t t;
	mla_err r;

	(void)mla_snprintf_cut(what, sizeof(what), "%s certificate", use); /* a label */
	if ((r = read_cert(dir_child(n, "Current"), &c->current, what, state, diag)) != MLA_OK ||
	    next == NULL)
		return r;
	(void)mla_snprintf_cut(what, sizeof(what), "next %s certificate", use); /* a label */
	if ((r = read_cert(next, &c->next, what, state, diag)) != MLA_OK)
		return r;
	from = xmlGetProp(next, BAD_CAST "from");
	t = from != NULL ? mla_time_parse((const char *)from) : -1;
	xmlFree(from);
	if (t < 0)
		return mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: next %s certificate has no valid "
				"from time", state, use);
	c->next_from = t;
	return MLA_OK;
}

static int kind_index(const char *kind)
{
	for (int i = 0; mla_kinds[i] != NULL; i++)
		if (strcmp(mla_kinds[i], kind) == 0)
			return i;
	return -1;
}

static mla_err read_authority(xmlNodePtr n, mla_dir_authority *a, const char *state,
			      mla_diag *diag)
{
	xmlChar *central = xmlGetProp(n, BAD_CAST "central");
	char kind[MLA_TOKEN_MAX + 1];
	mla_err r;
	int k;

	a->central = central != NULL && (xmlStrEqual(central, BAD_CAST "true") ||
					 xmlStrEqual(central, BAD_CAST "1"));
	xmlFree(central);
	if ((r = dir_text(dir_child(n, "Name"), a->name, sizeof(a->name), "authority Name",
			  diag)) != MLA_OK)
		return r;
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if (dir_is(c, "Kind")) {
			if ((r = dir_text(c, kind, sizeof(kind), "Kind", diag)) != MLA_OK)
				return r;
			if ((k = kind_index(kind)) < 0)
				return mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: unknown Kind",
						state);
			a->kinds |= UINT32_C(1) << k;
		} else if (dir_is(c, "Language") && a->n_langs < MLA_DIR_MAX_LANGS) {
			if ((r = dir_text(c, a->langs[a->n_langs], sizeof(a->langs[0]), "Language",
					  diag)) != MLA_OK)
				return r;
			a->n_langs++;
		}
	}
	return MLA_OK;
}

static mla_err read_channel(xmlNodePtr n, mla_dir_channel *ch, mla_diag *diag)
{
	xmlChar *type = xmlGetProp(n, BAD_CAST "type");
	mla_err r;

	r = mla_strcpy(ch->type, sizeof(ch->type), type != NULL ? (const char *)type : "");
	xmlFree(type);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "directory Channel type is too long");
	return dir_text(n, ch->value, sizeof(ch->value), "Channel", diag);
}

static mla_err read_contact(xmlNodePtr n, mla_dir_entry *e, mla_diag *diag)
{
	mla_err r;

	if ((r = dir_text(dir_child(n, "Name"), e->contact_name, sizeof(e->contact_name),
			  "UrgentContact Name", diag)) != MLA_OK ||
	    (r = dir_text(dir_child(n, "Phone"), e->contact_phone, sizeof(e->contact_phone),
			  "UrgentContact Phone", diag)) != MLA_OK)
		return r;
	if (dir_child(n, "Email") == NULL)
		return MLA_OK;
	return dir_text(dir_child(n, "Email"), e->contact_email, sizeof(e->contact_email),
			"UrgentContact Email", diag);
}

/* One element of the State's sequence (the schema fixed their order and counts). */
static mla_err read_item(xmlNodePtr c, mla_dir_entry *e, mla_diag *diag)
{
	for (int u = 0; u < MLA_DIR_USES; u++)
		if (dir_is(c, use_elements[u]))
			return read_pair(c, &e->certs[u], use_names[u], e->state, diag);
	if (dir_is(c, "ValidFrom"))
		return read_time(c, &e->valid_from, "ValidFrom", e->state, diag);
	if (dir_is(c, "ValidUntil"))
		return read_time(c, &e->valid_until, "ValidUntil", e->state, diag);
	if (dir_is(c, "RootCertificate"))
		return read_cert(c, &e->root, "RootCertificate", e->state, diag);
	if (dir_is(c, "IntermediateCertificate") && e->n_inter < MLA_DIR_MAX_INTERMEDIATES)
		return read_cert(c, &e->inter[e->n_inter++], "IntermediateCertificate", e->state,
				 diag);
	if (dir_is(c, "Gateway") && e->n_urls < MLA_DIR_MAX_URLS)
		return dir_text(c, e->urls[e->n_urls++], sizeof(e->urls[0]), "Gateway", diag);
	if (dir_is(c, "Authority") && e->n_auth < MLA_DIR_MAX_AUTHORITIES)
		return read_authority(c, &e->auth[e->n_auth++], e->state, diag);
	if (dir_is(c, "Channel") && e->n_channels < MLA_DIR_MAX_CHANNELS)
		return read_channel(c, &e->channels[e->n_channels++], diag);
	if (dir_is(c, "UrgentContact"))
		return read_contact(c, e, diag);
	return mla_fail(diag, MLA_ERR_SCHEMA, "entry of %s: unexpected element %.40s", e->state,
			(const char *)c->name);
}

mla_err dir_read_state(xmlNodePtr state, mla_dir_entry *e, mla_diag *diag)
{
	xmlChar *code = xmlGetProp(state, BAD_CAST "code");
	mla_err r;

	r = mla_strcpy(e->state, sizeof(e->state), code != NULL ? (const char *)code : "");
	xmlFree(code);
	if (r != MLA_OK || strlen(e->state) != 2)
		return mla_fail(diag, MLA_ERR_SCHEMA, "directory State has no two-letter code");
	for (xmlNodePtr c = state->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && (r = read_item(c, e, diag)) != MLA_OK)
			return r;
	return dir_entry_check(e, diag);
}

static mla_err check_text(const char *s, const char *state, const char *what, int may_be_empty,
			  mla_diag *diag)
{
	if ((s[0] == '\0' && !may_be_empty) || !mla_text_is_clean(s))
		return mla_fail(diag, MLA_ERR_HEADER,
				"entry of %s: %s is empty or holds control characters", state, what);
	return MLA_OK;
}

static mla_err check_authorities(const mla_dir_entry *e, mla_diag *diag)
{
	uint32_t seen = 0;
	size_t central = 0;
	mla_err r;

	if (e->n_auth == 0)
		return mla_fail(diag, MLA_ERR_HEADER, "entry of %s names no authority", e->state);
	for (size_t i = 0; i < e->n_auth; i++) {
		const mla_dir_authority *a = &e->auth[i];
		if ((r = check_text(a->name, e->state, "an authority's name", 0, diag)) != MLA_OK)
			return r;
		if (a->n_langs == 0)
			return mla_fail(diag, MLA_ERR_HEADER, "entry of %s: authority %s accepts "
					"no language", e->state, a->name);
		if ((seen & a->kinds) != 0)
			return mla_fail(diag, MLA_ERR_HEADER, "entry of %s names two authorities "
					"for one kind", e->state);
		seen |= a->kinds;
		central += a->central != 0;
	}
	if (central != 1)
		return mla_fail(diag, MLA_ERR_HEADER, "entry of %s has %zu central authorities, not "
				"one", e->state, central);
	return MLA_OK;
}

mla_err dir_entry_check(const mla_dir_entry *e, mla_diag *diag)
{
	mla_err r;

	if (strlen(e->state) != 2 || e->state[0] < 'A' || e->state[0] > 'Z' ||
	    e->state[1] < 'A' || e->state[1] > 'Z')
		return mla_fail(diag, MLA_ERR_HEADER, "entry State is not two upper-case letters");
	if (e->valid_from >= e->valid_until)
		return mla_fail(diag, MLA_ERR_HEADER, "entry of %s: ValidFrom is not before "
				"ValidUntil", e->state);
	if (e->n_urls == 0 || e->root == NULL)
		return mla_fail(diag, MLA_ERR_HEADER, "entry of %s has no gateway or no root",
				e->state);
	for (size_t i = 0; i < e->n_urls; i++)
		if (strncmp(e->urls[i], "https://", 8) != 0 || strlen(e->urls[i]) <= 8 ||
		    !mla_text_is_clean(e->urls[i]) || strpbrk(e->urls[i], " \t") != NULL)
			return mla_fail(diag, MLA_ERR_HEADER, "entry of %s: gateway %zu is not an "
					"https URL", e->state, i + 1);
	for (int u = 0; u < MLA_DIR_USES; u++)
		if (e->certs[u].current == NULL ||
		    (e->certs[u].next != NULL) != (e->certs[u].next_from != 0))
			return mla_fail(diag, MLA_ERR_HEADER, "entry of %s: %s certificate missing "
					"or its next one without a from time", e->state,
					use_names[u]);
	for (size_t i = 0; i < e->n_channels; i++)
		if ((r = check_text(e->channels[i].value, e->state, "a channel", 0, diag)) != MLA_OK)
			return r;
	if ((r = check_text(e->contact_name, e->state, "the urgent contact's name", 0, diag)) !=
		    MLA_OK ||
	    (r = check_text(e->contact_phone, e->state, "the urgent contact's phone", 0, diag)) !=
		    MLA_OK ||
	    (r = check_text(e->contact_email, e->state, "the urgent contact's email", 1, diag)) !=
		    MLA_OK)
		return r;
	return check_authorities(e, diag);
}
