/* The asker's check of one item a peer gave back (recover_check.c): pure, over the trust
 * roots and limits, so the unit tests hand it forgeries. */
#ifndef MLAGW_GATEWAY_RECOVER_CHECK_H
#define MLAGW_GATEWAY_RECOVER_CHECK_H

#include "mlagw/receipt.h"
#include "recover_wire.h"

/* What an item proved once checked. */
struct recover_checked {
	mla_verified v;             /* the envelope: its header, digest */
	mla_receipt receipt;
	uint8_t receipt_sha256[32]; /* of the receipt bytes as given */
};

/* The envelope verifies (signer chained to the root of the State in From), is the item's
 * message id, and goes between own and peer in the item's direction (sent-by-you: own to
 * peer); the receipt verifies, is positive, signed by the envelope's recipient State for the
 * envelope's sender, for that message id and over the SHA-256 of exactly those bytes.
 * Anything else is refused (diag says which check; never content). */
mla_err recover_check_item(const struct recover_item *it, const char *own, const char *peer,
			   const mla_trust *trust, const mla_limits *limits,
			   struct recover_checked *out, mla_diag *diag);

#endif
