/* The held segments of transfers, counted once then kept up (held_count.h). */
#include <string.h>

#include "held_count.h"
#include "mlagw/codec.h"
#include "store/store.h"

mla_err held_after_add(struct gw *g, struct held_counts *hc, const char *message_id,
		       int64_t received_ms, uint64_t *held, mla_diag *diag)
{
	uint64_t rollbacks = gw_batch_rollbacks(g);
	struct held_count *slot = &hc->c[0];
	mla_err r;

	for (size_t i = 0; i < HELD_COUNTS; i++) {
		struct held_count *c = &hc->c[i];
		if (strcmp(c->message_id, message_id) == 0 && c->received_ms == received_ms &&
		    c->rollbacks == rollbacks) {
			*held = ++c->held;
			c->used = ++hc->tick;
			return MLA_OK;
		}
		if (c->used < slot->used)
			slot = c;
	}
	/* not remembered, or a rolled-back batch may have taken writes it counted: the store,
	 * whose count includes the row just written */
	if ((r = store_transfer_held(g->store, message_id, held, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < HELD_COUNTS; i++) /* one slot per transfer */
		if (strcmp(hc->c[i].message_id, message_id) == 0)
			slot = &hc->c[i];
	if (mla_strcpy(slot->message_id, sizeof(slot->message_id), message_id) != MLA_OK) {
		slot->message_id[0] = '\0'; /* not a message id: counted from the store each time */
		return MLA_OK;
	}
	slot->received_ms = received_ms;
	slot->held = *held;
	slot->rollbacks = rollbacks;
	slot->used = ++hc->tick;
	return MLA_OK;
}
