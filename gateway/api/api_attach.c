/* fetchAttachment (docs/api/README.md "Attachments", SPEC 17.14): a received attachment,
 * decrypted segment by segment in workers and streamed in chunks, one in flight at a time
 * (the next is made only once the previous left), so memory does not grow with the file.
 * Like a document read, it needs a reason and is disclosed only after its audit entry is
 * durable; a segment that does not authenticate cuts the connection without the last chunk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h> /* the request's HTTP version */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "api_server.h"
#include "attach/attach_files.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "tlog/audit.h"

#define GUNZIP_OUT ((size_t)1 << 20) /* bytes of one chunk of an inflated attachment */

struct att_stream {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct api_req *r;
	struct store_api_row row;
	char reason[MLA_AUDIT_REASON_MAX + 1];
	unsigned index;
	uint64_t first;    /* Range: bytes=first- */
	int ranged;
	mla_buf env;
	mla_verified v;
	mla_attachment a; /* the entry and its private part (secret wiped on free) */
	char att_text[MLA_AUDIT_ATTACHMENTS_MAX + 1]; /* the signed list, for the entry (v7) */
	mla_attach_opener *op;
	int fd;
	uint64_t k;        /* the next segment to read */
	int sequential;    /* read from segment 0 in order: the root and the digest are checked */
	uint64_t skip;     /* plaintext bytes still to drop before the first sent */
	uint8_t *ct, *pt, *out;
	size_t pt_len, pt_off;
	const uint8_t *chunk; /* what the last step made: chunk_len bytes */
	size_t chunk_len;
	z_stream z;
	int z_init, z_end;
	uint64_t produced; /* bytes of the file made so far (skipped ones included) */
	EVP_MD_CTX *md;    /* SHA-256 of the file, sequential reads */
	int finished;      /* every byte was made and checked */
	int started;       /* headers sent */
	int gone;          /* the client went away */
	int in_pool;       /* a job of the stream is queued or running */
	int sending;       /* a chunk is in the connection's buffer, not yet written out */
	int made;          /* the next chunk is made and waits for that one */
	mla_err err;
	mla_diag diag;
};

static void stream_free(struct att_stream *s)
{
	gw_job_release(&s->job);
	mla_buf_free(&s->env);
	mla_attach_opener_free(s->op);
	if (s->fd >= 0)
		close(s->fd);
	if (s->pt != NULL)
		OPENSSL_cleanse(s->pt, s->a.pub.segment_size);
	if (s->out != NULL)
		OPENSSL_cleanse(s->out, GUNZIP_OUT);
	free(s->ct);
	free(s->pt);
	free(s->out);
	if (s->z_init)
		inflateEnd(&s->z);
	EVP_MD_CTX_free(s->md);
	OPENSSL_cleanse(&s->a, sizeof(s->a));
	free(s);
}

/* ---- in a worker ---- */

static mla_err read_segment(struct att_stream *s, mla_diag *diag)
{
	const mla_attach_entry *e = &s->a.pub;
	uint64_t len = mla_attach_segment_ct_len(e, s->k);
	off_t at = (off_t)(s->k * ((uint64_t)e->segment_size + MLA_ATTACH_TAG_LEN));
	size_t got = 0;
	ssize_t n;
	mla_err r;

	while (got < len) {
		n = pread(s->fd, s->ct + got, (size_t)len - got, at + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mla_fail(diag, MLA_ERR_DECRYPT, "attachment %u: segment %llu is "
					"missing from its file (truncated)", s->index,
					(unsigned long long)s->k);
		got += (size_t)n;
	}
	r = s->sequential ? mla_attach_opener_next(s->op, s->ct, got, s->pt, &s->pt_len, diag)
			  : mla_attach_opener_segment(s->op, s->k, s->ct, got, s->pt, &s->pt_len,
						      diag);
	s->pt_off = 0;
	s->k++;
	return r;
}

/* Bytes of the file made: counted, hashed, and dropped while still before the range. */
static void take(struct att_stream *s, const uint8_t *p, size_t n)
{
	size_t drop = s->skip < n ? (size_t)s->skip : n;

	if (s->md != NULL)
		(void)EVP_DigestUpdate(s->md, p, n);
	s->produced += n;
	s->skip -= drop;
	s->chunk = p + drop;
	s->chunk_len = n - drop;
}

static mla_err gunzip_step(struct att_stream *s, mla_diag *diag)
{
	int zr;

	if (s->z_end)
		return mla_fail(diag, MLA_ERR_INFLATE, "attachment %u: data after its gzip stream",
				s->index);
	s->z.next_in = s->pt + s->pt_off;
	s->z.avail_in = (uInt)(s->pt_len - s->pt_off);
	s->z.next_out = s->out;
	s->z.avail_out = (uInt)GUNZIP_OUT;
	zr = inflate(&s->z, Z_NO_FLUSH);
	if (zr == Z_STREAM_END)
		s->z_end = 1;
	else if (zr != Z_OK && zr != Z_BUF_ERROR)
		return mla_fail(diag, MLA_ERR_INFLATE, "attachment %u: not a valid gzip stream",
				s->index);
	s->pt_off = s->pt_len - s->z.avail_in;
	if (s->produced + (GUNZIP_OUT - s->z.avail_out) > s->a.priv.plain_size)
		return mla_fail(diag, MLA_ERR_ZIP_BOMB, "attachment %u inflates beyond its "
				"stated size", s->index);
	take(s, s->out, GUNZIP_OUT - s->z.avail_out);
	return MLA_OK;
}

/* The end: every segment read; a sequential read also checks the root and the digest. */
static mla_err finish(struct att_stream *s, mla_diag *diag)
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	mla_err r;

	if (s->sequential && (r = mla_attach_opener_finish(s->op, diag)) != MLA_OK)
		return r;
	if (s->a.priv.gzip && !s->z_end)
		return mla_fail(diag, MLA_ERR_INFLATE, "attachment %u: its gzip stream ends early",
				s->index);
	if (s->produced != s->a.priv.plain_size && (s->sequential || s->a.priv.gzip))
		return mla_fail(diag, MLA_ERR_HEADER, "attachment %u: %llu bytes, its descriptor "
				"says %llu", s->index, (unsigned long long)s->produced,
				(unsigned long long)s->a.priv.plain_size);
	if (s->md != NULL && (EVP_DigestFinal_ex(s->md, md, &mdlen) != 1 ||
			      memcmp(md, s->a.priv.plain_sha256, 32) != 0))
		return mla_fail(diag, MLA_ERR_SIG_INVALID, "attachment %u: its SHA-256 is not the "
				"descriptor's", s->index);
	s->finished = 1;
	return MLA_OK;
}

/* Makes the next chunk (chunk_len > 0), or finishes (finished), or fails. */
static mla_err step(struct att_stream *s, mla_diag *diag)
{
	mla_err r;

	s->chunk_len = 0;
	while (s->chunk_len == 0 && !s->finished) {
		if (s->pt_off == s->pt_len) {
			if (s->k == s->a.pub.segments)
				return finish(s, diag);
			if ((r = read_segment(s, diag)) != MLA_OK)
				return r;
			if (s->pt_len == 0)
				continue; /* the one empty segment of an empty file */
		}
		if (s->a.priv.gzip) {
			if ((r = gunzip_step(s, diag)) != MLA_OK)
				return r;
		} else {
			take(s, s->pt + s->pt_off, s->pt_len - s->pt_off);
			s->pt_off = s->pt_len;
		}
	}
	return MLA_OK;
}

/* Where to begin: an uncompressed file from the segment holding first; a compressed one
 * from the start (its bytes before first are made and dropped). */
static mla_err position(struct att_stream *s, mla_diag *diag)
{
	uint32_t seg = s->a.pub.segment_size;

	s->sequential = s->first == 0 || s->a.priv.gzip;
	if (!s->sequential) {
		s->k = s->first / seg;
		s->skip = s->first % seg;
		s->produced = s->k * seg;
	} else {
		s->skip = s->first;
	}
	if (s->sequential && ((s->md = EVP_MD_CTX_new()) == NULL ||
			      EVP_DigestInit_ex2(s->md, EVP_sha256(), NULL) != 1))
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
	if (s->a.priv.gzip) {
		if (inflateInit2(&s->z, 15 + 16) != Z_OK)
			return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
		s->z_init = 1;
	}
	return MLA_OK;
}

static mla_err open_file(struct att_stream *s, const struct gw_config *c, mla_diag *diag)
{
	char path[ATTACH_PATH_MAX];
	mla_err r;

	if ((r = attach_file_path(c->store, s->row.message_id, s->index, ATTACH_CT, path,
				  sizeof path, diag)) != MLA_OK)
		return r;
	if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "attachment %u of this message is not held "
				"(%s)", s->index, strerror(errno));
	return MLA_OK;
}

/* The first job: the envelope opened again (the list and the secrets), the attachment's
 * file opened, the first chunk made (so a first segment that fails is answered cleanly). */
static mla_err open_run(struct att_stream *s, struct gw_crypto *k, const struct gw_config *c)
{
	mla_attach_list *list = NULL;
	mla_limits lim = c->limits;
	mla_buf doc;
	mla_err r;

	if (k == NULL)
		return mla_fail(&s->diag, MLA_ERR_INTERNAL, "keys unavailable");
	lim.verify_time = (time_t)(s->row.received_ms / 1000); /* as fetchDocument: SPEC 6 */
	mla_buf_init_secret(&doc, lim.max_document_bytes + 1);
	r = mla_envelope_open_attached(s->env.data, s->env.len, k->trust, k->keys, c->state,
				       &lim, &s->v, &doc, &list, &s->diag);
	mla_buf_free(&doc);
	if (r == MLA_OK && (list == NULL || s->index > list->n))
		r = mla_fail(&s->diag, MLA_ERR_NOT_FOUND, "the message has no attachment %u",
			     s->index);
	if (r == MLA_OK && mla_audit_attachments_format(list, s->att_text, sizeof s->att_text) !=
				   MLA_OK)
		r = mla_fail(&s->diag, MLA_ERR_INTERNAL, "attachment list too long");
	if (r == MLA_OK)
		s->a = list->item[s->index - 1];
	mla_attach_list_free(list);
	if (r != MLA_OK)
		return r;
	if (s->first > s->a.priv.plain_size ||
	    (s->first == s->a.priv.plain_size && s->first > 0))
		return mla_fail(&s->diag, MLA_ERR_ARG, "the range starts at or beyond the end "
				"(%llu bytes)", (unsigned long long)s->a.priv.plain_size);
	if ((s->ct = malloc((size_t)s->a.pub.segment_size + MLA_ATTACH_TAG_LEN)) == NULL ||
	    (s->pt = malloc(s->a.pub.segment_size)) == NULL ||
	    (s->a.priv.gzip && (s->out = malloc(GUNZIP_OUT)) == NULL))
		return mla_fail(&s->diag, MLA_ERR_NOMEM, "out of memory");
	if ((r = open_file(s, c, &s->diag)) != MLA_OK ||
	    (r = mla_attach_opener_new(&s->a.pub, s->a.priv.secret, s->row.message_id,
				       &s->op, &s->diag)) != MLA_OK ||
	    (r = position(s, &s->diag)) != MLA_OK)
		return r;
	return step(s, &s->diag);
}

static void first_run(struct gw_job *job, struct gw_crypto *k)
{
	struct att_stream *s = (struct att_stream *)job;

	s->err = open_run(s, k, &job->snap->cfg);
}

static void next_run(struct gw_job *job, struct gw_crypto *k)
{
	struct att_stream *s = (struct att_stream *)job;

	(void)k;
	s->err = step(s, &s->diag);
}

/* ---- in the loop thread ---- */

static void next_done(struct gw_job *job);

/* The stream's end without its last chunk: the client sees a cut file. */
static void cut(struct att_stream *s)
{
	s->r->gone = NULL;
	api_stream_abort(s->r);
	stream_free(s);
}

static void on_gone(void *arg)
{
	struct att_stream *s = arg;

	s->gone = 1;
	if (!s->in_pool) /* nothing of ours will run again: the chunk never leaves now */
		cut(s);
}

/* The next chunk is made while the last one leaves (its bytes were copied into the
 * connection's buffer): at most one chunk waits there and one is being made. */
static void make_next(struct att_stream *s)
{
	gw_job_release(&s->job); /* the last run's snapshot; the pool takes the current one */
	s->in_pool = 1;
	s->job.run = next_run;
	s->job.done = next_done;
	gw_pool_submit(s->r->g->pool, &s->job, s->r->g->snap);
}

static void send_or_end(struct att_stream *s);

/* The chunk that waited, sent from the event loop rather than from inside the connection's
 * write callback (which must not end or free its own connection). */
static void deferred_send(evutil_socket_t fd, short what, void *arg)
{
	struct att_stream *s = arg;

	(void)fd;
	(void)what;
	s->in_pool = 0;
	if (s->gone || s->r->g->stopping)
		cut(s);
	else
		send_or_end(s);
}

static void on_sent(struct evhttp_connection *evcon, void *arg)
{
	static const struct timeval now = {0, 0};
	struct att_stream *s = arg;

	(void)evcon;
	s->sending = 0;
	if (!s->made)
		return; /* the next chunk is still being made: next_done sends it */
	s->made = 0;
	s->in_pool = 1; /* ours runs again (deferred_send): a client gone is seen there */
	if (event_base_once(s->r->g->base, -1, EV_TIMEOUT, deferred_send, s, &now) != 0) {
		s->in_pool = 0; /* no memory for the event: send it from here after all */
		send_or_end(s);
	}
}

/* Sends the chunk made, or ends the stream (whole and checked) or cuts it (failed). */
static void send_or_end(struct att_stream *s)
{
	struct evbuffer *b;

	if (s->chunk_len == 0) { /* finished: the last chunk after the others */
		gw_log(GW_LOG_INFO, "attachment-sent", s->row.message_id, "attachment=%u bytes=%llu",
		       s->index, (unsigned long long)(s->produced - s->first));
		s->r->gone = NULL;
		api_stream_end(s->r);
		stream_free(s);
		return;
	}
	if ((b = evbuffer_new()) == NULL || evbuffer_add(b, s->chunk, s->chunk_len) != 0) {
		if (b != NULL)
			evbuffer_free(b);
		gw_log(GW_LOG_ERROR, "attachment-refused", s->row.message_id,
		       "attachment=%u error=nomem", s->index);
		cut(s);
		return;
	}
	s->sending = 1;
	evhttp_send_reply_chunk_with_cb(s->r->req, b, on_sent, s);
	evbuffer_free(b);
	make_next(s);
}

static void next_done(struct gw_job *job)
{
	struct att_stream *s = (struct att_stream *)job;

	s->in_pool = 0;
	if (s->gone || s->r->g->stopping) { /* a stop does not wait for a long download */
		cut(s);
	} else if (s->err != MLA_OK) {
		gw_log(GW_LOG_ERROR, "attachment-refused", s->row.message_id,
		       "attachment=%u segment=%llu error=%s reason=\"%s\"", s->index,
		       (unsigned long long)(s->k > 0 ? s->k - 1 : 0), mla_errname(s->err),
		       mla_diag_message(&s->diag));
		cut(s);
	} else if (s->sending) {
		s->made = 1; /* sent when the previous chunk has left (on_sent) */
	} else {
		send_or_end(s);
	}
}

static void start_stream(struct api_req *r, struct att_stream *s)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	char v[128], hex[65];
	uint64_t size = s->a.priv.plain_size;

	mla_require(mla_hex_encode(s->a.priv.plain_sha256, 32, hex, sizeof hex) == MLA_OK);
	evhttp_add_header(h, "X-Attachment-Sha256", hex);
	if (mla_snprintf(v, sizeof v, "%llu", (unsigned long long)size) == MLA_OK)
		evhttp_add_header(h, "X-Attachment-Size", v);
	if (s->ranged && mla_snprintf(v, sizeof v, "bytes %llu-%llu/%llu",
				      (unsigned long long)s->first,
				      (unsigned long long)(size > 0 ? size - 1 : 0),
				      (unsigned long long)size) == MLA_OK)
		evhttp_add_header(h, "Content-Range", v);
	r->gone = on_gone;
	r->gone_arg = s;
	s->started = 1;
	api_stream_start(r, s->ranged ? 206 : 200, "application/octet-stream");
	send_or_end(s);
}

static void after_audit(struct gw *g, void *arg, int committed)
{
	struct att_stream *s = arg;
	struct api_req *r = s->r;

	(void)g;
	if (r->req == NULL) { /* gone before the first byte */
		api_reply_error(r, 503, "unavailable", "client gone", NULL);
		stream_free(s);
		return;
	}
	if (!committed) {
		api_reply_error(r, 503, "unavailable",
				"the access could not be audited; nothing is disclosed", NULL);
		stream_free(s);
		return;
	}
	start_stream(r, s);
}

static void first_done(struct gw_job *job)
{
	struct att_stream *s = (struct att_stream *)job;
	struct api_req *r = s->r;
	struct gw *g = r->g;
	const struct gw_audit_msg a = {
		.message_id = s->row.message_id, .case_id = s->row.case_id, .kind = s->row.kind,
		.action = s->row.action, .from = s->row.peer, .to = g->snap->cfg.state,
		.actor = r->actor, .reason = s->reason, .envelope_sha256 = s->v.digest,
		.attachments = s->att_text, .attachment = s->index,
	};

	s->in_pool = 0;
	if (s->err != MLA_OK) {
		gw_log(GW_LOG_ERROR, "attachment-unreadable", s->row.message_id,
		       "attachment=%u error=%s reason=\"%s\"", s->index, mla_errname(s->err),
		       mla_diag_message(&s->diag));
		api_reply_error(r, s->err == MLA_ERR_NOT_FOUND ? 404 : s->err == MLA_ERR_ARG ? 416 :
				500, s->err == MLA_ERR_NOT_FOUND ? "not-found" :
				mla_errname(s->err), mla_diag_message(&s->diag),
				s->err == MLA_ERR_ARG ? "Range" : NULL);
		stream_free(s);
		return;
	}
	/* the entry first: not one byte leaves before it is durable (after_audit) */
	if (gw_audit_message(g, MLA_AUDIT_DOCUMENT_FETCHED, &a) != MLA_OK) {
		api_reply_error(r, 503, "unavailable",
				"the access could not be audited; nothing is disclosed", NULL);
		stream_free(s);
		return;
	}
	gw_log(GW_LOG_INFO, "attachment-fetched", s->row.message_id, "attachment=%u actor=%s",
	       s->index, r->actor);
	gw_after_commit(g, after_audit, s);
}

/* The message id of the path /api/v1/inbox/{message_id}/attachments/{index}. */
static int path_message_id(struct api_req *r, char out[MLA_UUID_LEN + 1])
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->req));
	static const char prefix[] = "/api/v1/inbox/";

	if (path == NULL || strncmp(path, prefix, sizeof prefix - 1) != 0 ||
	    strlen(path) < sizeof prefix - 1 + MLA_UUID_LEN ||
	    path[sizeof prefix - 1 + MLA_UUID_LEN] != '/')
		return 0;
	memcpy(out, path + sizeof prefix - 1, MLA_UUID_LEN);
	out[MLA_UUID_LEN] = '\0';
	return api_is_uuid(out);
}

/* The request's reason, index and range into s; replied (400) and 0 when one is bad. */
static int parse_request(struct api_req *r, struct att_stream *s)
{
	static const char *const params[] = {"reason", NULL};
	const char *reason = api_query(r, "reason");
	struct api_perr e;
	uint64_t index;

	if (!api_query_only(r, params))
		return 0;
	if (r->req->major < 1 || (r->req->major == 1 && r->req->minor < 1)) {
		/* without chunked encoding (HTTP/1.0) the body ends with the connection's close, so
		 * a stream cut for a segment that does not authenticate would look whole */
		api_reply_error(r, 505, "unsupported-version", "an attachment is sent in HTTP/1.1 "
				"chunked encoding, whose last chunk tells a whole file from a cut "
				"one: HTTP/1.0 cannot", NULL);
		return 0;
	}
	if (api_parse_reason(reason, &e) != MLA_OK ||
	    api_parse_range(evhttp_find_header(evhttp_request_get_input_headers(r->req), "Range"),
			    &s->first, &e) != MLA_OK) {
		api_reply_perr(r, &e);
		return 0;
	}
	if (!api_parse_u64(r->param, MLA_ATTACH_MAX, &index) || index < 1) {
		api_reply_error(r, 400, "bad-field", "attachment index is 1 to 64", "index");
		return 0;
	}
	s->index = (unsigned)index;
	s->ranged = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Range") != NULL;
	memcpy(s->reason, reason, strlen(reason) + 1); /* api_parse_reason bounded it */
	if (!path_message_id(r, r->param)) { /* api_find_message reads the id from param */
		api_reply_error(r, 400, "bad-field", "message id must be a lower-case UUID",
				"message_id");
		return 0;
	}
	return 1;
}

void api_fetch_attachment(struct api_req *r)
{
	struct att_stream *s = calloc(1, sizeof(*s));
	mla_diag d = {MLA_OK, ""};

	if (s == NULL) {
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return;
	}
	s->fd = -1;
	mla_buf_init(&s->env, 0);
	if (!parse_request(r, s) || !api_find_message(r, "in", &s->row)) {
		stream_free(s);
		return;
	}
	if (store_inbox_envelope(r->g->store, s->row.message_id, &s->env, &d) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_STORE), mla_diag_message(&d), NULL);
		stream_free(s);
		return;
	}
	s->r = r;
	s->in_pool = 1;
	s->job.run = first_run;
	s->job.done = first_done;
	api_hold(r);
	gw_pool_submit(r->g->pool, &s->job, r->g->snap);
}
