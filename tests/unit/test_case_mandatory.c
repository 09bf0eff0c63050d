/* Each mandatory element of every example, removed in turn, is reported by its path and
 * only it (SPEC 16.6). The mandatory elements come from the schema's content model, the
 * paths are checked against hand-written ones for a few, so the test is not circular. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "case_fx.h"
#include "case_internal.h"

static int setup(void **state)
{
	(void)state;
	case_fx_init();
	return 0;
}

/* The k-th element of doc in document order, or NULL. */
static xmlNodePtr nth_element(xmlNodePtr n, size_t *k)
{
	for (; n != NULL; n = n->next) {
		xmlNodePtr found;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((*k)-- == 0)
			return n;
		if ((found = nth_element(n->children, k)) != NULL)
			return found;
	}
	return NULL;
}

static int only_of_its_name(xmlNodePtr n)
{
	for (xmlNodePtr s = n->parent->children; s != NULL; s = s->next)
		if (s != n && s->type == XML_ELEMENT_NODE && xmlStrEqual(s->name, n->name))
			return 0;
	return 1;
}

/* Removes element k of the example if it is mandatory; validates; expects exactly a
 * missing problem at its path. Returns 0 when k is past the last element. */
static int remove_and_check(const char *text, size_t len, size_t k, size_t *checked,
			    const char *want_path)
{
	xmlDocPtr doc = xmlReadMemory(text, (int)len, "x.xml", NULL, XML_PARSE_NONET);
	const struct case_model *m = case_model_for((const char *)xmlDocGetRootElement(doc)->ns->href);
	size_t kk = k;
	xmlNodePtr n = nth_element(xmlDocGetRootElement(doc), &kk);
	const struct case_decl *d = n != NULL ? case_model_decl_of(m, n) : NULL;
	char path[MLA_CASE_PATH_MAX];
	xmlChar *out = NULL;
	int out_len = 0;

	if (n == NULL) {
		xmlFreeDoc(doc);
		return 0;
	}
	if (d != NULL && d->min >= 1 && n->parent->type == XML_ELEMENT_NODE && only_of_its_name(n)) {
		mla_err e;
		mla_case_report *r;

		case_path(m, n->parent, NULL, (const char *)n->name, path, sizeof(path));
		xmlUnlinkNode(n);
		xmlFreeNode(n);
		xmlDocDumpMemory(doc, &out, &out_len);
		r = case_fx_validate((const char *)out, (size_t)out_len, &e);
		if (r->n != 1 || case_fx_find(r, path, MLA_CASE_MISSING) == NULL)
			fail_msg("removing %s: %zu problems, first %s %s", path, r->n,
				 r->n ? r->problems[0].path : "-",
				 r->n ? mla_case_code_name(r->problems[0].code) : "-");
		assert_int_equal(e, MLA_ERR_SCHEMA);
		if (want_path != NULL && strcmp(path, want_path) == 0)
			(*checked) += 1000;
		(*checked)++;
		free(r);
		xmlFree(out);
	}
	xmlFreeDoc(doc);
	return 1;
}

static size_t check_example(const char *name, const char *want_path)
{
	size_t len, checked = 0;
	char *text = case_fx_example(name, &len);

	for (size_t k = 1; remove_and_check(text, len, k, &checked, want_path); k++)
		;
	free(text);
	return checked;
}

static void test_each_mandatory_removed(void **state)
{
	/* one hand-written path per kind: each must be among those checked */
	static const char *const want[] = {
		"/Request/Extradition/PersonSought/Nationality",
		"/Request/ProvisionalArrest/Decision/Reference",
		"/Request/MutualAssistance/Measures/Measure[1]/Type",
		"/Request/AssetMeasures/Assets/Asset[1]/Location",
		"/Request/SpontaneousInformation/Relevance",
		"/Request/ProductionOrder/Deadline",
		"/Request/PreservationOrder/PreserveDays",
		"/Acknowledgement/ReceivedOn",
		"/AdditionalInformationRequested/Needed",
		"/AdditionalInformationProvided/Provided",
		"/Accepted/ExecutingAuthority/Contact/Email",
		"/Postponed/Until",
		"/Refused/Reasons",
		"/ExecutionReport/Extent",
		"/Withdrawn/WithdrawnOn",
		"/DeadlineExtended/Reason",
		"/PersonArrested/ArrestedAt",
		"/SurrenderConsented/ConsentedAt",
	};
	size_t total = 0;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), case_n_examples);
	for (size_t i = 0; i < case_n_examples; i++) {
		size_t n = check_example(case_examples[i].name, want[i]);

		if (n < 1000)
			fail_msg("%s: %s was not among the mandatory elements checked",
				 case_examples[i].name, want[i]);
		total += n - 1000;
	}
	/* the common part alone has a dozen mandatory elements in each request */
	assert_true(total > 14 * 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_mandatory_removed),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
