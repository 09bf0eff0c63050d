/* The steps that must come in an order the state table cannot see (SPEC 16.8, 16.9): an
 * arrest warrant's arrest once, then its consent once; a deadline's extension once per rule,
 * and one naming no rule only alone. Both sides decide from the history both hold. */
#include <string.h>

#include "cases/cases.h"

/* The first step of each kind in a case's history ("" when none). */
struct seen {
	char arrest[MLA_UUID_LEN + 1];
	char consent[MLA_UUID_LEN + 1];
	char ext_any[MLA_UUID_LEN + 1];  /* any deadline-extended */
	char ext_none[MLA_UUID_LEN + 1]; /* one naming no rule */
	char ext_rule[MLA_DEADLINE_RULE_N][MLA_UUID_LEN + 1];
};

static void keep_first(char *slot, const char *id)
{
	if (slot[0] == '\0')
		memcpy(slot, id, MLA_UUID_LEN + 1);
}

static mla_err see_row(const struct store_life_row *w, void *arg)
{
	struct seen *x = arg;

	if (strcmp(w->action, "person-arrested") == 0)
		keep_first(x->arrest, w->message_id);
	else if (strcmp(w->action, "surrender-consented") == 0)
		keep_first(x->consent, w->message_id);
	if (strcmp(w->action, "deadline-extended") != 0)
		return MLA_OK;
	keep_first(x->ext_any, w->message_id);
	if (w->rule >= 0 && w->rule < MLA_DEADLINE_RULE_N)
		keep_first(x->ext_rule[w->rule], w->message_id);
	else
		keep_first(x->ext_none, w->message_id);
	return MLA_OK;
}

static mla_err arrest_order(const struct seen *x, const struct store_life_case *c,
			    mla_life_step step, mla_diag *diag)
{
	const char *state = mla_life_state_name(c->track.state);

	if (step == MLA_STEP_ARREST && x->arrest[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "step person-arrested by the requested "
				"State is not allowed in case state %s; the arrest was already "
				"recorded (step %s): once per case", state, x->arrest);
	if (step == MLA_STEP_CONSENT && x->consent[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "step surrender-consented by the "
				"requested State is not allowed in case state %s; the consent was "
				"already recorded (step %s): once per case", state, x->consent);
	if (step == MLA_STEP_CONSENT && x->arrest[0] == '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "step surrender-consented by the "
				"requested State is not allowed in case state %s; no arrest is "
				"recorded: person-arrested comes first", state);
	return MLA_OK;
}

/* rule: the rule the new step names (MLA_DEADLINE_RULE_N: none); known 0 before its document
 * was read (only what holds whatever it names is checked). */
static mla_err extension_order(const struct seen *x, const struct store_life_case *c, int rule,
			       int known, mla_diag *diag)
{
	const char *pre = "step deadline-extended by the requested State is not allowed in case "
			  "state";
	const char *state = mla_life_state_name(c->track.state);

	if (x->ext_none[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "%s %s; the case's deadline extension "
				"naming no rule was already taken (step %s): it extends every "
				"rule, once per case", pre, state, x->ext_none);
	if (!known)
		return MLA_OK;
	if (rule == MLA_DEADLINE_RULE_N && x->ext_any[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "%s %s; an extension naming no rule "
				"extends every rule, and one was already extended (step %s)",
				pre, state, x->ext_any);
	if (rule != MLA_DEADLINE_RULE_N && x->ext_rule[rule][0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_STEP, "%s %s; rule %s was already extended "
				"(step %s): once per rule", pre, state,
				mla_deadline_rule_name((mla_deadline_rule_id)rule), x->ext_rule[rule]);
	return MLA_OK;
}

mla_err cases_check_order(gw_store *st, const struct store_life_key *k,
			  const struct store_life_case *c, mla_life_step step,
			  const struct store_deadline_facts *f, int known, mla_diag *diag)
{
	struct seen x;
	mla_err r;

	if (step != MLA_STEP_ARREST && step != MLA_STEP_CONSENT && step != MLA_STEP_EXTEND)
		return MLA_OK;
	memset(&x, 0, sizeof(x));
	if ((r = store_life_history(st, k, see_row, &x, diag)) != MLA_OK)
		return r;
	if (step != MLA_STEP_EXTEND)
		return arrest_order(&x, c, step, diag);
	return extension_order(&x, c, f != NULL ? f->rule : MLA_DEADLINE_RULE_N, known, diag);
}

mla_err cases_check_facts(gw_store *st, const struct store_life_step *step,
			  const struct store_deadline_facts *f, mla_diag *diag)
{
	struct store_life_case c;
	mla_life_step t;
	int found = 0;
	mla_err r;

	if (mla_life_step_parse(step->action, &t, NULL) != MLA_OK || t != MLA_STEP_EXTEND)
		return MLA_OK;
	if ((r = store_life_get(st, &step->key, &c, &found, diag)) != MLA_OK)
		return r;
	return cases_check_order(st, &step->key, &c, t, f, 1, diag);
}
