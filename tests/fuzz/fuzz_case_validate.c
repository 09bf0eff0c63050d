/* libFuzzer harness: case document validation must classify or refuse any input cleanly,
 * with every problem bounded; a valid document must map to a header or say why not. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/case.h"
#include "mlagw/deadline.h"
#include "mlagw/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mla_case_report report;
static mla_deadline_step_facts facts;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	mla_diag d = {MLA_OK, ""};
	mla_limits lim;
	const char *kind, *action;
	char line[MLA_CASE_PATH_MAX + 160];

	if (!ready) {
		if (mla_crypto_init(&d) != MLA_OK || mla_case_init(&d) != MLA_OK)
			abort();
		ready = 1;
	}
	mla_limits_default(&lim);
	(void)mla_case_validate(data, size, &lim, &report, &d);
	if (report.n > MLA_CASE_PROBLEMS_MAX || (report.cls == MLA_CASE_VALID && report.n != 0))
		abort();
	for (size_t i = 0; i < report.n; i++) {
		mla_case_problem_format(&report.problems[i], line, sizeof(line));
		if (report.problems[i].path[0] != '/' || strlen(line) >= sizeof(line))
			abort();
	}
	/* both envelope versions' columns (SPEC 16.7) */
	if (report.cls == MLA_CASE_VALID && mla_case_header_for(&report, 1, &kind, &action, &d) ==
						     MLA_OK &&
	    mla_case_check_header(&report, 1, kind != NULL ? kind : "mla", action, &d) != MLA_OK)
		abort();
	if (report.cls == MLA_CASE_VALID && (mla_case_header_for(&report, 2, &kind, &action, &d) !=
						     MLA_OK ||
	    mla_case_check_header(&report, 2, kind != NULL ? kind : "mla", action, &d) != MLA_OK))
		abort();
	/* a valid answer's deadline facts read back: a recorded time within the deadlines' range */
	if (report.cls == MLA_CASE_VALID && report.type >= MLA_CASE_ACKNOWLEDGEMENT &&
	    (mla_deadline_answer_facts(data, size, &lim, &facts, &d) != MLA_OK ||
	     (facts.recorded_ms != MLA_DEADLINE_NO_TIME &&
	      (facts.recorded_ms < 0 || facts.recorded_ms > MLA_DEADLINE_TIME_MAX))))
		abort();
	return 0;
}
