/* The reader's view of the messages (store_reader.h): the outbox and inbox rows, one
 * message's envelope or receipt bytes, the history of state changes and the alerts. */
#include <string.h>

#include "store_internal.h"

struct out_ctx {
	store_outbox_row_fn fn;
	void *arg;
};

static mla_err outbox_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct out_ctx *o = arg;
	struct store_outbox_row row;
	struct out_msg m;
	mla_err e;

	if ((e = store_outbox_read_row(st, &m, "outbox", diag)) != MLA_OK ||
	    (e = store_col_text(st, 13, m.in_reply_to, sizeof(m.in_reply_to), "outbox", diag)) !=
		    MLA_OK ||
	    (e = store_col_text(st, 14, m.submitted_by, sizeof(m.submitted_by), "outbox", diag)) !=
		    MLA_OK)
		return e;
	row.msg = &m;
	row.updated_ms = sqlite3_column_int64(st, 15);
	row.receipt = store_reader_blob(st, 16, &row.receipt_len);
	return o->fn(&row, o->arg);
}

mla_err store_reader_outbox(store_reader *r, store_outbox_row_fn fn, void *arg,
			    mla_diag *diag)
{
	struct out_ctx o = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if ((e = store_reader_stmt(r, SR_OUTBOX, "SELECT " STORE_OUT_COLS ", in_reply_to, "
				   "submitted_by, updated_ms, receipt FROM outbox ORDER BY message_id",
				   &st, diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, outbox_row, &o, "outbox", diag);
}

struct in_ctx {
	store_inbox_row_fn fn;
	void *arg;
};

static mla_err inbox_fields(sqlite3_stmt *st, struct in_msg *m, mla_diag *diag)
{
	static const char op[] = "inbox";
	mla_err e;

	memset(m, 0, sizeof(*m));
	if ((e = store_col_text(st, 0, m->message_id, sizeof(m->message_id), op, diag)) ||
	    (e = store_col_text(st, 1, m->case_id, sizeof(m->case_id), op, diag)) ||
	    (e = store_col_text(st, 2, m->in_reply_to, sizeof(m->in_reply_to), op, diag)) ||
	    (e = store_col_text(st, 3, m->from_state, sizeof(m->from_state), op, diag)) ||
	    (e = store_col_text(st, 4, m->kind, sizeof(m->kind), op, diag)) ||
	    (e = store_col_text(st, 5, m->action, sizeof(m->action), op, diag)) ||
	    (e = store_col_digest(st, 9, m->digest, op, diag)))
		return e;
	m->priority = sqlite3_column_int(st, 6);
	m->created_ms = sqlite3_column_int64(st, 7);
	m->received_ms = sqlite3_column_int64(st, 8);
	return MLA_OK;
}

static mla_err inbox_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct in_ctx *c = arg;
	struct store_inbox_row row;
	struct in_msg m;
	mla_err e;

	if ((e = inbox_fields(st, &m, diag)) != MLA_OK)
		return e;
	row.msg = &m;
	row.accepted = sqlite3_column_int(st, 10);
	row.envelope = store_reader_blob(st, 11, &row.envelope_len);
	row.receipt = store_reader_blob(st, 12, &row.receipt_len);
	return c->fn(&row, c->arg);
}

mla_err store_reader_inbox(store_reader *r, store_inbox_row_fn fn, void *arg, mla_diag *diag)
{
	struct in_ctx c = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if ((e = store_reader_stmt(r, SR_INBOX, "SELECT message_id, case_id, in_reply_to, "
				   "from_state, kind, action, priority, created_ms, received_ms, "
				   "digest, accepted, envelope, receipt FROM inbox ORDER BY message_id",
				   &st, diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, inbox_row, &c, "inbox", diag);
}

/* The blob of the one-row select (slot id, sql with ?1 = message id) when it has one:
 * *found = 1 and fn called, else *found = 0. */
static mla_err blob_of(store_reader *r, enum store_reader_stmt_id id, const char *sql,
		       const char *message_id, store_bytes_fn fn, void *arg, int *found,
		       mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err e;
	size_t n = 0;
	int rc;

	*found = 0;
	if ((e = store_reader_stmt(r, id, sql, &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)) {
		e = store_fail_db(r->db, rc, "message bytes", diag);
	} else if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		const uint8_t *p = store_reader_blob(st, 0, &n);
		*found = 1;
		e = fn(p, n, arg);
	}
	store_stmt_done(st);
	return e;
}

/* The first of the two selects that has a blob for message_id. */
static mla_err first_blob(store_reader *r, const enum store_reader_stmt_id id[2],
			  const char *const sql[2], const char *message_id, store_bytes_fn fn,
			  void *arg, const char *what, mla_diag *diag)
{
	mla_err e = MLA_OK;
	int found = 0;

	if (message_id == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "store: no message id");
	for (int i = 0; i < 2 && e == MLA_OK && !found; i++)
		e = blob_of(r, id[i], sql[i], message_id, fn, arg, &found, diag);
	if (e == MLA_OK && !found)
		e = mla_fail(diag, MLA_ERR_NOT_FOUND, "store: no %s stored for %s", what,
			     message_id);
	return e;
}

mla_err store_reader_envelope(store_reader *r, const char *message_id, store_bytes_fn fn,
			      void *arg, mla_diag *diag)
{
	static const enum store_reader_stmt_id id[2] = {SR_ENV_OUT, SR_ENV_IN};
	static const char *const sql[2] = {
		"SELECT envelope FROM outbox_envelope WHERE message_id = ?1",
		"SELECT envelope FROM inbox WHERE message_id = ?1"};

	return first_blob(r, id, sql, message_id, fn, arg, "envelope", diag);
}

mla_err store_reader_receipt(store_reader *r, const char *message_id, store_bytes_fn fn,
			     void *arg, mla_diag *diag)
{
	static const enum store_reader_stmt_id id[2] = {SR_REC_OUT, SR_REC_IN};
	static const char *const sql[2] = {"SELECT receipt FROM outbox WHERE message_id = ?1",
					   "SELECT receipt FROM inbox WHERE message_id = ?1"};

	return first_blob(r, id, sql, message_id, fn, arg, "receipt", diag);
}

struct seal_ctx {
	store_seal_row_fn fn;
	void *arg;
};

static mla_err seal_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct seal_ctx *c = arg;
	struct store_seal_row row;
	int seal = sqlite3_column_int(st, 0);

	row.envelope = store_reader_blob(st, 1, &row.envelope_len);
	row.receipt = store_reader_blob(st, 2, &row.receipt_len);
	if (seal < 1 || row.envelope == NULL || row.receipt == NULL)
		return mla_fail(diag, MLA_ERR_STORE, "store: a seal row is damaged");
	row.seal = (unsigned)seal;
	return c->fn(&row, c->arg);
}

mla_err store_reader_seals(store_reader *r, const char *message_id, store_seal_row_fn fn,
			   void *arg, mla_diag *diag)
{
	struct seal_ctx c = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if (r->version < 6) /* before re-sealing: no seals */
		return MLA_OK;
	if ((e = store_reader_stmt(r, SR_SEALS,
				   "SELECT seal, envelope, receipt FROM outbox_seals"
				   " WHERE message_id = ?1 ORDER BY seal",
				   &st, diag)) != MLA_OK)
		return e;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK) {
		store_stmt_done(st);
		return store_fail_db(r->db, rc, "seals", diag);
	}
	return store_reader_each(r, st, seal_row, &c, "seals", diag);
}

struct hist_ctx {
	store_history_row_fn fn;
	void *arg;
};

static mla_err history_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct hist_ctx *h = arg;
	struct store_history_row row;

	row.message_id = store_reader_text(st, 0);
	row.direction = store_reader_text(st, 1);
	row.state = store_reader_text(st, 2);
	row.at_ms = sqlite3_column_int64(st, 3);
	row.detail = store_reader_text(st, 4);
	if (row.message_id == NULL || row.direction == NULL || row.state == NULL)
		return mla_fail(diag, MLA_ERR_STORE, "store: a history row is damaged");
	return h->fn(&row, h->arg);
}

mla_err store_reader_history(store_reader *r, const char *message_id, store_history_row_fn fn,
			     void *arg, mla_diag *diag)
{
	struct hist_ctx h = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;
	int rc;

	if (message_id == NULL)
		e = store_reader_stmt(r, SR_HISTORY_ALL, "SELECT message_id, direction, state, "
				      "at_ms, detail FROM history ORDER BY id", &st, diag);
	else
		e = store_reader_stmt(r, SR_HISTORY_ONE, "SELECT message_id, direction, state, "
				      "at_ms, detail FROM history WHERE message_id = ?1 ORDER BY id",
				      &st, diag);
	if (e != MLA_OK)
		return e;
	if (message_id != NULL &&
	    (rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK) {
		store_stmt_done(st);
		return store_fail_db(r->db, rc, "history", diag);
	}
	return store_reader_each(r, st, history_row, &h, "history", diag);
}

struct alert_ctx {
	store_alert_row_fn fn;
	void *arg;
};

static mla_err alert_row(sqlite3_stmt *st, void *arg, mla_diag *diag)
{
	const struct alert_ctx *a = arg;
	struct store_alert_row row;

	row.kind = store_reader_text(st, 0);
	row.message_id = store_reader_text(st, 1);
	row.at_ms = sqlite3_column_int64(st, 2);
	row.detail = store_reader_text(st, 3);
	if (row.kind == NULL)
		return mla_fail(diag, MLA_ERR_STORE, "store: an alert row is damaged");
	return a->fn(&row, a->arg);
}

mla_err store_reader_alerts(store_reader *r, store_alert_row_fn fn, void *arg, mla_diag *diag)
{
	struct alert_ctx a = {fn, arg};
	sqlite3_stmt *st = NULL;
	mla_err e;

	if ((e = store_reader_stmt(r, SR_ALERTS, "SELECT kind, message_id, at_ms, detail FROM "
				   "alerts ORDER BY id", &st, diag)) != MLA_OK)
		return e;
	return store_reader_each(r, st, alert_row, &a, "alerts", diag);
}
