/* What a case's deadline clock reads from its lifecycle (SPEC 16.8, 16.9): the request's
 * receipt time, the time of the Accepted step and of the deadline-extended steps (per rule
 * they name), the arrest and consent an arrest warrant's steps record, and each interval
 * additional information was awaited, from the case's steps in the store. */
#include <string.h>

#include "cases/cases.h"

struct clock_ctx {
	struct cases_clock *out;
	size_t max;
	int open;      /* a pause is running: the next step ends it */
	mla_err err;
};

/* When the arrest or consent a step records starts its clock: the recorded time, or the
 * step's own time when it records none or one after the step took effect (SPEC 16.9): the
 * executing State reports what has happened, and a later time would hold off the deadline
 * that runs against itself. */
static int64_t recorded_start(const struct store_life_row *w)
{
	return w->recorded_ms != MLA_DEADLINE_NO_TIME && w->recorded_ms <= w->at_ms ?
		       w->recorded_ms : w->at_ms;
}

static mla_err clock_row(const struct store_life_row *w, void *arg)
{
	struct clock_ctx *x = arg;
	struct cases_clock *c = x->out;

	if (x->open) { /* any step after the request for information ends the wait */
		c->pauses[c->n_pauses - 1].to_ms = w->at_ms;
		x->open = 0;
	}
	if (w->to == MLA_LIFE_ACCEPTED && c->accepted_ms == 0)
		c->accepted_ms = w->at_ms;
	if (strcmp(w->action, "deadline-extended") == 0 && w->rule >= 0 &&
	    w->rule < MLA_DEADLINE_RULE_N)
		c->rule_extended_ms[w->rule] = w->at_ms;
	else if (strcmp(w->action, "deadline-extended") == 0)
		c->extended_ms = w->at_ms;
	if (strcmp(w->action, "person-arrested") == 0 && c->arrest_ms == MLA_DEADLINE_NO_TIME)
		c->arrest_ms = recorded_start(w);
	if (strcmp(w->action, "surrender-consented") == 0 && c->consent_ms == MLA_DEADLINE_NO_TIME)
		c->consent_ms = recorded_start(w);
	if (w->to != MLA_LIFE_INFO_REQUESTED)
		return MLA_OK;
	if (c->n_pauses == x->max)
		return x->err = MLA_ERR_TOO_LARGE;
	c->pauses[c->n_pauses].from_ms = w->at_ms;
	c->pauses[c->n_pauses].to_ms = MLA_DEADLINE_OPEN;
	c->n_pauses++;
	x->open = 1;
	return MLA_OK;
}

mla_err cases_clock_get(gw_store *st, const struct store_life_key *key, struct cases_clock *out,
			mla_diag *diag)
{
	struct clock_ctx x = {out, MLA_DEADLINE_PAUSES_MAX, 0, MLA_OK};
	struct store_life_case c;
	mla_err r;
	int found = 0;

	memset(out, 0, sizeof(*out));
	out->arrest_ms = MLA_DEADLINE_NO_TIME;
	out->consent_ms = MLA_DEADLINE_NO_TIME;
	if ((r = store_life_get(st, key, &c, &found, diag)) != MLA_OK)
		return r;
	if (!found)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "no case %s in the lifecycle", key->case_id);
	out->start_ms = c.received_ms;
	if ((r = store_life_history(st, key, clock_row, &x, diag)) == MLA_ERR_TOO_LARGE &&
	    x.err == MLA_ERR_TOO_LARGE)
		return mla_fail(diag, r, "case %s awaited additional information more than %d "
				"times", key->case_id, MLA_DEADLINE_PAUSES_MAX);
	return r;
}
