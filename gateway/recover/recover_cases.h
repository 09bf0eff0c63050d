/* Rebuilding the case records of recovered messages (recover_cases.c; SPEC 14 Recovery,
 * 16.8, 16.9): the lifecycle steps they made, replayed in the order of their chain with their
 * receipt times, and the deadline facts of the requests this gateway can read. */
#ifndef MLAGW_GATEWAY_RECOVER_CASES_H
#define MLAGW_GATEWAY_RECOVER_CASES_H

#include "core/gw.h"
#include "recover_chain.h"
#include "recover_check.h"

/* The steps given back by one peer and not applied yet, waiting for the step they follow
 * (recover_chain.h: each tried at most twice, at most RECOVER_CHAIN_MAX held), and the cases
 * whose deadline facts came back with them (their escalation marks are raised after each
 * replay). */
struct recover_steps {
	struct recover_chain chain;
	int chain_init;
	uint64_t noted;
	struct store_life_key *keys;
	size_t n_keys, cap_keys;
	/* over the whole recovery: applied; refused for good; not held (over the cap); of
	 * messages the store held with their step (not replayed again) */
	size_t applied, refused, over_cap, known;
};

/* Notes the step the checked item it (given back by peer, kept, or held: held 1) makes in its
 * case, when the lifecycle is enforced and its action is a step; a request received by this
 * gateway is opened for its deadline facts. A held message whose step its case has already
 * is only counted; a step beyond the cap of steps held is logged (recover-case) and counted,
 * not replayed. MLA_ERR_NOMEM only: anything else is logged and the item has no deadline
 * facts. */
mla_err recover_steps_note(struct gw *g, struct recover_steps *s, const char *peer,
			   const struct recover_item *it, const struct recover_checked *c, int held,
			   mla_diag *diag);
/* Applies the steps noted since the last replay, oldest receipt first, each when it follows
 * its case's last step, and with each step applied the steps that were waiting for it; the
 * rest waits for the step it follows (recover_steps_report names what is left). Then raises
 * the escalation marks of the cases whose facts came back to the threshold their deadlines
 * have reached now, so that a threshold past before the loss does not fire again. */
void recover_steps_replay(struct gw *g, struct recover_steps *s, const char *peer);
/* Logs the steps left: each of a recovered message (its case never reached the step it
 * follows) with why, at most 32; those of messages the store held are only counted. */
void recover_steps_report(const struct recover_steps *s, const char *peer);
/* The steps not replayed: held at the end, refused, over the cap. */
size_t recover_steps_left(const struct recover_steps *s);
void recover_steps_free(struct recover_steps *s);

#endif
