/* The daemon's two clocks, in milliseconds: a leaf every subsystem may use (no struct gw,
 * no other subsystem). */
#ifndef MLAGW_GATEWAY_CLOCK_H
#define MLAGW_GATEWAY_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch (wall clock: stored and compared with peers' times). */
int64_t gw_now_ms(void);
/* Milliseconds of a clock that never steps back: for rates and intervals. */
int64_t gw_mono_ms(void);

#endif
