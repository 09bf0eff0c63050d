/* The daemon's audit log: every event becomes one entry (SPEC §14) appended to the store in
 * the same transaction as the action it records, so nothing is reported done before its
 * entry is durable. Metadata and digests only. */
#ifndef MLAGW_GATEWAY_AUDIT_H
#define MLAGW_GATEWAY_AUDIT_H

#include "core/gw.h"
#include "mlagw/audit_entry.h"

/* Loads the next sequence number from the store (at start and after a rolled-back commit). */
mla_err gw_audit_sync(struct gw *g, mla_diag *diag);

/* Appends e (seq and time are set here). A failure inside a group commit fails the group:
 * the action it records must not be reported done without its entry. A step of the wall
 * clock noticed here is written first, as a clock-stepped entry (at most one a minute: the
 * steps between are summed into the next; SPEC 14 "Time never goes back"). */
mla_err gw_audit(struct gw *g, mla_audit_entry *e);

/* Convenience for message events: fills message, case, kind, action, parties from the
 * arguments (NULL or "" for absent) and appends. */
struct gw_audit_msg {
	const char *message_id, *case_id, *kind, *action, *from, *to, *actor, *error, *reason;
	const uint8_t *envelope_sha256, *receipt_sha256;
	const uint8_t *prev_envelope_sha256; /* resealed only: the seal replaced */
	uint32_t count; /* identical events the entry stands for (SPEC 14); 0 is taken as 1 */
	/* a case step's submitted, answered or received entry: its header Priority and a
	 * refusal's coded grounds (entry version 6, SPEC 14); NULL or "" for none */
	const char *priority, *grounds;
	/* entry version 7 (SPEC 14): the signed attachment list of the envelope named, as
	 * mla_audit_attachments_format writes it (NULL or "" for none), and on document-fetched
	 * the index of the attachment read (0 for none) */
	const char *attachments;
	unsigned attachment;
};
mla_err gw_audit_message(struct gw *g, mla_audit_event ev, const struct gw_audit_msg *m);

#endif
