/* One log line per event, to standard error: time, level, State, event, message id and
 * key=value details. Never secrets or document content: callers pass metadata only. */
#ifndef MLAGW_GATEWAY_LOG_H
#define MLAGW_GATEWAY_LOG_H

#include <stdint.h>

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR };

void gw_log_init(const char *state, enum gw_log_level min);
/* msgid may be NULL ("-" is printed). fmt is for the details. */
void gw_log(enum gw_log_level level, const char *event, const char *msgid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Repeated lines: at most one line per (event, cause) per interval (gw_log_set_repeat_interval,
 * [limits] log_repeat_interval); the others are counted, and the next line of the pair
 * carries " suppressed=N" (how many were not written since the previous one). Counts left
 * when a pair goes quiet are written by gw_log_flush_repeats as "EVENT msg=- cause=CAUSE
 * suppressed=N". At most 64 pairs are counted at once (the least recently written one is
 * flushed to make room). Thread-safe, as gw_log. cause is a short fixed name (an operation,
 * an audit event), never a message id or data. */
#define GW_LOG_REPEAT_DEFAULT_MS 10000
void gw_log_limited(enum gw_log_level level, const char *event, const char *cause,
		    const char *msgid, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void gw_log_set_repeat_interval(uint64_t ms);
/* Writes the pending counts of pairs quiet for an interval; called every second. */
void gw_log_flush_repeats(void);

#endif
