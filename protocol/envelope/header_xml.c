/* Writes and reads the <mla:Header> element (protocol/SPEC.md, section Header). */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"

#include "header_xml.h"
#include "protocol_ns.h"
#include "xml_safe.h"

mla_err header_add_text(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *text,
			xmlNodePtr *out)
{
	xmlNodePtr n = xmlNewTextChild(parent, ns, BAD_CAST name, BAD_CAST text);

	if (n == NULL)
		return MLA_ERR_NOMEM;
	if (out != NULL)
		*out = n;
	return MLA_OK;
}

static mla_err add_party(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *state,
			 const char *authority)
{
	xmlNodePtr n;
	mla_err r;

	if ((r = header_add_text(parent, ns, name, authority, &n)) != MLA_OK)
		return r;
	return xmlNewProp(n, BAD_CAST "state", BAD_CAST state) != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

mla_err header_write(xmlNodePtr node, xmlNsPtr ns, const mla_header *h)
{
	char created[21];
	mla_err r;

	mla_time_format(h->created, created);
	if ((r = header_add_text(node, ns, "MessageId", h->message_id, NULL)) != MLA_OK ||
	    (r = header_add_text(node, ns, "CaseId", h->case_id, NULL)) != MLA_OK)
		return r;
	if (h->in_reply_to[0] != '\0' &&
	    (r = header_add_text(node, ns, "InReplyTo", h->in_reply_to, NULL)) != MLA_OK)
		return r;
	if ((r = add_party(node, ns, "From", h->from_state, h->from_authority)) != MLA_OK ||
	    (r = add_party(node, ns, "To", h->to_state, h->to_authority)) != MLA_OK ||
	    (r = header_add_text(node, ns, "Kind", h->kind, NULL)) != MLA_OK ||
	    (r = header_add_text(node, ns, "Action", h->action, NULL)) != MLA_OK ||
	    (r = header_add_text(node, ns, "Priority", mla_priority_name(h->priority), NULL)) != MLA_OK ||
	    (r = header_add_text(node, ns, "Created", created, NULL)) != MLA_OK ||
	    (r = header_add_text(node, ns, "Handling", h->handling, NULL)) != MLA_OK)
		return r;
	return MLA_OK;
}

mla_err header_copy_text(xmlNodePtr el, const char *what, char *dst, size_t n, mla_diag *diag)
{
	xmlChar *text = xmlNodeGetContent(el);
	mla_err r = MLA_OK;

	if (text == NULL)
		return MLA_ERR_NOMEM;
	if (mla_strcpy(dst, n, (const char *)text) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "%s %s is longer than %zu bytes", what,
			     (const char *)el->name, n - 1);
	xmlFree(text);
	return r;
}

static mla_err copy_text(xmlNodePtr el, char *dst, size_t n, mla_diag *diag)
{
	return header_copy_text(el, "header", dst, n, diag);
}

static mla_err copy_state(xmlNodePtr el, char dst[3], mla_diag *diag)
{
	xmlChar *s = xmlGetNoNsProp(el, BAD_CAST "state");
	mla_err r = MLA_OK;

	if (s == NULL || xmlStrlen(s) != 2 || mla_strcpy(dst, 3, (const char *)s) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_HEADER, "header %s has no two-letter state",
			     (const char *)el->name);
	xmlFree(s);
	return r;
}

static mla_err read_field(xmlNodePtr el, mla_header *h, char *tmp, size_t tmpn,
			  mla_diag *diag)
{
	const char *n = (const char *)el->name;
	mla_err r = MLA_OK;

#define FIELD(name, dst) \
	if (strcmp(n, name) == 0) \
		return copy_text(el, dst, sizeof(dst), diag)
	FIELD("MessageId", h->message_id);
	FIELD("CaseId", h->case_id);
	FIELD("InReplyTo", h->in_reply_to);
	FIELD("Kind", h->kind);
	FIELD("Action", h->action);
	FIELD("Handling", h->handling);
#undef FIELD
	if (strcmp(n, "From") == 0 || strcmp(n, "To") == 0) {
		int from = n[0] == 'F';
		if ((r = copy_state(el, from ? h->from_state : h->to_state, diag)) != MLA_OK)
			return r;
		return copy_text(el, from ? h->from_authority : h->to_authority,
				 sizeof(h->from_authority), diag);
	}
	if ((r = copy_text(el, tmp, tmpn, diag)) != MLA_OK)
		return r;
	if (strcmp(n, "Priority") == 0 && mla_priority_parse(tmp, &h->priority) != MLA_OK)
		return mla_fail(diag, MLA_ERR_HEADER, "header Priority '%.16s' is unknown", tmp);
	if (strcmp(n, "Created") == 0 && (h->created = mla_time_parse(tmp)) <= 0)
		return mla_fail(diag, MLA_ERR_HEADER, "header Created is not YYYY-MM-DDThh:mm:ssZ");
	return MLA_OK;
}

mla_err header_read(xmlNodePtr node, int version, mla_header *h, mla_diag *diag)
{
	char tmp[48];
	mla_err r;

	memset(h, 0, sizeof(*h));
	h->version = version;
	for (xmlNodePtr c = node->children; c != NULL; c = c->next) {
		/* version 3's list of attachments is read by attach_xml.c (SPEC 17.5) */
		if (c->type != XML_ELEMENT_NODE || xml_is(c, MLA_NS3, "Attachments"))
			continue;
		if ((r = read_field(c, h, tmp, sizeof(tmp), diag)) != MLA_OK)
			return r;
	}
	return mla_header_check(h, diag);
}
