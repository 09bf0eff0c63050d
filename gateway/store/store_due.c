/* The deadline summary of each case (schema 12; see store.h "case deadline summaries"): the
 * escalation scan and the metrics read only the cases whose time has come, through the
 * index on due_next_ms, instead of computing every case's deadlines on the event loop. */
#include <string.h>

#include "store_internal.h"

static mla_err list_rows(gw_store *s, sqlite3_stmt *st, store_due_fn fn, void *arg,
			 mla_diag *diag)
{
	struct store_due d;
	mla_err r = MLA_OK;
	int rc;

	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		if ((r = store_life_read_case(st, &d.c, diag)) != MLA_OK)
			break;
		d.next_ms = sqlite3_column_int64(st, 10);
		d.state = sqlite3_column_int(st, 11);
		d.priority = sqlite3_column_int(st, 12);
		d.fire = sqlite3_column_int(st, 13);
		r = fn(&d, arg);
	}
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case due list", diag);
	return r;
}

#define DUE_COLS STORE_LIFE_COLS ", due_next_ms, due_state, due_priority, due_fire"

mla_err store_due_list(gw_store *s, int64_t now_ms, int fire, store_due_fn fn, void *arg,
		       mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_DUE_LIST, "SELECT " DUE_COLS " FROM case_life WHERE due_next_ms"
			    " <= ?1 ORDER BY due_next_ms", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK)
		r = store_fail(s, rc, "case due list", diag);
	else
		r = list_rows(s, st, fn, arg, diag);
	store_stmt_done(st);
	if (r != MLA_OK || !fire)
		return r;
	if ((r = store_stmt(s, ST_DUE_FIRE, "SELECT " DUE_COLS " FROM case_life WHERE due_fire = 1"
			    " AND due_next_ms > ?1 ORDER BY due_next_ms", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK)
		r = store_fail(s, rc, "case due list", diag);
	else
		r = list_rows(s, st, fn, arg, diag);
	store_stmt_done(st);
	return r;
}

static mla_err put_one(gw_store *s, const struct store_due *d, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if (d->state < 0 || d->state > 2 || d->priority < 0 || d->priority > 2 ||
	    (d->fire != 0 && d->fire != 1))
		return mla_fail(diag, MLA_ERR_ARG, "store: case %s: a deadline summary out of range",
				d->c.key.case_id);
	if ((r = store_stmt(s, ST_DUE_PUT, "UPDATE case_life SET due_next_ms = ?4, due_state = ?5,"
			    " due_priority = ?6, due_fire = ?7 WHERE state = ?1 AND case_id = ?2 AND"
			    " peer = ?3",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, &d->c.key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 4, d->next_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 5, d->state)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 6, d->priority)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 7, d->fire)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case due put", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_due_put(gw_store *s, const struct store_due *v, size_t n, mla_diag *diag)
{
	mla_err r = MLA_OK;
	int own = 0;

	if (n == 0)
		return MLA_OK;
	if (s->in_tx) { /* inside the caller's group: savepoints, its commit */
		if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
			return r;
		for (size_t i = 0; r == MLA_OK && i < n; i++)
			r = put_one(s, &v[i], diag);
		return store_write_leave(s, own, r, diag);
	}
	if ((r = store_begin(s, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; r == MLA_OK && i < n; i++)
		r = put_one(s, &v[i], diag);
	if (r != MLA_OK) {
		(void)store_rollback(s);
		return r;
	}
	return store_commit_relaxed(s, diag);
}

mla_err store_due_counts(gw_store *s, int64_t now_ms, uint64_t out[3][3], mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	memset(out, 0, sizeof(uint64_t[3][3]));
	if ((r = store_stmt(s, ST_DUE_COUNTS, "SELECT due_state, due_priority, count(*) FROM"
			    " case_life WHERE due_state > 0 AND due_next_ms > ?1 GROUP BY"
			    " due_state, due_priority", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_int64(st, 1, now_ms)) != SQLITE_OK)
		r = store_fail(s, rc, "case due counts", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0), prio = sqlite3_column_int(st, 1);

		if (state < 1 || state > 2 || prio < 0 || prio > 2)
			r = mla_fail(diag, MLA_ERR_STORE, "store: a case's deadline summary is out "
				     "of range");
		else
			out[state][prio] = (uint64_t)sqlite3_column_int64(st, 2);
	}
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case due counts", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_due_stale_in(gw_store *s, const struct store_life_key *k, mla_diag *diag)
{
	return store_life_delete_key(s, ST_DUE_STALE, "UPDATE case_life SET due_next_ms = 0 WHERE"
				     " state = ?1 AND case_id = ?2 AND peer = ?3", "case due stale",
				     k, diag);
}

mla_err store_due_stale_step_in(gw_store *s, const char *message_id, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_DUE_STALE_STEP, "UPDATE case_life SET due_next_ms = 0 WHERE"
			    " (state, case_id, peer) IN (SELECT state, case_id, peer FROM"
			    " case_step_facts WHERE message_id = ?1)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case due stale", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_due_rules(gw_store *s, const char *rules, mla_diag *diag)
{
	char held[STORE_META_MAX];
	mla_err r = store_meta_get(s, "deadline_rules", held, sizeof(held), diag);
	int own = 0;

	if (r == MLA_OK && strcmp(held, rules) == 0)
		return MLA_OK;
	if (r != MLA_OK && r != MLA_ERR_NOT_FOUND)
		return r;
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_exec(s, ST_DUE_RESET, "UPDATE case_life SET due_next_ms = 0 WHERE due_next_ms"
			    " <> 0", "case due reset", diag)) == MLA_OK)
		r = store_meta_put(s, "deadline_rules", rules, 1, diag);
	return store_write_leave(s, own, r, diag);
}
