/* The facts of a valid request that select its deadlines (SPEC 16.9): its kind part, whether
 * it is urgent, whether it is an EIO, its wished date. Read after a full validation, so each
 * element has its schema's shape; values are read, never reported. */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "mlagw/codec.h"
#include "mlagw/deadline.h"
#include "xml_safe.h"

#define NS MLA_CASE_REQUEST_NS
#define DATE_LEN 10 /* YYYY-MM-DD */

/* 1 when a Basis of the legal basis names the instrument `name`. */
static int any_instrument(xmlNodePtr legal_basis, const char *name)
{
	char v[32];

	for (xmlNodePtr b = xml_first_child(legal_basis, NS, "Basis"); b != NULL;
	     b = xml_next_element(b->next)) {
		xml_token_text(xml_first_child(b, NS, "Instrument"), v, sizeof(v));
		if (strcmp(v, name) == 0)
			return 1;
	}
	return 0;
}

static void read_facts(xmlNodePtr root, mla_deadline_case *c, int64_t *wished_ms)
{
	xmlNodePtr common = xml_first_child(root, NS, "Common");
	xmlNodePtr urgency = xml_first_child(common, NS, "Urgency");
	char v[DATE_LEN + 1];

	xml_token_text(xml_first_child(urgency, NS, "Urgent"), v, sizeof(v));
	c->emergency = strcmp(v, "true") == 0 || strcmp(v, "1") == 0; /* xs:boolean */
	c->eio = any_instrument(xml_first_child(common, NS, "LegalBasis"), "eio-directive");
	/* a surrender under Framework Decision 2002/584: an arrest warrant's kind parts only */
	c->eaw = (c->type == MLA_CASE_EXTRADITION || c->type == MLA_CASE_PROVISIONAL_ARREST) &&
		 any_instrument(xml_first_child(common, NS, "LegalBasis"),
				"eaw-framework-decision");
	*wished_ms = MLA_DEADLINE_NO_TIME;
	xml_token_text(xml_first_child(urgency, NS, "DateWished"), v, sizeof(v));
	if (v[0] != '\0' && mla_deadline_wished_end(v, wished_ms) != MLA_OK)
		*wished_ms = 0; /* a real date (the schema checked it) before 1970 */
}

/* doc, validated as a case document whose type lies in [first, last] (else `what`), parsed
 * again for its facts under the same limits: *type its type, *x the tree (the caller frees). */
static mla_err open_valid(const uint8_t *doc, size_t len, const mla_limits *limits,
			  mla_case_doctype first, mla_case_doctype last, const char *what,
			  mla_case_doctype *type, xmlDocPtr *x, mla_diag *diag)
{
	mla_case_report *rep;
	mla_limits lim = *limits;
	mla_err r;

	*x = NULL;
	if ((rep = calloc(1, sizeof(*rep))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "deadline facts: out of memory");
	if ((r = mla_case_validate(doc, len, limits, rep, diag)) == MLA_OK &&
	    (rep->cls != MLA_CASE_VALID || rep->type < first || rep->type > last))
		r = mla_fail(diag, MLA_ERR_SCHEMA, "deadline facts: not a valid %s", what);
	*type = rep->type;
	free(rep);
	if (r != MLA_OK)
		return r;
	lim.max_envelope_bytes = limits->max_document_bytes; /* as mla_case_validate bounds it */
	lim.max_nodes = limits->max_document_nodes;
	return xml_safe_parse(doc, len, &lim, x, NULL, diag);
}

mla_err mla_deadline_request_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
				   mla_deadline_case *c, int64_t *wished_ms, mla_diag *diag)
{
	mla_case_doctype type;
	xmlDocPtr x;
	mla_err r;

	memset(c, 0, sizeof(*c));
	*wished_ms = MLA_DEADLINE_NO_TIME;
	r = open_valid(doc, len, limits, MLA_CASE_EXTRADITION, MLA_CASE_PRESERVATION_ORDER,
		       "request", &type, &x, diag);
	if (r == MLA_OK) {
		c->type = type; /* before read_facts, which reads the kind part's EAW basis */
		read_facts(xmlDocGetRootElement(x), c, wished_ms);
	}
	xmlFreeDoc(x);
	return r;
}

/* The answer's fact: the Rule a DeadlineExtended names, the time a PersonArrested or a
 * SurrenderConsented records (the schema's DateTime: UTC, seconds, optional milliseconds). */
static mla_err read_step(xmlNodePtr root, mla_deadline_step_facts *f, mla_diag *diag)
{
	static const char *const times[] = {"ArrestedAt", "ConsentedAt"};
	char v[MLA_TIME_MS_LEN + 1];
	time_t t;

	if (f->type == MLA_CASE_DEADLINE_EXTENDED) {
		xml_token_text(xml_first_child(root, MLA_CASE_ANSWER_NS, "Rule"), v, sizeof(v));
		f->rule = v[0] != '\0' ? mla_deadline_rule_by_name(v) : MLA_DEADLINE_RULE_N;
		return MLA_OK;
	}
	if (f->type != MLA_CASE_PERSON_ARRESTED && f->type != MLA_CASE_SURRENDER_CONSENTED)
		return MLA_OK;
	xml_token_text(xml_first_child(root, MLA_CASE_ANSWER_NS,
				       times[f->type == MLA_CASE_SURRENDER_CONSENTED]),
		       v, sizeof(v));
	if (mla_time_ms_parse(v, strlen(v), &f->recorded_ms) == MLA_OK)
		return MLA_OK;
	if ((t = mla_time_parse(v)) >= 0) { /* no milliseconds */
		f->recorded_ms = (int64_t)t * 1000;
		return MLA_OK;
	}
	return mla_fail(diag, MLA_ERR_SCHEMA, "deadline facts: a recorded time out of range");
}

mla_err mla_deadline_answer_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
				  mla_deadline_step_facts *f, mla_diag *diag)
{
	mla_case_doctype type;
	xmlDocPtr x;
	mla_err r;

	f->type = MLA_CASE_NONE;
	f->rule = MLA_DEADLINE_RULE_N;
	f->recorded_ms = MLA_DEADLINE_NO_TIME;
	r = open_valid(doc, len, limits, MLA_CASE_ACKNOWLEDGEMENT, MLA_CASE_DOCTYPE_N - 1,
		       "answer", &type, &x, diag);
	if (r == MLA_OK) {
		f->type = type;
		r = read_step(xmlDocGetRootElement(x), f, diag);
	}
	xmlFreeDoc(x);
	return r;
}
