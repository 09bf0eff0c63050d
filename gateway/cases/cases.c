/* The case of a message and the lifecycle checks of both directions (SPEC 16.8). A case is
 * keyed on its requesting State, its id and the other State: a request is in its sender's
 * case; any other step in the case of the message it follows (store_case_key), else in
 * this State's. */
#include <string.h>

#include "cases/cases.h"
#include "mlagw/codec.h"

static void set_key(struct store_life_key *k, const char *requesting, const char *case_id,
		    const char *peer)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->state, requesting, 2);
	(void)mla_snprintf_cut(k->case_id, sizeof(k->case_id), "%s", case_id);
	memcpy(k->peer, peer, 2);
}

/* A request, or the record of one sent by other means (SPEC 16.11), which stands for it. */
static int is_request(const char *action)
{
	return strcmp(action, "request") == 0 || strcmp(action, "other-channel") == 0;
}

/* The case of a step exchanged with peer (incoming: sent by it) and this gateway's side. */
static mla_err resolve(gw_store *st, const char *self, const char *peer, int incoming,
		       const mla_header *h, struct store_life_key *k, mla_life_side *side,
		       mla_diag *diag)
{
	int peer_case = incoming;
	mla_err r;

	if (!is_request(h->action) &&
	    (r = store_case_key(st, incoming, h->case_id, h->in_reply_to, peer, h->action,
				&peer_case, diag)) != MLA_OK)
		return r;
	if (is_request(h->action))
		peer_case = incoming;
	set_key(k, peer_case ? peer : self, h->case_id, peer);
	*side = peer_case ? MLA_SIDE_REQUESTED : MLA_SIDE_REQUESTING;
	return MLA_OK;
}

/* A step without InReplyTo: the one case of its id with that peer, whose last step it then
 * follows. */
static mla_err fill_follows(gw_store *st, mla_header *h, mla_diag *diag)
{
	struct store_life_case found[2];
	size_t n = 0;
	mla_err r;

	if (h->in_reply_to[0] != '\0' || is_request(h->action))
		return MLA_OK;
	if ((r = store_life_find(st, h->case_id, h->to_state, found, &n, diag)) != MLA_OK)
		return r;
	if (n > 1)
		return mla_fail(diag, MLA_ERR_ARG, "case %s is both this State's and %s's: name "
				"the step this one follows (in_reply_to)", h->case_id, h->to_state);
	if (n == 1)
		memcpy(h->in_reply_to, found[0].track.last, sizeof(h->in_reply_to));
	return MLA_OK;
}

static void fill_step(struct store_life_step *out, const struct store_life_key *k,
		      mla_life_side side, mla_life_side by, const mla_header *h, int64_t at_ms)
{
	memset(out, 0, sizeof(*out));
	out->key = *k;
	out->side = side;
	out->by = by;
	memcpy(out->message_id, h->message_id, sizeof(out->message_id));
	(void)mla_snprintf_cut(out->action, sizeof(out->action), "%s", h->action);
	out->at_ms = at_ms;
}

mla_err cases_check_send(gw_store *st, const char *self, mla_header *h,
			 struct store_life_step *out, mla_diag *diag)
{
	struct store_life_key k;
	struct store_life_case c;
	mla_life_side side;
	mla_life_state to;
	mla_life_step step;
	mla_err r;
	int found = 0;

	if ((r = mla_life_step_parse(h->action, &step, diag)) != MLA_OK)
		return mla_fail(diag, MLA_ERR_CASE_STEP, "action %s is no step of the case "
				"lifecycle", h->action);
	if ((r = fill_follows(st, h, diag)) != MLA_OK ||
	    (r = resolve(st, self, h->to_state, 0, h, &k, &side, diag)) != MLA_OK ||
	    (r = store_life_get(st, &k, &c, &found, diag)) != MLA_OK ||
	    (r = mla_life_check_send(&c.track, side, step, h->in_reply_to, &to, diag)) != MLA_OK ||
	    (r = cases_check_order(st, &k, &c, step, NULL, 0, diag)) != MLA_OK)
		return r;
	fill_step(out, &k, side, side, h, 0);
	return MLA_OK;
}

mla_err cases_check_receive(gw_store *st, const char *self, const mla_header *h,
			    int64_t at_ms, struct store_life_step *out, mla_diag *diag)
{
	struct store_life_key k;
	struct store_life_case c;
	mla_life_side side;
	mla_life_state to;
	mla_life_step step;
	mla_err r;
	int found = 0, first = 0;

	if (mla_life_step_parse(h->action, &step, diag) != MLA_OK)
		return mla_fail(diag, MLA_ERR_CASE_STEP, "action %s is no step of the case "
				"lifecycle", h->action);
	if ((r = resolve(st, self, h->from_state, 1, h, &k, &side, diag)) != MLA_OK ||
	    (r = store_life_get(st, &k, &c, &found, diag)) != MLA_OK ||
	    (r = mla_life_check_receive(&c.track, side, step, h->in_reply_to, &to, &first,
					diag)) != MLA_OK ||
	    (r = cases_check_order(st, &k, &c, step, NULL, 0, diag)) != MLA_OK)
		return r;
	fill_step(out, &k, side, side == MLA_SIDE_REQUESTED ? MLA_SIDE_REQUESTING
							    : MLA_SIDE_REQUESTED, h, at_ms);
	if (first)
		memcpy(out->settle_first, c.track.pending, sizeof(out->settle_first));
	return MLA_OK;
}
