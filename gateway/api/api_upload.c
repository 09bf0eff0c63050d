/* Local API uploads of attachment files (docs/api/README.md "Attachments", SPEC 17.14): the
 * HTTP server holds a request body whole, so a file comes in bounded ranged chunks, each
 * appended and synced in a worker (never on the event loop) before it is acknowledged; a
 * client that lost an answer asks what is held and goes on from there. */
#include <string.h>

#include <event2/buffer.h>

#include "api_server.h"
#include "core/job_body.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "mlagw/json.h"
#include "submit/upload.h"

/* The chunk limit: UPLOAD_CHUNK_MAX, or less if the API's body limit is lower. */
static size_t chunk_max(const struct api_req *r)
{
	return r->g->api->body_limit < UPLOAD_CHUNK_MAX ? r->g->api->body_limit : UPLOAD_CHUNK_MAX;
}

static void reply_state(struct api_req *r, int code, const char *id,
			const struct upload_state *st)
{
	json_t *o = json_pack("{s:s, s:I, s:b, s:I}", "upload_id", id, "received",
			      (json_int_t)st->received, "complete", st->complete, "chunk_max",
			      (json_int_t)chunk_max(r));
	mla_buf b;
	mla_err e = o != NULL && json_object_set_new(o, "total", st->complete ?
						     json_integer((json_int_t)st->received) :
						     json_null()) == 0 ? MLA_OK : MLA_ERR_NOMEM;

	mla_buf_init(&b, 4096);
	if (e == MLA_OK)
		e = mla_json_dump(json_incref(o), &b);
	api_reply_built(r, code, e, &b, NULL);
	json_decref(o);
	mla_buf_free(&b);
}

/* The upload the path names, the caller's own; else replied (400, 404) and 0. Another's
 * upload is answered as missing: ids are not disclosed across callers. */
static int own_upload(struct api_req *r)
{
	if (!upload_id_ok(r->param)) {
		api_reply_error(r, 400, "bad-field", "upload id is 32 lower-case hex digits",
				"upload_id");
		return 0;
	}
	if (!upload_owned_by(r->param, r->actor)) {
		api_reply_error(r, 404, "not-found", "no such upload of the caller", "upload_id");
		return 0;
	}
	return 1;
}

void api_create_upload(struct api_req *r)
{
	static const char *const none[] = {NULL};
	char id[UPLOAD_ID_LEN + 1];
	struct upload_state st = {0, 0, 0};
	mla_diag d = {MLA_OK, ""};

	size_t expired = 0, owned = 0;

	if (!api_query_only(r, none))
		return;
	/* the uploads left over go here too, not only on the minute tick: a gateway that takes
	 * many uploads never holds more than upload_keep's worth */
	if (upload_expire_count(r->g->snap->cfg.store,
				gw_now_ms() - (int64_t)r->g->snap->cfg.upload_keep_ms, r->actor,
				&expired, &owned, &d) == MLA_OK && expired > 0)
		gw_log(GW_LOG_INFO, "uploads-expired", NULL, "uploads=%zu", expired);
	/* a cap per caller, so one token cannot fill the folder every create scans */
	if (owned >= r->g->snap->cfg.max_uploads_per_actor) {
		gw_log_limited(GW_LOG_WARN, "upload-refused", "max-uploads", NULL,
			       "actor=%s uploads=%zu reason=\"[limits] max_uploads_per_actor\"",
			       r->actor, owned);
		api_reply_error(r, 429, "too-many-uploads", "the caller already holds the most "
				"uploads one caller may ([limits] max_uploads_per_actor): submit or "
				"delete one first", NULL);
		return;
	}
	if (upload_create(r->g->snap->cfg.store, r->actor, id, &d) != MLA_OK) {
		gw_log_limited(GW_LOG_ERROR, "upload-error", "create", NULL,
			       "op=create reason=\"%s\"", d.msg);
		api_reply_error(r, 503, "unavailable", "the upload could not be created", NULL);
		return;
	}
	gw_log(GW_LOG_INFO, "upload-created", NULL, "upload=%s actor=%s", id, r->actor);
	reply_state(r, 201, id, &st);
}

void api_get_upload(struct api_req *r)
{
	static const char *const none[] = {NULL};
	struct upload_state st;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	if (!api_query_only(r, none) || !own_upload(r))
		return;
	if ((e = upload_stat(r->g->snap->cfg.store, r->param, &st, &d)) == MLA_ERR_NOT_FOUND)
		api_reply_error(r, 404, "not-found", "no such upload of the caller", "upload_id");
	else if (e != MLA_OK)
		api_reply_error(r, 500, mla_errname(e), mla_diag_message(&d), NULL);
	else
		reply_state(r, 200, r->param, &st);
}

void api_delete_upload(struct api_req *r)
{
	static const char *const none[] = {NULL};
	struct upload_state st;
	mla_diag d = {MLA_OK, ""};

	if (!api_query_only(r, none) || !own_upload(r))
		return;
	if (upload_stat(r->g->snap->cfg.store, r->param, &st, &d) == MLA_ERR_NOT_FOUND) {
		api_reply_error(r, 404, "not-found", "no such upload of the caller", "upload_id");
		return;
	}
	if (upload_remove(r->g->snap->cfg.store, r->param, &d) != MLA_OK) {
		api_reply_error(r, 500, mla_errname(MLA_ERR_IO), mla_diag_message(&d), NULL);
		return;
	}
	gw_log(GW_LOG_INFO, "upload-removed", NULL, "upload=%s actor=%s", r->param, r->actor);
	api_reply_text(r, 204, "application/json", NULL);
}

struct chunk_job {
	struct gw_job job; /* first: the pool hands us this pointer */
	struct api_req *r;
	struct job_body body; /* the chunk, taken from the request */
	struct upload_chunk c;
	char id[UPLOAD_ID_LEN + 1];
	char store[4096];
	struct upload_state st;
	enum upload_refusal why;
	mla_err err;
	mla_diag diag;
};

static void chunk_run(struct gw_job *job, struct gw_crypto *k)
{
	struct chunk_job *j = (struct chunk_job *)job;

	(void)k;
	/* contiguous here, not on the loop: a copy of up to chunk_max (8 MiB) */
	if ((j->c.data = job_body_bytes(&j->body)) == NULL) {
		j->err = mla_fail(&j->diag, MLA_ERR_NOMEM, "the chunk could not be read");
		return;
	}
	j->err = upload_append(j->store, j->id, &j->c, &j->st, &j->why, &j->diag);
}

/* 409 for a chunk that does not start at the held size, with the held size to go on from. */
static void reply_offset(struct api_req *r, const struct chunk_job *j)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "code", "offset-mismatch", "message",
			      mla_diag_message(&j->diag), "field", "Content-Range", "received",
			      (json_int_t)j->st.received);
	mla_buf b;
	mla_err e;

	mla_buf_init(&b, 4096);
	e = mla_json_dump(o, &b);
	api_reply_built(r, 409, e, &b, NULL);
	mla_buf_free(&b);
}

static void chunk_done(struct gw_job *job)
{
	struct chunk_job *j = (struct chunk_job *)job;
	struct api_req *r = j->r;
	const char *why = mla_diag_message(&j->diag);

	if (j->err == MLA_OK)
		reply_state(r, 200, j->id, &j->st);
	else if (j->why == UPLOAD_OFFSET)
		reply_offset(r, j);
	else if (j->why == UPLOAD_DONE || j->why == UPLOAD_BUSY)
		api_reply_error(r, 409, j->why == UPLOAD_DONE ? "upload-complete" : "upload-busy",
				why, NULL);
	else if (j->why == UPLOAD_TOO_LARGE)
		api_reply_error(r, 413, mla_errname(MLA_ERR_TOO_LARGE), why, "Content-Range");
	else if (j->why == UPLOAD_BAD_TOTAL)
		api_reply_error(r, 400, "bad-field", why, "Content-Range");
	else if (j->why == UPLOAD_NO_SPACE)
		api_reply_error(r, 507, "insufficient-storage", why, NULL);
	else if (j->err == MLA_ERR_NOT_FOUND)
		api_reply_error(r, 404, "not-found", "no such upload of the caller", "upload_id");
	else if (j->err == MLA_ERR_NOMEM)
		api_reply_error(r, 503, "unavailable", why, NULL);
	else {
		gw_log_limited(GW_LOG_ERROR, "upload-error", "append", NULL,
			       "op=append reason=\"%s\"", j->diag.msg);
		api_reply_error(r, 500, mla_errname(j->err), why, NULL);
	}
	gw_job_release(&j->job);
	job_body_free(&j->body);
	free(j);
}

/* The chunk's bytes, moved out of the request (which the client may drop meanwhile). */
static int take_body(struct api_req *r, struct chunk_job *j, const struct api_range *range)
{
	/* moved without a copy; the worker makes the bytes contiguous (chunk_run) */
	if (!job_body_take(&j->body, evhttp_request_get_input_buffer(r->req)))
		return 0;
	j->c.offset = range->first;
	j->c.len = j->body.len;
	j->c.last = range->last;
	j->c.total = range->total;
	j->c.max_bytes = r->g->snap->cfg.limits.max_attachment_bytes;
	j->c.min_free = r->g->snap->cfg.upload_min_free_bytes;
	return 1;
}

void api_put_upload_chunk(struct api_req *r)
{
	static const char *const none[] = {NULL};
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	size_t len = evbuffer_get_length(evhttp_request_get_input_buffer(r->req));
	struct api_range range;
	struct api_perr e;
	struct chunk_job *j;

	if (!api_query_only(r, none) || !own_upload(r))
		return;
	if (len > chunk_max(r)) {
		api_reply_error(r, 413, mla_errname(MLA_ERR_TOO_LARGE), "a chunk is at most "
				"chunk_max bytes", "Content-Length");
		return;
	}
	if (api_parse_content_range(evhttp_find_header(h, "Content-Range"), len, &range, &e) !=
	    MLA_OK) {
		api_reply_perr(r, &e);
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || !take_body(r, j, &range) ||
	    mla_strcpy(j->store, sizeof(j->store), r->g->snap->cfg.store) != MLA_OK) {
		if (j != NULL)
			job_body_free(&j->body);
		free(j);
		api_reply_error(r, 503, "unavailable", "out of memory", NULL);
		return;
	}
	memcpy(j->id, r->param, UPLOAD_ID_LEN + 1);
	j->r = r;
	j->job.run = chunk_run;
	j->job.done = chunk_done;
	api_hold(r);
	gw_pool_submit(r->g->pool, &j->job, r->g->snap);
}
