/* Reconciliation's rows (reconcile_side.c writes them, reconcile.c merges them): one fixed-size
 * row per compared entry, sorted on disk in bounded memory (verify_xsort.c) by role, peer,
 * message id, seq and record number, so that one direction's entries are a range of each
 * side's rows, read side by side in message id order (SPEC 15 "Verifier memory"). */
#ifndef MLAGW_AUDIT_RECONCILE_INTERNAL_H
#define MLAGW_AUDIT_RECONCILE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/audit.h"
#include "verify_xsort.h"

enum { RR_SENDER = 0, RR_RECEIVER = 1 };
#define RRF_ENV 1 /* the entry has an envelope-sha256 */
#define RRF_REC 2 /* ... a receipt-sha256 */

/* One compared entry; byte arrays only (no padding), the key first. */
struct rrow {
	/* RR_SENDER: sent, delivered, resealed, peer its `to`; RR_RECEIVER: received,
	 * receipt-issued, peer its `from` */
	uint8_t role;
	char peer[3];		    /* NUL padded */
	char id[MLA_UUID_LEN + 1];  /* NUL padded: memcmp orders as strcmp */
	uint8_t seq[8];		    /* big endian */
	uint8_t ord[8];		    /* its number among the entry records: equal seqs in order */
	uint8_t event, flags;
	uint8_t env[32];	    /* envelope-sha256 */
	uint8_t dig[32];	    /* receipt-sha256; of a resealed entry, prev-envelope-sha256 */
};
#define RROW_RANGE offsetof(struct rrow, id)  /* role and peer: one direction of one side */
#define RROW_GROUP offsetof(struct rrow, seq) /* and the message id: one message */
#define RROW_KEY offsetof(struct rrow, event)

struct mla_audit_side_rows {
	struct xsort sort; /* finished when the side is ready */
};

#endif
