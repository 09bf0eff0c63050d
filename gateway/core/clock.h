/* The daemon's two clocks, in milliseconds: a leaf every subsystem may use (no struct gw,
 * no other subsystem). */
#ifndef MLAGW_GATEWAY_CLOCK_H
#define MLAGW_GATEWAY_CLOCK_H

#include <stdint.h>

/* Milliseconds since the epoch (wall clock: stored and compared with peers' times). It may
 * step either way at any time (an operator, a bad time server): nothing that must not go
 * back may take it as it is (audit entry times are held non-decreasing, tlog/audit.c). */
int64_t gw_now_ms(void);
/* Milliseconds of a clock that never steps back: for rates, intervals and timeouts. */
int64_t gw_mono_ms(void);

/* A step of the wall clock is a change of its offset from the monotonic clock beyond what a
 * time server's slewing can do: GW_CLOCK_STEP_MS, plus 500 ppm (Linux's largest slew) of the
 * time since the previous reading. */
#define GW_CLOCK_STEP_MS 1000

struct gw_clock_watch {
	int64_t offset_ms; /* wall minus monotonic at the previous reading */
	int64_t mono_ms;   /* the monotonic clock then */
	int primed;        /* there was a previous reading */
};

/* Takes a reading of both clocks (wall_ms, mono_ms, read together) and returns by how much
 * the wall clock stepped since the previous reading (negative: back), 0 when it did not. */
int64_t gw_clock_step(struct gw_clock_watch *w, int64_t wall_ms, int64_t mono_ms);

#endif
