/* Rebuilding the case records of recovered messages (recover_cases.c; SPEC 14 Recovery,
 * 16.8, 16.9): the lifecycle steps they made, replayed in the order of their chain with their
 * receipt times, and the deadline facts of the requests this gateway can read. */
#ifndef MLAGW_GATEWAY_RECOVER_CASES_H
#define MLAGW_GATEWAY_RECOVER_CASES_H

#include "core/gw.h"
#include "recover_check.h"

struct recover_step;

/* The steps given back by one peer and not applied yet, and the cases whose deadline facts
 * came back with them (their escalation marks are raised after each replay). */
struct recover_steps {
	struct recover_step *v;
	size_t n, cap;
	struct store_life_key *keys;
	size_t n_keys, cap_keys;
	size_t applied, refused; /* over the whole recovery */
};

/* Notes the step the checked item it (given back by peer, kept, or held: held 1) makes in its
 * case, when the lifecycle is enforced and its action is a step; a request received by this
 * gateway is opened for its deadline facts. MLA_ERR_NOMEM only: anything else is logged and
 * the item has no deadline facts. */
mla_err recover_steps_note(struct gw *g, struct recover_steps *s, const char *peer,
			   const struct recover_item *it, const struct recover_checked *c, int held,
			   mla_diag *diag);
/* Applies every noted step that follows its case's last step, oldest receipt first, until
 * none does; the rest waits for the next page (recover_steps_report names what is left). Then
 * raises the escalation marks of the cases whose facts came back to the threshold their
 * deadlines have reached now, so that a threshold past before the loss does not fire again. */
void recover_steps_replay(struct gw *g, struct recover_steps *s, const char *peer);
/* Logs the steps left: each of a recovered message (its case never reached the step it
 * follows) with why, at most 32; those of messages the store held are only counted. */
void recover_steps_report(const struct recover_steps *s, const char *peer);
void recover_steps_free(struct recover_steps *s);

#endif
