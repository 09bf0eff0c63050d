/* The case lifecycle (protocol/SPEC.md 16.8): one table of who may take which step from which
 * state and where it leads, and the crossing rule on top of it. Both gateways of a case run
 * this same table, so a step one side accepts the other side accepts too. */
#include <string.h>

#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/lifecycle.h"

_Static_assert(MLA_LIFE_ID_LEN == MLA_UUID_LEN, "a step is named by its MessageId");

static const char *const state_names[MLA_LIFE_N] = {
	[MLA_LIFE_NONE] = "none",
	[MLA_LIFE_TRANSMITTED] = "transmitted",
	[MLA_LIFE_RECEIVED] = "received",
	[MLA_LIFE_ACKNOWLEDGED] = "acknowledged",
	[MLA_LIFE_FORWARDED] = "forwarded",
	[MLA_LIFE_INFO_REQUESTED] = "additional-information-requested",
	[MLA_LIFE_INFO_PROVIDED] = "additional-information-provided",
	[MLA_LIFE_ACCEPTED] = "accepted",
	[MLA_LIFE_POSTPONED] = "postponed",
	[MLA_LIFE_IN_EXECUTION] = "in-execution",
	[MLA_LIFE_EXECUTED] = "executed",
	[MLA_LIFE_PARTIALLY_EXECUTED] = "partially-executed",
	[MLA_LIFE_REFUSED] = "refused",
	[MLA_LIFE_WITHDRAWN] = "withdrawn",
	[MLA_LIFE_CLOSED] = "closed",
};

static const char *const step_names[MLA_STEP_N] = {
	[MLA_STEP_REQUEST] = "request",
	[MLA_STEP_ACKNOWLEDGE] = "received",
	[MLA_STEP_FORWARD] = "forwarded",
	[MLA_STEP_INFO_REQUEST] = "additional-information-requested",
	[MLA_STEP_INFO_PROVIDE] = "additional-information-provided",
	[MLA_STEP_ACCEPT] = "accepted",
	[MLA_STEP_POSTPONE] = "postponed",
	[MLA_STEP_EXECUTE_START] = "in-execution",
	[MLA_STEP_EXECUTED] = "executed",
	[MLA_STEP_PARTIALLY] = "partially-executed",
	[MLA_STEP_REFUSE] = "refused",
	[MLA_STEP_WITHDRAW] = "withdrawn",
	[MLA_STEP_CLOSE] = "closed",
	[MLA_STEP_EXTEND] = "deadline-extended",
	[MLA_STEP_ARREST] = "person-arrested",
	[MLA_STEP_CONSENT] = "surrender-consented",
};

#define S(x) (1u << (x))
#define OPEN_STATES                                                                          \
	(S(MLA_LIFE_TRANSMITTED) | S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) |         \
	 S(MLA_LIFE_FORWARDED) | S(MLA_LIFE_INFO_REQUESTED) | S(MLA_LIFE_INFO_PROVIDED) |    \
	 S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_POSTPONED) | S(MLA_LIFE_IN_EXECUTION))

/* A row's `to` for a step that leaves the case in the state it is taken from. */
#define STAY MLA_LIFE_N

/* The table (SPEC 16.8): a step, the side that may take it, the states it may be taken from
 * (a bit per state) and the state it leads to. A step may have one row per side. */
static const struct life_row {
	mla_life_step step;
	mla_life_side side;
	unsigned from;
	mla_life_state to;
} rows[] = {
	{MLA_STEP_REQUEST, MLA_SIDE_REQUESTING, S(MLA_LIFE_NONE) | S(MLA_LIFE_TRANSMITTED),
	 MLA_LIFE_RECEIVED},
	{MLA_STEP_ACKNOWLEDGE, MLA_SIDE_REQUESTED, S(MLA_LIFE_RECEIVED), MLA_LIFE_ACKNOWLEDGED},
	{MLA_STEP_FORWARD, MLA_SIDE_REQUESTED, S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED),
	 MLA_LIFE_FORWARDED},
	{MLA_STEP_INFO_REQUEST, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_POSTPONED) |
		 S(MLA_LIFE_IN_EXECUTION),
	 MLA_LIFE_INFO_REQUESTED},
	{MLA_STEP_INFO_PROVIDE, MLA_SIDE_REQUESTING, S(MLA_LIFE_INFO_REQUESTED),
	 MLA_LIFE_INFO_PROVIDED},
	{MLA_STEP_ACCEPT, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_POSTPONED),
	 MLA_LIFE_ACCEPTED},
	{MLA_STEP_POSTPONE, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_ACCEPTED),
	 MLA_LIFE_POSTPONED},
	{MLA_STEP_EXECUTE_START, MLA_SIDE_REQUESTED, S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_POSTPONED),
	 MLA_LIFE_IN_EXECUTION},
	{MLA_STEP_EXECUTED, MLA_SIDE_REQUESTED, S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_IN_EXECUTION),
	 MLA_LIFE_EXECUTED},
	{MLA_STEP_PARTIALLY, MLA_SIDE_REQUESTED, S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_IN_EXECUTION),
	 MLA_LIFE_PARTIALLY_EXECUTED},
	{MLA_STEP_REFUSE, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_REQUESTED) | S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_POSTPONED),
	 MLA_LIFE_REFUSED},
	{MLA_STEP_WITHDRAW, MLA_SIDE_REQUESTING, OPEN_STATES, MLA_LIFE_WITHDRAWN},
	{MLA_STEP_CLOSE, MLA_SIDE_REQUESTING,
	 S(MLA_LIFE_EXECUTED) | S(MLA_LIFE_PARTIALLY_EXECUTED) | S(MLA_LIFE_REFUSED),
	 MLA_LIFE_CLOSED},
	{MLA_STEP_CLOSE, MLA_SIDE_REQUESTED, S(MLA_LIFE_WITHDRAWN), MLA_LIFE_CLOSED},
	/* the requested State took a deadline's extension: the case stays where it is (to is
	 * STAY); not while information is awaited, whose
	 * pause ends at the next step (SPEC 16.9) */
	{MLA_STEP_EXTEND, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_ACCEPTED) | S(MLA_LIFE_POSTPONED) |
		 S(MLA_LIFE_IN_EXECUTION),
	 STAY},
	/* a European arrest warrant's arrest and the person's consent, recorded by the
	 * executing State before its final decision (Accepted or Refused), not while information
	 * is awaited (as above); the case stays; order and once per case: gateway/cases */
	{MLA_STEP_ARREST, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_POSTPONED),
	 STAY},
	{MLA_STEP_CONSENT, MLA_SIDE_REQUESTED,
	 S(MLA_LIFE_RECEIVED) | S(MLA_LIFE_ACKNOWLEDGED) | S(MLA_LIFE_FORWARDED) |
		 S(MLA_LIFE_INFO_PROVIDED) | S(MLA_LIFE_POSTPONED),
	 STAY},
};

const char *mla_life_state_name(mla_life_state s)
{
	return (unsigned)s < MLA_LIFE_N ? state_names[s] : "unknown";
}

const char *mla_life_step_name(mla_life_step t)
{
	return (unsigned)t < MLA_STEP_N ? step_names[t] : "unknown";
}

const char *mla_life_side_name(mla_life_side s)
{
	return s == MLA_SIDE_REQUESTING ? "requesting" : s == MLA_SIDE_REQUESTED ? "requested"
										  : "unknown";
}

mla_err mla_life_state_parse(const char *name, mla_life_state *out, mla_diag *diag)
{
	for (unsigned i = 0; name != NULL && i < MLA_LIFE_N; i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (mla_life_state)i;
			return MLA_OK;
		}
	return mla_fail(diag, MLA_ERR_ARG, "unknown case state");
}

mla_err mla_life_step_parse(const char *action, mla_life_step *out, mla_diag *diag)
{
	/* the record of a request sent by other means is the case's request (SPEC 16.11) */
	if (action != NULL && strcmp(action, "other-channel") == 0) {
		*out = MLA_STEP_REQUEST;
		return MLA_OK;
	}
	for (unsigned i = 0; action != NULL && i < MLA_STEP_N; i++)
		if (strcmp(action, step_names[i]) == 0) {
			*out = (mla_life_step)i;
			return MLA_OK;
		}
	return mla_fail(diag, MLA_ERR_ARG, "the Action is no step of the case lifecycle");
}

int mla_life_state_open(mla_life_state s)
{
	return (unsigned)s < MLA_LIFE_N && (OPEN_STATES & S(s)) != 0;
}

mla_life_state mla_life_next(mla_life_state s, mla_life_side side, mla_life_step t)
{
	if ((unsigned)s >= MLA_LIFE_N)
		return MLA_LIFE_NONE;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].step == t && rows[i].side == side && (rows[i].from & S(s)) != 0)
			return rows[i].to == STAY ? s : rows[i].to;
	return MLA_LIFE_NONE;
}

size_t mla_life_allowed(mla_life_state s, mla_life_side side, mla_life_step *out, size_t cap)
{
	size_t n = 0;

	for (unsigned t = 0; t < MLA_STEP_N; t++)
		if (mla_life_next(s, side, (mla_life_step)t) != MLA_LIFE_NONE) {
			if (n < cap)
				out[n] = (mla_life_step)t;
			n++;
		}
	return n;
}

void mla_life_allowed_text(mla_life_state s, mla_life_side side, char *out, size_t n)
{
	mla_life_step steps[MLA_STEP_N];
	size_t k = mla_life_allowed(s, side, steps, MLA_STEP_N), used = 0;

	if (n == 0)
		return;
	out[0] = '\0';
	if (k == 0)
		(void)mla_snprintf_cut(out, n, "%s", "none");
	for (size_t i = 0; i < k && used < n; i++) {
		(void)mla_snprintf_cut(out + used, n - used, "%s%s", i > 0 ? ", " : "",
				       step_names[steps[i]]);
		used += strlen(out + used);
	}
}

mla_err mla_life_apply(mla_life_state s, mla_life_side side, mla_life_step t,
		       mla_life_state *to, mla_diag *diag)
{
	char allowed[512];

	if ((*to = mla_life_next(s, side, t)) != MLA_LIFE_NONE)
		return MLA_OK;
	mla_life_allowed_text(s, side, allowed, sizeof(allowed));
	return mla_fail(diag, MLA_ERR_CASE_STEP,
			"step %s by the %s State is not allowed in case state %s; allowed: %s",
			mla_life_step_name(t), mla_life_side_name(side), mla_life_state_name(s),
			allowed);
}

/* follows must be the case's last step; a request (legal only on a case without a step)
 * follows none, whatever its InReplyTo names. */
static mla_err check_follows(const mla_life_track *t, mla_life_step step, const char *follows,
			     mla_diag *diag)
{
	const char *f = follows != NULL ? follows : "";

	if (step == MLA_STEP_REQUEST || strcmp(f, t->last) == 0)
		return MLA_OK;
	return mla_fail(diag, MLA_ERR_CASE_CONFLICT,
			"the step follows %s but the case's last step is %s (state %s)",
			f[0] != '\0' ? f : "no step", t->last[0] != '\0' ? t->last : "none",
			mla_life_state_name(t->state));
}

mla_err mla_life_check_send(const mla_life_track *t, mla_life_side side, mla_life_step step,
			    const char *follows, mla_life_state *to, mla_diag *diag)
{
	mla_err r;

	*to = MLA_LIFE_NONE;
	if (t->pending[0] != '\0')
		return mla_fail(diag, MLA_ERR_CASE_CONFLICT,
				"the case's step %s awaits its receipt (state %s); send the next "
				"step once it is answered", t->pending, mla_life_state_name(t->state));
	if ((r = mla_life_apply(t->state, side, step, to, diag)) != MLA_OK)
		return r;
	return check_follows(t, step, follows, diag);
}

/* The track as it is once this gateway's pending step is applied (the peer shows it did). */
static int after_pending(const mla_life_track *t, mla_life_side local, const char *follows,
			 mla_life_track *out)
{
	if (t->pending[0] == '\0' || follows == NULL || strcmp(follows, t->pending) != 0)
		return 0;
	if ((out->state = mla_life_next(t->state, local, t->pending_step)) == MLA_LIFE_NONE)
		return 0;
	memcpy(out->last, t->pending, sizeof(out->last));
	out->pending[0] = '\0';
	out->pending_step = MLA_STEP_REQUEST;
	return 1;
}

mla_err mla_life_check_receive(const mla_life_track *t, mla_life_side local, mla_life_step step,
			       const char *follows, mla_life_state *to, int *pending_first,
			       mla_diag *diag)
{
	mla_life_side peer = local == MLA_SIDE_REQUESTED ? MLA_SIDE_REQUESTING : MLA_SIDE_REQUESTED;
	mla_life_track after;
	mla_err r;

	*to = MLA_LIFE_NONE;
	if (pending_first != NULL)
		*pending_first = 0;
	if (pending_first != NULL && step != MLA_STEP_REQUEST &&
	    after_pending(t, local, follows, &after)) {
		if ((r = mla_life_apply(after.state, peer, step, to, diag)) != MLA_OK)
			return r;
		*pending_first = 1;
		return MLA_OK;
	}
	if ((r = mla_life_apply(t->state, peer, step, to, diag)) != MLA_OK ||
	    (r = check_follows(t, step, follows, diag)) != MLA_OK)
		return r;
	/* Two steps on the same last step crossed: the requested State's wins on both sides. */
	if (t->pending[0] != '\0' && local == MLA_SIDE_REQUESTED) {
		*to = MLA_LIFE_NONE;
		return mla_fail(diag, MLA_ERR_CASE_CONFLICT,
				"the step crosses this State's step %s on the same state %s; the "
				"requested State's step wins", t->pending,
				mla_life_state_name(t->state));
	}
	return MLA_OK;
}
