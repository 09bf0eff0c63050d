/* Retrieval notices (schema 10; SPEC 16.10): on the requested side, per request received,
 * the time its document was first opened and the MessageIds reserved for its notices; on the
 * requesting side, the notices the peer sent for each request. */
#include <string.h>

#include "store_internal.h"

#define DUE_COLS                                                                             \
	"SELECT r.message_id, i.case_id, i.from_state, i.kind, i.priority, "
#define DUE_FROM " FROM retrieval r JOIN inbox i ON i.message_id = r.message_id"

/* Runs a write binding texts[0..n) to ?1 .. ?n and, when ms is set, *ms to ?n+1; *changed
 * (when set) 1 when it changed a row. */
static mla_err write_row(gw_store *s, enum store_stmt_id id, const char *sql, const char *op,
			 const char *const *texts, int n, const int64_t *ms, int *changed,
			 mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = SQLITE_OK;

	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	for (int i = 0; rc == SQLITE_OK && i < n; i++)
		rc = sqlite3_bind_text(st, i + 1, texts[i], -1, SQLITE_STATIC);
	if (rc != SQLITE_OK || (ms != NULL && (rc = sqlite3_bind_int64(st, n + 1, *ms)) !=
					      SQLITE_OK) ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, op, diag);
	else if (changed != NULL)
		*changed = sqlite3_changes(s->db) > 0;
	store_stmt_done(st);
	return r;
}

mla_err store_retrieval_open(gw_store *s, const char *request_id, int64_t received_ms,
			     mla_diag *diag)
{
	const char *id[] = {request_id};

	return write_row(s, ST_RET_OPEN, "INSERT OR IGNORE INTO retrieval (message_id,"
			 " received_ms) VALUES (?1, ?2)", "retrieval open", id, 1, &received_ms,
			 NULL, diag);
}

mla_err store_retrieval_read(gw_store *s, const char *request_id, int64_t at_ms, int *first,
			     mla_diag *diag)
{
	const char *id[] = {request_id};

	*first = 0;
	return write_row(s, ST_RET_READ, "UPDATE retrieval SET first_read_ms = ?2 WHERE"
			 " message_id = ?1 AND first_read_ms IS NULL", "retrieval read", id, 1,
			 &at_ms, first, diag);
}

/* The due row st is on: columns as DUE_COLS, then the action, the time, the reserved id. */
static mla_err due_row(sqlite3_stmt *st, struct store_notice_due *out, mla_diag *diag)
{
	static const char op[] = "retrieval due";
	mla_err r;

	memset(out, 0, sizeof(*out));
	if ((r = store_col_text(st, 0, out->request_id, sizeof(out->request_id), op, diag)) ||
	    (r = store_col_text(st, 1, out->case_id, sizeof(out->case_id), op, diag)) ||
	    (r = store_col_text(st, 2, out->peer, sizeof(out->peer), op, diag)) ||
	    (r = store_col_text(st, 3, out->kind, sizeof(out->kind), op, diag)) ||
	    (r = store_col_text(st, 5, out->action, sizeof(out->action), op, diag)) ||
	    (r = store_col_text(st, 7, out->notice_id, sizeof(out->notice_id), op, diag)))
		return r;
	out->priority = sqlite3_column_int(st, 4);
	out->at_ms = sqlite3_column_int64(st, 6);
	return MLA_OK;
}

/* Runs a due query (?1 and ?2, where it has them, bound to a and b) and reads its first row. */
static mla_err due_query(gw_store *s, enum store_stmt_id id, const char *sql, int64_t a,
			 int64_t b, struct store_notice_due *out, int *found, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc = SQLITE_OK, n;

	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	n = sqlite3_bind_parameter_count(st);
	if ((n >= 1 && (rc = sqlite3_bind_int64(st, 1, a)) != SQLITE_OK) ||
	    (n >= 2 && (rc = sqlite3_bind_int64(st, 2, b)) != SQLITE_OK) ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "retrieval due", diag);
	else if (rc == SQLITE_ROW && (r = due_row(st, out, diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	return r;
}

#define ORPHAN(col) " " col " NOT IN ('', '-') AND NOT EXISTS (SELECT 1 FROM outbox o WHERE" \
	" o.message_id = " col ")"

mla_err store_retrieval_due(gw_store *s, int64_t now_ms, uint64_t after_ms, int orphans,
			    struct store_notice_due *out, int *found, mla_diag *diag)
{
	mla_err r;

	*found = 0;
	if (orphans &&
	    (((r = due_query(s, ST_RET_ORPHAN_R, DUE_COLS "'retrieved', r.first_read_ms,"
			     " r.retrieved_id" DUE_FROM " WHERE" ORPHAN("r.retrieved_id")
			     " LIMIT 1", 0, 0, out, found, diag)) != MLA_OK || *found) ||
	     ((r = due_query(s, ST_RET_ORPHAN_N, DUE_COLS "'not-retrieved', r.not_retrieved_ms,"
			     " r.not_retrieved_id" DUE_FROM " WHERE" ORPHAN("r.not_retrieved_id")
			     " LIMIT 1", 0, 0, out, found, diag)) != MLA_OK || *found)))
		return r;
	if ((r = due_query(s, ST_RET_READ_DUE, DUE_COLS "'retrieved', r.first_read_ms, ''"
			   DUE_FROM " WHERE r.first_read_ms IS NOT NULL AND r.retrieved_id = ''"
			   " ORDER BY r.first_read_ms LIMIT 1", 0, 0, out, found, diag)) != MLA_OK ||
	    *found || now_ms < 0 || (uint64_t)now_ms < after_ms)
		return r;
	return due_query(s, ST_RET_UNREAD_DUE, DUE_COLS "'not-retrieved', r.received_ms + ?2,"
			 " ''" DUE_FROM " WHERE r.first_read_ms IS NULL AND r.not_retrieved_id ="
			 " '' AND r.received_ms <= ?1 ORDER BY r.received_ms LIMIT 1",
			 now_ms - (int64_t)after_ms, (int64_t)after_ms, out, found, diag);
}

mla_err store_retrieval_reserve(gw_store *s, const char *request_id, const char *action,
				const char *notice_id, int64_t at_ms, mla_diag *diag)
{
	const char *ids[] = {request_id, notice_id};

	if (strcmp(action, "retrieved") == 0)
		return write_row(s, ST_RET_RESERVE_R, "UPDATE retrieval SET retrieved_id = ?2 WHERE"
				 " message_id = ?1", "retrieval reserve", ids, 2, NULL, NULL, diag);
	if (strcmp(action, "not-retrieved") == 0)
		return write_row(s, ST_RET_RESERVE_N, "UPDATE retrieval SET not_retrieved_id = ?2,"
				 " not_retrieved_ms = ?3 WHERE message_id = ?1", "retrieval reserve",
				 ids, 2, &at_ms, NULL, diag);
	return mla_fail(diag, MLA_ERR_ARG, "store: retrieval reserve: no notice action");
}

mla_err store_retrieval_got(gw_store *s, const char *request_id, const char *action,
			    const char *notice_id, int64_t at_ms, mla_diag *diag)
{
	const char *v[] = {request_id, action, notice_id};

	return write_row(s, ST_RET_GOT, "INSERT OR IGNORE INTO retrieval_in (request_id, action,"
			 " notice_id, at_ms) VALUES (?1, ?2, ?3, ?4)", "retrieval got", v, 3, &at_ms,
			 NULL, diag);
}

static int64_t col_ms(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

/* fn for each row of the query sql (?1 bound to message_id). */
typedef mla_err (*row_fn)(sqlite3_stmt *st, struct store_retrieval *out, mla_diag *diag);
static mla_err select_rows(gw_store *s, enum store_stmt_id id, const char *sql,
			   const char *message_id, row_fn fn, struct store_retrieval *out,
			   mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK)
		r = store_fail(s, rc, "retrieval get", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(st, out, diag);
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "retrieval get", diag);
	store_stmt_done(st);
	return r;
}

/* The row of a request received: watched, first read, the notices reserved. */
static mla_err out_row(sqlite3_stmt *st, struct store_retrieval *out, mla_diag *diag)
{
	static const char op[] = "retrieval get";
	mla_err r;

	if ((r = store_col_text(st, 1, out->retrieved_id, sizeof(out->retrieved_id), op,
				diag)) != MLA_OK ||
	    (r = store_col_text(st, 2, out->not_retrieved_id, sizeof(out->not_retrieved_id), op,
				diag)) != MLA_OK)
		return r;
	out->watched = 1;
	out->first_read_ms = col_ms(st, 0);
	out->not_retrieved_ms = col_ms(st, 3);
	return MLA_OK;
}

/* A notice the peer sent for a request this gateway sent. */
static mla_err in_row(sqlite3_stmt *st, struct store_retrieval *out, mla_diag *diag)
{
	static const char op[] = "retrieval get";
	char action[16];
	int retrieved;
	mla_err r;

	if ((r = store_col_text(st, 0, action, sizeof(action), op, diag)) != MLA_OK)
		return r;
	retrieved = strcmp(action, "retrieved") == 0;
	*(retrieved ? &out->got_retrieved_ms : &out->got_not_retrieved_ms) = col_ms(st, 2);
	return store_col_text(st, 1, retrieved ? out->got_retrieved_id : out->got_not_retrieved_id,
			      sizeof(out->got_retrieved_id), op, diag);
}

mla_err store_retrieval_get(gw_store *s, const char *message_id, struct store_retrieval *out,
			    mla_diag *diag)
{
	mla_err r;

	memset(out, 0, sizeof(*out));
	if ((r = select_rows(s, ST_RET_GET, "SELECT first_read_ms, retrieved_id,"
			     " not_retrieved_id, not_retrieved_ms FROM retrieval WHERE"
			     " message_id = ?1", message_id, out_row, out, diag)) != MLA_OK)
		return r;
	return select_rows(s, ST_RET_GET_IN, "SELECT action, notice_id, at_ms FROM retrieval_in"
			   " WHERE request_id = ?1", message_id, in_row, out, diag);
}
