/* The case lifecycle in the store (schema 8; SPEC 16.8): each case's state, last step and
 * this gateway's pending step (case_life), and every step applied (case_steps). Steps are
 * applied inside the write of the inbox row that brought them or of the receipt that
 * answered them, so a case never moves without the message that moved it, nor twice. */
#include <string.h>

#include "store_internal.h"

#define LIFE_COLS STORE_LIFE_COLS

mla_err store_life_read_case(sqlite3_stmt *st, struct store_life_case *c, mla_diag *diag)
{
	char life[48];
	mla_err r;

	memset(c, 0, sizeof(*c));
	if ((r = store_col_text(st, 0, c->key.state, sizeof(c->key.state), "case", diag)) ||
	    (r = store_col_text(st, 1, c->key.case_id, sizeof(c->key.case_id), "case", diag)) ||
	    (r = store_col_text(st, 2, c->key.peer, sizeof(c->key.peer), "case", diag)) ||
	    (r = store_col_text(st, 4, life, sizeof(life), "case", diag)) ||
	    (r = store_col_text(st, 5, c->track.last, sizeof(c->track.last), "case", diag)) ||
	    (r = store_col_text(st, 6, c->track.pending, sizeof(c->track.pending), "case",
				diag)) ||
	    (r = store_col_text(st, 7, c->pending_action, sizeof(c->pending_action), "case",
				diag)))
		return r;
	if (c->pending_action[0] != '\0' &&
	    mla_life_step_parse(c->pending_action, &c->track.pending_step, NULL) != MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store: case %s has an unknown pending step",
				c->key.case_id);
	if (mla_life_state_parse(life, &c->track.state, NULL) != MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store: case %s has an unknown state",
				c->key.case_id);
	c->side = sqlite3_column_int(st, 3) != 0 ? MLA_SIDE_REQUESTED : MLA_SIDE_REQUESTING;
	c->received_ms = sqlite3_column_int64(st, 8);
	c->updated_ms = sqlite3_column_int64(st, 9);
	return MLA_OK;
}

int store_life_bind_key(sqlite3_stmt *st, const struct store_life_key *k)
{
	int rc = sqlite3_bind_text(st, 1, k->state, -1, SQLITE_STATIC);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, k->case_id, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 3, k->peer, -1, SQLITE_STATIC);
	return rc;
}

mla_err store_life_delete_key(gw_store *s, enum store_stmt_id id, const char *sql,
			      const char *what, const struct store_life_key *k, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, id, sql, &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, k)) != SQLITE_OK || (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, what, diag);
	store_stmt_done(st);
	return r;
}

mla_err store_life_get(gw_store *s, const struct store_life_key *key, struct store_life_case *out,
		       int *found, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	memset(out, 0, sizeof(*out));
	out->key = *key;
	if ((r = store_stmt(s, ST_LIFE_GET, "SELECT " LIFE_COLS " FROM case_life WHERE state = ?1"
			    " AND case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case get", diag);
	else if (rc == SQLITE_ROW && (r = store_life_read_case(st, out, diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	return r;
}

mla_err store_life_find(gw_store *s, const char *case_id, const char *peer,
			struct store_life_case out[2], size_t *n, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*n = 0;
	if ((r = store_stmt(s, ST_LIFE_FIND, "SELECT " LIFE_COLS " FROM case_life WHERE case_id = ?1"
			    " AND peer = ?2 ORDER BY state LIMIT 2", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, case_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 2, peer, -1, SQLITE_STATIC)) != SQLITE_OK)
		r = store_fail(s, rc, "case find", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = store_life_read_case(st, &out[*n], diag)) == MLA_OK)
			(*n)++;
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case find", diag);
	store_stmt_done(st);
	return r;
}

/* Writes c whole (insert or replace). */
static mla_err put_case(gw_store *s, const struct store_life_case *c, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_LIFE_PUT, "INSERT OR REPLACE INTO case_life (" LIFE_COLS
			    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", &st, diag)) !=
	    MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, &c->key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 4, c->side == MLA_SIDE_REQUESTED)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 5, mla_life_state_name(c->track.state), -1,
				    SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 6, c->track.last, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 7, c->track.pending, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 8, c->pending_action, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 9, c->received_ms)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 10, store_now_ms())) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case put", diag);
	store_stmt_done(st);
	return r;
}

static mla_err add_step_row(gw_store *s, const struct store_life_step *p, mla_life_state from,
			    mla_life_state to, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_LIFE_STEP_ADD,
			    "INSERT INTO case_steps (state, case_id, peer, seq, message_id, action,"
			    " side, from_life, to_life, at_ms) SELECT ?1, ?2, ?3, coalesce(max(seq),"
			    " 0) + 1, ?4, ?5, ?6, ?7, ?8, ?9 FROM case_steps WHERE state = ?1 AND"
			    " case_id = ?2 AND peer = ?3", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, &p->key)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 4, p->message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 5, p->action, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int(st, 6, p->by == MLA_SIDE_REQUESTED)) != SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 7, mla_life_state_name(from), -1, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_text(st, 8, mla_life_state_name(to), -1, SQLITE_STATIC)) !=
		    SQLITE_OK ||
	    (rc = sqlite3_bind_int64(st, 9, p->at_ms)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_DONE)
		r = store_fail(s, rc, "case step", diag);
	store_stmt_done(st);
	return r;
}

static mla_err check_step(const struct store_life_step *p, mla_life_step *t, mla_diag *diag)
{
	mla_err r;

	if ((r = store_check_str(p->key.state, sizeof(p->key.state), 1, "case state", diag)) ||
	    (r = store_check_str(p->key.case_id, sizeof(p->key.case_id), 1, "case id", diag)) ||
	    (r = store_check_str(p->key.peer, sizeof(p->key.peer), 1, "case peer", diag)) ||
	    (r = store_check_str(p->message_id, sizeof(p->message_id), 1, "step id", diag)))
		return r;
	return mla_life_step_parse(p->action, t, diag);
}

/* Applies p to c (read in the same write) and writes both; clears c's pending step when it
 * is p. */
static mla_err apply_to(gw_store *s, struct store_life_case *c, const struct store_life_step *p,
			mla_diag *diag)
{
	mla_life_state from = c->track.state, to;
	mla_life_step t;
	mla_err r;

	if ((r = check_step(p, &t, diag)) != MLA_OK ||
	    (r = mla_life_apply(from, (mla_life_side)p->by, t, &to, diag)) != MLA_OK)
		return r;
	c->key = p->key;
	c->side = p->side;
	c->track.state = to;
	memcpy(c->track.last, p->message_id, sizeof(c->track.last));
	if (strcmp(c->track.pending, p->message_id) == 0) {
		c->track.pending[0] = '\0';
		c->pending_action[0] = '\0';
	}
	if (t == MLA_STEP_REQUEST)
		c->received_ms = p->at_ms;
	if ((r = put_case(s, c, diag)) != MLA_OK)
		return r;
	/* the requested side keeps its request's deadline facts from the step that accepts it,
	 * and a peer's step's from the step itself */
	if (t == MLA_STEP_REQUEST && p->facts != NULL &&
	    (r = store_deadline_put_in(s, &p->key, p->facts, diag)) != MLA_OK)
		return r;
	if (t != MLA_STEP_REQUEST && p->facts != NULL &&
	    (r = store_step_facts_put_in(s, &p->key, p->message_id, p->facts, diag)) != MLA_OK)
		return r;
	return add_step_row(s, p, from, to, diag);
}

mla_err store_life_apply_in(gw_store *s, const struct store_life_step *step, mla_diag *diag)
{
	struct store_life_case c;
	mla_err r;
	int found;

	/* the peer followed this gateway's pending step: it applied it, so it is applied here
	 * first, as its (positive) receipt will say when it arrives */
	if (step->settle_first[0] != '\0' &&
	    (r = store_life_settle_in(s, step->settle_first, 1, step->at_ms, diag)) != MLA_OK)
		return r;
	if ((r = store_life_get(s, &step->key, &c, &found, diag)) == MLA_OK)
		r = apply_to(s, &c, step, diag);
	return r;
}

mla_err store_life_apply(gw_store *s, const struct store_life_step *step, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = store_life_apply_in(s, step, diag);
	return store_write_leave(s, own, r, diag);
}

mla_err store_life_pend(gw_store *s, const struct store_life_step *step, mla_diag *diag)
{
	struct store_life_case c;
	mla_life_step t;
	mla_err r;
	int found = 0;

	if ((r = check_step(step, &t, diag)) != MLA_OK ||
	    (r = store_life_get(s, &step->key, &c, &found, diag)) != MLA_OK)
		return r;
	if (c.track.pending[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_CONFLICT, "the case's step %s awaits its "
				"receipt", c.track.pending);
	if (!found && t != MLA_STEP_REQUEST)
		return mla_fail(diag, MLA_ERR_CASE_STEP, "step %s in case %s, which has no "
				"request", step->action, step->key.case_id);
	if (!found) {
		c.side = step->side;
		c.track.state = MLA_LIFE_TRANSMITTED;
	}
	memcpy(c.track.pending, step->message_id, sizeof(c.track.pending));
	memcpy(c.pending_action, step->action, sizeof(c.pending_action));
	if ((r = put_case(s, &c, diag)) != MLA_OK)
		return r;
	/* the requesting side keeps them from the sealing of its request; a step's own
	 * facts wait with it for its receipt (a negative one forgets them) */
	if (t == MLA_STEP_REQUEST && step->facts != NULL)
		r = store_deadline_put_in(s, &step->key, step->facts, diag);
	else if (step->facts != NULL)
		r = store_step_facts_put_in(s, &step->key, step->message_id, step->facts, diag);
	return r;
}

static mla_err drop_case(gw_store *s, const struct store_life_key *k, mla_diag *diag)
{
	mla_err r = store_life_delete_key(s, ST_LIFE_DROP, "DELETE FROM case_life WHERE state = ?1"
					  " AND case_id = ?2 AND peer = ?3", "case drop", k, diag);

	return r == MLA_OK ? store_deadline_drop_in(s, k, diag) : r;
}

/* The case whose pending step is message_id; *found 0 when none. */
static mla_err pending_case(gw_store *s, const char *message_id, struct store_life_case *c,
			    int *found, mla_diag *diag)
{
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	*found = 0;
	if ((r = store_stmt(s, ST_LIFE_PENDING, "SELECT " LIFE_COLS " FROM case_life WHERE"
			    " pending = ?1 AND pending <> ''", &st, diag)) != MLA_OK)
		return r;
	if ((rc = sqlite3_bind_text(st, 1, message_id, -1, SQLITE_STATIC)) != SQLITE_OK ||
	    ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE))
		r = store_fail(s, rc, "case pending", diag);
	else if (rc == SQLITE_ROW && (r = store_life_read_case(st, c, diag)) == MLA_OK)
		*found = 1;
	store_stmt_done(st);
	return r;
}

/* The pending step settled: applied when positive and still allowed (it is, unless the peer
 * broke the crossing rule: then it is only forgotten, as the peer's state is its own). */
static mla_err settle(gw_store *s, struct store_life_case *c, int positive, int64_t at_ms,
		      mla_diag *diag)
{
	struct store_life_step p = {.key = c->key, .side = c->side, .by = c->side,
				    .at_ms = at_ms};
	mla_life_step t;
	mla_err r;

	memcpy(p.message_id, c->track.pending, sizeof(p.message_id));
	memcpy(p.action, c->pending_action, sizeof(p.action));
	if (positive && mla_life_step_parse(p.action, &t, NULL) == MLA_OK &&
	    mla_life_next(c->track.state, (mla_life_side)c->side, t) != MLA_LIFE_NONE)
		return apply_to(s, c, &p, diag);
	if (c->track.state == MLA_LIFE_TRANSMITTED && c->track.last[0] == '\0')
		return drop_case(s, &c->key, diag); /* its request never reached the peer */
	if ((r = store_step_facts_forget_in(s, p.message_id, diag)) != MLA_OK)
		return r;
	c->track.pending[0] = '\0';
	c->pending_action[0] = '\0';
	return put_case(s, c, diag);
}

mla_err store_life_settle_in(gw_store *s, const char *message_id, int positive, int64_t at_ms,
			     mla_diag *diag)
{
	struct store_life_case c;
	mla_err r;
	int found = 0;

	if (message_id == NULL || message_id[0] == '\0')
		return MLA_OK;
	if ((r = pending_case(s, message_id, &c, &found, diag)) == MLA_OK && found)
		r = settle(s, &c, positive, at_ms, diag);
	return r;
}

mla_err store_life_settle(gw_store *s, const char *message_id, int positive, int64_t at_ms,
			  mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	r = store_life_settle_in(s, message_id, positive, at_ms, diag);
	return store_write_leave(s, own, r, diag);
}

static mla_err read_row(sqlite3_stmt *st, struct store_life_row *w, mla_diag *diag)
{
	char from[48], to[48];
	mla_err r;

	memset(w, 0, sizeof(*w));
	w->seq = (unsigned)sqlite3_column_int64(st, 0);
	if ((r = store_col_text(st, 1, w->message_id, sizeof(w->message_id), "case history",
				diag)) ||
	    (r = store_col_text(st, 2, w->action, sizeof(w->action), "case history", diag)) ||
	    (r = store_col_text(st, 4, from, sizeof(from), "case history", diag)) ||
	    (r = store_col_text(st, 5, to, sizeof(to), "case history", diag)))
		return r;
	w->by = sqlite3_column_int(st, 3) != 0 ? MLA_SIDE_REQUESTED : MLA_SIDE_REQUESTING;
	w->at_ms = sqlite3_column_int64(st, 6);
	w->rule = MLA_DEADLINE_RULE_N;
	if (sqlite3_column_type(st, 7) != SQLITE_NULL &&
	    (w->rule = (int)mla_deadline_rule_by_name((const char *)sqlite3_column_text(st, 7))) ==
		    MLA_DEADLINE_RULE_N)
		return mla_fail(diag, MLA_ERR_STORE, "store: a case step names an unknown rule");
	w->recorded_ms = sqlite3_column_type(st, 8) == SQLITE_NULL ? MLA_DEADLINE_NO_TIME
								    : sqlite3_column_int64(st, 8);
	if (mla_life_state_parse(from, &w->from, NULL) != MLA_OK ||
	    mla_life_state_parse(to, &w->to, NULL) != MLA_OK)
		return mla_fail(diag, MLA_ERR_STORE, "store: a case step has an unknown state");
	return MLA_OK;
}

mla_err store_life_history(gw_store *s, const struct store_life_key *key, store_life_row_fn fn,
			   void *arg, mla_diag *diag)
{
	struct store_life_row w;
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_LIFE_HISTORY, "SELECT s.seq, s.message_id, s.action, s.side,"
			    " s.from_life, s.to_life, s.at_ms, f.rule, f.recorded_ms FROM case_steps s"
			    " LEFT JOIN case_step_facts f ON f.message_id = s.message_id WHERE"
			    " s.state = ?1 AND s.case_id = ?2 AND s.peer = ?3 ORDER BY s.seq", &st, diag)) != MLA_OK)
		return r;
	if ((rc = store_life_bind_key(st, key)) != SQLITE_OK)
		r = store_fail(s, rc, "case history", diag);
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = read_row(st, &w, diag)) == MLA_OK)
			r = fn(&w, arg);
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case history", diag);
	store_stmt_done(st);
	return r;
}

mla_err store_life_list(gw_store *s, store_life_case_fn fn, void *arg, mla_diag *diag)
{
	struct store_life_case c;
	sqlite3_stmt *st = NULL;
	mla_err r;
	int rc;

	if ((r = store_stmt(s, ST_LIFE_LIST, "SELECT " LIFE_COLS " FROM case_life ORDER BY state,"
			    " case_id, peer", &st, diag)) != MLA_OK)
		return r;
	while (r == MLA_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((r = store_life_read_case(st, &c, diag)) == MLA_OK)
			r = fn(&c, arg);
	if (r == MLA_OK && rc != SQLITE_DONE)
		r = store_fail(s, rc, "case list", diag);
	store_stmt_done(st);
	return r;
}

/* A settlement forgets a step the case no longer allows (a peer that broke the crossing
 * rule); a replayed one must be allowed or refused, never forgotten. */
static mla_err allowed_now(gw_store *s, const struct store_life_step *step, mla_diag *diag)
{
	struct store_life_case c;
	mla_life_step t;
	mla_err r;
	int found = 0;

	if ((r = store_life_get(s, &step->key, &c, &found, diag)) != MLA_OK ||
	    (r = mla_life_step_parse(step->action, &t, diag)) != MLA_OK)
		return r;
	if (mla_life_next(c.track.state, (mla_life_side)step->side, t) == MLA_LIFE_NONE)
		return mla_fail(diag, MLA_ERR_CASE_STEP, "step %s is not allowed in case state %s",
				step->action, mla_life_state_name(c.track.state));
	return MLA_OK;
}

mla_err store_life_replay_sent(gw_store *s, const struct store_life_step *step, mla_diag *diag)
{
	mla_err r;
	int own = 0;

	if ((r = store_write_enter(s, &own, diag)) != MLA_OK)
		return r;
	if ((r = store_life_pend(s, step, diag)) == MLA_OK &&
	    (r = allowed_now(s, step, diag)) == MLA_OK)
		r = store_life_settle_in(s, step->message_id, 1, step->at_ms, diag);
	return store_write_leave(s, own, r, diag);
}
