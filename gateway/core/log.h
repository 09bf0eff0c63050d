/* One log line per event: time, level, State, event, message id and key=value details, to
 * standard error, to the journal (standard error with sd-daemon "<N>" priority prefixes, the
 * time left to the journal) or to syslog(3). Never secrets or document content: callers pass
 * metadata only. */
#ifndef MLAGW_GATEWAY_LOG_H
#define MLAGW_GATEWAY_LOG_H

#include <stddef.h>
#include <stdint.h>

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR };
/* Where the lines go (mlagwd(8), LOGGING): the same line in each, less what the target adds
 * itself (the journal and syslog stamp the time; syslog adds the priority and "mlagwd[PID]"). */
enum gw_log_target { GW_LOG_TO_STDERR, GW_LOG_TO_JOURNAL, GW_LOG_TO_SYSLOG };

void gw_log_init(const char *state, enum gw_log_level min);
/* Standard error until called; GW_LOG_TO_SYSLOG opens the log as "mlagwd" (LOG_PID,
 * LOG_DAEMON). Called at start, and by a detached daemon once standard error is /dev/null. */
void gw_log_set_target(enum gw_log_target target);
/* 1 when $JOURNAL_STREAM ("DEV:INODE") names the file standard error is: systemd connected it
 * to the journal, which then needs no time stamp but a priority prefix on each line. */
int gw_log_stderr_is_journal(void);
/* The line for target, without its newline, into out (cut visibly when too long): what
 * gw_log writes; separate so the formats are tested without a journal or syslog. */
void gw_log_format(char *out, size_t n, enum gw_log_target target, enum gw_log_level level,
		   int64_t now_ms, const char *state, const char *event, const char *msgid,
		   const char *details, uint64_t suppressed);
/* syslog(3) priority of a level: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR. The journal's
 * "<N>" prefix is the same number. */
int gw_log_priority(enum gw_log_level level);
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
