/* Heads at start (heads.c): what the peers cosigned of our log, learnt before anything is
 * signed or accepted; tlog.h's tlog_heads_* are the daemon's view of it. */
#ifndef MLAGW_GATEWAY_HEADS_H
#define MLAGW_GATEWAY_HEADS_H

#include "core/gw.h"

/* Asks every peer (once the peer client and the listeners run); g->hold says why nothing is
 * accepted meanwhile. */
mla_err heads_start(struct gw *g, mla_diag *diag);
/* The start is still waiting for answers (at most [audit] peer_head_wait). */
int heads_waiting(const struct gw *g);
/* A peer holds a history this log does not have: nothing is signed again (g->hold says
 * which peer and what it holds). */
int heads_forked(const struct gw *g);
void heads_free(struct gw *g);

#endif
