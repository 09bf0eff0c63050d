/* Receipts: the signed answer of a receiving gateway to an envelope. A positive receipt
 * (accepted) means the envelope was verified, opened and stored durably; a negative one
 * (rejected) carries the error. Either is signed by the receiving gateway over the SHA-256 of
 * exactly the bytes it received, so the sender can prove delivery or refusal. */
#ifndef MLAGW_RECEIPT_H
#define MLAGW_RECEIPT_H

#include <stdint.h>
#include <time.h>

#include "mlagw/buf.h"
#include "mlagw/envelope.h"
#include "mlagw/error.h"
#include "mlagw/limits.h"

typedef enum mla_outcome {
	MLA_OUTCOME_ACCEPTED = 0,
	MLA_OUTCOME_REJECTED = 1
} mla_outcome;

typedef struct mla_receipt {
	char receipt_id[MLA_UUID_LEN + 1];
	char message_id[MLA_UUID_LEN + 1]; /* empty when the envelope's id could not be read */
	uint8_t envelope_digest[32];       /* SHA-256 of the envelope bytes as received */
	char receiver_state[3];            /* the gateway that signs the receipt */
	char sender_state[3];              /* the authenticated sender (TLS peer) */
	time_t received_at;                /* UTC, whole seconds */
	mla_outcome outcome;
	mla_err error;                     /* MLA_OK when accepted */
	char error_message[MLA_DIAG_MAX];  /* the diag message; never content or secrets */
} mla_receipt;

/* Fills receipt_id with a fresh UUID and received_at with now; the rest is zeroed. */
mla_err mla_receipt_init(mla_receipt *r);

/* Signs r with the receiving gateway's signer into *out (initialised by the callee). */
mla_err mla_receipt_seal(const mla_receipt *r, const mla_signer *signer,
			 const mla_limits *limits, mla_buf *out, mla_diag *diag);

/* Verifies a receipt: hardened parse, schema, algorithms, the signer chains to the root of
 * the receipt's receiver State, the signature covers exactly the receipt body. */
mla_err mla_receipt_verify(const uint8_t *xml, size_t len, const mla_trust *trust,
			   const mla_limits *limits, mla_receipt *out, mla_diag *diag);

/* What a sender checks before counting a message as delivered: r verified, from the State it
 * was sent to, for this message id, over exactly these envelope bytes. */
mla_err mla_receipt_match(const mla_receipt *r, const char *to_state, const char *message_id,
			  const uint8_t digest[32], mla_diag *diag);

#endif
