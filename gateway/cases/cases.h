/* The case lifecycle in the gateway (protocol/SPEC.md 16.8): which case a message is a step
 * of, and whether this gateway may seal it or must accept it, from the case's state in the
 * store. The store applies the step itself, in the write of the message that makes it. */
#ifndef MLAGW_GATEWAY_CASES_H
#define MLAGW_GATEWAY_CASES_H

#include <jansson.h>

#include "mlagw/buf.h"
#include "mlagw/deadline.h"
#include "mlagw/envelope.h"
#include "store/store.h"

/* Before sealing h, sent by State self: resolves its case, fills an empty h->in_reply_to with
 * the case's last step, checks the step (mla_life_check_send) and fills *out, the step to
 * hold pending with the outbox row. MLA_ERR_CASE_STEP / MLA_ERR_CASE_CONFLICT name the
 * case's state and the allowed steps; MLA_ERR_ARG when h names no step and two cases of its
 * id with that peer exist. */
mla_err cases_check_send(gw_store *st, const char *self, mla_header *h,
			 struct store_life_step *out, mla_diag *diag);

/* h received by State self from its sender (authenticated), at at_ms (the receipt's time):
 * resolves its case, checks the step (mla_life_check_receive) and fills *out, the step to
 * apply with the inbox row. */
mla_err cases_check_receive(gw_store *st, const char *self, const mla_header *h,
			    int64_t at_ms, struct store_life_step *out, mla_diag *diag);

/* The cases as JSON {"items": [...]}: every case, or (case_id set) the cases of that id with
 * their steps; MLA_ERR_NOT_FOUND when there is none. out initialised by the caller. */
mla_err cases_json(gw_store *st, const char *case_id, mla_buf *out, mla_diag *diag);

/* The same items as a JSON array (*out, the caller's), only the cases of requesting State
 * only_state when it is set (a caller limited to its own cases sees no peer's case). */
mla_err cases_items(gw_store *st, const char *case_id, const char *only_state, json_t **out,
		    mla_diag *diag);

/* What the deadline clock of a case reads (SPEC 16.9) from its steps on this side: start_ms,
 * the request's receipt time (0 before it); accepted_ms, when the Accepted step took effect
 * (0: not accepted); the intervals additional information was awaited, in time order, from
 * the step to additional-information-requested to the next step (MLA_DEADLINE_OPEN while
 * it is the last). */
struct cases_clock {
	int64_t start_ms;
	int64_t accepted_ms;
	mla_deadline_pause pauses[MLA_DEADLINE_PAUSES_MAX];
	size_t n_pauses;
};
/* MLA_ERR_NOT_FOUND when the case has no lifecycle; MLA_ERR_TOO_LARGE beyond
 * MLA_DEADLINE_PAUSES_MAX pauses. */
mla_err cases_clock_get(gw_store *st, const struct store_life_key *key, struct cases_clock *out,
			mla_diag *diag);

#endif
