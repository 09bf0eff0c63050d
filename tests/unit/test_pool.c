/* Unit tests of the crypto worker pool's lanes (gateway/core/pool.c; issue 10 finding 2): one
 * peer's jobs never hold every worker, and urgent jobs go before normal ones. Jobs here block
 * until released, so what runs at once is observed, not timed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "conf/config.h"
#include "core/pool.h"

struct probe {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int released[2];      /* lanes "XX" and "YY" hold their workers until released */
	unsigned running[4]; /* by lane index: 0 "XX", 1 "YY", 2 local */
	unsigned peak_xx;
	char order[32];      /* the lane letters in the order jobs started */
	size_t n_order;
	unsigned done;
};

struct tjob {
	struct gw_job job;
	struct probe *p;
	int idx;
	char tag;
};

static void tjob_run(struct gw_job *job, struct gw_crypto *crypto)
{
	struct tjob *t = (struct tjob *)job;
	struct probe *p = t->p;

	(void)crypto;
	pthread_mutex_lock(&p->lock);
	p->running[t->idx]++;
	if (t->idx == 0 && p->running[0] > p->peak_xx)
		p->peak_xx = p->running[0];
	if (p->n_order < sizeof(p->order) - 1)
		p->order[p->n_order++] = t->tag;
	pthread_cond_broadcast(&p->cond);
	while (t->idx < 2 && !p->released[t->idx])
		pthread_cond_wait(&p->cond, &p->lock); /* the peers' jobs hold their worker */
	p->running[t->idx]--;
	pthread_mutex_unlock(&p->lock);
}

static void tjob_done(struct gw_job *job)
{
	struct tjob *t = (struct tjob *)job;

	t->p->done++;
	gw_job_release(job);
	free(t);
}

static void submit(struct gw_pool *pool, struct gw_snapshot *snap, struct probe *p,
		   const char *lane, int idx, int urgent, char tag)
{
	struct tjob *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->job.run = tjob_run;
	t->job.done = tjob_done;
	memcpy(t->job.lane, lane, strlen(lane) + 1);
	t->job.urgent = urgent;
	t->p = p;
	t->idx = idx;
	t->tag = tag;
	gw_pool_submit(pool, &t->job, snap);
}

/* Waits (bounded) until pred holds under the probe's lock. */
static int wait_for(struct probe *p, int (*pred)(struct probe *))
{
	struct timespec until;
	int ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&p->lock);
	while (!(ok = pred(p)) && pthread_cond_timedwait(&p->cond, &p->lock, &until) == 0)
		;
	ok = pred(p);
	pthread_mutex_unlock(&p->lock);
	return ok;
}

/* Every worker is busy: the flooding peer on as many as it may, the other peer on the rest. */
static int all_busy(struct probe *p)
{
	return p->running[0] == 2 && p->running[1] == 1;
}

static int locals_done(struct probe *p)
{
	return memchr(p->order, 'u', p->n_order) != NULL && memchr(p->order, 'l', p->n_order);
}

static void test_one_lane_never_holds_every_worker(void **state)
{
	struct event_base *base;
	struct gw_config cfg;
	struct gw_snapshot *snap;
	struct gw_pool *pool;
	struct probe p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	assert_int_equal(evthread_use_pthreads(), 0);
	assert_non_null(base = event_base_new());
	gw_config_defaults(&cfg);
	assert_non_null(snap = gw_snapshot_new(&cfg, 1));
	assert_non_null(pool = gw_pool_new(base, 3, NULL, NULL, NULL));
	/* a hostile peer floods first: ten jobs that hold their worker; then another peer's */
	for (int i = 0; i < 10; i++)
		submit(pool, snap, &p, "XX", 0, 0, 'x');
	submit(pool, snap, &p, "YY", 1, 0, 'y');
	assert_true(wait_for(&p, all_busy)); /* XX on two workers only: YY got the third */
	/* with no worker free, a normal local job and then an urgent one are queued */
	submit(pool, snap, &p, "", 2, 0, 'l');
	submit(pool, snap, &p, "", 2, 1, 'u');
	pthread_mutex_lock(&p.lock);
	p.released[1] = 1; /* one worker becomes free: the urgent job goes first */
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	assert_true(wait_for(&p, locals_done));
	pthread_mutex_lock(&p.lock);
	assert_int_equal(p.peak_xx, 2); /* all workers but one, while eight more waited */
	assert_true(strchr(p.order, 'u') < strchr(p.order, 'l'));
	p.released[0] = 1;
	pthread_cond_broadcast(&p.cond);
	pthread_mutex_unlock(&p.lock);
	gw_pool_free(pool); /* drains the queue and runs every done */
	assert_int_equal(p.done, 13);
	assert_int_equal(p.peak_xx, 2);
	gw_snapshot_unref(snap);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_lane_never_holds_every_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
