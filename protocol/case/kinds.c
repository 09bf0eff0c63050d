/* Which envelope header a case document travels with (SPEC 16.7): the header's Kind and
 * Action under envelope version 1, and the check that a header agrees with its document. */
#include <string.h>

#include "mlagw/case.h"

#define KINDS_MAX 4

/* kinds: the Kinds a request may travel with, the first being the usual one; none for an
 * answer, which keeps the Kind of the request it answers. action NULL: no Action in
 * envelope version 1 (version 2, to be added). */
static const struct {
	const char *kinds[KINDS_MAX + 1];
	const char *action;
} v1[MLA_CASE_DOCTYPE_N] = {
	[MLA_CASE_EXTRADITION] = {{"extradition"}, "request"},
	[MLA_CASE_PROVISIONAL_ARREST] = {{"provisional-arrest"}, "request"},
	[MLA_CASE_MUTUAL_ASSISTANCE] = {{"mla", "evidence", "search-seizure", "bank-records"},
					"request"},
	[MLA_CASE_ASSET_MEASURES] = {{"asset-tracing", "asset-freezing", "confiscation"},
				     "request"},
	[MLA_CASE_SPONTANEOUS_INFORMATION] = {{"information-exchange"}, "request"},
	[MLA_CASE_PRODUCTION_ORDER] = {{"evidence"}, "request"},
	[MLA_CASE_PRESERVATION_ORDER] = {{"evidence"}, "request"},
	[MLA_CASE_ACKNOWLEDGEMENT] = {{NULL}, "received"},
	[MLA_CASE_INFO_REQUESTED] = {{NULL}, "additional-information-requested"},
	[MLA_CASE_INFO_PROVIDED] = {{NULL}, "additional-information-provided"},
	[MLA_CASE_ACCEPTED] = {{NULL}, "accepted"},
	[MLA_CASE_POSTPONED] = {{NULL}, NULL},
	[MLA_CASE_REFUSED] = {{NULL}, "refused"},
	[MLA_CASE_EXECUTION_REPORT] = {{NULL}, "executed"},
	[MLA_CASE_WITHDRAWN] = {{NULL}, "withdrawn"},
};

static const char *action_of(const mla_case_report *r)
{
	if (r->type == MLA_CASE_EXECUTION_REPORT && r->partial)
		return "partially-executed";
	return v1[r->type].action;
}

mla_err mla_case_header_for(const mla_case_report *r, const char **kind, const char **action,
			    mla_diag *diag)
{
	*kind = NULL;
	*action = NULL;
	if (r->cls != MLA_CASE_VALID || (unsigned)r->type >= MLA_CASE_DOCTYPE_N ||
	    r->type == MLA_CASE_NONE)
		return mla_fail(diag, MLA_ERR_ARG, "no valid case document to map to a header");
	if (action_of(r) == NULL)
		return mla_fail(diag, MLA_ERR_HEADER,
				"a %s document needs envelope version 2 (to be added)",
				mla_case_doctype_name(r->type));
	*kind = v1[r->type].kinds[0];
	*action = action_of(r);
	return MLA_OK;
}

static int kind_ok(const mla_case_report *r, const char *kind)
{
	if (v1[r->type].kinds[0] == NULL)
		return 1;
	for (size_t i = 0; i < KINDS_MAX && v1[r->type].kinds[i] != NULL; i++)
		if (strcmp(v1[r->type].kinds[i], kind) == 0)
			return 1;
	return 0;
}

mla_err mla_case_check_header(const mla_case_report *r, const char *kind, const char *action,
			      mla_diag *diag)
{
	const char *want_kind, *want_action;
	mla_err e;

	if (r->cls == MLA_CASE_OPAQUE)
		return MLA_OK;
	if ((e = mla_case_header_for(r, &want_kind, &want_action, diag)) != MLA_OK)
		return e;
	if (strcmp(action, want_action) != 0 || !kind_ok(r, kind))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header Kind %s, Action %s do not fit a %s document (Kind %s%s, Action %s)",
				kind, action, mla_case_doctype_name(r->type),
				want_kind != NULL ? want_kind : "of the request answered",
				want_kind != NULL && v1[r->type].kinds[1] != NULL ? " or another listed" : "",
				want_action);
	return MLA_OK;
}
