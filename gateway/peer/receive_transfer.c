/* The receiving side of the transfer of attachments (SPEC 17.13): the disk reserved before
 * an envelope version 3 is taken for transfer, the status answered (which segments are
 * missing), each segment checked against the signed Merkle root with its inclusion proof
 * before a byte of it is written, written in place and fsynced before it counts as held, and
 * the files completed when the last segment arrives. The fsync is shared by the segments
 * written meanwhile (segment_sync.h): still before any of them counts as held. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "attach/attach_files.h"
#include "attach/attach_status.h"
#include "core/job_body.h"
#include "core/log.h"
#include "held_count.h"
#include "mlagw/codec.h"
#include "receive_transfer.h"
#include "segment_sync.h"

mla_err transfer_complete_files(const struct gw_config *c, const struct store_transfer_in *t,
				mla_diag *diag)
{
	char part[ATTACH_PATH_MAX], done[ATTACH_PATH_MAX];
	mla_err r;

	for (size_t i = 0; i < t->n; i++) {
		unsigned idx = t->att[i].index;
		if ((r = attach_file_path(c->store, t->message_id, idx, ATTACH_CT_PART, part,
					  sizeof(part), diag)) != MLA_OK ||
		    (r = attach_file_path(c->store, t->message_id, idx, ATTACH_CT, done,
					  sizeof(done), diag)) != MLA_OK)
			return r;
		/* renamed before a crash that kept the store from recording the completion */
		if (access(part, F_OK) != 0 && access(done, F_OK) == 0)
			continue;
		if ((r = attach_file_complete(c->store, t->message_id, idx, diag)) != MLA_OK)
			return r;
	}
	return MLA_OK;
}

mla_err transfer_status(gw_store *s, const struct store_transfer_in *t, char **json,
			mla_diag *diag)
{
	struct attach_status *st = calloc(1, sizeof(*st));
	mla_err r = MLA_OK;

	*json = NULL;
	if (st == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "transfer status: out of memory");
	memcpy(st->message_id, t->message_id, sizeof(st->message_id));
	st->n = t->n;
	for (size_t i = 0; i < t->n && r == MLA_OK; i++) {
		struct attach_status_item *it = &st->item[i];
		it->index = t->att[i].index;
		it->segments = t->att[i].segments;
		r = store_transfer_missing(s, t->message_id, it->index, it->segments, it->missing,
					   ATTACH_STATUS_RANGES_MAX, &it->n_missing, &it->more,
					   &it->held, diag);
	}
	if (r == MLA_OK)
		r = attach_status_json(st, json, diag);
	free(st);
	return r;
}

mla_err transfer_complete(gw_store *s, const struct store_transfer_in *t, int *complete,
			  mla_diag *diag)
{
	uint64_t held = 0, total = 0;
	mla_err r;

	*complete = 0;
	for (size_t i = 0; i < t->n; i++)
		total += t->att[i].segments;
	if ((r = store_transfer_held(s, t->message_id, &held, diag)) != MLA_OK)
		return r;
	*complete = held >= total;
	return MLA_OK;
}

/* A transfer given up: its files go once its rows' drop is durable. Removed before, a kill
 * or a failed commit in between left a transfer_in row without its files, which the
 * attachments check at the next start takes for damage (every submission and reception
 * refused). A transfer of the same id begun meanwhile (stored, or its disk being reserved)
 * owns the folder: it stays. */
static void sweep_remove(struct gw *g, void *arg, int committed)
{
	char *id = arg;
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	char from[3];
	int found = 1;

	if (!committed)
		gw_log(GW_LOG_ERROR, "transfer-drop-failed", id, "reason=\"the store did not commit "
		       "the drop: the transfer and its files are kept\"");
	else if (transfer_reserving(g, id) ||
		 store_transfer_in_get(g->store, id, &found, &t, NULL, &d) != MLA_OK || found ||
		 store_inbox_from_state(g->store, id, &found, from, &d) != MLA_OK || found)
		gw_log(GW_LOG_WARN, "transfer-abandoned", id, "files=%s",
		       found ? "kept (a transfer or message of this id holds them)"
			     : "kept (store unreadable)");
	else if (attach_dir_remove(g->snap->cfg.store, id, &d) != MLA_OK)
		gw_log(GW_LOG_ERROR, "attach-error", id, "reason=\"%s\"", d.msg);
	free(id);
}

void transfer_sweep(struct gw *g)
{
	const struct gw_config *c = &g->snap->cfg;
	char ids[16][MLA_UUID_LEN + 1];
	int64_t before = gw_now_ms() - (int64_t)c->transfer_timeout_ms;
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;

	if (store_transfer_in_older(g->store, before, ids, 16, &n, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "transfer-older", NULL,
			       "op=transfer-older reason=\"%s\"", d.msg);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *id;
		if (store_transfer_in_drop(g->store, ids[i], &d) != MLA_OK ||
		    store_alert(g->store, "transfer-abandoned", ids[i],
				"attachments incomplete after [limits] transfer_timeout", &d) !=
			    MLA_OK) {
			gw_log_limited(GW_LOG_ERROR, "store-error", "transfer-drop", ids[i],
				       "op=transfer-drop reason=\"%s\"", d.msg);
			continue;
		}
		gw_log(GW_LOG_WARN, "transfer-abandoned", ids[i], "timeout_s=%llu",
		       (unsigned long long)(c->transfer_timeout_ms / 1000));
		/* without memory the folder stays: a stray the check reports, never damage */
		if ((id = strdup(ids[i])) != NULL)
			gw_after_commit(g, sweep_remove, id);
	}
}

/* ---- segments ---- */

struct seg_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct recv_req *rr;
	char peer_state[3];
	char message_id[MLA_UUID_LEN + 1];
	char part[ATTACH_PATH_MAX];
	int fd; /* part opened in the loop while the transfer was the stored one, or -1 */
	mla_attach_entry e;
	uint64_t k, total; /* the segment; the segments of every attachment */
	int64_t received_ms; /* the transfer the bytes were written for (see same_transfer) */
	mla_merkle_proof proof;
	struct job_body body;  /* the request's bytes, moved here (no copy) */
	const uint8_t *data;   /* body's bytes, made contiguous by the worker */
	size_t len;
	int code; /* 0: written; else the status to answer */
	mla_diag diag;
	struct seg_sync_wait wait; /* written, until its bytes are durable */
};

static void reply_text(struct recv_req *rr, int code, const char *reason, const char *text)
{
	recv_reply(rr, code, reason, "text/plain", (const uint8_t *)text, strlen(text));
}

/* In a worker: the proof against the signed root first, then the bytes in place (fsynced
 * after, by the group sync, before the segment counts as held). */
static void seg_run(struct gw_job *job, struct gw_crypto *k)
{
	struct seg_job *j = (struct seg_job *)job;
	uint64_t off = j->k * ((uint64_t)j->e.segment_size + MLA_ATTACH_TAG_LEN);
	size_t done = 0;

	(void)k;
	/* contiguous here, not on the loop (a copy of up to 16 MiB) */
	if ((j->data = job_body_bytes(&j->body)) == NULL) {
		(void)mla_fail(&j->diag, MLA_ERR_IO, "out of memory for segment %llu",
			       (unsigned long long)j->k);
		j->code = 503;
		return;
	}
	if (mla_attach_proof_verify(&j->e, j->k, j->data, j->len, &j->proof, &j->diag) !=
	    MLA_OK) {
		j->code = 422;
		return;
	}
	/* the file opened with the request, never by its path here: the transfer may have
	 * been given up and begun again meanwhile, with a list of other sizes, and these bytes
	 * must not land in the new transfer's file */
	while (done < j->len) {
		ssize_t w = pwrite(j->fd, j->data + done, j->len - done, (off_t)(off + done));
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done < j->len) {
		(void)mla_fail(&j->diag, MLA_ERR_IO, "attachment file write: %s", strerror(errno));
		j->code = 503;
	}
}

static void seg_free(struct seg_job *j)
{
	gw_job_release(&j->job);
	job_body_free(&j->body);
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static void reply_204(struct gw *g, void *arg, int committed)
{
	struct recv_req *rr = arg;

	(void)g;
	if (committed)
		recv_reply(rr, 204, "No Content", "text/plain", NULL, 0);
	else
		reply_text(rr, 503, "Service Unavailable", "store unavailable\n");
}

/* All held: the message completes through the envelope's path (receive.c). */
static void complete_now(struct gw *g, struct seg_job *j)
{
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	mla_buf env;
	int found = 0;

	if (store_transfer_in_get(g->store, j->message_id, &found, &t, &env, &d) != MLA_OK ||
	    !found) {
		mla_buf_free(&env);
		reply_text(j->rr, 503, "Service Unavailable", "store unavailable\n");
		return;
	}
	receive_complete(g, j->rr, j->peer_state, &env);
	mla_buf_free(&env);
}

/* Whether the transfer the job wrote for is still the one in the store: a transfer given up
 * by the sweep while the job ran, then begun again by a resend, has new (empty) part files,
 * and the job's bytes went to the old ones; crediting the segment to the new transfer would
 * mark held a segment of zeros and lead to a receipt for a corrupt attachment. */
static int same_transfer(struct gw *g, const struct seg_job *j, mla_diag *d)
{
	struct store_transfer_in t;
	int found = 0;

	if (store_transfer_in_get(g->store, j->message_id, &found, &t, NULL, d) != MLA_OK)
		return -1;
	return found && t.received_ms == j->received_ms &&
	       strcmp(t.from_state, j->peer_state) == 0;
}

/* The segment's bytes are durable (or could not be made so): it is held, or refused. */
static void seg_durable(struct seg_sync_wait *w, int durable)
{
	struct seg_job *j = (struct seg_job *)((char *)w - offsetof(struct seg_job, wait));
	struct gw *g = j->rr->g;
	mla_diag d = {MLA_OK, ""};
	uint64_t held = 0;
	char text[MLA_DIAG_MAX + 2];
	int added = 0, same = 1;

	if (j->code == 0 && !durable) {
		(void)mla_fail(&j->diag, MLA_ERR_IO, "attachment file sync: %s",
			       strerror(w->err));
		j->code = 503;
	}
	if (j->code != 0) {
		gw_log(GW_LOG_WARN, j->code == 422 ? "segment-refused" : "segment-error",
		       j->message_id, "peer=%s attachment=%lu segment=%llu reason=\"%s\"",
		       j->peer_state, (unsigned long)j->e.index, (unsigned long long)j->k,
		       j->diag.msg);
		(void)mla_snprintf_cut(text, sizeof(text), "%s\n", j->diag.msg);
		reply_text(j->rr, j->code, j->code == 422 ? "Unprocessable Entity"
							  : "Service Unavailable", text);
	} else if ((same = same_transfer(g, j, &d)) == 0) {
		gw_log(GW_LOG_WARN, "segment-stale", j->message_id, "peer=%s attachment=%lu "
		       "segment=%llu reason=\"the transfer was given up and begun again while the "
		       "segment was written\"", j->peer_state, (unsigned long)j->e.index,
		       (unsigned long long)j->k);
		reply_text(j->rr, 503, "Service Unavailable",
			   "the transfer was begun again; send the segment again\n");
	} else if (same < 0 ||
		   store_transfer_seg_put(g->store, j->message_id, j->e.index, j->k, &added, &d) !=
			   MLA_OK ||
		   /* counted only for a segment new to the store: one already held completes
		    * nothing (a completion that could not answer is asked for with the envelope
		    * again); the count is kept up in memory (held_count.h), not a scan of the
		    * message's rows for every segment */
		   (added && held_after_add(g, peer_held_counts(g), j->message_id, j->received_ms,
					    &held, &d) != MLA_OK)) {
		gw_log_limited(GW_LOG_ERROR, "store-error", "segment-put", j->message_id,
			       "op=segment-put reason=\"%s\"", d.msg);
		reply_text(j->rr, 503, "Service Unavailable", "store unavailable\n");
	} else if (added && held >= j->total) {
		complete_now(g, j);
	} else {
		gw_after_commit(g, reply_204, j->rr);
	}
	seg_free(j);
}

static void seg_done(struct gw_job *job)
{
	struct seg_job *j = (struct seg_job *)job;

	job_body_free(&j->body); /* written: only the answer is left to make */
	j->data = NULL;
	if (j->code != 0) {
		seg_durable(&j->wait, 0);
		return;
	}
	j->wait.path = j->part;
	j->wait.fd = j->fd;
	j->wait.fn = seg_durable;
	seg_sync_after(j->rr->g, peer_seg_sync(j->rr->g), &j->wait);
}

/* "{id}/attachments/{n}/segments/{k}": the id a lower-case UUID, n and k decimals. */
static int parse_rest(const char *rest, char *id, unsigned *idx, uint64_t *k)
{
	static const char a[] = "/attachments/", s[] = "/segments/";
	const char *p = rest, *q;
	uint64_t v;
	char num[24];

	if (strlen(p) < MLA_UUID_LEN || strncmp(p + MLA_UUID_LEN, a, sizeof(a) - 1) != 0)
		return 0;
	memcpy(id, p, MLA_UUID_LEN);
	id[MLA_UUID_LEN] = '\0';
	p += MLA_UUID_LEN + sizeof(a) - 1;
	if ((q = strchr(p, '/')) == NULL || q - p == 0 || q - p >= (long)sizeof(num) ||
	    strncmp(q, s, sizeof(s) - 1) != 0)
		return 0;
	memcpy(num, p, (size_t)(q - p));
	num[q - p] = '\0';
	if (mla_parse_u64(num, 1, MLA_ATTACH_MAX, &v) != MLA_OK)
		return 0;
	*idx = (unsigned)v;
	p = q + sizeof(s) - 1;
	return strlen(p) < sizeof(num) && mla_parse_u64(p, 0, UINT64_MAX, k) == MLA_OK;
}

/* An id not being received: this peer's own message answers its receipt if it completed;
 * anything else 404 (nothing about other States' messages, SPEC 17.13). */
static void not_transferring(struct gw *g, struct recv_req *rr, const char *peer_state,
			     const char *id)
{
	mla_diag d = {MLA_OK, ""};
	uint8_t digest[32];
	char from[3];
	mla_buf stored;
	int found = 0;

	/* another State's message (complete or refused) is answered as unknown: its receipt
	 * is not this peer's to read, nor is that the id exists */
	if (store_inbox_from_state(g->store, id, &found, from, &d) != MLA_OK || !found ||
	    strcmp(from, peer_state) != 0) {
		reply_text(rr, 404, "Not Found", "no attachments of that message are being "
			   "received\n");
		return;
	}
	if (store_inbox_lookup(g->store, id, &found, digest, &stored, &d) == MLA_OK && found) {
		/* the digest of what this peer sent stands in the transfer row no more: a
		 * complete message answers its receipt, which names its sender */
		recv_reply(rr, 200, "OK", "application/xml", stored.data, stored.len);
		mla_buf_free(&stored);
		return;
	}
	reply_text(rr, 404, "Not Found", "no attachments of that message are being received\n");
}

static mla_err seg_prepare(struct gw *g, struct seg_job *j, const struct store_transfer_in *t,
			   unsigned idx, const char *proof_b64, size_t len)
{
	uint8_t proof[MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN];
	size_t plen = 0;

	j->e = t->att[idx - 1];
	j->received_ms = t->received_ms;
	for (size_t i = 0; i < t->n; i++)
		j->total += t->att[i].segments;
	if (len != mla_attach_segment_ct_len(&j->e, j->k)) {
		j->code = 400;
		return mla_fail(&j->diag, MLA_ERR_ARG, "attachment %u: segment %llu is %zu bytes; "
				"the list gives it %llu", idx, (unsigned long long)j->k, len,
				(unsigned long long)mla_attach_segment_ct_len(&j->e, j->k));
	}
	j->code = 422;
	if (proof_b64 == NULL) /* a tree of one leaf: no proof (no header) */
		proof_b64 = "";
	if ((proof_b64[0] != '\0' && mla_b64_decode(proof_b64, strlen(proof_b64), proof,
						    sizeof(proof), &plen) != MLA_OK) ||
	    mla_attach_proof_decode(proof, plen, j->k, j->e.segments, &j->proof, &j->diag) !=
		    MLA_OK)
		return mla_fail(&j->diag, MLA_ERR_HEADER, "attachment %u: segment %llu has no "
				"valid X-MLA-Proof (base64 of %zu hashes)", idx,
				(unsigned long long)j->k,
				mla_attach_proof_len(j->k, j->e.segments));
	j->code = 0;
	return attach_file_path(g->snap->cfg.store, t->message_id, idx, ATTACH_CT_PART, j->part,
				sizeof(j->part), &j->diag);
}

void receive_segment(struct gw *g, struct recv_req *rr, const char *peer_state, const char *rest,
		     const char *proof_b64, struct evbuffer *body)
{
	size_t len = evbuffer_get_length(body);
	struct seg_job *j = calloc(1, sizeof(*j));
	struct store_transfer_in t;
	mla_diag d = {MLA_OK, ""};
	char id[MLA_UUID_LEN + 1], text[MLA_DIAG_MAX + 2];
	unsigned idx = 0;
	int found = 0;

	if (j == NULL) {
		reply_text(rr, 503, "Service Unavailable", "out of memory\n");
		return;
	}
	j->rr = rr;
	j->fd = -1;
	memcpy(j->peer_state, peer_state, 3);
	if (!parse_rest(rest, id, &idx, &j->k)) {
		free(j);
		reply_text(rr, 404, "Not Found", "not a segment path\n");
		return;
	}
	memcpy(j->message_id, id, sizeof(j->message_id));
	if (store_transfer_in_get(g->store, id, &found, &t, NULL, &d) != MLA_OK) {
		free(j);
		reply_text(rr, 503, "Service Unavailable", "store unavailable\n");
		return;
	}
	if (!found || strcmp(t.from_state, peer_state) != 0) {
		free(j);
		if (!found)
			not_transferring(g, rr, peer_state, id);
		else
			reply_text(rr, 404, "Not Found", "no attachments of that message are being "
				   "received\n");
		return;
	}
	if (idx > t.n || j->k >= t.att[idx - 1].segments) {
		free(j);
		reply_text(rr, 404, "Not Found", "no such attachment or segment\n");
		return;
	}
	if (seg_prepare(g, j, &t, idx, proof_b64, len) != MLA_OK) {
		int code = j->code != 0 ? j->code : 503;
		gw_log(GW_LOG_WARN, "segment-refused", id, "peer=%s attachment=%u segment=%llu "
		       "reason=\"%s\"", peer_state, idx, (unsigned long long)j->k, j->diag.msg);
		(void)mla_snprintf_cut(text, sizeof(text), "%s\n", j->diag.msg);
		free(j);
		reply_text(rr, code, code == 400 ? "Bad Request" : code == 422 ? "Unprocessable Entity"
									 : "Service Unavailable",
			   text);
		return;
	}
	/* opened here, while the transfer is the stored one (see seg_run); its place in the
	 * order of opens picks the descriptor a group sync goes through (segment_sync.h) */
	j->wait.opened = seg_sync_opened(peer_seg_sync(g));
	if ((j->fd = open(j->part, O_WRONLY | O_CLOEXEC)) < 0) {
		gw_log(GW_LOG_WARN, "segment-error", id, "peer=%s attachment=%u segment=%llu "
		       "reason=\"attachment file: %s\"", peer_state, idx, (unsigned long long)j->k,
		       strerror(errno));
		seg_free(j);
		reply_text(rr, 503, "Service Unavailable", "attachment file unavailable\n");
		return;
	}
	/* the bytes change owner without a copy: the request keeps none the worker reads, so a
	 * client that goes away frees nothing under it; the worker makes them contiguous (a
	 * copy of up to 16 MiB the loop, which reads every peer's bytes, is spared) */
	j->len = len;
	if (!job_body_take(&j->body, body)) {
		seg_free(j);
		reply_text(rr, 503, "Service Unavailable", "out of memory\n");
		return;
	}
	j->job.run = seg_run;
	j->job.done = seg_done;
	memcpy(j->job.lane, peer_state, 3);
	gw_pool_submit(g->pool, &j->job, g->snap);
}
