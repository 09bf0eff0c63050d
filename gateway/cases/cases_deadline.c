/* A case's legal deadlines and wished date on this side (SPEC 16.9): the facts its request
 * gave (store schema 9), the rules they select, the clock its lifecycle reads (start,
 * pauses, the Accepted step), computed at a moment the caller gives (the daemon's wall clock;
 * tests a fixed one). */
#include <stdlib.h>
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"

/* A step's document: the rule its extension names, the time its arrest or consent records. */
static mla_err step_facts(const uint8_t *doc, size_t len, const mla_limits *limits,
			  struct store_deadline_facts *out, int *set, mla_diag *diag)
{
	mla_deadline_step_facts f;
	mla_err r = mla_deadline_answer_facts(doc, len, limits, &f, diag);

	if (r == MLA_ERR_SCHEMA) { /* opaque: it names nothing, records nothing */
		diag->code = MLA_OK;
		diag->msg[0] = '\0';
		return MLA_OK;
	}
	if (r != MLA_OK)
		return r;
	out->type = (int)f.type;
	out->rule = (int)f.rule;
	out->recorded_ms = f.recorded_ms;
	*set = 1;
	return MLA_OK;
}

mla_err cases_facts_read(const uint8_t *doc, size_t len, const mla_limits *limits,
			 const mla_header *h, struct store_deadline_facts *out, int *set,
			 mla_diag *diag)
{
	mla_deadline_case c;
	int64_t wished = MLA_DEADLINE_NO_TIME;
	mla_err r;

	*set = 0;
	memset(out, 0, sizeof(*out));
	out->rule = MLA_DEADLINE_RULE_N;
	out->recorded_ms = MLA_DEADLINE_NO_TIME;
	if (strcmp(h->action, "deadline-extended") == 0 ||
	    strcmp(h->action, "person-arrested") == 0 ||
	    strcmp(h->action, "surrender-consented") == 0)
		return step_facts(doc, len, limits, out, set, diag);
	if (strcmp(h->action, "request") != 0)
		return MLA_OK;
	r = mla_deadline_request_facts(doc, len, limits, &c, &wished, diag);
	if (r == MLA_ERR_SCHEMA || r == MLA_ERR_UNSUPPORTED_VERSION) { /* opaque, not a request */
		diag->code = MLA_OK;
		diag->msg[0] = '\0';
		return MLA_OK;
	}
	if (r != MLA_OK)
		return r;
	out->type = (int)c.type;
	out->urgent = c.emergency != 0;
	out->eio = c.eio != 0;
	out->eaw = c.eaw != 0;
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
	/* an extension step counts for each rule with an extension that had started when it
	 * took effect (eio_recognition before the Accepted answer, preservation any time) */
	int extended = rule != NULL && rule->extension > 0 &&
		       ((which < MLA_DEADLINE_RULE_N && ck->rule_extended_ms[which] != 0) ||
			(ck->extended_ms != 0 && ck->extended_ms >= start_ms));
	mla_deadline_input in = {rule, extended, start_ms, ck->pauses, ck->n_pauses,
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
	d->extended = extended;
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

/* Where a rule's clock starts: the request's receipt, except EIO execution at the Accepted
 * answer's receipt (art. 12(4)) and an arrest warrant at the recorded arrest (art. 17(3)) or
 * consent (art. 17(2)); MLA_DEADLINE_NO_TIME: no arrest recorded yet, the clock not running. */
static int64_t rule_start(mla_deadline_rule_id id, const struct cases_clock *ck)
{
	if (id == MLA_DEADLINE_EIO_EXECUTION)
		return ck->accepted_ms;
	if (id == MLA_DEADLINE_EAW)
		return ck->arrest_ms;
	if (id == MLA_DEADLINE_EAW_CONSENT)
		return ck->consent_ms;
	return ck->start_ms;
}

/* The earliest time after now at which clock c (running, not standing still) reaches the
 * next threshold it has not reached (50, 90, 100 percent: the escalations, due soon,
 * overdue), by the arithmetic of protocol/case/deadline.c: permille = elapsed * 1000 /
 * length with elapsed = length - (due - t). Never later than the true time: a look too
 * early only computes again. */
static int64_t clock_next(const mla_deadline_clock *c, int64_t now_ms)
{
	int64_t next = STORE_DUE_NEVER, len = c->length_ms, t;

	for (size_t i = 0; i < MLA_DEADLINE_THRESHOLDS; i++) {
		int64_t p = (int64_t)mla_deadline_threshold_pct[i] * 10;

		if (c->permille >= p)
			continue;
		t = len > 0 ? c->due_ms - len + (p * len + 999) / 1000 : c->due_ms - len + 1;
		if (t < next)
			next = t;
	}
	if (now_ms < c->due_ms && c->due_ms < next)
		next = c->due_ms; /* overdue */
	return next <= now_ms ? now_ms + 1 : next;
}

/* A time the case's steps name that is still ahead (a receipt time from a clock ahead): the
 * deadlines read it once it has passed. */
static int64_t ahead(int64_t next, int64_t t, int64_t now_ms)
{
	return t != MLA_DEADLINE_NO_TIME && t != MLA_DEADLINE_OPEN && t > now_ms && t < next ? t
											       : next;
}

static int64_t clock_times_next(const struct cases_clock *ck, int64_t next, int64_t now_ms)
{
	next = ahead(next, ck->start_ms, now_ms);
	next = ahead(next, ck->accepted_ms, now_ms);
	next = ahead(next, ck->extended_ms, now_ms);
	next = ahead(next, ck->arrest_ms, now_ms);
	next = ahead(next, ck->consent_ms, now_ms);
	for (size_t i = 0; i < MLA_DEADLINE_RULE_N; i++)
		next = ahead(next, ck->rule_extended_ms[i], now_ms);
	for (size_t i = 0; i < ck->n_pauses; i++) {
		next = ahead(next, ck->pauses[i].from_ms, now_ms);
		next = ahead(next, ck->pauses[i].to_ms, now_ms);
	}
	return next;
}

/* When the summary of out (computed at now) can change next (cases_deadlines.next_ms). */
static int64_t next_look(const struct cases_deadlines *out, const struct cases_clock *ck,
			 int64_t now_ms)
{
	int64_t next = clock_times_next(ck, STORE_DUE_NEVER, now_ms), t;

	for (size_t i = 0; i < out->n; i++) {
		const struct cases_deadline_one *d = &out->d[i];

		if (d->paused)
			continue; /* stands still until a step, which writes the case */
		if ((t = clock_next(&d->clock, now_ms)) < next)
			next = t;
	}
	return next;
}

/* The running deadlines of an open case whose request the requested State has. */
static mla_err compute(struct cases_deadlines *out, const mla_deadline_rules *rules,
		       const struct cases_clock *ck, int64_t now_ms, mla_diag *diag)
{
	mla_deadline_case dc = {(mla_case_doctype)out->rec.facts.type, out->rec.facts.eio,
				out->rec.facts.eaw, out->rec.facts.urgent,
				ck->consent_ms != MLA_DEADLINE_NO_TIME, ck->accepted_ms != 0};
	mla_deadline_rule_id ids[MLA_DEADLINE_RULES_PER_CASE];
	size_t n = mla_deadline_rules_for(&dc, ids);
	mla_err r;

	for (size_t i = 0; i < n; i++) {
		const mla_deadline_rule *rule = &rules->rule[ids[i]];
		int64_t start = rule_start(ids[i], ck);

		if (rule->unit == MLA_DEADLINE_OFF || start == MLA_DEADLINE_NO_TIME)
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
	out->next_ms = STORE_DUE_NEVER; /* without facts, or closed: until the case is written */
	if ((r = store_deadline_get(st, &c->key, &out->rec, &out->set, diag)) != MLA_OK ||
	    !out->set)
		return r;
	out->priority = cases_priority(&out->rec.facts);
	out->open = mla_life_state_open(c->track.state) && c->received_ms > 0;
	if (!out->open)
		return MLA_OK; /* not received yet, or over: no clock runs */
	if ((r = cases_clock_get(st, &c->key, &ck, diag)) == MLA_OK &&
	    (r = compute(out, rules, &ck, now_ms, diag)) == MLA_OK) {
		unsigned pct[MLA_DEADLINE_THRESHOLDS];

		out->next_ms = next_look(out, &ck, now_ms);
		for (size_t i = 0; i < out->n; i++)
			out->fire |= mla_deadline_escalations(out->d[i].clock.permille,
							      out->d[i].fired_pct, pct) > 0;
	}
	return r;
}

struct collect {
	struct store_life_case *v;
	size_t n, cap;
};

static mla_err collect_case(const struct store_life_case *c, void *arg)
{
	struct collect *x = arg;

	if (x->n == x->cap) {
		size_t cap = x->cap > 0 ? x->cap * 2 : 64;
		struct store_life_case *v = realloc(x->v, cap * sizeof(*v));

		if (v == NULL)
			return MLA_ERR_NOMEM;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = *c;
	return MLA_OK;
}

mla_err cases_deadlines_each(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			     cases_deadlines_fn fn, void *arg, mla_diag *diag)
{
	struct collect x = {NULL, 0, 0};
	struct cases_deadlines dl;
	mla_err r;

	/* the list's statement is done before each case's own reads */
	if ((r = store_life_list(st, collect_case, &x, diag)) == MLA_ERR_NOMEM)
		r = mla_fail(diag, r, "out of memory listing the cases");
	for (size_t i = 0; r == MLA_OK && i < x.n; i++)
		if ((r = cases_deadlines_at(st, rules, &x.v[i], now_ms, &dl, diag)) == MLA_OK &&
		    dl.set && dl.open)
			r = fn(&x.v[i], &dl, arg);
	free(x.v);
	return r;
}

mla_err cases_due_count_one(const struct store_life_case *c, const struct cases_deadlines *dl,
			    void *arg)
{
	struct cases_due_counts *n = arg;

	(void)c;
	if (dl->n > 0 && dl->state == MLA_DEADLINE_OVERDUE)
		n->overdue[dl->priority]++;
	else if (dl->n > 0 && dl->state == MLA_DEADLINE_DUE_SOON)
		n->due[dl->priority]++;
	return MLA_OK;
}

mla_err cases_due_count_all(gw_store *st, const mla_deadline_rules *rules, int64_t now_ms,
			    struct cases_due_counts *out, mla_diag *diag)
{
	memset(out, 0, sizeof(*out));
	return cases_deadlines_each(st, rules, now_ms, cases_due_count_one, out, diag);
}
