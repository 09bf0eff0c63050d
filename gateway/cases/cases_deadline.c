/* A case's legal deadlines and wished date on this side (SPEC 16.9): the facts its request
 * gave (store schema 9), the rules they select, the clock its lifecycle reads (start,
 * pauses, the Accepted step), computed at a moment the caller gives (the daemon's wall clock;
 * tests a fixed one). */
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"

mla_err cases_facts_read(const uint8_t *doc, size_t len, const mla_limits *limits,
			 const mla_header *h, struct store_deadline_facts *out, int *set,
			 mla_diag *diag)
{
	mla_deadline_case c;
	int64_t wished = MLA_DEADLINE_NO_TIME;
	mla_err r;

	*set = 0;
	memset(out, 0, sizeof(*out));
	if (strcmp(h->action, "request") != 0)
		return MLA_OK;
	r = mla_deadline_request_facts(doc, len, limits, &c, &wished, diag);
	if (r == MLA_ERR_SCHEMA) { /* opaque (or not a request): no legal deadline */
		diag->code = MLA_OK;
		diag->msg[0] = '\0';
		return MLA_OK;
	}
	if (r != MLA_OK)
		return r;
	out->type = (int)c.type;
	out->urgent = c.emergency != 0;
	out->eio = c.eio != 0;
	out->wished_ms = wished;
	if (mla_strcpy(out->kind, sizeof(out->kind), h->kind) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "header Kind too long");
	out->priority = (int)h->priority;
	*set = 1;
	return MLA_OK;
}

mla_deadline_priority cases_priority(const struct store_deadline_facts *f)
{
	mla_deadline_priority p = (mla_deadline_priority)f->priority;

	if (f->urgent && p < MLA_DEADLINE_URGENT)
		p = MLA_DEADLINE_URGENT;
	if (strcmp(f->kind, "crisis") == 0)
		p = MLA_DEADLINE_CRISIS;
	return p;
}

const char *cases_priority_name(mla_deadline_priority p)
{
	return p == MLA_DEADLINE_CRISIS ? "crisis" : p == MLA_DEADLINE_URGENT ? "urgent"
									       : "normal";
}

const char *cases_deadline_name(int which)
{
	return which == STORE_DEADLINE_WISHED ? "wished"
					      : mla_deadline_rule_name((mla_deadline_rule_id)which);
}

/* One deadline at now into out->d (a rule, or rule NULL: the wished date). */
static mla_err add_one(struct cases_deadlines *out, int which, const mla_deadline_rule *rule,
		       int64_t start_ms, const struct cases_clock *ck, int64_t now_ms,
		       mla_diag *diag)
{
	mla_deadline_input in = {rule, 0, start_ms, ck->pauses, ck->n_pauses,
				 rule == NULL ? out->rec.facts.wished_ms : MLA_DEADLINE_NO_TIME,
				 now_ms};
	struct cases_deadline_one *d = &out->d[out->n];
	mla_deadline_result res;
	mla_err r;

	if ((r = mla_deadline_compute(&in, &res, diag)) != MLA_OK)
		return r;
	d->which = which;
	d->clock = rule == NULL ? res.wished : res.legal;
	d->paused = rule != NULL && res.paused;
	d->fired_pct = out->rec.fired_pct[which];
	if (!d->clock.set)
		return MLA_OK;
	out->n++;
	out->paused |= d->paused;
	if (out->due_ms == MLA_DEADLINE_NO_TIME || d->clock.due_ms < out->due_ms)
		out->due_ms = d->clock.due_ms;
	if (d->clock.state > out->state)
		out->state = d->clock.state;
	return MLA_OK;
}

/* The running deadlines of an open case whose request the requested State has. */
static mla_err compute(struct cases_deadlines *out, const mla_deadline_rules *rules,
		       const struct cases_clock *ck, int64_t now_ms, mla_diag *diag)
{
	mla_deadline_case dc = {(mla_case_doctype)out->rec.facts.type, out->rec.facts.eio, 0,
				out->rec.facts.urgent, 0, ck->accepted_ms != 0};
	mla_deadline_rule_id ids[MLA_DEADLINE_RULES_PER_CASE];
	size_t n = mla_deadline_rules_for(&dc, ids);
	mla_err r;

	for (size_t i = 0; i < n; i++) {
		const mla_deadline_rule *rule = &rules->rule[ids[i]];
		/* recognition decided: execution counts from the Accepted answer's receipt */
		int64_t start = ids[i] == MLA_DEADLINE_EIO_EXECUTION ? ck->accepted_ms : ck->start_ms;

		if (rule->unit == MLA_DEADLINE_OFF)
			continue;
		if ((r = add_one(out, (int)ids[i], rule, start, ck, now_ms, diag)) != MLA_OK)
			return r;
	}
	if (out->rec.facts.wished_ms != MLA_DEADLINE_NO_TIME)
		return add_one(out, STORE_DEADLINE_WISHED, NULL, ck->start_ms, ck, now_ms, diag);
	return MLA_OK;
}

mla_err cases_deadlines_at(gw_store *st, const mla_deadline_rules *rules,
			   const struct store_life_case *c, int64_t now_ms,
			   struct cases_deadlines *out, mla_diag *diag)
{
	struct cases_clock ck;
	mla_err r;

	memset(out, 0, sizeof(*out));
	out->due_ms = MLA_DEADLINE_NO_TIME;
	if ((r = store_deadline_get(st, &c->key, &out->rec, &out->set, diag)) != MLA_OK ||
	    !out->set)
		return r;
	out->priority = cases_priority(&out->rec.facts);
	out->open = mla_life_state_open(c->track.state) && c->received_ms > 0;
	if (!out->open)
		return MLA_OK; /* not received yet, or over: no clock runs */
	if ((r = cases_clock_get(st, &c->key, &ck, diag)) == MLA_OK)
		r = compute(out, rules, &ck, now_ms, diag);
	return r;
}
