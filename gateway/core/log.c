/* Event log lines (see log.h; their text: log_line.c). One write per line so lines from
 * threads never interleave.
 * Repeats (gw_log_limited) are counted in a small table under a mutex: a failing disk or a
 * flood of refusals must not turn into thousands of identical lines a second. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>

#include "mlagw/codec.h"
#include "clock.h"
#include "log.h"

#define REPEAT_SLOTS 64 /* distinct (event, cause) pairs counted at once */
#define REPEAT_NAME_MAX 48

struct repeat {
	char event[REPEAT_NAME_MAX], cause[REPEAT_NAME_MAX]; /* event "": free */
	int64_t since_ms;    /* monotonic: when the last line of this pair was written */
	uint64_t suppressed; /* lines not written since then */
	enum gw_log_level level;
};

static char log_state[3] = "--";
static enum gw_log_level log_min = GW_LOG_INFO;
static pthread_mutex_t repeat_mu = PTHREAD_MUTEX_INITIALIZER;
static struct repeat repeats[REPEAT_SLOTS];
static int64_t repeat_interval_ms = GW_LOG_REPEAT_DEFAULT_MS;
/* set again by a detached daemon once its threads run (main.c): atomic */
static _Atomic int log_target = GW_LOG_TO_STDERR;

void gw_log_init(const char *state, enum gw_log_level min)
{
	if (state != NULL && strlen(state) == 2)
		memcpy(log_state, state, 3);
	log_min = min;
}

void gw_log_set_target(enum gw_log_target target)
{
	if (target == GW_LOG_TO_SYSLOG)
		openlog("mlagwd", LOG_PID, LOG_DAEMON); /* connects at the first line */
	atomic_store(&log_target, (int)target);
}

void gw_log_set_repeat_interval(uint64_t ms)
{
	pthread_mutex_lock(&repeat_mu);
	repeat_interval_ms = ms > 0 && ms < INT64_MAX ? (int64_t)ms : GW_LOG_REPEAT_DEFAULT_MS;
	pthread_mutex_unlock(&repeat_mu);
}

/* One write per line so lines from threads never interleave. */
static void emit(enum gw_log_level level, const char *event, const char *msgid,
		 const char *details, uint64_t suppressed)
{
	enum gw_log_target target = (enum gw_log_target)atomic_load(&log_target);
	char line[768];
	struct timeval tv;

	gettimeofday(&tv, NULL);
	gw_log_format(line, sizeof(line), target, level,
		      (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, log_state, event, msgid,
		      details, suppressed);
	if (target == GW_LOG_TO_SYSLOG)
		syslog(gw_log_priority(level), "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

static void vlog(enum gw_log_level level, const char *event, const char *msgid,
		 uint64_t suppressed, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void vlog(enum gw_log_level level, const char *event, const char *msgid,
		 uint64_t suppressed, const char *fmt, va_list ap)
{
	char details[512] = "";

	if (fmt != NULL) /* the one place a log line may be cut: on a character boundary, marked */
		(void)mla_vsnprintf_cut(details, sizeof(details), fmt, ap);
	emit(level, event, msgid, details, suppressed);
}

void gw_log(enum gw_log_level level, const char *event, const char *msgid, const char *fmt, ...)
{
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vlog(level, event, msgid, 0, fmt, ap);
	va_end(ap);
}

/* The summary line of a pair whose count no later line carried. Under repeat_mu. */
static void flush_slot(struct repeat *r)
{
	char details[REPEAT_NAME_MAX + 8];

	if (r->suppressed == 0)
		return;
	(void)mla_snprintf_cut(details, sizeof(details), "cause=%s", r->cause);
	emit(r->level, r->event, NULL, details, r->suppressed);
	r->suppressed = 0;
}

/* The slot of (event, cause), or a free one, or the least recently written (its pending count
 * written first). Under repeat_mu. */
static struct repeat *slot_for(const char *event, const char *cause, int *fresh)
{
	struct repeat *r, *old = &repeats[0];

	*fresh = 0;
	for (r = repeats; r < repeats + REPEAT_SLOTS; r++) {
		if (r->event[0] != '\0' && strcmp(r->event, event) == 0 &&
		    strcmp(r->cause, cause) == 0)
			return r;
		if (r->event[0] == '\0' || (old->event[0] != '\0' && r->since_ms < old->since_ms))
			old = r;
	}
	flush_slot(old);
	memset(old, 0, sizeof(*old));
	(void)mla_snprintf_cut(old->event, sizeof(old->event), "%s", event);
	(void)mla_snprintf_cut(old->cause, sizeof(old->cause), "%s", cause);
	*fresh = 1;
	return old;
}

void gw_log_limited(enum gw_log_level level, const char *event, const char *cause,
		    const char *msgid, const char *fmt, ...)
{
	int64_t now = gw_mono_ms();
	uint64_t suppressed = 0;
	struct repeat *r;
	va_list ap;
	int fresh;

	if (level < log_min)
		return;
	pthread_mutex_lock(&repeat_mu);
	r = slot_for(event, cause != NULL ? cause : "", &fresh);
	if (!fresh && now - r->since_ms < repeat_interval_ms) {
		r->suppressed++;
		pthread_mutex_unlock(&repeat_mu);
		return;
	}
	suppressed = r->suppressed;
	r->suppressed = 0;
	r->since_ms = now;
	r->level = level;
	pthread_mutex_unlock(&repeat_mu);
	va_start(ap, fmt);
	vlog(level, event, msgid, suppressed, fmt, ap);
	va_end(ap);
}

void gw_log_flush_repeats(void)
{
	int64_t now = gw_mono_ms();

	pthread_mutex_lock(&repeat_mu);
	for (struct repeat *r = repeats; r < repeats + REPEAT_SLOTS; r++) {
		if (r->event[0] == '\0' || now - r->since_ms < repeat_interval_ms)
			continue;
		if (r->suppressed == 0) {
			memset(r, 0, sizeof(*r)); /* quiet for a whole interval: the slot is free */
			continue;
		}
		flush_slot(r);
		r->since_ms = now;
	}
	pthread_mutex_unlock(&repeat_mu);
}
