/* The text of a log line per target, and how the daemon learns that standard error is the
 * journal (see log.h). The journal and syslog keep their own time stamps, so the line they
 * get is the standard-error line without its time; the journal reads its priority from the
 * sd-daemon(3) prefix "<N>", syslog from syslog(3)'s argument. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "log.h"

static const char *level_name(enum gw_log_level l)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	return (unsigned)l < 4 ? names[l] : "info";
}

int gw_log_priority(enum gw_log_level level)
{
	switch (level) {
	case GW_LOG_DEBUG: return LOG_DEBUG;
	case GW_LOG_WARN: return LOG_WARNING;
	case GW_LOG_ERROR: return LOG_ERR;
	default: return LOG_INFO;
	}
}

void gw_log_format(char *out, size_t n, enum gw_log_target target, enum gw_log_level level,
		   int64_t now_ms, const char *state, const char *event, const char *msgid,
		   const char *details, uint64_t suppressed)
{
	char head[MLA_TIME_MS_LEN + 8] = "", count[32] = "";

	if (target == GW_LOG_TO_STDERR) {
		mla_time_ms_format(now_ms, head);
		head[MLA_TIME_MS_LEN - 1] = ' ';
		head[MLA_TIME_MS_LEN] = '\0';
	} else if (target == GW_LOG_TO_JOURNAL) {
		(void)mla_snprintf_cut(head, sizeof(head), "<%d>", gw_log_priority(level));
	}
	if (suppressed > 0)
		(void)mla_snprintf_cut(count, sizeof(count), " suppressed=%llu",
				       (unsigned long long)suppressed);
	(void)mla_snprintf_cut(out, n, "%s%s %s %s msg=%s %s%s", head, level_name(level), state,
			       event, msgid != NULL && msgid[0] ? msgid : "-", details, count);
}

int gw_log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM"), *colon;
	uint64_t dev, ino;
	struct stat st;

	if (js == NULL || (colon = strchr(js, ':')) == NULL || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	if (mla_parse_u64n(js, (size_t)(colon - js), 0, UINT64_MAX, &dev) != MLA_OK ||
	    mla_parse_u64(colon + 1, 0, UINT64_MAX, &ino) != MLA_OK)
		return 0;
	return (uint64_t)st.st_dev == dev && (uint64_t)st.st_ino == ino;
}
