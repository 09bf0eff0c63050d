/* What each case's deadlines are computed from (schema 9; SPEC 16.9): the facts of its
 * request's document, written with the request's step in the same write, and the highest
 * escalation threshold fired per deadline, raised once the hook's run is over. */
#include <string.h>

#include "mlagw/case.h"
#include "mlagw/deadline.h"
#include "store_internal.h"

static int bind_key(sqlite3_stmt *st, const struct store_life_key *k)
{
	int rc = sqlite3_bind_text(st, 1, k->state, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, k->case_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, k->peer, -1, SQLITE_STATIC);
	return rc;
}

static mla_err check_facts(const struct store_deadline_facts *f, mla_diag *diag)
{
	mla_err r;

	if (f->type <= MLA_CASE_NONE || f->type >= MLA_CASE_DOCTYPE_N)
		return mla_fail(diag, MLA_ERR_ARG, "store: deadline facts without a kind part");
	if (f->priority < MLA_PRIORITY_NORMAL || f->priority > MLA_PRIORITY_CRISIS)
		return mla_fail(diag, MLA_ERR_ARG, "store: deadline facts with a bad priority");
	if ((r = store_check_str(f->kind, sizeof(f->kind), 1, "case kind", diag)) != MLA_OK)
		return r;
	return MLA_OK;
}

mla_err store_deadline_put_in(gw_store *s, const struct store_life_key *key,
			      const struct store_deadline_facts *f, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = check_facts(f, diag)) != MLA_OK ||
	    (r = store_stmt(s, ST_DL_PUT, "INSERT OR REPLACE INTO case_deadline (state, case_id,"
			    " peer, doctype, urgent, eio, wished_ms, kind, priority) VALUES (?1, ?2,"
			    " ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = bind_key(st, key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, mla_case_doctype_name((mla_case_doctype)f->type), -1,
				    SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 5, f->urgent != 0)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 6, f->eio != 0)) != SQLITE_OK ||
	    (rc = f->wished_ms == MLA_DEADLINE_NO_TIME ? sqlite3_bind_null(st, 7) :
		  sqlite3_bind_int64(st, 7, f->wished_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 8, f->kind, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 9, f->priority)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline put", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_deadline_drop_in(gw_store *s, const struct store_life_key *key, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_DL_DROP, "DELETE FROM case_deadline WHERE state = ?1 AND"
			    " case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = bind_key(st, key)) != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline drop", diag);
	store_stmt_done(st);
	return r;
}

static mla_err doctype_parse(const char *name, int *out, mla_diag *diag)
{
	int t;

	for (t = MLA_CASE_NONE + 1; t < MLA_CASE_DOCTYPE_N; t++)
		if (strcmp(name, mla_case_doctype_name((mla_case_doctype)t)) == 0) {
			*out = t;
			return MLA_OK;
		}
	return mla_fail(diag, MLA_ERR_STORE, "store: a case deadline has an unknown kind part");
}

static unsigned fired_col(sqlite3_stmt *st, int col)
{
	int v = sqlite3_column_int(st, col);

	return v == 50 || v == 90 || v == 100 ? (unsigned)v : 0;
}

static mla_err read_deadline(sqlite3_stmt *st, struct store_deadline *d, mla_diag *diag)
{
	char type[48];
	mla_err r;
	int p;

	memset(d, 0, sizeof(*d));
	if ((r = store_col_text(st, 0, type, sizeof(type), "case deadline", diag)) != MLA_OK ||
	    (r = doctype_parse(type, &d->facts.type, diag)) != MLA_OK ||
	    (r = store_col_text(st, 4, d->facts.kind, sizeof(d->facts.kind), "case deadline",
				diag)) != MLA_OK)
		return r;
	d->facts.urgent = sqlite3_column_int(st, 1) != 0;
	d->facts.eio = sqlite3_column_int(st, 2) != 0;
	d->facts.wished_ms = sqlite3_column_type(st, 3) == SQLITE_NULL ?
				     MLA_DEADLINE_NO_TIME : sqlite3_column_int64(st, 3);
	p = sqlite3_column_int(st, 5);
	d->facts.priority = p >= MLA_PRIORITY_NORMAL && p <= MLA_PRIORITY_CRISIS ? p : 0;
	d->fired_pct[STORE_DEADLINE_LEGAL] = fired_col(st, 6);
	d->fired_pct[STORE_DEADLINE_WISHED] = fired_col(st, 7);
	return MLA_OK;
}

mla_err store_deadline_get(gw_store *s, const struct store_life_key *key,
			   struct store_deadline *out, int *found, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if ((r = store_stmt(s, ST_DL_GET, "SELECT doctype, urgent, eio, wished_ms, kind, priority,"
			    " legal_fired, wished_fired FROM case_deadline WHERE state = ?1 AND"
			    " case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = bind_key(st, key)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case deadline get", diag);
	else if (rc == SQLITE_ROW && (r = read_deadline(st, out, diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	return r;
}

static mla_err fired_in(gw_store *s, const struct store_life_key *key,
			enum store_deadline_which which, unsigned pct, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	/* the column is chosen by the statement, never spliced into it */
	if ((r = which == STORE_DEADLINE_LEGAL ?
			 store_stmt(s, ST_DL_FIRED, "UPDATE case_deadline SET legal_fired ="
				    " max(legal_fired, ?4) WHERE state = ?1 AND case_id = ?2 AND"
				    " peer = ?3", &st, diag) :
			 store_stmt(s, ST_DL_FIRED_WISHED, "UPDATE case_deadline SET"
				    " wished_fired = max(wished_fired, ?4) WHERE state = ?1 AND"
				    " case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = bind_key(st, key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 4, (int)pct)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline fired", diag);
	else if (sqlite3_changes(s->db) == 0)
		r = mla_fail(diag, MLA_ERR_NOT_FOUND, "case %s has no deadline record",
			     key->case_id);
	store_stmt_done(st);
	return r;
}

mla_err store_deadline_fired(gw_store *s, const struct store_life_key *key,
			     enum store_deadline_which which, unsigned pct, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if (pct != 50 && pct != 90 && pct != 100)
		return mla_fail(diag, MLA_ERR_ARG, "escalation threshold %u is none of 50, 90, 100",
				pct);
	if (which != STORE_DEADLINE_LEGAL && which != STORE_DEADLINE_WISHED)
		return mla_fail(diag, MLA_ERR_ARG, "no such deadline");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = fired_in(s, key, which, pct, diag);
	return store_write_leave(s, own, r, diag);
}
