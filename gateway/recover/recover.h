/* Recovery after a store loss (SPEC 13 "Recovery", 14 "Log epochs"): a gateway whose store
 * was restored, or whose log was opened anew, asks each peer back the messages they
 * exchanged that the peer holds with their receipts (recover_ask.c), and answers the same
 * question from its peers (recover_serve.c). */
#ifndef MLAGW_GATEWAY_RECOVER_H
#define MLAGW_GATEWAY_RECOVER_H

#include <event2/http.h>

#include "core/gw.h"

/* Answers POST /mla/v1/recover from the authenticated gateway of peer_state (the peer
 * listener checked the method, its TLS identity and its rate). */
void recover_serve(struct gw *g, struct evhttp_request *req, const char *peer_state);

/* At start, after the peers' heads and before the gateway takes new work: when the store
 * carries the recovery mark, each configured peer is asked page by page (g->hold says why
 * nothing is accepted meanwhile); recover_waiting says the start should keep running the
 * loop (at most [audit] recover_wait). Without the mark nothing happens. */
mla_err recover_start(struct gw *g, mla_diag *diag);
int recover_waiting(const struct gw *g);
/* Drops the exchanges in flight (before the peer client goes) and frees. */
void recover_free(struct gw *g);

#endif
