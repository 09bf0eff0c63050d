/* Internal interface of the local submission listener (submit_server.c) and its handlers
 * (submit.c: sealing and storing; submit_status.c: status and health). */
#ifndef MLAGW_GATEWAY_SUBMIT_H
#define MLAGW_GATEWAY_SUBMIT_H

#include <event2/http.h>
#include <jansson.h>

#include "core/gw.h"
#include "mlagw/audit_entry.h"
#include "submit_attach.h"
#include "submit_parse.h"

/* Called in the loop thread when a submission is settled: err != MLA_OK when it was refused
 * before anything was stored (why says what; MLA_ERR_EXISTS: its idempotency key came with
 * another request); else committed says whether the outbox row and its audit entry are
 * durable ("queued", 1) or were rolled back (0), or SUBMIT_REPLAYED: the idempotency key
 * answered an earlier submission, whose message id, case id, recipient and in-reply-to are
 * in h (nothing new was stored). h is otherwise the sealed header. */
#define SUBMIT_REPLAYED 2
typedef void (*submit_done_fn)(struct gw *g, void *arg, const mla_header *h, mla_err err,
			       const char *why, const char *problems, int committed);
/* The one submission pipeline (unix socket and local API): a worker seals doc (copied, wiped
 * after sealing) under h for h->to_state; the loop thread stores it in the outbox with
 * submitted_by = actor, writes the audit entry event (submitted or answered) naming actor,
 * and calls fn after the group commit. An authority (actor "authority:...") submitting into
 * a case of this State that another owns without a grant is refused before sealing
 * (MLA_ERR_FORBIDDEN), or, when the case was opened meanwhile, at the put (fn then gets
 * MLA_ERR_FORBIDDEN); a free case is opened for actor with the outbox row. On an error return
 * (d says why: MLA_ERR_FORBIDDEN, MLA_ERR_STORE, MLA_ERR_NOMEM) fn is never called.
 * idem (may be NULL, or key "") is the request's idempotency key, scoped to actor: the key
 * row is stored with the outbox row, in its transaction; a key seen within [limits]
 * idempotency_keep answers SUBMIT_REPLAYED for the same digest, MLA_ERR_EXISTS for another. */
/* submit_case.c, in the sealing worker: the document against its case schema and h (SPEC
 * 16): MLA_OK to seal; MLA_ERR_SCHEMA with *problems (a JSON array, malloc'd; NULL when none)
 * for an invalid document or a refused opaque one; MLA_ERR_HEADER for a type h does not
 * name. Problems name paths and codes, never the document's text. */
mla_err submit_case_check(const uint8_t *doc, size_t len, const mla_header *h,
			  const struct gw_config *c, char **problems, mla_diag *diag);
/* submit_case.c, before a submission is queued: sets h->version to the envelope version
 * written to the peer h->to_state (SPEC 11 rule 6, 16.7) and checks the header against it.
 * MLA_ERR_HEADER (answered 400) when the peer reads no version this gateway writes, or when
 * the header names a Kind or Action that version lacks, naming the peer's version: "header
 * Action 'postponed' needs envelope version 2; peer CO reads envelope version 1 ([peer CO]
 * envelope_versions)"; MLA_ERR_UNKNOWN_PEER for no such peer. */
mla_err submit_set_version(const struct gw_config *c, mla_header *h, mla_diag *diag);
/* The actor of what the gateway sends on its own (retrieval notices, SPEC 16.10): the only
 * one submit_enqueue lets send the Actions retrieved and not-retrieved (else MLA_ERR_ARG). */
#define SUBMIT_GATEWAY_ACTOR "gateway"
mla_err submit_enqueue(struct gw *g, const mla_header *h, const uint8_t *doc, size_t len,
		       const char *actor, mla_audit_event event, const struct submit_idem *idem,
		       submit_done_fn fn, void *arg, mla_diag *d);
/* submit_enqueue with attachments (SPEC 17.14; att NULL or n 0: none): checked by
 * submit_attach_check before, sealed in the worker into envelope version 3; the uploads are
 * removed once the outbox row is durable, the sealed files removed if it is not stored. */
mla_err submit_enqueue_attached(struct gw *g, const mla_header *h, const uint8_t *doc,
				size_t len, const struct submit_attach *att, const char *actor,
				mla_audit_event event, const struct submit_idem *idem,
				submit_done_fn fn, void *arg, mla_diag *d);
/* 1 when actor's idempotency key of idem is stored (a retry: the pipeline answers it from
 * the key, so its attachments' uploads, consumed by the first, are not looked for). */
int submit_idem_stored(struct gw *g, const char *actor, const struct submit_idem *idem);
/* Deletes the idempotency keys older than [limits] idempotency_keep (the daemon's tick). */
void submit_purge_keys(struct gw *g);

void submit_handle(struct gw *g, struct evhttp_request *req);
void submit_status(struct gw *g, struct evhttp_request *req, const char *id);
void submit_health(struct gw *g, struct evhttp_request *req);
/* GET /local/v1/cases (id NULL) and /local/v1/cases/{id}: the case lifecycle (SPEC 16.8). */
void submit_cases(struct gw *g, struct evhttp_request *req, const char *id);

/* A sent message whose attachments are being sent (SPEC 17.13): its progress as "progress":
 * {segments_done, segments_total, bytes_done, bytes_total} added to o; nothing otherwise. */
void status_progress_json(struct gw *g, const char *id, json_t *o);
/* The JSON array of a message's history rows, {"state","at","at_ms"[,"detail"]}, in *out
 * (the caller's) (submit_status.c). */
mla_err status_history_json(struct gw *g, const char *id, json_t **out, mla_diag *d);
/* For a sent message the peer refused with a receipt version 2 listing a case document's
 * problems: sets "problems" on o, [{"path","code"[,"detail"]}, ...[, {"more": n}]], the shape
 * of a refusal before sealing (submit_status.c). Nothing without such a receipt. */
mla_err status_receipt_problems(struct gw *g, const char *id, json_t *o, mla_diag *d);

void submit_reply_json(struct evhttp_request *req, int code, const char *reason, mla_buf *json);
void submit_reply_error(struct evhttp_request *req, int code, const char *reason, mla_err err,
			const char *message, const char *field);
/* 422 with the error object and its "problems" (a JSON array text, or NULL): an invalid case
 * document (protocol/SPEC.md section 16). */
void submit_reply_problems(struct evhttp_request *req, mla_err err, const char *message,
			   const char *problems);
void submit_server_busy_add(struct gw *g, int delta);
/* The local submission listener on its unix socket (submit_server.c), for the daemon. */
extern const struct gw_listener submit_listener;

#endif
