/* Crypto worker threads. Sealing, opening and receipt work runs off the event loop so a
 * gateway uses every core; results come back to the loop thread, which alone touches the
 * store and the network. */
#ifndef MLAGW_GATEWAY_POOL_H
#define MLAGW_GATEWAY_POOL_H

#include <event2/event.h>

#include "crypto_set.h"

struct gw_job;
/* Runs in a worker with that worker's key set (NULL if it could not be loaded: the job must
 * then fail cleanly). */
typedef void (*gw_job_run)(struct gw_job *job, struct gw_crypto *crypto);
/* Runs in the event loop thread after run; owns the job afterwards. */
typedef void (*gw_job_done)(struct gw_job *job);

struct gw_job {
	gw_job_run run;
	gw_job_done done;
	/* Scheduling, set before gw_pool_submit (a zeroed job is local and normal): lane names
	 * whose untrusted bytes the job parses, a peer State, or "" for this State's own work.
	 * One lane never holds every worker (all but one at most), so a hostile peer whose bodies
	 * are costly cannot stall the others; urgent jobs (urgent and crisis priority) go before
	 * any normal one, each lane taking its turn. */
	char lane[3];
	int urgent;
	struct gw_snapshot *snap; /* referenced by the job; released by gw_job_release */
	struct gw_job *next;
};

struct gw_pool;

/* Called in the loop thread around each drain of completed jobs (group commit). */
typedef void (*gw_batch_hook)(void *arg);

/* Starts n worker threads (n >= 1); begin/end may be NULL. */
struct gw_pool *gw_pool_new(struct event_base *base, unsigned n, gw_batch_hook begin,
			    gw_batch_hook end, void *hook_arg);
/* Queues a job; snap is referenced. */
void gw_pool_submit(struct gw_pool *p, struct gw_job *job, struct gw_snapshot *snap);
/* Jobs queued or running. */
unsigned gw_pool_pending(const struct gw_pool *p);
/* Stops the threads after the queue drains and runs the remaining done callbacks. */
void gw_pool_free(struct gw_pool *p);
/* Releases the job's snapshot reference (call from done before freeing the job). */
void gw_job_release(struct gw_job *job);

#endif
