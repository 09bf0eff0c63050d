/* The bookkeeping from detected wall clock steps to clock-stepped audit entries: the cap of
 * one entry a minute, the summed reason, an entry owed again after a rollback (see
 * clock_record.h). */
#include <stdint.h>

#include "mlagw/codec.h"
#include "clock_record.h"

/* Sums that cannot wrap: a saturated sum still says the direction and that it was huge. */
static int64_t add_ms(int64_t a, int64_t b)
{
	int64_t s;

	if (__builtin_add_overflow(a, b, &s))
		s = b < 0 ? INT64_MIN : INT64_MAX;
	return s;
}

static uint32_t add_count(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void gw_clock_record_add(struct gw_clock_record *c, int64_t step_ms)
{
	c->sum_ms = add_ms(c->sum_ms, step_ms);
	c->count = add_count(c->count, 1);
}

int gw_clock_record_due(const struct gw_clock_record *c, int64_t mono_ms, int force)
{
	if (c->count == 0)
		return 0;
	return force || !c->written || mono_ms - c->last_mono_ms >= GW_CLOCK_RECORD_GAP_MS;
}

mla_err gw_clock_record_reason(const struct gw_clock_record *c, char *out, size_t n)
{
	if (c->count <= 1)
		return mla_snprintf(out, n, "step %lld ms", (long long)c->sum_ms);
	return mla_snprintf(out, n, "step %lld ms (%lu steps)", (long long)c->sum_ms,
			    (unsigned long)c->count);
}

void gw_clock_record_take(struct gw_clock_record *c, int64_t mono_ms)
{
	c->flight_sum_ms = add_ms(c->flight_sum_ms, c->sum_ms);
	c->flight_count = add_count(c->flight_count, c->count);
	c->sum_ms = 0;
	c->count = 0;
	c->last_mono_ms = mono_ms;
	c->written = 1;
}

void gw_clock_record_settle(struct gw_clock_record *c, int committed)
{
	if (!committed && c->flight_count > 0) {
		c->sum_ms = add_ms(c->sum_ms, c->flight_sum_ms);
		c->count = add_count(c->count, c->flight_count);
		c->written = 0; /* its place in the minute went with it */
	}
	c->flight_sum_ms = 0;
	c->flight_count = 0;
}

mla_err gw_clock_record_behind_reason(int64_t behind_ms, char *out, size_t n)
{
	return mla_snprintf(out, n, "behind latest entry %lld ms", (long long)behind_ms);
}
