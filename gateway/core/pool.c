/* Worker pool (see pool.h): a mutex-protected job queue, a completion queue, and an event
 * made active from the workers (libevent with pthreads locking) to wake the loop thread. */
#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "pool.h"

struct gw_worker {
	struct gw_pool *pool;
	pthread_t thread;
	struct gw_crypto *crypto;
	unsigned gen;
	int started;
};

struct gw_pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct gw_job *queue_head, *queue_tail, *done_head, *done_tail;
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

static void *worker_main(void *arg)
{
	struct gw_worker *w = arg;
	struct gw_pool *p = w->pool;
	struct gw_job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->queue_head == NULL && !p->stopping)
			pthread_cond_wait(&p->wake, &p->lock);
		j = pop(&p->queue_head, &p->queue_tail);
		pthread_mutex_unlock(&p->lock);
		if (j == NULL)
			break; /* stopping and drained */
		ensure_crypto(w, j->snap);
		j->run(j, w->crypto);
		pthread_mutex_lock(&p->lock);
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
	job->snap = gw_snapshot_ref(snap);
	pthread_mutex_lock(&p->lock);
	push(&p->queue_head, &p->queue_tail, job);
	__atomic_add_fetch(&p->pending, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&p->wake);
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
