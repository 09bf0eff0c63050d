/* The store's health as the daemon reports it (see gw.h, gw_store_watch): one log line when
 * the store starts failing and one when it works again, however many errors in between (the
 * errors themselves are rate-limited, log.h), and a probe write while it fails. */
#include "gw.h"
#include "log.h"

static int seen_failing; /* what the last line said: the loop thread only */

void gw_store_watch(struct gw *g, struct store_health *out)
{
	struct store_health h;
	mla_diag d = {MLA_OK, ""};

	if (g->store == NULL)
		return;
	store_health_get(g->store, &h);
	if (h.failing && !gw_batch_is_open(g)) {
		(void)store_probe(g->store, &d); /* a failure is counted in the health itself */
		store_health_get(g->store, &h);
	}
	if (h.failing && !seen_failing)
		gw_log(GW_LOG_ERROR, "store-failing", NULL, "errors=%llu reason=\"%s\"",
		       (unsigned long long)h.errors, h.reason);
	else if (!h.failing && seen_failing)
		gw_log(GW_LOG_INFO, "store-recovered", NULL, "errors=%llu",
		       (unsigned long long)h.errors);
	seen_failing = h.failing;
	if (out != NULL)
		*out = h;
}
