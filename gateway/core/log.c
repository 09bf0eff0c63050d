/* Event log lines (see log.h). One fprintf per line so lines from threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "mlagw/codec.h"
#include "log.h"

static char log_state[3] = "--";
static enum gw_log_level log_min = GW_LOG_INFO;

void gw_log_init(const char *state, enum gw_log_level min)
{
	if (state != NULL && strlen(state) == 2)
		memcpy(log_state, state, 3);
	log_min = min;
}

static const char *level_name(enum gw_log_level l)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	return (unsigned)l < 4 ? names[l] : "info";
}

void gw_log(enum gw_log_level level, const char *event, const char *msgid, const char *fmt, ...)
{
	char details[512] = "", stamp[MLA_TIME_MS_LEN];
	struct timeval tv;
	va_list ap;

	if (level < log_min)
		return;
	gettimeofday(&tv, NULL);
	mla_time_ms_format((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, stamp);
	if (fmt != NULL) {
		va_start(ap, fmt);
		/* the one place a log line may be cut: on a character boundary, marked */
		(void)mla_vsnprintf_cut(details, sizeof(details), fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "%s %s %s %s msg=%s %s\n", stamp, level_name(level), log_state, event,
		msgid != NULL && msgid[0] ? msgid : "-", details);
}
