/* The rules XSD 1.0 cannot express (SPEC 16.6): one kind part per request, elements that a
 * value of another makes mandatory, date order (a recorded arrest or consent not yet to
 * come), and the grounds never accepted alone
 * (UNTOC art. 18(8), 18(22)). Values are read only to be compared, never reported. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "case_internal.h"
#include "mlagw/codec.h"
#include "mlagw/deadline.h"

struct rctx {
	const struct case_model *m;
	mla_case_report *r;
};

static xmlNodePtr child(const struct rctx *c, xmlNodePtr n, const char *name)
{
	for (xmlNodePtr k = n != NULL ? n->children : NULL; k != NULL; k = k->next)
		if (k->type == XML_ELEMENT_NODE && k->ns != NULL &&
		    xmlStrEqual(k->ns->href, BAD_CAST c->m->ns) && xmlStrEqual(k->name, BAD_CAST name))
			return k;
	return NULL;
}

static int xml_space(xmlChar c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* n's text equals want, white space around it aside as the schema's types collapse it. */
static int text_is(xmlNodePtr n, const char *want)
{
	xmlChar *t = n != NULL ? xmlNodeGetContent(n) : NULL;
	size_t len = t != NULL ? (size_t)xmlStrlen(t) : 0, start = 0;
	int eq;

	while (start < len && xml_space(t[start]))
		start++;
	while (len > start && xml_space(t[len - 1]))
		len--;
	eq = t != NULL && len - start == strlen(want) && memcmp(t + start, want, len - start) == 0;
	xmlFree(t);
	return eq;
}

static void problem(const struct rctx *c, xmlNodePtr at, const char *child_name,
		    mla_case_code code)
{
	char path[MLA_CASE_PATH_MAX];

	case_path(c->m, at, NULL, child_name, path, sizeof(path));
	case_report_add(c->r, path, code, NULL);
}

/* parent/name must be present when cond holds. */
static void need(const struct rctx *c, int cond, xmlNodePtr parent, const char *name)
{
	if (cond && parent != NULL && child(c, parent, name) == NULL)
		problem(c, parent, name, MLA_CASE_MISSING);
}

/* Both present as YYYY-MM-DD (else the schema pass has spoken): later must follow earlier
 * (or equal it, when strict is 0). ISO dates compare as strings. */
static void date_order(const struct rctx *c, xmlNodePtr earlier, xmlNodePtr later, int strict)
{
	xmlChar *a = earlier != NULL ? xmlNodeGetContent(earlier) : NULL;
	xmlChar *b = later != NULL ? xmlNodeGetContent(later) : NULL;

	if (a != NULL && b != NULL && xmlStrlen(a) == 10 && xmlStrlen(b) == 10) {
		int cmp = strcmp((const char *)a, (const char *)b);

		if (cmp > 0 || (strict && cmp == 0))
			problem(c, later, NULL, MLA_CASE_DATE_ORDER);
	}
	xmlFree(a);
	xmlFree(b);
}

#define DAY_MS INT64_C(86400000)

/* A recorded moment (DateTime, UTC) not after the end of the day following the document's
 * own Date (a date without a time zone: a day's margin covers every zone), so that no
 * arrest or consent is recorded as yet to come. */
static void recorded_order(const struct rctx *c, xmlNodePtr date, xmlNodePtr moment)
{
	xmlChar *a = date != NULL ? xmlNodeGetContent(date) : NULL;
	xmlChar *b = moment != NULL ? xmlNodeGetContent(moment) : NULL;
	int64_t end = 0, at = -1;
	time_t t;

	if (a != NULL && b != NULL && mla_deadline_wished_end((const char *)a, &end) == MLA_OK) {
		if (mla_time_ms_parse((const char *)b, (size_t)xmlStrlen(b), &at) != MLA_OK &&
		    (t = mla_time_parse((const char *)b)) >= 0)
			at = (int64_t)t * 1000;
		if (at >= end + DAY_MS)
			problem(c, moment, NULL, MLA_CASE_DATE_ORDER);
	}
	xmlFree(a);
	xmlFree(b);
}

static const struct {
	const char *name;
	mla_case_doctype type;
} kind_parts[] = {
	{"Extradition", MLA_CASE_EXTRADITION},
	{"ProvisionalArrest", MLA_CASE_PROVISIONAL_ARREST},
	{"MutualAssistance", MLA_CASE_MUTUAL_ASSISTANCE},
	{"AssetMeasures", MLA_CASE_ASSET_MEASURES},
	{"SpontaneousInformation", MLA_CASE_SPONTANEOUS_INFORMATION},
	{"ProductionOrder", MLA_CASE_PRODUCTION_ORDER},
	{"PreservationOrder", MLA_CASE_PRESERVATION_ORDER},
};
#define N_KIND_PARTS (sizeof(kind_parts) / sizeof(kind_parts[0]))

/* Exactly one kind part: none is reported at the root, each extra one at itself. */
static xmlNodePtr kind_part(const struct rctx *c, xmlNodePtr root)
{
	xmlNodePtr found = NULL, k;

	for (size_t i = 0; i < N_KIND_PARTS; i++) {
		if ((k = child(c, root, kind_parts[i].name)) == NULL)
			continue;
		if (found != NULL) {
			problem(c, k, NULL, MLA_CASE_KIND_PART);
			continue;
		}
		found = k;
		c->r->type = kind_parts[i].type;
	}
	if (found == NULL)
		case_report_add(c->r, "/Request", MLA_CASE_KIND_PART,
				"Extradition|ProvisionalArrest|MutualAssistance|AssetMeasures|...");
	return found;
}

static int any_child_is(const struct rctx *c, xmlNodePtr list, const char *value)
{
	for (xmlNodePtr k = list != NULL ? list->children : NULL; k != NULL; k = k->next)
		if (k->type == XML_ELEMENT_NODE && text_is(k, value))
			return 1;
	(void)c;
	return 0;
}

static void period(const struct rctx *c, xmlNodePtr part)
{
	xmlNodePtr p = child(c, part, "Period");

	if (p != NULL)
		date_order(c, child(c, p, "From"), child(c, p, "To"), 0);
}

static void request_rules(const struct rctx *c, xmlNodePtr root)
{
	xmlNodePtr common = child(c, root, "Common");
	xmlNodePtr part = kind_part(c, root);
	xmlNodePtr urgency = child(c, common, "Urgency"), pen;

	need(c, c->r->type != MLA_CASE_SPONTANEOUS_INFORMATION, common, "AssistanceSought");
	need(c, text_is(child(c, urgency, "Urgent"), "true") ||
		       text_is(child(c, urgency, "Urgent"), "1"),
	     urgency, "Reason");
	if (c->r->type == MLA_CASE_EXTRADITION || c->r->type == MLA_CASE_PROVISIONAL_ARREST) {
		pen = child(c, part, "Penalty");
		need(c, text_is(child(c, pen, "Basis"), "scale"), pen, "MaximumMonths");
		need(c, text_is(child(c, pen, "Basis"), "sentence"), pen, "ImposedMonths");
	}
	if (c->r->type == MLA_CASE_ASSET_MEASURES)
		need(c, any_child_is(c, child(c, part, "Measures"), "enforce-confiscation-order"),
		     part, "ConfiscationOrder");
	if (c->r->type == MLA_CASE_PRODUCTION_ORDER || c->r->type == MLA_CASE_PRESERVATION_ORDER)
		period(c, part);
}

/* UNTOC art. 18(8) and 18(22): bank secrecy or a fiscal matter is never enough alone. */
static void refused_rules(const struct rctx *c, xmlNodePtr root)
{
	xmlNodePtr grounds = child(c, root, "Grounds");
	int other = 0, any = 0;

	for (xmlNodePtr g = grounds != NULL ? grounds->children : NULL; g != NULL; g = g->next) {
		if (g->type != XML_ELEMENT_NODE)
			continue;
		any = 1;
		if (!text_is(g, "bank-secrecy") && !text_is(g, "fiscal-matter"))
			other = 1;
	}
	if (any && !other)
		problem(c, grounds, NULL, MLA_CASE_GROUND_NOT_ACCEPTED);
}

static const struct {
	const char *root;
	mla_case_doctype type;
} answers[] = {
	{"Acknowledgement", MLA_CASE_ACKNOWLEDGEMENT},
	{"AdditionalInformationRequested", MLA_CASE_INFO_REQUESTED},
	{"AdditionalInformationProvided", MLA_CASE_INFO_PROVIDED},
	{"Accepted", MLA_CASE_ACCEPTED},
	{"Postponed", MLA_CASE_POSTPONED},
	{"Refused", MLA_CASE_REFUSED},
	{"ExecutionReport", MLA_CASE_EXECUTION_REPORT},
	{"Withdrawn", MLA_CASE_WITHDRAWN},
	{"DeadlineExtended", MLA_CASE_DEADLINE_EXTENDED},
	{"PersonArrested", MLA_CASE_PERSON_ARRESTED},
	{"SurrenderConsented", MLA_CASE_SURRENDER_CONSENTED},
};

static void answer_rules(const struct rctx *c, xmlNodePtr root)
{
	xmlNodePtr date = child(c, child(c, root, "Common"), "Date");

	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++)
		if (xmlStrEqual(root->name, BAD_CAST answers[i].root))
			c->r->type = answers[i].type;
	if (c->r->type == MLA_CASE_REFUSED)
		refused_rules(c, root);
	if (c->r->type == MLA_CASE_POSTPONED)
		date_order(c, date, child(c, root, "Until"), 1);
	if (c->r->type == MLA_CASE_DEADLINE_EXTENDED) /* an estimate of what is still to come */
		date_order(c, date, child(c, root, "EstimatedDate"), 0);
	if (c->r->type == MLA_CASE_PERSON_ARRESTED)
		recorded_order(c, date, child(c, root, "ArrestedAt"));
	if (c->r->type == MLA_CASE_SURRENDER_CONSENTED)
		recorded_order(c, date, child(c, root, "ConsentedAt"));
	if (c->r->type == MLA_CASE_EXECUTION_REPORT) {
		c->r->partial = text_is(child(c, root, "Extent"), "partial");
		need(c, c->r->partial, root, "NotExecuted");
	}
}

void case_rules_check(const struct case_model *m, xmlNodePtr root, mla_case_report *r)
{
	struct rctx c = {m, r};

	if (strcmp(m->ns, MLA_CASE_REQUEST_NS) == 0)
		request_rules(&c, root);
	else
		answer_rules(&c, root);
}
