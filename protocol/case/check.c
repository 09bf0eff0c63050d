/* One document against a gateway's rules, the same before sealing and on receipt (SPEC 16.6):
 * a document that declares a case schema must follow it, every problem listed by path, and
 * agree with the header's Kind and Action; one that declares none is opaque, accepted unless
 * the gateway refuses opaque documents. */
#include "mlagw/case.h"

mla_err mla_case_check(const uint8_t *doc, size_t len, const mla_limits *limits,
		       int refuse_opaque, int version, const char *kind, const char *action,
		       mla_case_report *rep, mla_diag *diag)
{
	char first[MLA_CASE_PATH_MAX + 64] = "";
	mla_err r = mla_case_validate(doc, len, limits, rep, diag);

	if (r == MLA_OK && rep->cls == MLA_CASE_OPAQUE && refuse_opaque)
		return mla_fail(diag, MLA_ERR_SCHEMA, "the document declares no case schema, and "
				"this gateway refuses opaque documents ([cases] opaque = refuse)");
	if (r == MLA_OK && rep->cls == MLA_CASE_VALID)
		return mla_case_check_header(rep, version, kind, action, diag);
	if (rep->cls != MLA_CASE_INVALID)
		return r;
	if (rep->n > 0)
		mla_case_problem_format(&rep->problems[0], first, sizeof(first));
	/* a namespace, root or version this gateway does not read keeps its code (SPEC 16.1) */
	return mla_fail(diag, r == MLA_ERR_UNSUPPORTED_VERSION ? r : MLA_ERR_SCHEMA,
			"the document does not follow its case schema: %zu problem(s), the first %s",
			rep->n + rep->more, first);
}
