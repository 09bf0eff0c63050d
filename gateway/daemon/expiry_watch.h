/* Expiry warnings in the daemon (protocol/SPEC.md 18.8): at start, after each reload and
 * every [expiry] check_interval, a worker lists what expires (this gateway's certificates, the
 * trusted roots, the peers' certificates configured or from the signed directory, the
 * directory itself), warns once of each threshold an item reaches (log line and the [expiry]
 * command) and hands the list to the loop (g->expiry) for /healthz and /metrics. */
#ifndef MLAGW_GATEWAY_EXPIRY_WATCH_H
#define MLAGW_GATEWAY_EXPIRY_WATCH_H

#include "core/expiry.h"
#include "core/gw.h"

struct gw_expiry_watch {
	int busy;              /* a check is with a worker */
	unsigned gen;          /* the configuration generation last checked */
	int64_t next_mono_ms;  /* the next check, on the monotonic clock */
	/* what has been warned of: touched only by the one check running */
	struct gw_expiry_fired *fired;
};

/* Called by the daemon's tick (loop thread): starts a check when one is due. */
void expiry_watch_tick(struct gw *g, struct gw_expiry_watch *w);
/* Frees what w holds and g->expiry (at the stop, after the pool). */
void expiry_watch_free(struct gw *g, struct gw_expiry_watch *w);

#endif
