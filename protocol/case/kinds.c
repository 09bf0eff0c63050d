/* Which envelope header a case document travels with (SPEC 16.7): the header's Kind and
 * Action under envelope versions 1 and 2, and the check that a header agrees with its
 * document. */
#include <string.h>

#include "mlagw/case.h"

#define KINDS_MAX 4

/* kinds: the Kinds a request may travel with, the first being the usual one; none for an
 * answer, which keeps the Kind of the request it answers. action NULL: no Action in
 * envelope version 1 (Postponed, DeadlineExtended, PersonArrested and SurrenderConsented
 * need version 2). */
struct header_map {
	const char *kinds[KINDS_MAX + 1];
	const char *action;
};

static const struct header_map v1[MLA_CASE_DOCTYPE_N] = {
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
	[MLA_CASE_DEADLINE_EXTENDED] = {{NULL}, NULL},
	[MLA_CASE_PERSON_ARRESTED] = {{NULL}, NULL},
	[MLA_CASE_SURRENDER_CONSENTED] = {{NULL}, NULL},
};

/* Envelope version 2: version 1's column with the interim Kinds replaced by the Kinds of
 * their own and the Actions postponed, deadline-extended, person-arrested and
 * surrender-consented (SPEC 16.7); documents not
 * listed map as in v1. */
static const struct header_map v2[MLA_CASE_DOCTYPE_N] = {
	[MLA_CASE_SPONTANEOUS_INFORMATION] = {{"spontaneous-information"}, "request"},
	[MLA_CASE_PRODUCTION_ORDER] = {{"production-order"}, "request"},
	[MLA_CASE_PRESERVATION_ORDER] = {{"preservation-order"}, "request"},
	[MLA_CASE_POSTPONED] = {{NULL}, "postponed"},
	[MLA_CASE_DEADLINE_EXTENDED] = {{NULL}, "deadline-extended"},
	[MLA_CASE_PERSON_ARRESTED] = {{NULL}, "person-arrested"},
	[MLA_CASE_SURRENDER_CONSENTED] = {{NULL}, "surrender-consented"},
};

static const struct header_map *map_of(const mla_case_report *r, int version)
{
	if (version >= 2 && v2[r->type].action != NULL)
		return &v2[r->type];
	return &v1[r->type];
}

int mla_case_min_version(const mla_case_report *r)
{
	if (r->cls != MLA_CASE_VALID || (unsigned)r->type >= MLA_CASE_DOCTYPE_N)
		return 1;
	return v1[r->type].action == NULL ? 2 : 1;
}

static const char *action_of(const mla_case_report *r, int version)
{
	if (r->type == MLA_CASE_EXECUTION_REPORT && r->partial)
		return "partially-executed";
	return map_of(r, version)->action;
}

mla_err mla_case_header_for(const mla_case_report *r, int version, const char **kind,
			    const char **action, mla_diag *diag)
{
	*kind = NULL;
	*action = NULL;
	if (r->cls != MLA_CASE_VALID || (unsigned)r->type >= MLA_CASE_DOCTYPE_N ||
	    r->type == MLA_CASE_NONE)
		return mla_fail(diag, MLA_ERR_ARG, "no valid case document to map to a header");
	if (action_of(r, version) == NULL)
		return mla_fail(diag, MLA_ERR_HEADER, "a %s document needs envelope version %d",
				mla_case_doctype_name(r->type), mla_case_min_version(r));
	*kind = map_of(r, version)->kinds[0];
	*action = action_of(r, version);
	return MLA_OK;
}

static int kind_ok(const struct header_map *m, const char *kind)
{
	if (m->kinds[0] == NULL)
		return 1;
	for (size_t i = 0; i < KINDS_MAX && m->kinds[i] != NULL; i++)
		if (strcmp(m->kinds[i], kind) == 0)
			return 1;
	return 0;
}

mla_err mla_case_check_header(const mla_case_report *r, int version, const char *kind,
			      const char *action, mla_diag *diag)
{
	const char *want_kind, *want_action;
	mla_err e;

	if (r->cls == MLA_CASE_OPAQUE)
		return MLA_OK;
	if ((e = mla_case_header_for(r, version, &want_kind, &want_action, diag)) != MLA_OK)
		return e;
	if (strcmp(action, want_action) != 0 || !kind_ok(map_of(r, version), kind))
		return mla_fail(diag, MLA_ERR_HEADER,
				"header Kind %s, Action %s do not fit a %s document (Kind %s%s, Action %s)",
				kind, action, mla_case_doctype_name(r->type),
				want_kind != NULL ? want_kind : "of the request answered",
				want_kind != NULL && map_of(r, version)->kinds[1] != NULL
					? " or another listed"
					: "",
				want_action);
	return MLA_OK;
}
