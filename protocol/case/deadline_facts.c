/* The facts of a valid request that select its deadlines (SPEC 16.9): its kind part, whether
 * it is urgent, whether it is an EIO, its wished date. Read after a full validation, so each
 * element has its schema's shape; values are read, never reported. */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "mlagw/deadline.h"
#include "xml_safe.h"

#define NS MLA_CASE_REQUEST_NS
#define DATE_LEN 10 /* YYYY-MM-DD */

/* n's text with the white space the schema's types collapse trimmed, into out (n bytes);
 * empty when absent or longer. */
static void text_of(xmlNodePtr n, char *out, size_t size)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	size_t len = t != NULL ? (size_t)xmlStrlen(t) : 0, start = 0;

	out[0] = '\0';
	while (start < len && strchr(" \t\r\n", t[start]) != NULL)
		start++;
	while (len > start && strchr(" \t\r\n", t[len - 1]) != NULL)
		len--;
	if (t != NULL && len - start < size) {
		memcpy(out, t + start, len - start);
		out[len - start] = '\0';
	}
	xmlFree(t);
}

static int any_eio(xmlNodePtr legal_basis)
{
	char v[32];

	for (xmlNodePtr b = xml_first_child(legal_basis, NS, "Basis"); b != NULL;
	     b = xml_next_element(b->next)) {
		text_of(xml_first_child(b, NS, "Instrument"), v, sizeof(v));
		if (strcmp(v, "eio-directive") == 0)
			return 1;
	}
	return 0;
}

static void read_facts(xmlNodePtr root, mla_deadline_case *c, int64_t *wished_ms)
{
	xmlNodePtr common = xml_first_child(root, NS, "Common");
	xmlNodePtr urgency = xml_first_child(common, NS, "Urgency");
	char v[DATE_LEN + 1];

	text_of(xml_first_child(urgency, NS, "Urgent"), v, sizeof(v));
	c->emergency = strcmp(v, "true") == 0 || strcmp(v, "1") == 0; /* xs:boolean */
	c->eio = any_eio(xml_first_child(common, NS, "LegalBasis"));
	*wished_ms = MLA_DEADLINE_NO_TIME;
	text_of(xml_first_child(urgency, NS, "DateWished"), v, sizeof(v));
	if (v[0] != '\0' && mla_deadline_wished_end(v, wished_ms) != MLA_OK)
		*wished_ms = 0; /* a real date (the schema checked it) before 1970 */
}

mla_err mla_deadline_request_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
				   mla_deadline_case *c, int64_t *wished_ms, mla_diag *diag)
{
	mla_case_report *rep = NULL;
	mla_limits lim = *limits;
	xmlDocPtr x = NULL;
	mla_err r;

	memset(c, 0, sizeof(*c));
	*wished_ms = MLA_DEADLINE_NO_TIME;
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "deadline facts: out of memory");
	if ((r = mla_case_validate(doc, len, limits, rep, diag)) != MLA_OK)
		goto out;
	if (rep->cls != MLA_CASE_VALID || rep->type < MLA_CASE_EXTRADITION ||
	    rep->type > MLA_CASE_PRESERVATION_ORDER) {
		r = mla_fail(diag, MLA_ERR_SCHEMA, "deadline facts: not a valid request");
		goto out;
	}
	lim.max_envelope_bytes = limits->max_document_bytes; /* as mla_case_validate bounds it */
	lim.max_nodes = limits->max_document_nodes;
	if ((r = xml_safe_parse(doc, len, &lim, &x, NULL, diag)) != MLA_OK)
		goto out;
	c->type = rep->type;
	read_facts(xmlDocGetRootElement(x), c, wished_ms);
	r = MLA_OK;
out:
	xmlFreeDoc(x);
	free(rep);
	return r;
}
