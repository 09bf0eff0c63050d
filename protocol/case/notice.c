/* Retrieval notices (SPEC 16.10): build and strict parse of
 *   <Retrieval xmlns="urn:mlagw:notice:1" version="1"><Status/><MessageId/><At/></Retrieval>
 * The values are fixed-shape tokens (a status, a UUID, a time), so building is formatting. */
#include <ctype.h>
#include <string.h>

#include <libxml/tree.h>

#include "mlagw/codec.h"
#include "mlagw/notice.h"
#include "xml_safe.h"

static const char *const actions[] = {"retrieved", "not-retrieved"};

const char *mla_notice_action(mla_notice_status s)
{
	return (unsigned)s < 2 ? actions[s] : NULL;
}

int mla_notice_is_action(const char *action)
{
	return action != NULL && (strcmp(action, actions[0]) == 0 || strcmp(action, actions[1]) == 0);
}

static int uuid_ok(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(s) != MLA_UUID_LEN)
		return 0;
	for (size_t i = 0; i < MLA_UUID_LEN; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]) ||
							    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

mla_err mla_notice_build(const mla_notice *n, mla_buf *out, mla_diag *diag)
{
	char at[MLA_TIME_MS_LEN], text[MLA_NOTICE_MAX];
	const char *status = mla_notice_action(n->status);

	mla_time_ms_format(n->at_ms, at);
	if (status == NULL || !uuid_ok(n->message_id) || at[0] == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "notice: bad status, message id or time");
	if (mla_snprintf(text, sizeof(text),
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<Retrieval xmlns=\"" MLA_NOTICE_NS "\" version=\"1\">"
			 "<Status>%s</Status><MessageId>%s</MessageId><At>%s</At></Retrieval>\n",
			 status, n->message_id, at) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "notice: document too long");
	mla_buf_reset(out);
	if (mla_buf_append(out, text, strlen(text)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "notice: no room for the document");
	return MLA_OK;
}

/* The text of leaf element n (no attributes, one text node or none), or NULL. */
static const char *leaf_text(xmlNodePtr n)
{
	if (n->properties != NULL || n->nsDef != NULL)
		return NULL;
	if (n->children == NULL)
		return "";
	if (n->children->type != XML_TEXT_NODE || n->children->next != NULL)
		return NULL;
	return (const char *)n->children->content;
}

/* Only whitespace text between the root's children. */
static int only_elements(xmlNodePtr root, size_t *count)
{
	*count = 0;
	for (xmlNodePtr c = root->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			(*count)++;
			continue;
		}
		if (c->type != XML_TEXT_NODE)
			return 0;
		for (const xmlChar *p = c->content; p != NULL && *p != '\0'; p++)
			if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				return 0;
	}
	return 1;
}

/* root is ns:name with the one attribute version="1" and exactly n child elements. */
static mla_err root_check(xmlNodePtr root, const char *ns, const char *name, size_t n_children,
			  mla_diag *diag)
{
	xmlChar *v;
	int ok;
	size_t n;

	if (!xml_is(root, ns, name))
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s: the root is not %s in %s", name, name,
				ns);
	v = xmlGetNoNsProp(root, (const xmlChar *)"version");
	ok = v != NULL && strcmp((const char *)v, "1") == 0 && root->properties->next == NULL;
	xmlFree(v);
	if (!ok)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s: /%s/@version must be 1, the only "
				"attribute", name, name);
	if (!only_elements(root, &n) || n != n_children)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s: /%s must hold exactly %zu elements "
				"(%s)", name, name, n_children, ns);
	return MLA_OK;
}

/* The child of root at position i named name, its text in *text. */
static mla_err child(xmlNodePtr root, unsigned i, const char *name, const char **text,
		     mla_diag *diag)
{
	xmlNodePtr c = xml_next_element(root->children);

	while (c != NULL && i-- > 0)
		c = xml_next_element(c->next);
	if (!xml_is(c, (const char *)root->ns->href, name) || (*text = leaf_text(c)) == NULL)
		return mla_fail(diag, MLA_ERR_SCHEMA, "/%s/%s missing, out of order or not "
				"plain text", (const char *)root->name, name);
	return MLA_OK;
}

static mla_err fields(xmlNodePtr root, mla_notice *out, mla_diag *diag)
{
	const char *status, *id, *at;
	mla_err r;

	if ((r = child(root, 0, "Status", &status, diag)) != MLA_OK ||
	    (r = child(root, 1, "MessageId", &id, diag)) != MLA_OK ||
	    (r = child(root, 2, "At", &at, diag)) != MLA_OK)
		return r;
	if (strcmp(status, actions[0]) == 0)
		out->status = MLA_NOTICE_RETRIEVED;
	else if (strcmp(status, actions[1]) == 0)
		out->status = MLA_NOTICE_NOT_RETRIEVED;
	else
		return mla_fail(diag, MLA_ERR_SCHEMA, "notice: /Retrieval/Status is neither "
				"retrieved nor not-retrieved");
	if (!uuid_ok(id))
		return mla_fail(diag, MLA_ERR_SCHEMA, "notice: /Retrieval/MessageId is no "
				"lower-case UUID");
	memcpy(out->message_id, id, MLA_UUID_LEN + 1);
	if (mla_time_ms_parse(at, strlen(at), &out->at_ms) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "notice: /Retrieval/At is no time "
				"YYYY-MM-DDThh:mm:ss.mmmZ");
	return MLA_OK;
}

/* Both small documents: at most MLA_NOTICE_MAX bytes, through the hardened parser, and the
 * root named with its three children; *x is the document (the caller frees it). */
static mla_err small_doc_open(const uint8_t *doc, size_t len, const mla_limits *limits,
			      const char *what, const char *ns, const char *root, xmlDocPtr *x,
			      mla_diag *diag)
{
	mla_err r;

	*x = NULL;
	if (len > MLA_NOTICE_MAX)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s: %zu bytes, more than %d", what, len,
				MLA_NOTICE_MAX);
	if ((r = xml_safe_parse(doc, len, limits, x, NULL, diag)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "%s: not well-formed XML (%s)", what,
				mla_errname(r));
	return root_check(xmlDocGetRootElement(*x), ns, root, 3, diag);
}

mla_err mla_notice_parse(const uint8_t *doc, size_t len, const mla_limits *limits,
			 mla_notice *out, mla_diag *diag)
{
	xmlDocPtr x;
	mla_err r;

	memset(out, 0, sizeof(*out));
	if ((r = small_doc_open(doc, len, limits, "notice", MLA_NOTICE_NS, "Retrieval", &x,
				diag)) == MLA_OK)
		r = fields(xmlDocGetRootElement(x), out, diag);
	xmlFreeDoc(x);
	return r;
}

/* --- records of other channels (SPEC 16.11) --- */

const char *const mla_other_means[] = {
	"courier", "diplomatic", "fax", "post", "email", "hand", "other", NULL,
};

static int means_ok(const char *m)
{
	for (size_t i = 0; mla_other_means[i] != NULL; i++)
		if (strcmp(m, mla_other_means[i]) == 0)
			return 1;
	return 0;
}

mla_err mla_other_channel_build(const mla_other_channel *o, mla_buf *out, mla_diag *diag)
{
	char at[MLA_TIME_MS_LEN], hex[65], text[MLA_NOTICE_MAX];

	mla_time_ms_format(o->sent_ms, at);
	if (!means_ok(o->means) || at[0] == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "other channel: unknown means or bad time");
	mla_require(mla_hex_encode(o->sha256, 32, hex, sizeof(hex)) == MLA_OK);
	if (mla_snprintf(text, sizeof(text),
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<OtherChannel xmlns=\"" MLA_OTHER_CHANNEL_NS "\" version=\"1\">"
			 "<Means>%s</Means><SentAt>%s</SentAt><DocumentSha256>%s</DocumentSha256>"
			 "</OtherChannel>\n", o->means, at, hex) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "other channel: document too long");
	mla_buf_reset(out);
	if (mla_buf_append(out, text, strlen(text)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "other channel: no room for the document");
	return MLA_OK;
}

static mla_err other_fields(xmlNodePtr root, mla_other_channel *out, mla_diag *diag)
{
	const char *means, *at, *hex;
	mla_err r;

	if ((r = child(root, 0, "Means", &means, diag)) != MLA_OK ||
	    (r = child(root, 1, "SentAt", &at, diag)) != MLA_OK ||
	    (r = child(root, 2, "DocumentSha256", &hex, diag)) != MLA_OK)
		return r;
	if (!means_ok(means))
		return mla_fail(diag, MLA_ERR_SCHEMA, "/OtherChannel/Means is not one of courier, "
				"diplomatic, fax, post, email, hand, other");
	memcpy(out->means, means, strlen(means) + 1);
	if (mla_time_ms_parse(at, strlen(at), &out->sent_ms) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "/OtherChannel/SentAt is no time "
				"YYYY-MM-DDThh:mm:ss.mmmZ");
	if (strlen(hex) != 64 || mla_hex_decode(hex, 64, out->sha256, 32, NULL) != MLA_OK)
		return mla_fail(diag, MLA_ERR_SCHEMA, "/OtherChannel/DocumentSha256 is not 64 "
				"lower-case hex digits");
	return MLA_OK;
}

mla_err mla_other_channel_parse(const uint8_t *doc, size_t len, const mla_limits *limits,
				mla_other_channel *out, mla_diag *diag)
{
	xmlDocPtr x;
	mla_err r;

	memset(out, 0, sizeof(*out));
	if ((r = small_doc_open(doc, len, limits, "OtherChannel", MLA_OTHER_CHANNEL_NS,
				"OtherChannel", &x, diag)) == MLA_OK)
		r = other_fields(xmlDocGetRootElement(x), out, diag);
	xmlFreeDoc(x);
	return r;
}

mla_err mla_other_channel_reason(const mla_other_channel *o, char *out, size_t n)
{
	char at[MLA_TIME_MS_LEN], hex[65];

	mla_time_ms_format(o->sent_ms, at);
	if (!means_ok(o->means) || at[0] == '\0' ||
	    mla_hex_encode(o->sha256, 32, hex, sizeof(hex)) != MLA_OK)
		return MLA_ERR_ARG;
	return mla_snprintf(out, n, "other-channel means=%s sent-at=%s document-sha256=%s",
			    o->means, at, hex);
}
