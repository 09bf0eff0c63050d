/* Keeping one checked item (recover_keep.c): skip, conflict, or new rows and the recovered
 * audit entry in one transaction. */
#ifndef MLAGW_GATEWAY_RECOVER_KEEP_H
#define MLAGW_GATEWAY_RECOVER_KEEP_H

#include "core/gw.h"
#include "recover_check.h"

enum recover_kept { RECOVER_NEW, RECOVER_HELD, RECOVER_CONFLICT };

/* it (checked into c) given back by peer: RECOVER_HELD when the store holds that message
 * with the same digest, RECOVER_CONFLICT (alert recovery-conflict) with another digest,
 * RECOVER_NEW once stored with its recovered audit entry. */
mla_err recover_keep(struct gw *g, const char *peer, const struct recover_item *it,
		     const struct recover_checked *c, enum recover_kept *kept, mla_diag *diag);

#endif
