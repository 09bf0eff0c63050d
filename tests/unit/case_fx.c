/* Helpers of the case document tests (case_fx.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_fx.h"
#include "mlagw/envelope.h"

const struct case_example case_examples[] = {
	{"request-extradition", MLA_CASE_EXTRADITION},
	{"request-provisional-arrest", MLA_CASE_PROVISIONAL_ARREST},
	{"request-mla", MLA_CASE_MUTUAL_ASSISTANCE},
	{"request-asset-measures", MLA_CASE_ASSET_MEASURES},
	{"request-spontaneous-information", MLA_CASE_SPONTANEOUS_INFORMATION},
	{"request-production-order", MLA_CASE_PRODUCTION_ORDER},
	{"request-preservation-order", MLA_CASE_PRESERVATION_ORDER},
	{"answer-acknowledgement", MLA_CASE_ACKNOWLEDGEMENT},
	{"answer-additional-information-requested", MLA_CASE_INFO_REQUESTED},
	{"answer-additional-information-provided", MLA_CASE_INFO_PROVIDED},
	{"answer-accepted", MLA_CASE_ACCEPTED},
	{"answer-postponed", MLA_CASE_POSTPONED},
	{"answer-refused", MLA_CASE_REFUSED},
	{"answer-execution-report", MLA_CASE_EXECUTION_REPORT},
	{"answer-withdrawn", MLA_CASE_WITHDRAWN},
	{"answer-deadline-extended", MLA_CASE_DEADLINE_EXTENDED},
	{"answer-person-arrested", MLA_CASE_PERSON_ARRESTED},
	{"answer-surrender-consented", MLA_CASE_SURRENDER_CONSENTED},
};
const size_t case_n_examples = sizeof(case_examples) / sizeof(case_examples[0]);

void case_fx_init(void)
{
	mla_diag d = {MLA_OK, ""};

	assert_int_equal(mla_crypto_init(&d), MLA_OK);
	assert_int_equal(mla_case_init(&d), MLA_OK);
}

char *case_fx_example(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	assert_true(snprintf(path, sizeof(path), "%s/%s.xml", MLAGW_CASE_EXAMPLES, name) <
		    (int)sizeof(path));
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) > 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

mla_case_report *case_fx_validate(const char *text, size_t len, mla_err *err)
{
	mla_case_report *r = calloc(1, sizeof(*r));
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;
	mla_err e;

	assert_non_null(r);
	mla_limits_default(&lim);
	e = mla_case_validate((const uint8_t *)text, len, &lim, r, &d);
	if (err != NULL)
		*err = e;
	return r;
}

const mla_case_problem *case_fx_find(const mla_case_report *r, const char *path,
				     mla_case_code code)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->problems[i].path, path) == 0 && r->problems[i].code == code)
			return &r->problems[i];
	return NULL;
}

char *case_fx_replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	size_t n = strlen(s) - strlen(from) + strlen(to), pre;
	char *out;

	assert_non_null(at);
	assert_non_null(out = malloc(n + 1));
	pre = (size_t)(at - s);
	memcpy(out, s, pre);
	memcpy(out + pre, to, strlen(to));
	memcpy(out + pre + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	return out;
}
