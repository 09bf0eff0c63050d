/* Retrieval notices in the daemon (protocol/SPEC.md 16.10): now and then the loop asks the
 * store for the next notice owed (a first reading without its retrieved notice, a request
 * unread for [cases] not_retrieved_after without its not-retrieved notice), reserves its
 * MessageId there, and hands it to the one submission pipeline as the gateway's own message.
 * One notice at a time; a reserved notice that never reached the outbox (a crash, a failed
 * sealing) is sent again under the same id, so each is sent once. */
#ifndef MLAGW_GATEWAY_NOTICES_H
#define MLAGW_GATEWAY_NOTICES_H

#include "core/gw.h"

struct gw_notifier {
	int busy;    /* a notice is with the submission pipeline */
	int orphans; /* look for reserved notices missing from the outbox (at start, after a
		      * failure) */
};

/* Called by the daemon's tick (loop thread). */
void notices_tick(struct gw *g, struct gw_notifier *x);

#endif
