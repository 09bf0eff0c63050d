/* The competent authority of a request's destination, before sealing (SPEC 18.6; see
 * directory_check.h). Worker threads call it on their snapshot's directory, read only. */
#include <string.h>

#include "directory_check.h"
#include "mlagw/case.h"

/* Whether a accepts the document's language or that of a translation attached. */
static int accepted(const mla_dir_authority *a, const mla_case_langs *l)
{
	if (mla_dir_authority_accepts(a, l->lang, NULL) == MLA_OK)
		return 1;
	for (size_t i = 0; i < l->n_translations; i++)
		if (mla_dir_authority_accepts(a, l->translations[i], NULL) == MLA_OK)
			return 1;
	return 0;
}

mla_err gw_directory_admits(const mla_directory *dir, const mla_header *h, const uint8_t *doc,
			    size_t len, const mla_limits *limits, mla_diag *d)
{
	const mla_dir_authority *a = NULL;
	mla_case_langs l;
	mla_diag why = {MLA_OK, ""};
	mla_err r;

	/* only new requests; a State outside the directory is configured on purpose */
	if (dir == NULL || strcmp(h->action, "request") != 0 ||
	    mla_directory_find(dir, h->to_state) == NULL)
		return MLA_OK;
	if ((r = mla_directory_authority(dir, h->to_state, h->kind, &a, d)) != MLA_OK)
		return r; /* no-authority, naming the State, the kind and the serial */
	if ((r = mla_case_languages(doc, len, limits, &l, d)) != MLA_OK)
		return r;
	if (l.lang[0] == '\0' || accepted(a, &l))
		return MLA_OK; /* an opaque document states no language */
	(void)mla_dir_authority_accepts(a, l.lang, &why);
	return mla_fail(d, MLA_ERR_LANGUAGE, "%s: %s%s", h->to_state, why.msg,
			l.n_translations > 0 ? "; no translation attached is in a language it "
			"accepts" : "; no translation attached");
}
