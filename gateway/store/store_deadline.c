/* What each case's deadlines are computed from (schemas 9, 11; SPEC 16.9): the facts of its
 * request's document, written with the request's step in the same write, the facts of the
 * steps after it that move a deadline (an extension's rule, an arrest's or a consent's time),
 * and the highest escalation threshold fired per deadline, raised once the hook's run is
 * over. */
#include <string.h>

#include "mlagw/case.h"
#include "mlagw/deadline.h"
#include "store_internal.h"

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

/* A new request's record starts without marks; a dropped one leaves none. */
static mla_err drop_marks(gw_store *s, const struct store_life_key *key, mla_diag *diag)
{
	return store_life_delete_key(s, ST_DL_MARKS_DROP, "DELETE FROM case_deadline_fired WHERE"
				     " state = ?1 AND case_id = ?2 AND peer = ?3",
				     "case deadline marks", key, diag);
}

mla_err store_deadline_put_in(gw_store *s, const struct store_life_key *key,
			      const struct store_deadline_facts *f, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = check_facts(f, diag)) != MLA_OK ||
	    (r = store_stmt(s, ST_DL_PUT, "INSERT OR REPLACE INTO case_deadline (state, case_id,"
			    " peer, doctype, urgent, eio, wished_ms, kind, priority, eaw) VALUES (?1,"
			    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, mla_case_doctype_name((mla_case_doctype)f->type), -1,
				    SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 5, f->urgent != 0)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 6, f->eio != 0)) != SQLITE_OK ||
	    (rc = f->wished_ms == MLA_DEADLINE_NO_TIME ? sqlite3_bind_null(st, 7) :
		  sqlite3_bind_int64(st, 7, f->wished_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 8, f->kind, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 9, f->priority)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 10, f->eaw != 0)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline put", diag);
	store_stmt_done(st);
	if (r == MLA_OK)
		r = store_due_stale_in(s, key, diag);
	return r == MLA_OK ? drop_marks(s, key, diag) : r;
}

mla_err store_deadline_drop_in(gw_store *s, const struct store_life_key *key, mla_diag *diag)
{
	mla_err r = store_life_delete_key(s, ST_DL_DROP, "DELETE FROM case_deadline WHERE state ="
					  " ?1 AND case_id = ?2 AND peer = ?3", "case deadline drop",
					  key, diag);

	if (r == MLA_OK)
		r = store_life_delete_key(s, ST_STEP_FACTS_DROP, "DELETE FROM case_step_facts"
					  " WHERE state = ?1 AND case_id = ?2 AND peer = ?3",
					  "case step facts drop", key, diag);
	if (r == MLA_OK)
		r = store_due_stale_in(s, key, diag);
	return r == MLA_OK ? drop_marks(s, key, diag) : r;
}

mla_err store_step_facts_put_in(gw_store *s, const struct store_life_key *key,
				const char *message_id, const struct store_deadline_facts *f,
				mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if (f->rule < 0 || f->rule > MLA_DEADLINE_RULE_N)
		return mla_fail(diag, MLA_ERR_ARG, "store: step facts with a bad rule");
	if ((r = store_stmt(s, ST_STEP_FACTS_PUT, "INSERT OR REPLACE INTO case_step_facts"
			    " (state, case_id, peer, message_id, rule, recorded_ms) VALUES (?1, ?2,"
			    " ?3, ?4, ?5, ?6)", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = f->rule == MLA_DEADLINE_RULE_N ? sqlite3_bind_null(st, 5) :
		  sqlite3_bind_text(st, 5, mla_deadline_rule_name((mla_deadline_rule_id)f->rule),
				    -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = f->recorded_ms == MLA_DEADLINE_NO_TIME ? sqlite3_bind_null(st, 6) :
		  sqlite3_bind_int64(st, 6, f->recorded_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case step facts put", diag);
	store_stmt_done(st);
	return r == MLA_OK ? store_due_stale_in(s, key, diag) : r;
}

mla_err store_step_facts_forget_in(gw_store *s, const char *message_id, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_due_stale_step_in(s, message_id, diag)) != MLA_OK ||
	    (r = store_stmt(s, ST_STEP_FACTS_FORGET, "DELETE FROM case_step_facts WHERE"
			    " message_id = ?1", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case step facts forget", diag);
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

static const char *deadline_name(int which)
{
	return which == STORE_DEADLINE_WISHED ? "wished"
					      : mla_deadline_rule_name((mla_deadline_rule_id)which);
}

static int deadline_by_name(const char *name)
{
	return strcmp(name, "wished") == 0 ? STORE_DEADLINE_WISHED
					   : (int)mla_deadline_rule_by_name(name);
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
	d->facts.eaw = sqlite3_column_int(st, 6) != 0;
	d->facts.rule = MLA_DEADLINE_RULE_N;
	d->facts.recorded_ms = MLA_DEADLINE_NO_TIME;
	return MLA_OK;
}

/* The marks of the case into d->fired_pct (a deadline this mlagw does not know is skipped). */
static mla_err read_marks(gw_store *s, const struct store_life_key *key,
			  struct store_deadline *d, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	char name[48];
	mla_err r;
	int rc, w;

	if ((r = store_stmt(s, ST_DL_MARKS, "SELECT deadline, pct FROM case_deadline_fired WHERE"
			    " state = ?1 AND case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK)
		r = store_fail(s, rc, "case deadline marks", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = store_col_text(st, 0, name, sizeof(name), "case deadline marks",
					diag)) == MLA_OK &&
		    (w = deadline_by_name(name)) >= 0 && w < STORE_DEADLINE_N)
			d->fired_pct[w] = (unsigned)sqlite3_column_int(st, 1);
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline marks", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_deadline_get(gw_store *s, const struct store_life_key *key,
			   struct store_deadline *out, int *found, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	if ((r = store_stmt(s, ST_DL_GET, "SELECT doctype, urgent, eio, wished_ms, kind, priority, eaw"
			    " FROM case_deadline WHERE state = ?1 AND case_id = ?2 AND peer = ?3",
			    &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case deadline get", diag);
	else if (rc == SQLITE_ROW && (r = read_deadline(st, out, diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	if (r == MLA_OK && *found)
		r = read_marks(s, key, out, diag);
	return r;
}

/* Inside the write: the record must exist; the mark rises to pct. */
static mla_err fired_in(gw_store *s, const struct store_life_key *key, int which, unsigned pct,
			mla_diag *diag)
{
	struct store_deadline d;
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc, found = 0;

	if ((r = store_deadline_get(s, key, &d, &found, diag)) != MLA_OK)
		return r;
	if (!found)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "case %s has no deadline record",
				key->case_id);
	if (d.fired_pct[which] >= pct)
		return MLA_OK;
	if ((r = store_stmt(s, ST_DL_FIRED, "INSERT OR REPLACE INTO case_deadline_fired (state,"
			    " case_id, peer, deadline, pct) VALUES (?1, ?2, ?3, ?4, ?5)", &st,
			    diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, deadline_name(which), -1, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 5, (int)pct)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case deadline fired", diag);
	store_stmt_done(st);
	return r == MLA_OK ? store_due_stale_in(s, key, diag) : r;
}

mla_err store_deadline_fired(gw_store *s, const struct store_life_key *key, int which,
			     unsigned pct, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if (pct != 50 && pct != 90 && pct != 100)
		return mla_fail(diag, MLA_ERR_ARG, "escalation threshold %u is none of 50, 90, 100",
				pct);
	if (which < 0 || which >= STORE_DEADLINE_N)
		return mla_fail(diag, MLA_ERR_ARG, "no such deadline");
	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = fired_in(s, key, which, pct, diag);
	return store_write_leave(s, own, r, diag);
}
