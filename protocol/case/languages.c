/* The languages of a case request (SPEC 16.4: Common/Language and Common/Translations), for
 * the competent authority's check before sealing (SPEC 18.6). Read after mla_case_check
 * accepted the document, so a request's codes are LanguageCode values. */
#include <string.h>

#include <libxml/tree.h>

#include "mlagw/case.h"
#include "xml_safe.h"

#define NS MLA_CASE_REQUEST_NS

static void read_langs(xmlNodePtr root, mla_case_langs *out)
{
	xmlNodePtr common = xml_first_child(root, NS, "Common");
	xmlNodePtr tr = xml_first_child(common, NS, "Translations");

	xml_token_text(xml_first_child(common, NS, "Language"), out->lang, sizeof(out->lang));
	for (xmlNodePtr l = xml_first_child(tr, NS, "Language");
	     l != NULL && out->n_translations < MLA_CASE_TRANSLATIONS_MAX;
	     l = xml_next_element(l->next)) {
		if (!xml_is(l, NS, "Language"))
			continue;
		xml_token_text(l, out->translations[out->n_translations],
			       sizeof(out->translations[0]));
		if (out->translations[out->n_translations][0] != '\0')
			out->n_translations++;
	}
}

mla_err mla_case_languages(const uint8_t *doc, size_t len, const mla_limits *limits,
			   mla_case_langs *out, mla_diag *diag)
{
	mla_limits lim = *limits;
	xmlDocPtr x = NULL;
	xmlNodePtr root;
	mla_diag quiet = {MLA_OK, ""};

	(void)diag; /* nothing here fails: the document passed mla_case_check */
	memset(out, 0, sizeof(*out));
	lim.max_envelope_bytes = limits->max_document_bytes; /* as mla_case_validate bounds it */
	lim.max_nodes = limits->max_document_nodes;
	/* bytes that do not parse passed mla_case_check as opaque: no language to check */
	if (xml_safe_parse(doc, len, &lim, &x, NULL, &quiet) != MLA_OK)
		return MLA_OK;
	root = xmlDocGetRootElement(x);
	if (xml_is(root, NS, "Request"))
		read_langs(root, out);
	xmlFreeDoc(x);
	return MLA_OK;
}
