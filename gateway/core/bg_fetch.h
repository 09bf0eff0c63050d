/* What the gateway's scheduled fetchers share (the directory, daemon/dir_fetch.c; CRLs and
 * OCSP answers, revoc_fetch.c): one HTTP transfer with libcurl, bounded in size and time and
 * abortable, and the schedule that runs a job on a thread of its own off the event loop and
 * hands the result back to the loop thread. */
#ifndef MLAGW_GATEWAY_BG_FETCH_H
#define MLAGW_GATEWAY_BG_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "mlagw/buf.h"

/* One transfer. GET, or POST of post[0..post_len) as post_type. */
struct bg_http {
	const char *url;
	const char *protocols;   /* libcurl's list: "https", or "http,https" */
	const mla_buf *ca;       /* PEM roots for https; NULL: the system's */
	const char *post_type;   /* NULL for GET */
	const uint8_t *post;
	size_t post_len;
	uint64_t connect_ms, total_ms;
	size_t max;              /* the body's bound (also body's own maximum) */
	volatile int *abort;     /* non-zero stops the transfer at its next progress */
};

/* 1 with the body on HTTP 200; 0 with why in err. Blocking: never on the loop thread. */
int bg_http_fetch(const struct bg_http *req, mla_buf *body, char *err, size_t err_len);

/* A job run on a thread of its own: prepare (loop thread) says whether to start it now,
 * run (its thread) does the slow part, done (loop thread) takes the result and usually
 * calls bg_job_arm again. One run at a time. */
struct bg_job;
mla_err bg_job_new(struct event_base *base, int (*prepare)(void *), void (*run)(void *),
		   void (*done)(void *), void *arg, struct bg_job **out);
/* prepare is called in ms milliseconds (0: at the next loop turn); it does nothing while
 * a run is under way. */
void bg_job_arm(struct bg_job *j, uint64_t ms);
/* Waits for a run under way (set the abort flag its run reads first), frees. NULL-safe. */
void bg_job_free(struct bg_job *j);

#endif
