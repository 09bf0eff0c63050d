/* The store's scheduled integrity check (integrity.c): every [store] check_interval a thread
 * runs quick_check and re-reads the audit log (store/store_check.h) on its own read-only
 * connection, so the event loop never waits for it; the result comes back through the loop.
 * A failure is an alert, an error line "store-damaged", and a gateway that refuses new
 * submissions and receptions with 503 (gw_store_damage) instead of writing on a damaged
 * store; a pass is recorded (meta "checked_at") so that a start within the interval need not
 * repeat quick_check. */
#ifndef MLAGW_GATEWAY_INTEGRITY_H
#define MLAGW_GATEWAY_INTEGRITY_H

#include "gw.h"

/* Arms the timer at the current snapshot's interval. */
mla_err gw_integrity_start(struct gw *g, mla_diag *d);
/* After a reload: the new interval from the next period on. */
void gw_integrity_reload(struct gw *g);
/* Stops a check in progress (interrupting its query) and frees. */
void gw_integrity_free(struct gw *g);
/* Runs a check now unless one is running (tests, the API). */
void gw_integrity_run(struct gw *g);

#endif
