/* The wall clock and the monotonic clock in milliseconds (see clock.h). */
#include <time.h>

#include "clock.h"

int64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_clock_step(struct gw_clock_watch *w, int64_t wall_ms, int64_t mono_ms)
{
	int64_t offset = wall_ms - mono_ms, step = 0;

	if (w->primed) {
		int64_t moved = offset - w->offset_ms, slew = (mono_ms - w->mono_ms) / 2000;
		if (moved > GW_CLOCK_STEP_MS + slew || moved < -(GW_CLOCK_STEP_MS + slew))
			step = moved;
	}
	/* a slow slew is followed reading by reading; only a jump counts */
	w->offset_ms = offset;
	w->mono_ms = mono_ms;
	w->primed = 1;
	return step;
}
