/* The case records of recovered messages (see recover_cases.h): a store lost with its cases
 * gets them back from the messages its peers gave back, so that its view of every case equals
 * the peer's. Each step is applied as it was when exchanged: at the ReceivedAt of its
 * positive receipt (the time both sides use), only when it follows its case's last step (its
 * InReplyTo; a request opens its case), through the same checks as a live step. */
#include <stdlib.h>
#include <string.h>

#include "cases/cases.h"
#include "core/log.h"
#include "mlagw/codec.h"
#include "recover_cases.h"

struct recover_step {
	mla_header h;
	int incoming;   /* sent to this gateway by the peer */
	int held;       /* the store held the message already (its step, most likely, too) */
	int64_t at_ms;  /* the positive receipt's ReceivedAt */
	int facts_set;
	struct store_deadline_facts facts;
	char why[160];  /* why it was not applied at its last try */
};

#define KEYS_MAX 1000000 /* far beyond any recovery; bounds the memory held */
#define REPORT_LINES_MAX 32

static mla_err grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap > 0 ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return MLA_OK;
	if (n >= KEYS_MAX || (p = realloc(*v, c * size)) == NULL)
		return MLA_ERR_NOMEM;
	*v = p;
	*cap = c;
	return MLA_OK;
}

/* A request this gateway received: its document, opened with this gateway's own keys, gives
 * the deadline facts as on receipt (never kept: only the facts). */
static void read_facts(struct gw *g, const struct recover_item *it, struct recover_step *p)
{
	const struct gw_config *c = &g->snap->cfg;
	mla_diag d = {MLA_OK, ""};
	mla_verified v;
	mla_buf doc;

	if (!p->incoming || strcmp(p->h.action, "request") != 0)
		return;
	mla_buf_init(&doc, 0);
	if (mla_envelope_open(it->envelope.data, it->envelope.len, g->crypto->trust,
			      g->crypto->keys, c->state, &c->limits, &v, &doc, &d) != MLA_OK ||
	    cases_facts_read(doc.data, doc.len, &c->limits, &p->h, &p->facts, &p->facts_set,
			     &d) != MLA_OK) {
		p->facts_set = 0;
		gw_log(GW_LOG_WARN, "recover-case", p->h.message_id, "case=%s reason=\"deadline "
		       "facts not read: %s\"", p->h.case_id, mla_diag_message(&d));
	}
	mla_buf_free(&doc);
}

/* The step waits for the one its InReplyTo names; a request follows none. */
static void link_of(const mla_header *h, mla_life_step step, int64_t at_ms, uint64_t order,
		    struct recover_link *l)
{
	memset(l, 0, sizeof(*l));
	memcpy(l->id, h->message_id, sizeof(l->id));
	if (step != MLA_STEP_REQUEST)
		memcpy(l->follows, h->in_reply_to, sizeof(l->follows));
	l->at_ms = at_ms;
	l->order = order;
}

/* A held message whose step its case has already: nothing to replay. */
static int step_known(struct gw *g, const mla_header *h, int held)
{
	mla_diag d = {MLA_OK, ""};
	int known = 0;

	if (!held)
		return 0;
	if (store_recovered_step_known(g->store, h->message_id, &known, &d) != MLA_OK) {
		gw_log(GW_LOG_ERROR, "store-error", h->message_id, "op=recover-case reason=\"%s\"",
		       mla_diag_message(&d));
		return 0; /* tried as any other: the case's checks decide */
	}
	return known;
}

/* A step not held: logged (at most 32 lines) and counted, never silently dropped. */
static void over_cap(struct recover_steps *s, const char *peer, const mla_header *h)
{
	if (++s->over_cap <= REPORT_LINES_MAX)
		gw_log(GW_LOG_WARN, "recover-case", h->message_id, "peer=%s case=%s action=%s "
		       "reason=\"step not replayed: not its turn, and %d steps wait for the step "
		       "they follow already\"", peer, h->case_id, h->action, RECOVER_CHAIN_MAX);
}

mla_err recover_steps_note(struct gw *g, struct recover_steps *s, const char *peer,
			   const struct recover_item *it, const struct recover_checked *c, int held,
			   mla_diag *diag)
{
	int64_t at_ms = (int64_t)c->receipt.received_at * 1000;
	struct recover_step *p = NULL;
	struct recover_link l;
	mla_life_step step;
	mla_err r;

	if (!g->snap->cfg.cases_enforce ||
	    mla_life_step_parse(c->v.header.action, &step, NULL) != MLA_OK)
		return MLA_OK;
	if (step_known(g, &c->v.header, held)) {
		s->known++;
		return MLA_OK;
	}
	if (!s->chain_init) {
		recover_chain_init(&s->chain, sizeof(*p), RECOVER_CHAIN_MAX);
		s->chain_init = 1;
	}
	link_of(&c->v.header, step, at_ms, s->noted++, &l);
	if ((r = recover_chain_add(&s->chain, &l, (void **)&p)) == MLA_ERR_TOO_LARGE) {
		over_cap(s, peer, &c->v.header);
		return MLA_OK;
	}
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_NOMEM, "out of memory noting the case steps");
	p->h = c->v.header;
	p->incoming = strcmp(c->v.header.from_state, peer) == 0;
	p->held = held;
	p->at_ms = at_ms;
	read_facts(g, it, p);
	return MLA_OK;
}

static mla_err remember_key(struct recover_steps *s, const struct store_life_key *k)
{
	for (size_t i = 0; i < s->n_keys; i++)
		if (memcmp(&s->keys[i], k, sizeof(*k)) == 0)
			return MLA_OK;
	if (grow((void **)&s->keys, &s->cap_keys, s->n_keys, sizeof(*s->keys)) != MLA_OK)
		return MLA_ERR_NOMEM;
	s->keys[s->n_keys++] = *k;
	return MLA_OK;
}

/* One step through the checks of a live one (its case's state, its InReplyTo) and applied at
 * its receipt time; MLA_ERR_CASE_STEP / MLA_ERR_CASE_CONFLICT: not (yet) its turn. */
static mla_err apply_one(struct gw *g, struct recover_steps *s, struct recover_step *p,
			 mla_diag *d)
{
	const char *self = g->snap->cfg.state;
	struct store_life_step step;
	mla_header h = p->h;
	mla_err r;

	r = p->incoming ? cases_check_receive(g->store, self, &h, p->at_ms, &step, d)
			: cases_check_send(g->store, self, &h, &step, d);
	if (r != MLA_OK)
		return r;
	step.at_ms = p->at_ms;
	step.settle_first[0] = '\0'; /* a rebuilt case has no pending step */
	step.facts = p->facts_set ? &p->facts : NULL;
	if ((r = store_begin(g->store, d)) != MLA_OK)
		return r;
	r = p->incoming ? store_life_apply(g->store, &step, d)
			: store_life_replay_sent(g->store, &step, d);
	if (r == MLA_OK)
		r = store_recovered_peer_case(g->store, !p->incoming, h.message_id,
					      strcmp(step.key.state, self) != 0, d);
	if (r == MLA_OK && (r = store_commit(g->store, d)) == MLA_OK &&
	    remember_key(s, &step.key) != MLA_OK)
		r = mla_fail(d, MLA_ERR_NOMEM, "out of memory noting the case");
	if (r != MLA_OK)
		(void)store_rollback(g->store); /* none open after a commit: nothing */
	return r;
}

struct replay {
	struct gw *g;
	struct recover_steps *s;
	const char *peer;
};

static void try_over(void *arg, void *item)
{
	struct replay *x = arg;

	over_cap(x->s, x->peer, &((struct recover_step *)item)->h);
}

/* One try of a step (recover_chain_run): not its turn yet, it waits with why. */
static enum recover_try try_step(void *arg, void *item)
{
	struct replay *x = arg;
	struct recover_step *p = item;
	mla_diag d = {MLA_OK, ""};
	mla_err r = apply_one(x->g, x->s, p, &d);

	if (r == MLA_ERR_CASE_STEP || r == MLA_ERR_CASE_CONFLICT) {
		(void)mla_snprintf_cut(p->why, sizeof(p->why), "%s", mla_diag_message(&d));
		return RECOVER_TRY_WAIT;
	}
	if (r == MLA_OK) {
		x->s->applied++;
		return RECOVER_TRY_APPLIED;
	}
	x->s->refused++;
	gw_log(GW_LOG_ERROR, "recover-case", p->h.message_id, "peer=%s case=%s reason=\"%s\"",
	       x->peer, p->h.case_id, mla_diag_message(&d));
	return RECOVER_TRY_DONE;
}

/* The marks of a case whose facts came back: each deadline's threshold reached now counts as
 * fired (what fired before the loss is not known; a past threshold must not run twice). */
static void mark_reached(struct gw *g, const struct store_life_key *k, int64_t now_ms)
{
	struct store_life_case c;
	struct cases_deadlines dl;
	mla_diag d = {MLA_OK, ""};
	unsigned pct[MLA_DEADLINE_THRESHOLDS];
	int found = 0;
	mla_err r;

	if ((r = store_life_get(g->store, k, &c, &found, &d)) != MLA_OK || !found ||
	    (r = cases_deadlines_at(g->store, &g->snap->cfg.deadlines.rules, &c, now_ms, &dl,
				    &d)) != MLA_OK)
		goto out;
	for (size_t i = 0; r == MLA_OK && i < dl.n; i++) {
		size_t n = mla_deadline_escalations(dl.d[i].clock.permille, dl.d[i].fired_pct, pct);

		if (n > 0)
			r = store_deadline_fired(g->store, k, dl.d[i].which, pct[n - 1], &d);
	}
out:
	if (r != MLA_OK)
		gw_log(GW_LOG_ERROR, "store-error", NULL, "op=recover-case-marks case=%s reason=\"%s\"",
		       k->case_id, mla_diag_message(&d));
}

void recover_steps_replay(struct gw *g, struct recover_steps *s, const char *peer)
{
	struct replay x = {g, s, peer};

	/* only the steps that came and those that waited for a step applied now: a retry of
	 * every waiting step on every page would cost pages x steps, which a peer answering
	 * one item a page controls */
	if (s->chain_init)
		recover_chain_run(&s->chain, try_step, try_over, &x);
	/* only the cases this replay changed, for the same reason */
	for (size_t i = 0; i < s->n_keys; i++)
		mark_reached(g, &s->keys[i], gw_now_ms());
	s->n_keys = 0;
}

struct report {
	const char *peer;
	size_t lines, held;
};

static void report_one(void *arg, const void *item, int waiting)
{
	struct report *r = arg;
	const struct recover_step *p = item;

	(void)waiting;
	if (p->held) { /* a message the store kept: its step is in its case already, likely */
		r->held++;
		return;
	}
	if (r->lines++ < REPORT_LINES_MAX)
		gw_log(GW_LOG_WARN, "recover-case", p->h.message_id, "peer=%s case=%s action=%s "
		       "reason=\"step not replayed: %s\"", r->peer, p->h.case_id, p->h.action,
		       p->why);
}

void recover_steps_report(const struct recover_steps *s, const char *peer)
{
	struct report r = {peer, 0, 0};

	if (s->chain_init)
		recover_chain_each(&s->chain, report_one, &r);
	r.held += s->known;
	if (r.lines > REPORT_LINES_MAX || r.held > 0 || s->over_cap > 0)
		gw_log(GW_LOG_INFO, "recover-case", NULL, "peer=%s not_replayed=%zu logged=%d "
		       "held=%zu over_cap=%zu reason=\"steps of messages the store held were not "
		       "replayed again; steps over the cap were not held\"", peer,
		       r.lines + s->over_cap, r.lines > REPORT_LINES_MAX ? REPORT_LINES_MAX :
		       (int)r.lines, r.held, s->over_cap);
}

size_t recover_steps_left(const struct recover_steps *s)
{
	return (s->chain_init ? s->chain.held : 0) + s->refused + s->over_cap + s->known;
}

void recover_steps_free(struct recover_steps *s)
{
	if (s->chain_init)
		recover_chain_free(&s->chain);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}
