/* The case lifecycle checked read-only (schema 8, SPEC 16.8): every case's steps form a legal
 * path of the lifecycle table, numbered from 1 without a gap, each from the state the one
 * before led to, and the case's state and last step are where its last step led; a case
 * without a step is a request awaiting its receipt; a case's deadline record (schema 9) belongs
 * to a case of the lifecycle. Part STORE_CHECK_CASES of store_check_run. */
#include <string.h>

#include "mlagw/codec.h"
#include "store_check.h"
#include "store_internal.h"

struct chain {
	mla_life_state at;      /* where the steps so far lead */
	unsigned seq;           /* the last seq read */
	char last[MLA_UUID_LEN + 1];
};

static const char *text_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? (const char *)t : "";
}

/* One step row (seq, message_id, action, side, from_life, to_life) after ch; "" when legal. */
static const char *step_fault(sqlite3_stmt *st, struct chain *ch)
{
	mla_life_state from, to;
	mla_life_step t;
	mla_life_side by = sqlite3_column_int(st, 3) ? MLA_SIDE_REQUESTED : MLA_SIDE_REQUESTING;

	if (sqlite3_column_int64(st, 0) != (sqlite3_int64)ch->seq + 1)
		return "its steps are not numbered from 1 without a gap";
	if (mla_life_state_parse(text_col(st, 4), &from, NULL) != MLA_OK ||
	    mla_life_state_parse(text_col(st, 5), &to, NULL) != MLA_OK ||
	    mla_life_step_parse(text_col(st, 2), &t, NULL) != MLA_OK)
		return "a step names an unknown state or action";
	if (ch->seq == 0 ? (from != MLA_LIFE_NONE && from != MLA_LIFE_TRANSMITTED) : from != ch->at)
		return "a step does not start where the one before it led";
	if (mla_life_next(from, by, t) != to)
		return "a step the lifecycle table does not allow";
	ch->seq++;
	ch->at = to;
	(void)mla_snprintf_cut(ch->last, sizeof(ch->last), "%s", text_col(st, 1));
	return "";
}

/* The case row life (state, case_id, peer, life, last_step, pending) against its steps. */
static const char *case_fault(sqlite3 *db, sqlite3_stmt *life, mla_err *err)
{
	static const char q[] = "SELECT seq, message_id, action, side, from_life, to_life FROM"
				" case_steps WHERE state = ?1 AND case_id = ?2 AND peer = ?3"
				" ORDER BY seq";
	struct chain ch = {MLA_LIFE_NONE, 0, ""};
	sqlite3_stmt *st = NULL;
	const char *why = "";
	mla_life_state want;
	int rc;

	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) {
		*err = MLA_ERR_STORE;
		return "cannot read the steps";
	}
	for (int i = 0; i < 3; i++)
		(void)sqlite3_bind_text(st, i + 1, text_col(life, i), -1, SQLITE_TRANSIENT);
	while (why[0] == '\0' && (rc = sqlite3_step(st)) == SQLITE_ROW)
		why = step_fault(st, &ch);
	if (why[0] == '\0' && rc != SQLITE_DONE) {
		*err = MLA_ERR_STORE;
		why = "cannot read the steps";
	}
	(void)sqlite3_finalize(st);
	if (why[0] != '\0')
		return why;
	if (mla_life_state_parse(text_col(life, 3), &want, NULL) != MLA_OK)
		return "the case names an unknown state";
	if (ch.seq == 0)
		return want == MLA_LIFE_TRANSMITTED && text_col(life, 5)[0] != '\0' &&
			       text_col(life, 4)[0] == '\0'
		       ? "" : "a case without a step that is not a request awaiting its receipt";
	if (want != ch.at || strcmp(text_col(life, 4), ch.last) != 0)
		return "the case's state or last step is not where its steps lead";
	return "";
}

static void note_bad(struct store_check_result *res, sqlite3_stmt *life, const char *why)
{
	if (res->bad_cases++ == 0)
		(void)mla_snprintf_cut(res->case_bad, sizeof(res->case_bad), "case %.64s of %.2s "
				       "with %.2s: %s", text_col(life, 1), text_col(life, 0),
				       text_col(life, 2), why);
}

/* Deadline records (schema 9) without their case: the first one's key into res. */
static mla_err orphan_deadlines(store_reader *r, struct store_check_result *res,
				mla_diag *diag)
{
	static const char q[] = "SELECT state, case_id, peer FROM case_deadline d WHERE NOT"
				" EXISTS (SELECT 1 FROM case_life l WHERE l.state = d.state AND"
				" l.case_id = d.case_id AND l.peer = d.peer) ORDER BY state,"
				" case_id, peer";
	sqlite3_stmt *st = NULL;
	int rc;

	if (r->version < 9)
		return MLA_OK;
	if ((rc = sqlite3_prepare_v2(r->db, q, -1, &st, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "case deadline check", diag);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		note_bad(res, st, "a deadline record without its case");
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail_db(r->db, rc, "case deadline check", diag);
	return MLA_OK;
}

/* Step facts (schema 11) of no step: neither applied in their case's history nor its pending
 * step (a refused step's are forgotten with it, a dropped case's with the case). */
static mla_err orphan_step_facts(store_reader *r, struct store_check_result *res,
				 mla_diag *diag)
{
	static const char q[] = "SELECT state, case_id, peer FROM case_step_facts f WHERE NOT"
				" EXISTS (SELECT 1 FROM case_steps s WHERE s.message_id ="
				" f.message_id AND s.state = f.state AND s.case_id = f.case_id AND"
				" s.peer = f.peer) AND NOT EXISTS (SELECT 1 FROM case_life l WHERE"
				" l.pending = f.message_id AND l.state = f.state AND l.case_id ="
				" f.case_id AND l.peer = f.peer) ORDER BY state, case_id, peer";
	sqlite3_stmt *st = NULL;
	int rc;

	if (r->version < 11)
		return MLA_OK;
	if ((rc = sqlite3_prepare_v2(r->db, q, -1, &st, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "case step facts check", diag);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		note_bad(res, st, "step facts without their step");
	(void)sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_fail_db(r->db, rc, "case step facts check", diag);
	return MLA_OK;
}

mla_err store_check_cases(store_reader *r, struct store_check_result *res, mla_diag *diag)
{
	static const char q[] = "SELECT state, case_id, peer, life, last_step, pending FROM"
				" case_life ORDER BY state, case_id, peer";
	sqlite3_stmt *life = NULL;
	mla_err err = MLA_OK;
	const char *why;
	int rc;

	if (r->version < 8)
		return MLA_OK; /* no lifecycle before schema 8 */
	if ((rc = sqlite3_prepare_v2(r->db, q, -1, &life, NULL)) != SQLITE_OK)
		return store_fail_db(r->db, rc, "case check", diag);
	while (err == MLA_OK && (rc = sqlite3_step(life)) == SQLITE_ROW) {
		res->cases++;
		if ((why = case_fault(r->db, life, &err))[0] != '\0' && err == MLA_OK)
			note_bad(res, life, why);
	}
	if (err == MLA_OK && rc != SQLITE_DONE)
		err = store_fail_db(r->db, rc, "case check", diag);
	else if (err != MLA_OK)
		err = mla_fail(diag, err, "case check: cannot read the steps");
	(void)sqlite3_finalize(life);
	if (err == MLA_OK)
		err = orphan_deadlines(r, res, diag);
	if (err == MLA_OK)
		err = orphan_step_facts(r, res, diag);
	if (res->bad_cases > 0)
		res->failed |= STORE_CHECK_CASES;
	return err;
}
