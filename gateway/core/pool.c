/* Worker pool (see pool.h): mutex-protected job queues, one per lane and urgency, taken in
 * turn; a completion queue; and an event made active from the workers (libevent with
 * pthreads locking) to wake the loop thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"

struct gw_worker {
	struct gw_pool *pool;
	pthread_t thread;
	struct gw_crypto *crypto;
	unsigned gen;
	int started;
};

/* (local, each peer State, and one shared by peers beyond the table) x (urgent, normal) */
#define POOL_LANES (2 * (GW_MAX_PEERS + 2))
#define OVERFLOW_LANE "~~" /* peers met after the table filled: capped like one peer */
#define URGENT_STREAK 8   /* urgent picks in a row before a waiting normal job goes */

struct pool_lane {
	char name[3];     /* "" = local, else a peer State */
	int urgent;
	unsigned running; /* jobs of this lane's name being run (shared by its two lanes) */
	struct gw_job *head, *tail;
};

struct gw_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct pool_lane lanes[POOL_LANES];
	unsigned n_lanes, next_lane; /* next_lane: where the round-robin goes on */
	unsigned urgent_streak;      /* a peer's urgent hint must not starve normal work */
	unsigned queued;
	struct gw_job *done_head, *done_tail;
	unsigned pending;
	int stopping;
	struct event *notify;
	gw_batch_hook begin, end;
	void *hook_arg;
	struct gw_worker *workers;
	unsigned n;
};

static void push(struct gw_job **head, struct gw_job **tail, struct gw_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct gw_job *pop(struct gw_job **head, struct gw_job **tail)
{
	struct gw_job *j = *head;

	if (j != NULL) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return j;
}

/* A worker reloads its keys when the job belongs to a newer configuration. */
static void ensure_crypto(struct gw_worker *w, struct gw_snapshot *snap)
{
	mla_diag d = {MLA_OK, ""};

	if (w->crypto != NULL && w->gen == snap->gen)
		return;
	gw_crypto_free(w->crypto);
	w->crypto = NULL;
	if (gw_crypto_load(&snap->cfg, &w->crypto, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "keys-unavailable", NULL, "reason=\"%s\"", d.msg);
	w->gen = snap->gen;
}

/* The running count of name's lanes (kept on its normal lane). */
static unsigned *lane_running(struct gw_pool *p, const char *name)
{
	for (unsigned i = 0; i < p->n_lanes; i++)
		if (!p->lanes[i].urgent && strcmp(p->lanes[i].name, name) == 0)
			return &p->lanes[i].running;
	mla_require(0); /* a job's lanes exist from its submission on */
	return NULL;
}

/* The lane of (name, urgent), made on first use; NULL when the table is full (more peer
 * States than configured: such a job goes to the local lanes). */
static struct pool_lane *lane_of(struct gw_pool *p, const char *name, int urgent)
{
	struct pool_lane *l = NULL;

	for (unsigned i = 0; i < p->n_lanes; i++)
		if (p->lanes[i].urgent == urgent && strcmp(p->lanes[i].name, name) == 0)
			return &p->lanes[i];
	if (p->n_lanes + 2 > POOL_LANES - (strcmp(name, OVERFLOW_LANE) == 0 ? 0 : 2))
		return NULL; /* the last two are kept for the overflow lane */
	for (int u = 0; u < 2; u++) { /* both, so lane_running always finds the normal one */
		l = &p->lanes[p->n_lanes++];
		memcpy(l->name, name, strlen(name) + 1);
		l->urgent = u;
	}
	return lane_of(p, name, urgent);
}

/* A peer's lanes may run on all workers but one; this State's own work on any. */
static int may_run(struct gw_pool *p, const struct pool_lane *l)
{
	return l->name[0] == '\0' || p->n < 2 || lane_running(p, l->name)[0] < p->n - 1;
}

/* The next job: urgent lanes before normal ones, each pass starting after the lane served
 * last, so that lanes take turns. Called with the lock held. */
static struct gw_job *pick_from(struct gw_pool *p, int first)
{
	for (int k2 = 0, urgent = first; k2 < 2; k2++, urgent = !urgent)
		for (unsigned k = 0; k < p->n_lanes; k++) {
			unsigned i = (p->next_lane + k) % p->n_lanes;
			struct pool_lane *l = &p->lanes[i];
			struct gw_job *j;
			if (l->urgent != urgent || l->head == NULL || !may_run(p, l))
				continue;
			j = pop(&l->head, &l->tail);
			lane_running(p, l->name)[0]++;
			p->queued--;
			p->next_lane = i + 1;
			p->urgent_streak = urgent ? p->urgent_streak + 1 : 0;
			return j;
		}
	return NULL;
}

/* Urgent first, but after URGENT_STREAK urgent picks in a row a waiting normal job goes. */
static struct gw_job *pick(struct gw_pool *p)
{
	return pick_from(p, p->urgent_streak < URGENT_STREAK);
}

static void *worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct gw_pool *p = w->pool;
	struct gw_job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while ((j = pick(p)) == NULL && !(p->stopping && p->queued == 0))
			pthread_cond_wait(&p->wake, &p->lock);
		pthread_mutex_unlock(&p->lock);
		if (j == NULL)
			break; /* stopping and drained */
		ensure_crypto(w, j->snap);
		j->run(j, w->crypto);
		pthread_mutex_lock(&p->lock);
		lane_running(p, j->lane)[0]--;
		pthread_cond_broadcast(&p->wake); /* a job held back by its lane's share may go */
		push(&p->done_head, &p->done_tail, j);
		pthread_mutex_unlock(&p->lock);
		event_active(p->notify, EV_READ, 0);
	}
	gw_crypto_free(w->crypto);
	return NULL;
}

/* Drains the completed jobs; their store writes share one transaction (begin/end hooks). */
static void run_done(evutil_socket_t fd, short what, void *arg)
{
	struct gw_pool *p = arg;
	struct gw_job *j;

	(void)fd;
	(void)what;
	if (p->begin != NULL)
		p->begin(p->hook_arg);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		j = pop(&p->done_head, &p->done_tail);
		if (j != NULL)
			__atomic_sub_fetch(&p->pending, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);
		if (j == NULL)
			break;
		j->done(j);
	}
	if (p->end != NULL)
		p->end(p->hook_arg);
}

struct gw_pool *gw_pool_new(struct event_base *base, unsigned n, gw_batch_hook begin,
			    gw_batch_hook end, void *hook_arg)
{
	struct gw_pool *p = calloc(1, sizeof(*p));

	if (p == NULL || n == 0)
		goto fail;
	p->begin = begin;
	p->end = end;
	p->hook_arg = hook_arg;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	(void)lane_of(p, "", 0); /* this State's own lanes exist from the start */
	if ((p->notify = event_new(base, -1, 0, run_done, p)) == NULL ||
	    (p->workers = calloc(n, sizeof(*p->workers))) == NULL)
		goto fail;
	for (unsigned i = 0; i < n; i++) {
		p->workers[i].pool = p;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0)
			goto fail;
		p->workers[i].started = 1;
		p->n = i + 1;
	}
	return p;
fail:
	gw_pool_free(p);
	return NULL;
}

void gw_pool_submit(struct gw_pool *p, struct gw_job *job, struct gw_snapshot *snap)
{
	struct pool_lane *l;

	job->snap = gw_snapshot_ref(snap);
	pthread_mutex_lock(&p->lock);
	if ((l = lane_of(p, job->lane, job->urgent != 0)) == NULL) {
		/* a peer beyond the table shares the overflow lane, capped like one peer */
		memcpy(job->lane, OVERFLOW_LANE, sizeof(OVERFLOW_LANE));
		l = lane_of(p, OVERFLOW_LANE, job->urgent != 0);
	}
	push(&l->head, &l->tail, job);
	p->queued++;
	__atomic_add_fetch(&p->pending, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->wake); /* the one free worker may be the only one allowed */
	pthread_mutex_unlock(&p->lock);
}

unsigned gw_pool_pending(const struct gw_pool *p)
{
	return __atomic_load_n(&p->pending, __ATOMIC_RELAXED);
}

void gw_job_release(struct gw_job *job)
{
	gw_snapshot_unref(job->snap);
	job->snap = NULL;
}

void gw_pool_free(struct gw_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->n; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	if (p->notify != NULL) {
		run_done(-1, 0, p); /* finish what the workers completed */
		event_free(p->notify);
	}
	free(p->workers);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p);
}
