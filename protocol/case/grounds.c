/* The coded grounds of a valid Refused answer (SPEC 16.5), for its audit entries (SPEC 14
 * version 6): read after a full validation, so each Ground is one of answer.xsd's codes; the
 * Reasons' free text is never read. */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "mlagw/case.h"
#include "xml_safe.h"

#define NS MLA_CASE_ANSWER_NS
#define GROUND_MAX 32 /* the longest code has 13 bytes */

static mla_err each_ground(xmlNodePtr root, mla_case_ground_fn fn, void *arg)
{
	xmlNodePtr grounds = xml_first_child(root, NS, "Grounds");
	char code[GROUND_MAX + 1];
	mla_err r;

	for (xmlNodePtr g = xml_first_child(grounds, NS, "Ground"); g != NULL;
	     g = xml_next_element(g->next)) {
		xml_token_text(g, code, sizeof(code));
		if (code[0] != '\0' && (r = fn(code, arg)) != MLA_OK)
			return r;
	}
	return MLA_OK;
}

mla_err mla_case_refusal_grounds(const uint8_t *doc, size_t len, const mla_limits *limits,
				 mla_case_ground_fn fn, void *arg, mla_diag *diag)
{
	mla_case_report *rep = NULL;
	mla_limits lim = *limits;
	xmlDocPtr x = NULL;
	mla_err r;

	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "refusal grounds: out of memory");
	if ((r = mla_case_validate(doc, len, limits, rep, diag)) != MLA_OK)
		goto out;
	if (rep->cls != MLA_CASE_VALID || rep->type != MLA_CASE_REFUSED) {
		r = mla_fail(diag, MLA_ERR_SCHEMA, "refusal grounds: not a valid Refused answer");
		goto out;
	}
	lim.max_envelope_bytes = limits->max_document_bytes; /* as mla_case_validate bounds it */
	lim.max_nodes = limits->max_document_nodes;
	if ((r = xml_safe_parse(doc, len, &lim, &x, NULL, diag)) != MLA_OK)
		goto out;
	r = each_ground(xmlDocGetRootElement(x), fn, arg);
out:
	xmlFreeDoc(x);
	free(rep);
	return r;
}
