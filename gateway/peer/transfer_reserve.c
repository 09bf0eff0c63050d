/* The disk reserved for an envelope version 3 taken for transfer (SPEC 17.13, Disk): the
 * peer's share and the free space checked on the loop, then the part files allocated in full
 * (posix_fallocate) and fsynced in a worker, since both can take long (a file system without
 * fallocate writes every block; an fsync waits for the journal behind other writes) and the
 * loop answers every peer and the API. A reservation under way is counted against its
 * peer's share and the free space, and a second copy of its envelope is refused (503, the
 * sender retries) so that two never share a folder. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "attach/attach_files.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "receive_transfer.h"

/* One reservation under way: the job, listed on the loop until its done callback. */
struct reserve_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct recv_req *rr;
	struct store_transfer_in t;
	mla_buf envelope; /* moved from the envelope's job */
	uint64_t bytes;   /* ciphertext of every attachment */
	mla_err err;
	mla_diag diag;
	struct reserve_job *next; /* the list of reservations under way */
};

static uint64_t ciphertext_of(const struct store_transfer_in *t)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < t->n; i++)
		sum += t->att[i].size;
	return sum;
}

/* The free bytes of the file system holding the store's folder. */
static mla_err free_bytes(const char *store_db, uint64_t *out, mla_diag *diag)
{
	char dir[ATTACH_PATH_MAX];
	const char *slash = strrchr(store_db, '/');
	struct statvfs v;

	if (mla_snprintf(dir, sizeof(dir), "%.*s", slash != NULL ? (int)(slash - store_db) : 1,
			 slash != NULL ? store_db : ".") != MLA_OK)
		return mla_fail(diag, MLA_ERR_IO, "store folder path too long");
	if (dir[0] == '\0')
		dir[0] = '/', dir[1] = '\0';
	if (statvfs(dir, &v) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot read the free space of the store's file "
				"system: %s", strerror(errno));
	*out = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
	return MLA_OK;
}

mla_err transfer_peer_room(const struct gw_config *c, const char *peer, uint64_t count,
			   uint64_t bytes, uint64_t need, mla_diag *diag)
{
	if (count >= c->transfer_peer_max)
		return mla_fail(diag, MLA_ERR_IO, "insufficient storage for peer %s: it has %llu "
				"transfers unfinished, the most one peer may have ([limits] "
				"transfer_peer_max)", peer, (unsigned long long)count);
	if (bytes > c->transfer_peer_bytes || need > c->transfer_peer_bytes - bytes)
		return mla_fail(diag, MLA_ERR_IO, "insufficient storage for peer %s: %llu bytes of "
				"attachments beside the %llu reserved for its unfinished transfers "
				"exceed the %llu one peer may hold ([limits] transfer_peer_bytes)",
				peer, (unsigned long long)need, (unsigned long long)bytes,
				(unsigned long long)c->transfer_peer_bytes);
	return MLA_OK;
}

static struct reserve_job **under_way(struct gw *g)
{
	return (struct reserve_job **)peer_reservations(g);
}

int transfer_reserving(struct gw *g, const char *message_id)
{
	for (struct reserve_job *r = *under_way(g); r != NULL; r = r->next)
		if (strcmp(r->t.message_id, message_id) == 0)
			return 1;
	return 0;
}

/* On the loop: the peer's share (its stored transfers and those being reserved) and the free
 * space (less what reservations under way may not have allocated yet). */
static mla_err room_for(struct gw *g, const struct store_transfer_in *t, uint64_t need,
			mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	uint64_t have = 0, count = 0, held = 0, pending = 0;
	mla_err r;

	if ((r = store_transfer_in_of_peer(g->store, t->from_state, &count, &held, diag)) !=
	    MLA_OK)
		return r;
	for (struct reserve_job *p = *under_way(g); p != NULL; p = p->next) {
		pending += p->bytes; /* at most 64 of 2^40 each, times the peers' shares */
		if (strcmp(p->t.from_state, t->from_state) == 0)
			count++, held += p->bytes;
	}
	if ((r = transfer_peer_room(c, t->from_state, count, held, need, diag)) != MLA_OK ||
	    (r = free_bytes(c->store, &have, diag)) != MLA_OK)
		return r;
	have = have > pending ? have - pending : 0;
	if (have < need || have - need < (uint64_t)c->transfer_reserve_margin)
		return mla_fail(diag, MLA_ERR_IO, "insufficient storage: %llu bytes of attachments "
				"and a margin of %llu bytes ([limits] transfer_reserve_margin) need "
				"more than the %llu bytes free", (unsigned long long)need,
				(unsigned long long)c->transfer_reserve_margin,
				(unsigned long long)have);
	return MLA_OK;
}

static mla_err allocate_part(const char *store_db, const char *id, const mla_attach_entry *e,
			     mla_diag *diag)
{
	char path[ATTACH_PATH_MAX];
	mla_err r;
	int fd, e2 = 0;

	if ((r = attach_file_path(store_db, id, e->index, ATTACH_CT_PART, path, sizeof(path),
				  diag)) != MLA_OK)
		return r;
	/* a new file, not the one found emptied: a reservation killed before its row was stored
	 * leaves its folder, and the next envelope of that id (the sender's retry, or other
	 * bytes) may list less; and a segment of a transfer given up may still be being written
	 * through the old file (opened with its request), which must not land in this one */
	if ((unlink(path) != 0 && errno != ENOENT) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot create attachment %lu of %s: %s",
				(unsigned long)e->index, id, strerror(errno));
	if (e->size > (uint64_t)INT64_MAX ||
	    (e2 = posix_fallocate(fd, 0, (off_t)e->size)) != 0 || fsync(fd) != 0) {
		close(fd);
		return mla_fail(diag, MLA_ERR_IO, "insufficient storage: cannot reserve %llu bytes "
				"for attachment %lu: %s", (unsigned long long)e->size,
				(unsigned long)e->index, strerror(e2 != 0 ? e2 : errno));
	}
	close(fd);
	return MLA_OK;
}

/* In a worker: the folder and every part file allocated in full; nothing left on failure. */
static void reserve_run(struct gw_job *job, struct gw_crypto *k)
{
	struct reserve_job *j = (struct reserve_job *)job;
	const char *store_db = job->snap->cfg.store;

	(void)k;
	if ((j->err = attach_dir_make(store_db, j->t.message_id, &j->diag)) != MLA_OK) {
		/* the reason names the store's path: for the log, not for the peer */
		gw_log(GW_LOG_ERROR, "attach-error", j->t.message_id, "reason=\"%s\"", j->diag.msg);
		(void)mla_fail(&j->diag, j->err, "insufficient storage: cannot make the folder of "
			       "the message's attachments");
		return;
	}
	for (size_t i = 0; i < j->t.n; i++)
		if ((j->err = allocate_part(store_db, j->t.message_id, &j->t.att[i], &j->diag)) !=
		    MLA_OK) {
			(void)attach_dir_remove(store_db, j->t.message_id, NULL);
			return;
		}
}

static void unlist(struct gw *g, struct reserve_job *j)
{
	for (struct reserve_job **p = under_way(g); *p != NULL; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

static void refuse_storage(struct recv_req *rr, const char *id, const char *peer,
			   const mla_diag *d)
{
	char text[MLA_DIAG_MAX + 2];

	gw_log(GW_LOG_WARN, "transfer-refused", id, "peer=%s reason=\"%s\"", peer, d->msg);
	(void)mla_snprintf_cut(text, sizeof(text), "%s\n", d->msg);
	recv_reply(rr, 503, "Service Unavailable", "text/plain", (const uint8_t *)text,
		   strlen(text));
}

/* On the loop: the files are there (or not); the transfer is recorded and answered. */
static void reserve_done(struct gw_job *job)
{
	struct reserve_job *j = (struct reserve_job *)job;
	struct gw *g = j->rr->g;
	const char *id = j->t.message_id;
	mla_diag d = {MLA_OK, ""};

	unlist(g, j);
	if (j->err != MLA_OK) {
		refuse_storage(j->rr, id, j->t.from_state, &j->diag);
	} else if (store_transfer_in_put(g->store, &j->t, j->envelope.data, j->envelope.len,
					 &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "transfer-put", id,
			       "op=transfer-put reason=\"%s\"", d.msg);
		(void)attach_dir_remove(job->snap->cfg.store, id, NULL);
		recv_reply(j->rr, 503, "Service Unavailable", "text/plain", NULL, 0);
	} else {
		gw_log(GW_LOG_INFO, "transferring", id, "from=%s attachments=%zu", j->t.from_state,
		       j->t.n);
		receive_reply_status(g, j->rr, &j->t);
	}
	gw_job_release(&j->job);
	mla_buf_free(&j->envelope);
	free(j);
}

void transfer_reserve_start(struct gw *g, struct recv_req *rr, const struct store_transfer_in *t,
			    mla_buf *envelope)
{
	mla_diag d = {MLA_OK, ""};
	uint64_t need = ciphertext_of(t);
	struct reserve_job *j;

	if (transfer_reserving(g, t->message_id)) {
		(void)mla_fail(&d, MLA_ERR_IO, "the disk for message %s is being reserved; send "
			       "it again later", t->message_id);
		refuse_storage(rr, t->message_id, t->from_state, &d);
		return;
	}
	if (room_for(g, t, need, &d) != MLA_OK) {
		refuse_storage(rr, t->message_id, t->from_state, &d);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		recv_reply(rr, 503, "Service Unavailable", "text/plain", NULL, 0);
		return;
	}
	j->rr = rr;
	j->t = *t;
	j->bytes = need;
	j->envelope = *envelope; /* moved: the caller's is left empty */
	mla_buf_init(envelope, 0);
	j->job.run = reserve_run;
	j->job.done = reserve_done;
	memcpy(j->job.lane, t->from_state, 3); /* the peer's own lane: it cannot hold them all */
	j->next = *under_way(g);
	*under_way(g) = j;
	gw_pool_submit(g->pool, &j->job, g->snap);
}
