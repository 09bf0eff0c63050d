/* Attachments being received (schema 13, SPEC 17.13): an envelope version 3 accepted by
 * every check, kept apart from the inbox until all its segments are held, and the segments
 * held, one row each, written only after the segment's bytes are fsynced in its file. The
 * receiver answers which segments it misses from these rows, so a sender resumes after a cut
 * link or a restart from there, never from zero. */
#include <string.h>

#include "mlagw/codec.h"
#include "store_internal.h"

#define LIST_ENTRY 56 /* index 4, size 8, segment size 4, segments 8, root 32 */

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)(v & 0xff);
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void list_encode(const struct store_transfer_in *t, uint8_t *out)
{
	for (size_t i = 0; i < t->n; i++, out += LIST_ENTRY) {
		put_be(out, t->att[i].index, 4);
		put_be(out + 4, t->att[i].size, 8);
		put_be(out + 12, t->att[i].segment_size, 4);
		put_be(out + 16, t->att[i].segments, 8);
		memcpy(out + 24, t->att[i].root, 32);
	}
}

static mla_err list_decode(const mla_buf *b, struct store_transfer_in *t, mla_diag *diag)
{
	if (b->len == 0 || b->len % LIST_ENTRY != 0 || b->len / LIST_ENTRY > MLA_ATTACH_MAX)
		return mla_fail(diag, MLA_ERR_STORE, "store: transfer list of %zu bytes", b->len);
	t->n = b->len / LIST_ENTRY;
	for (size_t i = 0; i < t->n; i++) {
		const uint8_t *p = b->data + i * LIST_ENTRY;
		t->att[i].index = (uint32_t)get_be(p, 4);
		t->att[i].size = get_be(p + 4, 8);
		t->att[i].segment_size = (uint32_t)get_be(p + 12, 4);
		t->att[i].segments = get_be(p + 16, 8);
		memcpy(t->att[i].root, p + 24, 32);
	}
	return MLA_OK;
}

mla_err store_transfer_in_put(gw_store *s, const struct store_transfer_in *t, const uint8_t *env,
			      size_t len, mla_diag *diag)
{
	uint8_t list[MLA_ATTACH_MAX * LIST_ENTRY];
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	if (t->n == 0 || t->n > MLA_ATTACH_MAX || env == NULL || len == 0 || len > STORE_BLOB_MAX ||
	    store_check_str(t->message_id, sizeof(t->message_id), 1, "message id", diag) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "store: transfer put: no id, envelope or list");
	list_encode(t, list);
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_XFER_PUT,
			    "INSERT INTO transfer_in (message_id, from_state, digest, received_ms,"
			    " envelope, list) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, t->message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, t->from_state, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 3, t->digest, 32, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, t->received_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_blob64(st, 5, env, (sqlite3_uint64)len, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_blob(st, 6, list, (int)(t->n * LIST_ENTRY), SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "transfer put", diag);
		goto out;
	}
	r = store_history_add(s, t->message_id, "in", "transferring", store_now_ms(), NULL, diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

static mla_err read_row(sqlite3_stmt *st, struct store_transfer_in *out, mla_buf *env,
			mla_diag *diag)
{
	mla_buf list;
	mla_err r;

	mla_buf_init(&list, MLA_ATTACH_MAX * LIST_ENTRY);
	if ((r = store_col_text(st, 0, out->from_state, sizeof(out->from_state), "transfer get",
				diag)) != MLA_OK ||
	    (r = store_col_digest(st, 1, out->digest, "transfer get", diag)) != MLA_OK ||
	    (r = store_col_blob(st, 3, &list, "transfer get", diag)) != MLA_OK ||
	    (r = list_decode(&list, out, diag)) != MLA_OK)
		goto out;
	out->received_ms = sqlite3_column_int64(st, 2);
	if (env != NULL && (r = store_col_blob(st, 4, env, "transfer get", diag)) != MLA_OK)
		goto out;
out:
	mla_buf_free(&list);
	return r;
}

mla_err store_transfer_in_get(gw_store *s, const char *message_id, int *found,
			      struct store_transfer_in *out, mla_buf *env, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if (env != NULL)
		mla_buf_init(env, STORE_BLOB_MAX);
	if (message_id == NULL || mla_strcpy(out->message_id, sizeof(out->message_id),
					      message_id) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "store: transfer get: no message id");
	if ((r = store_stmt(s, ST_XFER_GET,
			    "SELECT from_state, digest, received_ms, list, envelope FROM transfer_in"
			    " WHERE message_id = ?1", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		r = store_fail(s, rc, "transfer get", diag);
		goto out;
	}
	if (rc == SQLITE_ROW && (r = read_row(st, out, env, diag)) == MLA_OK)
		*found = 1;
out:
	store_stmt_done(st);
	if (r != MLA_OK && env != NULL)
		mla_buf_free(env);
	return r;
}

mla_err store_transfer_seg_put(gw_store *s, const char *message_id, unsigned idx, uint64_t k,
			       int *added, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	*added = 0;
	if (k > INT64_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "store: segment number out of range");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_stmt(s, ST_XFER_SEG_PUT,
			    "INSERT OR IGNORE INTO transfer_seg (message_id, idx, k)"
			    " VALUES (?1, ?2, ?3)", &st, diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 2, (int)idx)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 3, (sqlite3_int64)k)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = store_fail(s, rc, "transfer segment put", diag);
		goto out;
	}
	*added = sqlite3_changes(s->db) > 0;
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_transfer_held(gw_store *s, const char *message_id, uint64_t *held,
			    mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*held = 0;
	if ((r = store_stmt(s, ST_XFER_SEG_COUNT,
			    "SELECT count(*) FROM transfer_seg WHERE message_id = ?1", &st, diag)) !=
	    MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW)
		r = store_fail(s, rc, "transfer count", diag);
	else
		*held = (uint64_t)sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return r;
}

/* The gap [from, to] (to >= from) as the next range, or counted as more. */
static void add_gap(uint64_t from, uint64_t to, uint64_t (*ranges)[2], size_t max, size_t *n,
		    int *more)
{
	if (to < from)
		return;
	if (*n == max) {
		*more = 1;
		return;
	}
	ranges[*n][0] = from;
	ranges[*n][1] = to;
	(*n)++;
}

mla_err store_transfer_missing(gw_store *s, const char *message_id, unsigned idx,
			       uint64_t segments, uint64_t (*ranges)[2], size_t max, size_t *n,
			       int *more, uint64_t *held, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	uint64_t next = 0; /* the first segment not known held */
	mla_err r;
	int rc;

	*n = 0;
	*more = 0;
	*held = 0;
	if ((r = store_stmt(s, ST_XFER_SEG_LIST,
			    "SELECT k FROM transfer_seg WHERE message_id = ?1 AND idx = ?2"
			    " ORDER BY k", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 2, (int)idx)) != SQLITE_OK) {
		r = store_fail(s, rc, "transfer missing", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t k = (uint64_t)sqlite3_column_int64(st, 0);
		if (k >= segments)
			continue;
		if (k > next)
			add_gap(next, k - 1, ranges, max, n, more);
		next = k + 1;
		(*held)++;
	}
	if (rc != SQLITE_DONE) {
		r = store_fail(s, rc, "transfer missing", diag);
		goto out;
	}
	if (segments > next)
		add_gap(next, segments - 1, ranges, max, n, more);
out:
	store_stmt_done(st);
	return r;
}

mla_err store_transfer_in_drop(gw_store *s, const char *message_id, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int own = 0, rc;

	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	/* its segments go with it (ON DELETE CASCADE) */
	if ((r = store_stmt(s, ST_XFER_DROP, "DELETE FROM transfer_in WHERE message_id = ?1", &st,
			    diag)) != MLA_OK)
		goto out;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "transfer drop", diag);
out:
	store_stmt_done(st);
	return store_write_leave(s, own, r, diag);
}

mla_err store_transfer_in_older(gw_store *s, int64_t before_ms,
				char (*ids)[MLA_UUID_LEN + 1], size_t max, size_t *n,
				mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*n = 0;
	if ((r = store_stmt(s, ST_XFER_OLDER,
			    "SELECT message_id FROM transfer_in WHERE received_ms < ?1"
			    " ORDER BY received_ms LIMIT ?2", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, before_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)max)) != SQLITE_OK) {
		r = store_fail(s, rc, "transfer older", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		if ((r = store_col_text(st, 0, ids[*n], MLA_UUID_LEN + 1, "transfer older", diag)) !=
		    MLA_OK)
			goto out;
		(*n)++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_fail(s, rc, "transfer older", diag);
out:
	store_stmt_done(st);
	return r;
}

mla_err store_transfer_in_of_peer(gw_store *s, const char *from_state, uint64_t *count,
				  uint64_t *bytes, mla_diag *diag)
{
	struct store_transfer_in t;
	sqlite3_stmt *st = NULL;
	mla_buf list;
	mla_err r = MLA_OK;
	int rc;

	*count = *bytes = 0;
	if ((r = store_stmt(s, ST_XFER_PEER, "SELECT list FROM transfer_in WHERE from_state = ?1",
			    &st, diag)) != MLA_OK)
		return r;
	mla_buf_init(&list, MLA_ATTACH_MAX * LIST_ENTRY);
	if ((rc = sqlite3_bind_text(st, 1, from_state, -1, SQLITE_STATIC)) != SQLITE_OK) {
		r = store_fail(s, rc, "transfer of peer", diag);
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		list.len = 0;
		if ((r = store_col_blob(st, 0, &list, "transfer of peer", diag)) != MLA_OK ||
		    (r = list_decode(&list, &t, diag)) != MLA_OK)
			goto out;
		(*count)++;
		for (size_t i = 0; i < t.n; i++)
			*bytes += t.att[i].size;
	}
	if (rc != SQLITE_DONE)
		r = store_fail(s, rc, "transfer of peer", diag);
out:
	mla_buf_free(&list);
	store_stmt_done(st);
	return r;
}
