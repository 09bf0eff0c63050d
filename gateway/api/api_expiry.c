/* What expires and how soon (protocol/SPEC.md 18.8) in /healthz and /metrics, from the list
 * the daemon's last check left in g->expiry. */
#include <limits.h>

#include "api_server.h"
#include "core/expiry.h"
#include "mlagw/codec.h"

static json_t *item_json(const struct gw_expiry_item *it)
{
	char at[MLA_TIME_LEN];

	mla_time_format(it->not_after, at);
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "what", gw_expiry_what_name(it->what),
			 "name", it->name, "subject", it->subject, "not_after", at, "days_left",
			 it->days_left, "threshold", it->threshold < 0 ? 0 : it->threshold);
}

json_t *api_expiry_json(const struct gw *g, int *warnings)
{
	const struct gw_expiry_list *l = g->expiry;
	json_t *list = json_array();

	*warnings = 0;
	for (size_t i = 0; list != NULL && l != NULL && i < l->n; i++) {
		if (l->items[i].threshold == GW_EXPIRY_NONE)
			continue;
		(*warnings)++;
		if (json_array_append_new(list, item_json(&l->items[i])) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return json_pack("{s:b, s:I, s:I, s:o*}", "checked", l != NULL, "items",
			 (json_int_t)(l != NULL ? l->n : 0), "unchecked",
			 (json_int_t)(l != NULL ? l->dropped : 0), "warnings", list);
}

mla_err api_expiry_metrics(const struct gw *g, mla_buf *b)
{
	const struct gw_expiry_list *l = g->expiry;
	time_t now = (time_t)(gw_now_ms() / 1000);
	size_t warned = 0;
	mla_err e;

	if (l == NULL)
		return MLA_OK;
	e = mla_buf_append_str(b, "# HELP mlagw_expiry_seconds Seconds until a certificate or "
				  "the signed directory expires (SPEC 18.8); negative past it.\n"
				  "# TYPE mlagw_expiry_seconds gauge\n");
	for (size_t i = 0; i < l->n && e == MLA_OK; i++) {
		warned += l->items[i].threshold != GW_EXPIRY_NONE;
		e = mla_buf_printf(b, "mlagw_expiry_seconds{what=\"%s\",name=\"%s\"} %lld\n",
				   gw_expiry_what_name(l->items[i].what), l->items[i].name,
				   (long long)(l->items[i].not_after - now));
	}
	if (e == MLA_OK)
		e = mla_buf_printf(b, "# HELP mlagw_expiry_warnings Certificates and directories "
				      "within a warning threshold of their expiry, or past it.\n"
				      "# TYPE mlagw_expiry_warnings gauge\n"
				      "mlagw_expiry_warnings %zu\n", warned);
	return e;
}
