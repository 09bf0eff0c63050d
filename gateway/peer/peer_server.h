/* Internal interface between the peer listener (peer_server.c) and the receiving logic
 * (receive.c). */
#ifndef MLAGW_GATEWAY_PEER_SERVER_H
#define MLAGW_GATEWAY_PEER_SERVER_H

#include <event2/http.h>

#include "core/gw.h"
#include "net/tls_server.h"

/* One request whose envelope is being opened by a worker. */
struct recv_req {
	struct gw *g;
	struct evhttp_request *req; /* NULL once the client has gone */
	struct tls_conn *conn;      /* NULL once the client has gone */
};

/* Starts the work for a POSTed envelope from the authenticated peer State. body is copied. */
/* urgent: the sender's hint (X-MLA-Priority), for the workers' order only: the peer's lane
 * is still bounded, and the signed header decides what the message is. */
void receive_envelope(struct gw *g, struct recv_req *rr, const char *peer_state, int urgent,
		      const uint8_t *body, size_t len);
/* The table of refusals counted instead of stored (refusals.h); NULL when not listening. */
struct refusals *peer_refusals(struct gw *g);
/* The group fsync of received segments (segment_sync.h); the listener runs. */
struct seg_sync *peer_seg_sync(struct gw *g);
/* The disk reservations under way (transfer_reserve.c), a list the listener keeps. */
struct reserve_job;
struct reserve_job **peer_reservations(struct gw *g);
/* The held segments of the transfers being received (held_count.h). */
struct held_counts;
struct held_counts *peer_held_counts(struct gw *g);
/* Sends a reply and releases the request record. */
void recv_reply(struct recv_req *rr, int code, const char *reason, const char *content_type,
		const uint8_t *body, size_t len);

#endif
