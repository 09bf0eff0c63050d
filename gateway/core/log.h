/* One log line per event, to standard error: time, level, State, event, message id and
 * key=value details. Never secrets or document content: callers pass metadata only. */
#ifndef MLAGW_GATEWAY_LOG_H
#define MLAGW_GATEWAY_LOG_H

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR };

void gw_log_init(const char *state, enum gw_log_level min);
/* msgid may be NULL ("-" is printed). fmt is for the details. */
void gw_log(enum gw_log_level level, const char *event, const char *msgid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
