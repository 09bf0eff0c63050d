/* A case's deadlines at a moment (SPEC 16.9): periods counted as Regulation 1182/71 art. 3
 * counts them (the day or hour of the start not counted, the period ending with its last
 * day or hour), the clock stopped while additional information is awaited, the wished date;
 * the escalation thresholds to fire and the order of cases in lists. */
#include <string.h>

#include "mlagw/deadline.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS (24 * HOUR_MS)

const unsigned mla_deadline_threshold_pct[MLA_DEADLINE_THRESHOLDS] = {50, 90, 100};

static int time_ok(int64_t t)
{
	return t >= 0 && t <= MLA_DEADLINE_TIME_MAX;
}

/* The end of the period without pauses: start's day (hour) is not counted, so the period
 * ends at the start of day (hour) number count + 1 after it (times are >= 0 here). */
static int64_t period_end(const mla_deadline_rule *r, int extended, int64_t start_ms)
{
	int64_t unit = r->unit == MLA_DEADLINE_DAYS ? DAY_MS : HOUR_MS;
	int64_t n = (int64_t)r->count + (extended ? (int64_t)r->extension : 0);

	return (start_ms / unit + 1 + n) * unit;
}

static mla_err check_pauses(const mla_deadline_input *in, mla_diag *diag)
{
	if (in->n_pauses > MLA_DEADLINE_PAUSES_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "deadline: more than %d pauses",
				MLA_DEADLINE_PAUSES_MAX);
	for (size_t i = 0; i < in->n_pauses; i++) {
		const mla_deadline_pause *p = &in->pauses[i];
		int open = p->to_ms == MLA_DEADLINE_OPEN;
		if (!time_ok(p->from_ms) || (!open && !time_ok(p->to_ms)))
			return mla_fail(diag, MLA_ERR_ARG, "deadline: pause %zu: time out of range", i);
		if (!open && p->to_ms < p->from_ms)
			return mla_fail(diag, MLA_ERR_ARG, "deadline: pause %zu ends before it starts",
					i);
		if (open && i + 1 < in->n_pauses)
			return mla_fail(diag, MLA_ERR_ARG, "deadline: pause %zu is open but not the last",
					i);
		if (i > 0 && p->from_ms < in->pauses[i - 1].to_ms)
			return mla_fail(diag, MLA_ERR_ARG, "deadline: pause %zu starts before the end "
					"of the one before it", i);
	}
	return MLA_OK;
}

static mla_err check_input(const mla_deadline_input *in, mla_diag *diag)
{
	const mla_deadline_rule *r = in->rule;

	if (!time_ok(in->start_ms) || !time_ok(in->now_ms))
		return mla_fail(diag, MLA_ERR_ARG, "deadline: start or now out of range");
	if (in->wished_ms != MLA_DEADLINE_NO_TIME && !time_ok(in->wished_ms))
		return mla_fail(diag, MLA_ERR_ARG, "deadline: wished date out of range");
	if (in->n_pauses > 0 && in->pauses == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "deadline: pauses missing");
	if (r == NULL || r->unit == MLA_DEADLINE_OFF)
		return MLA_OK;
	if ((r->unit != MLA_DEADLINE_DAYS && r->unit != MLA_DEADLINE_HOURS) || r->count == 0 ||
	    r->count > MLA_DEADLINE_COUNT_MAX || r->extension > MLA_DEADLINE_COUNT_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "deadline: rule out of range");
	if (in->extended && r->extension == 0)
		return mla_fail(diag, MLA_ERR_ARG, "deadline: the rule has no extension");
	return check_pauses(in, diag);
}

/* Thousandths of length elapsed when due is remaining - now away; >= 0. */
static int64_t permille(int64_t length, int64_t due, int64_t now)
{
	int64_t elapsed = length - (due - now);

	if (elapsed <= 0)
		return 0;
	if (length <= 0)
		return 1000;
	/* lengths and times are below 2^49 ms: no overflow */
	return elapsed * 1000 / length;
}

static void set_clock(mla_deadline_clock *c, int64_t due, int64_t length, int64_t now)
{
	c->set = 1;
	c->due_ms = due;
	c->length_ms = length;
	c->permille = permille(length, due, now);
	c->state = now >= due ? MLA_DEADLINE_OVERDUE
		   : c->permille >= MLA_DEADLINE_DUE_SOON_PERMILLE ? MLA_DEADLINE_DUE_SOON
								   : MLA_DEADLINE_NOT_DUE;
}

/* The legal clock: every pause (clipped to start..now) that begins before the deadline as
 * moved so far pushes it back by its length. */
static void legal_clock(const mla_deadline_input *in, mla_deadline_result *out)
{
	int64_t end = period_end(in->rule, in->extended, in->start_ms), due = end;

	for (size_t i = 0; in->rule->pauses && i < in->n_pauses; i++) {
		const mla_deadline_pause *p = &in->pauses[i];
		int64_t from = p->from_ms < in->start_ms ? in->start_ms : p->from_ms;
		int64_t to = p->to_ms == MLA_DEADLINE_OPEN || p->to_ms > in->now_ms ? in->now_ms
										  : p->to_ms;
		if (from >= due || from >= in->now_ms)
			break; /* a pause after the deadline passed does not revive it */
		if (to <= from)
			continue;
		due += to - from;
		out->paused_ms += to - from;
		if (p->to_ms == MLA_DEADLINE_OPEN || p->to_ms > in->now_ms)
			out->paused = 1;
	}
	set_clock(&out->legal, due, end - in->start_ms, in->now_ms);
}

mla_err mla_deadline_compute(const mla_deadline_input *in, mla_deadline_result *out,
			     mla_diag *diag)
{
	mla_err r;

	memset(out, 0, sizeof(*out));
	out->due_ms = MLA_DEADLINE_NO_TIME;
	out->legal.due_ms = out->wished.due_ms = MLA_DEADLINE_NO_TIME;
	if ((r = check_input(in, diag)) != MLA_OK)
		return r;
	if (in->rule != NULL && in->rule->unit != MLA_DEADLINE_OFF) {
		legal_clock(in, out);
		out->due_ms = out->legal.due_ms;
		out->state = out->legal.state;
	}
	if (in->wished_ms != MLA_DEADLINE_NO_TIME) {
		/* a date the requesting authority chose: it does not move with pauses */
		set_clock(&out->wished, in->wished_ms, in->wished_ms - in->start_ms, in->now_ms);
		if (out->due_ms == MLA_DEADLINE_NO_TIME || in->wished_ms < out->due_ms)
			out->due_ms = in->wished_ms;
		if (out->wished.state > out->state)
			out->state = out->wished.state;
	}
	return MLA_OK;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = y / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(unsigned y, unsigned m)
{
	static const unsigned days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static unsigned digits(const char *s, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

mla_err mla_deadline_wished_end(const char *date, int64_t *ms)
{
	unsigned y, m, d;

	if (date == NULL || strlen(date) != 10 || date[4] != '-' || date[7] != '-' ||
	    strspn(date, "0123456789") != 4 || strspn(date + 5, "0123456789") != 2 ||
	    strspn(date + 8, "0123456789") != 2)
		return MLA_ERR_ARG;
	y = digits(date, 4);
	m = digits(date + 5, 2);
	d = digits(date + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
		return MLA_ERR_ARG;
	*ms = (days_from_civil(y, m, d) + 1) * DAY_MS;
	return MLA_OK;
}

size_t mla_deadline_escalations(int64_t permille_now, unsigned fired_pct,
				unsigned out_pct[MLA_DEADLINE_THRESHOLDS])
{
	size_t n = 0;

	for (size_t i = 0; i < MLA_DEADLINE_THRESHOLDS; i++) {
		unsigned t = mla_deadline_threshold_pct[i];
		if (t > fired_pct && permille_now >= (int64_t)t * 10)
			out_pct[n++] = t;
	}
	return n;
}

int mla_deadline_rank_cmp(const void *a, const void *b)
{
	const mla_deadline_rank *x = a, *y = b;
	int xn = x->due_ms == MLA_DEADLINE_NO_TIME, yn = y->due_ms == MLA_DEADLINE_NO_TIME;

	if (x->priority != y->priority)
		return x->priority > y->priority ? -1 : 1;
	if (xn != yn)
		return xn - yn; /* without a due time: last */
	if (x->due_ms != y->due_ms)
		return x->due_ms < y->due_ms ? -1 : 1;
	return strcmp(x->case_id, y->case_id);
}
