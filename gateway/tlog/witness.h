/* Witnessing between gateways (SPEC §14, "Witnessing"): each gateway sends its latest
 * checkpoint to every peer with a consistency proof from the size that peer last cosigned
 * (C2SP tlog-witness add-checkpoint over the mutual-TLS peer link), and cosigns the peers'
 * checkpoints after checking theirs (C2SP tlog-cosignature), so that a log showing two
 * histories to two peers leaves conflicting cosigned checkpoints behind. */
#ifndef MLAGW_GATEWAY_WITNESS_H
#define MLAGW_GATEWAY_WITNESS_H

#include <event2/http.h>
#include <openssl/x509.h>

#include "mlagw/checkpoint.h"
#include "core/gw.h"

#define WITNESS_PATH "/mla/v1/witness/add-checkpoint"
#define WITNESS_HEAD_PATH "/mla/v1/witness/head"
#define WITNESS_CERT_HEADER "X-MLA-Audit-Certificate" /* base64 DER, both directions */
/* With the first checkpoint of a log epoch from 2 (SPEC 14, "Log epochs"): its entry 0 and the
 * inclusion proof of that entry in the checkpoint (hashes concatenated), each base64. */
#define WITNESS_LINK_HEADER "X-MLA-Epoch-Link"
#define WITNESS_PROOF_HEADER "X-MLA-Epoch-Proof"

/* "mlagw.<cc>/audit" (the log and its key name) and "mlagw.<cc>/witness" (the cosigner). */
void witness_log_name(const char *state, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1]);
void witness_cosigner_name(const char *state, char out[MLA_CHECKPOINT_ORIGIN_MAX + 1]);
/* The audit certificate of state from a header value (base64 of DER), checked against the
 * State's root (certcheck_audit). The caller owns *certp. */
mla_err witness_cert_from_header(const struct gw *g, const char *b64, const char *state,
				 X509 **certp, mla_diag *diag);
/* "https://host:port" of a peer's envelope URL followed by path (a witness path); 0 when it
 * does not fit. */
int witness_url(const char *url, const char *path, char *out, size_t outlen);
/* This gateway's audit certificate as a header value (read at start, never changes until a
 * restart). */
const char *witness_own_cert(const struct gw *g);

/* witness_server.c: answers POST WITNESS_PATH from the peer gateway of peer_state. */
void witness_serve(struct gw *g, struct evhttp_request *req, const char *peer_state);
/* Answers POST WITNESS_HEAD_PATH: the latest head of peer_state's log we cosigned. */
void witness_serve_head(struct gw *g, struct evhttp_request *req, const char *peer_state);

/* witness_epoch.c: the two header lines (NUL-ended) of the link for the checkpoint of
 * cp_size of our log (epoch from 2). */
mla_err witness_epoch_headers(struct gw *g, uint64_t cp_size, mla_buf *link, mla_buf *proof,
			      mla_diag *diag);
/* The witness's epoch rules for the opened checkpoint cp of state's log, sent with old size
 * old: 0 to go on, else the status to refuse with (why set; an alert stored). */
int witness_epoch_check(struct gw *g, struct evhttp_request *req, const char *state,
			const mla_checkpoint *cp, uint64_t old, char *why, size_t whylen);

/* witness_client.c */
mla_err witness_start(struct gw *g, mla_diag *diag);
/* After a reload that applied: our audit certificate is read again (the audit key may have
 * changed with it). */
void witness_reload(struct gw *g);
/* Sends the latest checkpoint to each peer that has not cosigned it and is not being asked. */
void witness_kick(struct gw *g);
/* The same at a clean stop (the relay no longer sends messages), retry times ignored except
 * after a refusal; witness_in_flight says when the answers are in. */
void witness_final(struct gw *g);
unsigned witness_in_flight(const struct gw *g);
/* The size state is known to have cosigned (its head at start, heads.c): witnessing goes on
 * from there without the 409 round trip. */
void witness_set_cosigned(struct gw *g, const char *state, uint64_t size);
/* Whether a refusal of state's request may store an alert now (one a minute per peer: each
 * is a durable write on the loop, and a peer may send many). */
int witness_alert_due(struct gw *g, const char *state);
/* Drops exchanges in flight (before the peer client goes) and frees (tlog_free). */
void witness_free(struct gw *g);

#endif
