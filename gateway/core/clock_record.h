/* Which steps of the wall clock become a clock-stepped audit entry, and its reason (SPEC 14
 * "Time never goes back"): at most one entry a minute, the next one summing the steps since;
 * an entry rolled back with its group is owed again. Pure bookkeeping, unit-tested. */
#ifndef MLAGW_GATEWAY_CLOCK_RECORD_H
#define MLAGW_GATEWAY_CLOCK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

/* An oscillating clock is stepped at every reading: one entry per minute at most. */
#define GW_CLOCK_RECORD_GAP_MS 60000

struct gw_clock_record {
	int64_t sum_ms;         /* the steps not in an entry yet, summed (negative: back) */
	uint32_t count;         /* how many */
	int64_t flight_sum_ms;  /* those in an entry whose group is not committed yet */
	uint32_t flight_count;
	int64_t last_mono_ms;   /* the monotonic clock at the latest entry */
	int written;            /* there was one this run (else the next is due at once) */
};

/* A detected step (gw_clock_step's non-zero result). */
void gw_clock_record_add(struct gw_clock_record *c, int64_t step_ms);
/* Whether an entry is owed and may be written now (mono_ms: the monotonic clock); with
 * force (a clean stop), whether one is owed at all. */
int gw_clock_record_due(const struct gw_clock_record *c, int64_t mono_ms, int force);
/* The owed entry's reason: "step <signed ms> ms", or with more than one step
 * "step <summed signed ms> ms (<n> steps)". MLA_ERR_TOO_LARGE if n is too small. */
mla_err gw_clock_record_reason(const struct gw_clock_record *c, char *out, size_t n);
/* The owed steps went into an entry written at mono_ms, not yet durable. */
void gw_clock_record_take(struct gw_clock_record *c, int64_t mono_ms);
/* That entry's group committed (it is recorded) or was rolled back (owed again, at once). */
void gw_clock_record_settle(struct gw_clock_record *c, int committed);
/* The reason of the entry for a start behind the latest entry by behind_ms (> 0):
 * "behind latest entry <ms> ms". */
mla_err gw_clock_record_behind_reason(int64_t behind_ms, char *out, size_t n);

#endif
