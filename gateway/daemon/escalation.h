/* The escalation of case deadlines in the daemon (protocol/SPEC.md 16.9): now and then the
 * loop finds the next threshold due (crisis and urgent cases first) and hands its hook run to
 * a worker; once the run is over, whatever its outcome, the loop records the threshold as
 * fired in the store and looks again. One run at a time, so that thresholds fire in order. */
#ifndef MLAGW_GATEWAY_ESCALATION_H
#define MLAGW_GATEWAY_ESCALATION_H

#include "core/gw.h"

struct gw_escalator {
	int busy;        /* a run is with a worker */
	int again;       /* the last look found work: look again at the next tick */
	unsigned ticks;  /* ticks since the last look */
};

/* Called by the daemon's tick (loop thread): looks for a threshold due when it is time to. */
void escalation_tick(struct gw *g, struct gw_escalator *x);

#endif
