/* The relay's interface (relay.c): sends due outbox messages to the peer gateways through
 * the shared peer client (net/peer_client.h) and records the outcome. */
#ifndef MLAGW_GATEWAY_RELAY_H
#define MLAGW_GATEWAY_RELAY_H

#include "core/gw.h"

/* At start, once the peer client (g->client) has been loaded: peer slots, timers, the
 * outbox's recovery after a crash. */
mla_err relay_start(struct gw *g, mla_diag *diag);
/* Looks for due messages now (after a submission, a completion or a reload). */
void relay_kick(struct gw *g);
void relay_stop(struct gw *g);
/* Takes the peers of a reloaded snapshot. */
mla_err relay_reload(struct gw *g, mla_diag *diag);
unsigned relay_in_flight(const struct gw *g);
/* Takes the exchanges in flight out of the peer client (they stay "sending" in the store and
 * are recovered at the next start) and frees. */
void relay_free(struct gw *g);

/* A peer as the relay sees it, for health reports. */
struct relay_peer_status {
	char state[3];
	int reachable; /* the last exchange with it got an answer (or none failed yet) */
};
/* The peers known since the start, in order, up to max; returns how many were written. */
size_t relay_peers_status(const struct gw *g, struct relay_peer_status *out, size_t max);

/* The progress of a message whose attachments are being sent (SPEC 17.13), kept in memory
 * by the relay while it sends them (the receiver's status is the durable truth: after a
 * restart the sender asks it again). */
struct relay_progress {
	char message_id[MLA_UUID_LEN + 1];
	uint64_t segments_done, segments_total, bytes_done, bytes_total;
};
/* 1 and *out when message_id's segments are being sent now, else 0. */
int relay_transfer_progress(const struct gw *g, const char *message_id,
			    struct relay_progress *out);
/* For /metrics: messages whose segments are being sent, their bytes and those acknowledged. */
void relay_transfer_totals(const struct gw *g, uint64_t *messages, uint64_t *bytes_total,
			   uint64_t *bytes_done);

#endif
