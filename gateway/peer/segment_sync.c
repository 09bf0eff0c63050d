/* Group fdatasync of received segments (segment_sync.h): one sync job at a time takes every
 * segment written so far; fdatasync on one descriptor flushes what any descriptor wrote to
 * the file, since the data is the inode's. But a writeback error is reported only to a
 * descriptor opened before it: the sync goes through the earliest opened descriptor among
 * the file's segments of the batch, opened before any of their writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pool.h"
#include "segment_sync.h"

struct sync_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct gw *g;
	struct seg_sync *s;
	struct seg_sync_wait *batch;
};

uint64_t seg_sync_opened(struct seg_sync *s)
{
	return ++s->opens;
}

/* The file's segment of the batch whose descriptor was opened first (from w on). */
static const struct seg_sync_wait *earliest(const struct seg_sync_wait *w)
{
	const struct seg_sync_wait *best = w;

	for (const struct seg_sync_wait *o = w->next; o != NULL; o = o->next)
		if (strcmp(o->path, w->path) == 0 && o->fd >= 0 &&
		    (best->fd < 0 || o->opened < best->opened))
			best = o;
	return best;
}

/* Syncs each file of the batch once (a batch holds the few segments in flight). */
static void sync_batch(struct seg_sync_wait *batch)
{
	for (struct seg_sync_wait *w = batch; w != NULL; w = w->next) {
		const struct seg_sync_wait *first;
		struct seg_sync_wait *prev;
		int fd, ok;

		for (prev = batch; prev != w && strcmp(prev->path, w->path) != 0; prev = prev->next)
			;
		if (prev != w) { /* this file was synced for an earlier one */
			w->durable = prev->durable;
			w->err = prev->err;
			continue;
		}
		first = earliest(w);
		if (first->fd >= 0) {
			ok = fdatasync(first->fd) == 0;
			w->err = ok ? 0 : errno;
		} else { /* none kept a descriptor: a new one sees only later errors */
			fd = open(w->path, O_WRONLY | O_CLOEXEC);
			ok = fd >= 0 && fdatasync(fd) == 0;
			w->err = ok ? 0 : errno;
			if (fd >= 0)
				close(fd);
		}
		w->durable = ok;
	}
}

static void answer_batch(struct seg_sync_wait *batch)
{
	while (batch != NULL) {
		struct seg_sync_wait *next = batch->next; /* fn may free batch's owner */
		batch->next = NULL;
		batch->fn(batch, batch->durable);
		batch = next;
	}
}

static void sync_run(struct gw_job *job, struct gw_crypto *k)
{
	(void)k;
	sync_batch(((struct sync_job *)job)->batch);
}

static void start_sync(struct gw *g, struct seg_sync *s);

static void sync_done(struct gw_job *job)
{
	struct sync_job *j = (struct sync_job *)job;
	struct seg_sync *s = j->s;
	struct gw *g = j->g;

	answer_batch(j->batch);
	gw_job_release(&j->job);
	free(j);
	s->running = 0;
	if (s->head != NULL)
		start_sync(g, s);
}

/* Takes everything waiting into one job (or, stopping or out of memory, syncs it here). */
static void start_sync(struct gw *g, struct seg_sync *s)
{
	struct seg_sync_wait *batch = s->head;
	struct sync_job *j = g->stopping ? NULL : calloc(1, sizeof(*j));

	s->head = s->tail = NULL;
	if (j == NULL) {
		sync_batch(batch);
		answer_batch(batch);
		return;
	}
	j->g = g;
	j->s = s;
	j->batch = batch;
	j->job.run = sync_run;
	j->job.done = sync_done;
	s->running = 1;
	gw_pool_submit(g->pool, &j->job, g->snap);
}

void seg_sync_after(struct gw *g, struct seg_sync *s, struct seg_sync_wait *w)
{
	w->next = NULL;
	w->durable = 0;
	if (s->tail != NULL)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
	if (!s->running)
		start_sync(g, s);
}
