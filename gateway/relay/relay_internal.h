/* Internal parts of the relay: the delivery logic (relay.c) and the receipt check
 * (relay_receipt.c). The exchanges go through the shared client, net/peer_client.h. */
#ifndef MLAGW_GATEWAY_RELAY_INTERNAL_H
#define MLAGW_GATEWAY_RELAY_INTERNAL_H

#include "core/clock.h"
#include "core/gw.h"
#include "net/peer_client.h"
#include "mlagw/receipt.h"
#include "relay.h"

/* One HTTP exchange with a peer: the envelope out, the receipt back. */
struct transfer {
	struct peer_post post; /* first: the client hands it back to relay_transfer_done */
	struct gw *g;
	char message_id[MLA_UUID_LEN + 1];
	char to_state[3];
	int urgent;     /* urgent or crisis: its receipt is checked in the urgent lane */
	uint8_t digest[32];
	unsigned attempts;
	int64_t started_ms, created_ms, deadline_ms;
	long code;      /* the HTTP status that brought the receipt */
	mla_buf envelope;
	mla_buf response;
	struct transfer *prev, *next; /* the relay's list of exchanges in flight */
};

struct relay_peer {
	char state[3];
	unsigned in_flight;
	unsigned picked; /* taken by the current pump, not yet counted in in_flight */
	/* Backoff is per peer: while a peer is unreachable, one probe (the most urgent message)
	 * is sent at retry_at; the first exchange that gets an answer wakes all its messages, so
	 * they go out in priority order rather than in the order their timers happen to fire. */
	unsigned failures;
	int64_t retry_at; /* monotonic */
	char last_error[MLA_DIAG_MAX]; /* why the last exchange with it failed */
	int64_t skew_alert_ms;         /* monotonic: when its last clock-skew alert was stored */
};

struct gw_relay {
	struct event *pump;   /* deferred "look for due messages" */
	struct event *tick;   /* periodic look, for retries coming due */
	struct relay_peer peers[GW_MAX_PEERS];
	size_t n_peers;
	unsigned in_flight;
	struct transfer *transfers;
	struct xfer_out *xfers; /* messages whose attachment segments are being sent */
	int stopped;
	struct gw_clock_watch clock; /* retry times are stored on the wall clock: see on_tick */
};

/* relay.c */
/* Schedules a retry with backoff and jitter, or fails the message past its deadline. */
void relay_retry_or_fail(struct gw *g, struct transfer *t, const char *why);
void relay_transfer_free(struct transfer *t);

/* The peer answered (any verified receipt): its queued messages are due again now. */
void relay_peer_up(struct gw *g, const char *state);

/* The peer refused t's envelope for clock skew (receipt r): a log line, and an alert naming
 * the peer and its clock's offset from ours (at most one a minute per peer). */
void relay_clock_skew(struct gw *g, const struct transfer *t, const mla_receipt *r);

/* relay_reseal.c (SPEC 13 Time, Re-sealing). In a worker: when refusal r of t's envelope is
 * one a new Created cures (replay; clock-skew while our clock is now behind the envelope's
 * Created) and t's deadline has not passed, t's envelope sealed again with Created = now into
 * *out; MLA_ERR_NOT_FOUND when it is not such a refusal. */
mla_err relay_reseal_make(const struct transfer *t, const mla_receipt *r,
			  const struct gw_crypto *k, const struct gw_config *cfg, mla_buf *out,
			  mla_diag *diag);
/* On the loop thread: stores sealed in place of t's envelope (keeping the old seal and the
 * refusal), records `resealed` and sends it again. 0 when the store refused (sealed too
 * often, or the message is final): the caller handles the refusal as without re-sealing. */
int relay_reseal_record(struct gw *g, const struct transfer *t, const mla_receipt *r,
			const mla_buf *sealed);

/* "HTTP <code>: <the first line of a peer's text answer>", printable characters only. */
void relay_text_reason(char *why, size_t cap, long code, const mla_buf *body);

/* relay_segments.c (SPEC 17.13): t's envelope was answered 202 with the transfer status in
 * t->response: its missing segments are sent; owns t afterwards. */
void relay_segments_begin(struct gw *g, struct transfer *t);
/* At a stop: every segment request cancelled, every such message left "sending". */
void relay_segments_free_all(struct gw *g);

/* relay_receipt.c: a worker verifies the receipt in t->response; owns t afterwards. */
void relay_check_receipt(struct gw *g, struct transfer *t);

#endif
