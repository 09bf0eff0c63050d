/* The sending side of the transfer of attachments (SPEC 17.13): after the peer answered an
 * envelope version 3 with 202 and its status, the missing segments are PUT, several in
 * flight per message ([peer CC] max_segments_in_flight), each read with pread from the
 * sealed "<n>.ct" and sent with its inclusion proof read from "<n>.tree" (never a whole
 * attachment in memory). The segment that completes the message comes back with the receipt,
 * checked as any; without one, the envelope is sent again at once when the status said more
 * are missing than it listed, else after the peer's backoff (all answered 204 and no receipt:
 * another request completed it, or a receiver lies). A failure stops the
 * message's segments; it is retried with the peer's backoff and resumes from what the
 * receiver still misses, or fails at its deadline. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach/attach_files.h"
#include "attach/attach_status.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "relay_internal.h"

#define SEG_RESPONSE_MAX ((size_t)1 << 20)

struct xfer_out;

/* One segment PUT. */
struct seg_put {
	struct peer_post post; /* first: the client hands it back */
	struct xfer_out *x;
	unsigned idx;
	uint64_t k;
	mla_buf body, response;
};

struct xfer_out {
	struct gw *g;
	struct transfer *t;       /* the envelope's exchange, kept for the receipt or a retry */
	mla_attach_list *list;    /* the sealed list (public parts) */
	struct attach_status *st; /* what the receiver misses */
	size_t item, range;       /* the next segment to send: st->item[item], its range */
	uint64_t k;
	int started;              /* k is set within the current range */
	unsigned in_flight, max;
	struct seg_put *inflight[64]; /* max_segments_in_flight is at most 64 */
	size_t bandwidth;         /* [peer CC] max_bandwidth, 0: no cap */
	int stop;                 /* send nothing more: an error or a receipt */
	int receipt;              /* t->response holds a receipt (200) */
	char why[MLA_DIAG_MAX];
	int fd_ct[MLA_ATTACH_MAX], fd_tree[MLA_ATTACH_MAX];
	struct relay_progress progress;
	uint64_t held_before, sent; /* held when this round began; PUTs started in it */
	struct xfer_out *prev, *next;
};

static void xfer_free(struct xfer_out *x)
{
	for (size_t i = 0; i < MLA_ATTACH_MAX; i++) {
		if (x->fd_ct[i] >= 0)
			close(x->fd_ct[i]);
		if (x->fd_tree[i] >= 0)
			close(x->fd_tree[i]);
	}
	mla_attach_list_free(x->list);
	free(x->st);
	free(x);
}

static void unlink_xfer(struct gw_relay *rl, struct xfer_out *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else if (rl->xfers == x)
		rl->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
}

static void seg_free(struct seg_put *s)
{
	peer_post_clear(&s->post);
	mla_buf_free(&s->body);
	mla_buf_free(&s->response);
	free(s);
}

/* The next missing segment, or 0 when the status's list is exhausted. */
static int next_segment(struct xfer_out *x, unsigned *idx, uint64_t *k)
{
	while (x->item < x->st->n) {
		const struct attach_status_item *it = &x->st->item[x->item];
		if (x->range >= it->n_missing) {
			x->item++;
			x->range = 0;
			x->started = 0;
			continue;
		}
		if (!x->started) {
			x->k = it->missing[x->range][0];
			x->started = 1;
		}
		if (x->k > it->missing[x->range][1]) {
			x->range++;
			x->started = 0;
			continue;
		}
		*idx = it->index;
		*k = x->k++;
		return 1;
	}
	return 0;
}

static mla_err open_files(struct xfer_out *x, unsigned idx, mla_diag *diag)
{
	const char *store = x->g->snap->cfg.store;
	char path[ATTACH_PATH_MAX];
	mla_err r;

	if (x->fd_ct[idx - 1] >= 0)
		return MLA_OK;
	if ((r = attach_file_path(store, x->t->message_id, idx, ATTACH_CT, path, sizeof(path),
				  diag)) != MLA_OK)
		return r;
	if ((x->fd_ct[idx - 1] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot open its ciphertext: %s", idx,
				strerror(errno));
	if ((r = attach_file_path(store, x->t->message_id, idx, ATTACH_TREE, path, sizeof(path),
				  diag)) != MLA_OK)
		return r;
	if ((x->fd_tree[idx - 1] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "attachment %u: cannot open its tree: %s", idx,
				strerror(errno));
	return MLA_OK;
}

/* Segment k of attachment idx into s->body, its proof as base64 into proof (empty for a
 * tree of one leaf). */
static mla_err read_segment(struct xfer_out *x, struct seg_put *s, char *proof, size_t cap,
			    mla_diag *diag)
{
	const mla_attach_entry *e = &x->list->item[s->idx - 1].pub;
	uint64_t len = mla_attach_segment_ct_len(e, s->k);
	uint64_t off = s->k * ((uint64_t)e->segment_size + MLA_ATTACH_TAG_LEN);
	uint8_t bytes[MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN];
	mla_merkle_proof p;
	size_t done = 0;
	mla_err r;

	if ((r = open_files(x, s->idx, diag)) != MLA_OK ||
	    (r = attach_tree_proof(x->fd_tree[s->idx - 1], e->segments, s->k, &p, diag)) != MLA_OK)
		return r;
	proof[0] = '\0';
	if (p.len > 0 &&
	    mla_b64_encode(bytes, mla_attach_proof_encode(&p, bytes), proof, cap) != MLA_OK)
		return mla_fail(diag, MLA_ERR_INTERNAL, "proof too long");
	mla_buf_init(&s->body, (size_t)len);
	if (mla_buf_reserve(&s->body, (size_t)len) != MLA_OK)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory for a segment");
	while (done < len) {
		ssize_t n = pread(x->fd_ct[s->idx - 1], s->body.data + done, (size_t)len - done,
				  (off_t)(off + done));
		if (n <= 0)
			return mla_fail(diag, MLA_ERR_IO, "attachment %u: segment %llu unreadable",
					s->idx, (unsigned long long)s->k);
		done += (size_t)n;
	}
	s->body.len = (size_t)len;
	return MLA_OK;
}

static void seg_done(struct peer_post *p, CURLcode res);

/* The rate of a segment request starting now: the peer's max_bandwidth shared among the
 * requests the messages sending to that peer may have in flight (max_segments_in_flight
 * each), so the cap is the peer's, whatever the number of messages. A request keeps the rate
 * it started with: a message that begins meanwhile may take the total over the cap by the
 * segments then in flight, until they end. */
static size_t request_rate(const struct xfer_out *x)
{
	size_t slots = 0, rate;

	if (x->bandwidth == 0)
		return 0;
	for (const struct xfer_out *o = x->g->relay->xfers; o != NULL; o = o->next)
		if (strcmp(o->t->to_state, x->t->to_state) == 0)
			slots += o->max;
	rate = x->bandwidth / (slots > 0 ? slots : x->max);
	return rate > 0 ? rate : 1;
}

static mla_err start_segment(struct xfer_out *x, unsigned idx, uint64_t k, mla_diag *diag)
{
	const struct gw_peer *cp = gw_config_peer(&x->g->snap->cfg, x->t->to_state);
	struct seg_put *s = calloc(1, sizeof(*s));
	char url[GW_URL_MAX + 128], proof[2048], ph[2100];
	const char *headers[] = {ph, NULL};
	mla_err r = MLA_ERR_INTERNAL;

	if (s == NULL || cp == NULL) {
		free(s);
		return mla_fail(diag, MLA_ERR_NOMEM, "cannot start a segment");
	}
	s->x = x;
	s->idx = idx;
	s->k = k;
	s->post.done = seg_done;
	mla_buf_init(&s->response, SEG_RESPONSE_MAX);
	if ((r = read_segment(x, s, proof, sizeof(proof), diag)) != MLA_OK)
		goto fail;
	if (mla_snprintf(url, sizeof(url), "%s/%s/attachments/%u/segments/%llu", cp->url,
			 x->t->message_id, idx, (unsigned long long)k) != MLA_OK ||
	    mla_snprintf(ph, sizeof(ph), "X-MLA-Proof: %s", proof) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "segment URL too long");
		goto fail;
	}
	if (proof[0] == '\0')
		headers[0] = NULL; /* one leaf: no proof (an empty header would be dropped) */
	if (peer_client_post(x->g->client, &x->g->snap->cfg, &s->post, x->t->to_state, url,
			     "application/octet-stream", headers, &s->body, &s->response) !=
	    MLA_OK) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot set up a segment request");
		goto fail;
	}
	peer_post_as_put(&s->post, request_rate(x));
	if (peer_client_start(x->g->client, &s->post) != MLA_OK) {
		r = mla_fail(diag, MLA_ERR_TRANSPORT, "cannot start a segment request");
		goto fail;
	}
	for (size_t i = 0; i < 64; i++)
		if (x->inflight[i] == NULL) {
			x->inflight[i] = s;
			break;
		}
	x->in_flight++;
	x->sent++;
	return MLA_OK;
fail:
	seg_free(s);
	return r;
}

static void stop_with(struct xfer_out *x, const char *why)
{
	if (!x->stop)
		(void)mla_snprintf_cut(x->why, sizeof(x->why), "%s", why);
	x->stop = 1;
}

/* Whether the receiver said it misses more segments than its status lists. */
static int status_has_more(const struct attach_status *st)
{
	for (size_t i = 0; i < st->n; i++)
		if (st->item[i].more)
			return 1;
	return 0;
}

/* The message's segments are over: its receipt checked, or the envelope sent again (for the
 * status or the receipt), or a retry with backoff. */
static void finish(struct xfer_out *x)
{
	struct gw *g = x->g;
	struct transfer *t = x->t;
	mla_diag d = {MLA_OK, ""};

	unlink_xfer(g->relay, x);
	x->t = NULL;
	if (!x->receipt && !x->stop && x->sent == 0)
		/* a status listing nothing to send never comes from a receiver that misses
		 * something (it completes instead): asked again at once it is a loop without end */
		stop_with(x, "the peer's transfer status lists no missing segment, yet the message "
			  "is not complete");
	else if (!x->receipt && !x->stop && !status_has_more(x->st))
		/* every missing segment the status named is held now, so the last of them should
		 * have come back with the receipt: only a request completing it beside ours, or a
		 * receiver that answers 204 and holds nothing, does this; asking again at once
		 * let the latter keep the envelope coming (and verified here) without end */
		stop_with(x, "the peer answered every segment its status listed with 204 but sent "
			  "no receipt");
	gw_log(GW_LOG_INFO, "segments-sent", t->message_id, "to=%s sent=%llu held_before=%llu "
	       "segments=%llu outcome=%s", t->to_state, (unsigned long long)x->sent,
	       (unsigned long long)x->held_before, (unsigned long long)x->progress.segments_total,
	       x->receipt ? "receipt" : x->stop ? "retry" : "ask-again");
	if (x->receipt) {
		relay_check_receipt(g, t);
	} else if (!x->stop) {
		/* all answered 204 and more missing than listed: ask again at once */
		if (store_outbox_set_state(g->store, t->message_id, MSG_QUEUED, gw_now_ms(),
					   "segments sent: the envelope again for the receipt", &d) !=
		    MLA_OK)
			gw_log_limited(GW_LOG_ERROR, "store-error", "requeue", t->message_id,
				       "op=requeue reason=\"%s\"", d.msg);
		relay_transfer_free(t);
		relay_kick(g);
	} else {
		relay_retry_or_fail(g, t, x->why);
		relay_transfer_free(t);
	}
	xfer_free(x);
}

/* Keeps max segments in flight while there are some to send. */
static void fill(struct xfer_out *x)
{
	mla_diag d = {MLA_OK, ""};
	unsigned idx;
	uint64_t k;

	while (!x->stop && x->in_flight < x->max) {
		if (gw_now_ms() >= x->t->deadline_ms) {
			stop_with(x, "deadline passed during the transfer of attachments");
			break;
		}
		if (x->g->relay->stopped || !next_segment(x, &idx, &k))
			break;
		if (start_segment(x, idx, k, &d) != MLA_OK) {
			gw_log(GW_LOG_ERROR, "segment-send-error", x->t->message_id,
			       "attachment=%u segment=%llu reason=\"%s\"", idx,
			       (unsigned long long)k, d.msg);
			stop_with(x, d.msg);
		}
	}
	if (x->in_flight == 0)
		finish(x);
}

static void seg_done(struct peer_post *p, CURLcode res)
{
	struct seg_put *s = (struct seg_put *)p; /* its first member */
	struct xfer_out *x = s->x;
	long code = peer_post_code(p);
	char why[MLA_DIAG_MAX];

	x->in_flight--;
	for (size_t i = 0; i < 64; i++)
		if (x->inflight[i] == s)
			x->inflight[i] = NULL;
	if (res == CURLE_OK && code == 204) {
		x->progress.segments_done++;
		x->progress.bytes_done += s->body.len;
	} else if (res == CURLE_OK && code == 200 && peer_post_xml(p) && !x->receipt) {
		/* the segment that completed the message: its receipt, checked as any */
		x->progress.segments_done++;
		x->progress.bytes_done += s->body.len;
		mla_buf_free(&x->t->response);
		x->t->response = s->response;
		mla_buf_init(&s->response, 0);
		x->t->code = 200;
		x->receipt = 1;
		x->stop = 1;
	} else if (!x->receipt) {
		if (res != CURLE_OK)
			(void)mla_snprintf_cut(why, sizeof(why), "segment %u/%llu: transport: %.160s",
					       s->idx, (unsigned long long)s->k,
					       p->errbuf[0] ? p->errbuf : curl_easy_strerror(res));
		else {
			char text[MLA_DIAG_MAX];
			relay_text_reason(text, sizeof(text), code, &s->response);
			(void)mla_snprintf_cut(why, sizeof(why), "segment %u/%llu: %s", s->idx,
					       (unsigned long long)s->k, text);
		}
		gw_log(GW_LOG_WARN, "segment-failed", x->t->message_id, "reason=\"%s\"", why);
		stop_with(x, why);
	}
	seg_free(s);
	fill(x);
}

static mla_err xfer_setup(struct gw *g, struct transfer *t, struct xfer_out *x, mla_diag *diag)
{
	const struct gw_peer *cp = gw_config_peer(&g->snap->cfg, t->to_state);
	mla_verified v;
	mla_err r;

	if (cp == NULL)
		return mla_fail(diag, MLA_ERR_CONFIG, "peer %s no longer configured", t->to_state);
	x->max = cp->max_segments_in_flight > 0 ? cp->max_segments_in_flight : 4;
	x->bandwidth = cp->max_bandwidth;
	if ((r = mla_envelope_verify_attached(t->envelope.data, t->envelope.len, g->crypto->trust,
					      &g->snap->cfg.limits, &v, &x->list, diag)) != MLA_OK)
		return r;
	if (x->list == NULL)
		return mla_fail(diag, MLA_ERR_HEADER, "a status answered an envelope without "
				"attachments");
	if ((x->st = calloc(1, sizeof(*x->st))) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory for the transfer status");
	mla_attach_entry *e = calloc(x->list->n, sizeof(*e));
	if (e == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory for the transfer status");
	for (size_t i = 0; i < x->list->n; i++) {
		e[i] = x->list->item[i].pub;
		x->progress.segments_total += e[i].segments;
		x->progress.bytes_total += e[i].size;
	}
	r = attach_status_parse(t->response.data, t->response.len, t->message_id, e, x->list->n,
				x->st, diag);
	free(e);
	for (size_t i = 0; r == MLA_OK && i < x->st->n; i++) {
		const mla_attach_entry *a = &x->list->item[i].pub;
		x->progress.segments_done += x->st->item[i].held;
		/* held segments are full ones but perhaps the last: an estimate of bytes */
		x->progress.bytes_done += x->st->item[i].held * ((uint64_t)a->segment_size + 16);
		if (x->progress.bytes_done > x->progress.bytes_total)
			x->progress.bytes_done = x->progress.bytes_total;
	}
	return r;
}

void relay_segments_begin(struct gw *g, struct transfer *t)
{
	struct xfer_out *x = calloc(1, sizeof(*x));
	mla_diag d = {MLA_OK, ""};

	if (x == NULL) {
		relay_retry_or_fail(g, t, "out of memory for the transfer of attachments");
		relay_transfer_free(t);
		return;
	}
	for (size_t i = 0; i < MLA_ATTACH_MAX; i++)
		x->fd_ct[i] = x->fd_tree[i] = -1;
	x->g = g;
	x->t = t;
	memcpy(x->progress.message_id, t->message_id, sizeof(x->progress.message_id));
	if (xfer_setup(g, t, x, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "transfer-status-invalid", t->message_id, "peer=%s reason=\"%s\"",
		       t->to_state, d.msg);
		relay_retry_or_fail(g, t, d.msg);
		relay_transfer_free(t);
		xfer_free(x);
		return;
	}
	if (store_outbox_note(g->store, t->message_id, "transferring", NULL, &d) != MLA_OK)
		gw_log_limited(GW_LOG_ERROR, "store-error", "note", t->message_id,
			       "op=note reason=\"%s\"", d.msg);
	x->held_before = x->progress.segments_done;
	gw_log(GW_LOG_INFO, "transferring", t->message_id, "to=%s segments_held=%llu of=%llu",
	       t->to_state, (unsigned long long)x->progress.segments_done,
	       (unsigned long long)x->progress.segments_total);
	x->next = g->relay->xfers;
	if (x->next != NULL)
		x->next->prev = x;
	g->relay->xfers = x;
	fill(x);
}

int relay_transfer_progress(const struct gw *g, const char *message_id,
			    struct relay_progress *out)
{
	for (const struct xfer_out *x = g->relay != NULL ? g->relay->xfers : NULL; x != NULL;
	     x = x->next)
		if (strcmp(x->progress.message_id, message_id) == 0) {
			*out = x->progress;
			return 1;
		}
	return 0;
}

void relay_transfer_totals(const struct gw *g, uint64_t *messages, uint64_t *bytes_total,
			   uint64_t *bytes_done)
{
	*messages = *bytes_total = *bytes_done = 0;
	for (const struct xfer_out *x = g->relay != NULL ? g->relay->xfers : NULL; x != NULL;
	     x = x->next) {
		(*messages)++;
		*bytes_total += x->progress.bytes_total;
		*bytes_done += x->progress.bytes_done;
	}
}

void relay_segments_free_all(struct gw *g)
{
	struct xfer_out *x;

	/* the messages stay "sending" in the store: recovered at the next start, and resumed
	 * from what the receiver misses */
	while ((x = g->relay->xfers) != NULL) {
		unlink_xfer(g->relay, x);
		for (size_t i = 0; i < 64; i++)
			if (x->inflight[i] != NULL) {
				peer_client_cancel(g->client, &x->inflight[i]->post);
				seg_free(x->inflight[i]);
			}
		relay_transfer_free(x->t);
		xfer_free(x);
	}
}
