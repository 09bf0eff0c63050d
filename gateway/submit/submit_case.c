/* A case document checked before sealing (protocol/SPEC.md section 16): a document that
 * declares a case schema must follow it, every problem listed by path; its type must agree
 * with the header's Kind and Action; a document that declares none is opaque, sealed as it is
 * unless [cases] opaque = refuse. Runs in the sealing worker: validation costs like parsing. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mlagw/case.h"
#include "mlagw/codec.h"
#include "mlagw/notice.h"
#include "submit.h"

/* The problems as a JSON array of {path, code, detail}, the count beyond them as a last
 * {"more": n}; NULL when out of memory. */
static char *problems_json(const mla_case_report *rep)
{
	json_t *a = json_array();
	char *s = NULL;

	for (size_t i = 0; a != NULL && i < rep->n; i++) {
		const mla_case_problem *p = &rep->problems[i];
		json_t *o = json_pack("{s:s, s:s}", "path", p->path, "code",
				      mla_case_code_name(p->code));

		if (o != NULL && p->detail[0] != '\0')
			(void)json_object_set_new(o, "detail", json_string(p->detail));
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	if (a != NULL && rep->more > 0)
		(void)json_array_append_new(a, json_pack("{s:I}", "more", (json_int_t)rep->more));
	if (a != NULL)
		s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* ", peer CO reads envelope version 1 ([peer CO] envelope_versions)" appended to diag's
 * message: a refusal for the version the peer reads names it. */
static mla_err name_peer_version(const struct gw_config *c, const mla_header *h,
				 mla_diag *diag)
{
	const struct gw_peer *peer = gw_config_peer(c, h->to_state);
	char why[MLA_DIAG_MAX], versions[16] = "";

	if (peer != NULL)
		gw_config_envelope_versions_text(peer, versions, sizeof(versions));
	(void)mla_snprintf_cut(why, sizeof(why), "%s", mla_diag_message(diag));
	return mla_fail(diag, MLA_ERR_HEADER,
			"%s; peer %s reads envelope version %s ([peer %s] envelope_versions)", why,
			h->to_state, versions, h->to_state);
}

mla_err submit_case_check(const uint8_t *doc, size_t len, const mla_header *h,
			  const struct gw_config *c, char **problems, mla_diag *diag)
{
	mla_case_report *rep = calloc(1, sizeof(*rep));
	int version = mla_header_version(h);
	mla_err r;

	*problems = NULL;
	if (rep == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if (mla_notice_is_action(h->action)) { /* the gateway's own notice (SPEC 16.10) */
		mla_notice n;

		free(rep);
		return mla_notice_parse(doc, len, &c->limits, &n, diag);
	}
	if (strcmp(h->action, MLA_OTHER_CHANNEL_ACTION) == 0) { /* a record (SPEC 16.11) */
		mla_other_channel o;

		free(rep);
		return mla_other_channel_parse(doc, len, &c->limits, &o, diag);
	}
	r = mla_case_check(doc, len, &c->limits, c->cases_refuse_opaque, version, h->kind,
			   h->action, rep, diag);
	if (r != MLA_OK && rep->cls == MLA_CASE_INVALID)
		*problems = problems_json(rep);
	/* a document this version cannot carry (Postponed to a peer on version 1) */
	if (r == MLA_ERR_HEADER && rep->cls == MLA_CASE_VALID &&
	    mla_case_min_version(rep) > version)
		r = name_peer_version(c, h, diag);
	free(rep);
	return r;
}

mla_err submit_set_version(const struct gw_config *c, mla_header *h, mla_diag *diag)
{
	const struct gw_peer *peer = gw_config_peer(c, h->to_state);
	char versions[16] = "";
	int v;

	if (peer == NULL)
		return mla_fail(diag, MLA_ERR_UNKNOWN_PEER, "%s is not a configured peer",
				h->to_state);
	if ((v = gw_config_envelope_version(c, peer)) == 0) {
		gw_config_envelope_versions_text(peer, versions, sizeof(versions));
		return mla_fail(diag, MLA_ERR_UNSUPPORTED_VERSION,
				"peer %s reads envelope version %s, below [gateway] "
				"envelope_min_version %u: nothing can be sealed for it",
				h->to_state, versions, c->envelope_min_version);
	}
	h->version = v;
	if (mla_header_check(h, diag) != MLA_OK)
		return name_peer_version(c, h, diag);
	return MLA_OK;
}
