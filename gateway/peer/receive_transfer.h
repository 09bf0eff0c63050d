/* The receiving side of the transfer of attachments (SPEC 17.13), between receive.c (the
 * envelope) and peer_server.c (the segment requests): disk reservation, the status answered,
 * the segments checked and written, the files completed. */
#ifndef MLAGW_GATEWAY_RECEIVE_TRANSFER_H
#define MLAGW_GATEWAY_RECEIVE_TRANSFER_H

#include "core/gw.h"
#include "peer_server.h"
#include "store/store.h"

/* Whether peer, holding count unfinished transfers of bytes ciphertext, may reserve need
 * more: within [limits] transfer_peer_max and transfer_peer_bytes. MLA_ERR_IO with
 * "insufficient storage for peer …" naming the limit when not. */
mla_err transfer_peer_room(const struct gw_config *c, const char *peer, uint64_t count,
			   uint64_t bytes, uint64_t need, mla_diag *diag);
/* Reserves the disk for t's attachments (transfer_reserve.c), then answers rr: the peer's
 * share (transfer_peer_room over its stored transfers and those being reserved) and the free
 * space ([limits] transfer_reserve_margin beside them) checked now, then each "<n>.ct.part"
 * allocated in full (posix_fallocate) and fsynced in a worker, so a full disk later cannot cut
 * a transfer short; then t is stored with envelope (moved out: left empty) and answered 202
 * with its status. A refusal is 503 "insufficient storage…" with nothing left behind, as is
 * a second copy of an envelope whose reservation is under way. */
void transfer_reserve_start(struct gw *g, struct recv_req *rr, const struct store_transfer_in *t,
			    mla_buf *envelope);
/* Whether the disk for message_id is being reserved (its transfer not stored yet). */
int transfer_reserving(struct gw *g, const char *message_id);
/* receive.c: 202 with the status of t (every segment missing when new), after the commit. */
void receive_reply_status(struct gw *g, struct recv_req *rr, const struct store_transfer_in *t);
/* Completes every file of t ("<n>.ct.part" fsynced and renamed to "<n>.ct"); a file already
 * complete (a crash after its rename) counts as complete. */
mla_err transfer_complete_files(const struct gw_config *c, const struct store_transfer_in *t,
				mla_diag *diag);
/* Whether every segment of t is held (one count of its rows, no status built). */
mla_err transfer_complete(gw_store *s, const struct store_transfer_in *t, int *complete,
			  mla_diag *diag);
/* The status of t (JSON, malloc'd into *json): what the receiver holds and misses. */
mla_err transfer_status(gw_store *s, const struct store_transfer_in *t, char **json,
			mla_diag *diag);
/* Gives up the transfers received more than [limits] transfer_timeout ago: files removed,
 * rows dropped, a log line and an alert each (every minute, and before a new transfer). */
void transfer_sweep(struct gw *g);

/* PUT /mla/v1/envelopes/{id}/attachments/{n}/segments/{k} from peer_state (authenticated):
 * the path after "/mla/v1/envelopes/" is rest, body the request's input (its bytes are
 * moved out of it when the segment goes to a worker). Answers through rr. */
void receive_segment(struct gw *g, struct recv_req *rr, const char *peer_state, const char *rest,
		     const char *proof_b64, struct evbuffer *body);

/* receive.c: the message of a transfer whose segments are all held, its stored envelope
 * opened and checked again, completed and answered with its receipt through rr. */
void receive_complete(struct gw *g, struct recv_req *rr, const char *peer_state,
		      mla_buf *envelope);

#endif
