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

/* Receipt version 2 (SPEC 12) adds to a negative receipt the problems of a refused case
 * document (SPEC 16.6): each an element path, a code and a detail from the schema, never text
 * of the document; at most MLA_RECEIPT_PROBLEMS_MAX listed, count giving all found. */
#define MLA_RECEIPT_PROBLEMS_MAX 100
#define MLA_RECEIPT_PROBLEMS_COUNT_MAX 1000000u
#define MLA_RECEIPT_PATH_MAX 256   /* 1-255 bytes of A-Z a-z 0-9 / @ . _ ? [ ] - */
#define MLA_RECEIPT_CODE_MAX 33    /* 1-32 of a-z 0-9 - */
#define MLA_RECEIPT_DETAIL_MAX 48  /* 0-47 bytes of A-Z a-z 0-9 space . _ - */

typedef struct mla_receipt_problem {
	char path[MLA_RECEIPT_PATH_MAX];
	char code[MLA_RECEIPT_CODE_MAX];
	char detail[MLA_RECEIPT_DETAIL_MAX]; /* empty: none */
} mla_receipt_problem;

typedef struct mla_receipt_problems {
	size_t n;        /* listed, at most MLA_RECEIPT_PROBLEMS_MAX */
	uint32_t count;  /* found in all (n and those only counted), at least n */
	mla_receipt_problem list[MLA_RECEIPT_PROBLEMS_MAX];
} mla_receipt_problems;

/* Receipt version 3 (SPEC 12, 17.13) answers an envelope version 3; when accepted it names
 * each attachment received complete and verified: its index, ciphertext size and Merkle
 * root as the envelope's signed list gives them. */
typedef struct mla_receipt_attachment {
	uint32_t index;                    /* 1 to 64, in list order */
	uint64_t size;                     /* ciphertext bytes */
	uint8_t root[MLA_MERKLE_HASH_LEN]; /* RFC 6962 root over the encrypted segments */
} mla_receipt_attachment;

typedef struct mla_receipt_attachments {
	size_t n; /* 1 to MLA_ATTACH_MAX in a positive receipt version 3 */
	mla_receipt_attachment list[MLA_ATTACH_MAX];
} mla_receipt_attachments;

typedef struct mla_receipt {
	unsigned version;                  /* 1, 2 (a problem list may follow the Error) or 3
					    * (the receipt of an envelope version 3) */
	char receipt_id[MLA_UUID_LEN + 1];
	char message_id[MLA_UUID_LEN + 1]; /* empty when the envelope's id could not be read */
	uint8_t envelope_digest[32];       /* SHA-256 of the envelope bytes as received */
	char receiver_state[3];            /* the gateway that signs the receipt */
	char sender_state[3];              /* the authenticated sender (TLS peer) */
	time_t received_at;                /* UTC, whole seconds */
	mla_outcome outcome;
	mla_err error;                     /* MLA_OK when accepted */
	char error_message[MLA_DIAG_MAX];  /* the diag message; never content or secrets */
	uint32_t problem_count;            /* version 2: Problems/@count; 0 without a list */
	uint32_t attachment_count;         /* version 3 accepted: attachments listed; else 0 */
} mla_receipt;

/* Fills receipt_id with a fresh UUID, received_at with now and version with 1; the rest is
 * zeroed. */
mla_err mla_receipt_init(mla_receipt *r);

/* Signs r with the receiving gateway's signer into *out (initialised by the callee), in
 * r->version (1 or 2). */
mla_err mla_receipt_seal(const mla_receipt *r, const mla_signer *signer,
			 const mla_limits *limits, mla_buf *out, mla_diag *diag);
/* The same with a problem list (NULL: none), which needs r->version 2 and a rejected outcome
 * (MLA_ERR_ARG otherwise); r->problem_count is ignored: the list's count is written. */
mla_err mla_receipt_seal_problems(const mla_receipt *r, const mla_receipt_problems *problems,
				  const mla_signer *signer, const mla_limits *limits,
				  mla_buf *out, mla_diag *diag);

/* The same for receipt version 3 (r->version 3): atts, the attachments received, is given
 * exactly when the outcome is accepted (MLA_ERR_ARG otherwise); a problem list (NULL: none)
 * only beside a refusal; r->attachment_count and problem_count are ignored. */
mla_err mla_receipt_seal_attached(const mla_receipt *r, const mla_receipt_problems *problems,
				  const mla_receipt_attachments *atts, const mla_signer *signer,
				  const mla_limits *limits, mla_buf *out, mla_diag *diag);
/* The attachments of a signed list (an envelope version 3's) as a receipt names them. */
void mla_receipt_attachments_of(const mla_attach_list *l, mla_receipt_attachments *out);

/* Verifies a receipt: hardened parse, schema, algorithms, the signer chains to the root of
 * the receipt's receiver State, the signature covers exactly the receipt body. */
mla_err mla_receipt_verify(const uint8_t *xml, size_t len, const mla_trust *trust,
			   const mla_limits *limits, mla_receipt *out, mla_diag *diag);
/* The same, reading either version; a version 2 receipt's problem list goes to *problems when
 * it is not NULL (n = 0 without a list; zeroed when verification fails). */
mla_err mla_receipt_verify_problems(const uint8_t *xml, size_t len, const mla_trust *trust,
				    const mla_limits *limits, mla_receipt *out,
				    mla_receipt_problems *problems, mla_diag *diag);

/* The same, reading every version; a version 3 receipt's attachment list goes to *atts when
 * it is not NULL (n = 0 without a list; zeroed when verification fails). */
mla_err mla_receipt_verify_attached(const uint8_t *xml, size_t len, const mla_trust *trust,
				    const mla_limits *limits, mla_receipt *out,
				    mla_receipt_problems *problems, mla_receipt_attachments *atts,
				    mla_diag *diag);

/* What a sender checks before counting a message as delivered: r verified, from the State it
 * was sent to, for this message id, over exactly these envelope bytes. */
mla_err mla_receipt_match(const mla_receipt *r, const char *to_state, const char *message_id,
			  const uint8_t digest[32], mla_diag *diag);
/* A positive receipt's ReceivedAt against the sender's clock: not later than now plus the
 * skew it tolerates (MLA_ERR_RECEIPT_MISMATCH otherwise). The time starts the case's
 * deadlines on both sides (SPEC 12 Match): the receiver must not date it ahead. A refusal
 * is not held to it (a clock-skew refusal reports the receiver's wrong clock). */
mla_err mla_receipt_match_time(const mla_receipt *r, time_t now, uint64_t skew_s,
			       mla_diag *diag);
/* The receipt's version against the envelope's (SPEC 11 rule 7): an envelope of version 3 is
 * answered in receipt version 3, one of version 2 in receipt version 2, positive or not
 * (MLA_ERR_RECEIPT_MISMATCH otherwise); one of version 1 in version 1, or 2 for a refusal
 * listing problems (SPEC 12), both accepted. */
mla_err mla_receipt_match_version(const mla_receipt *r, int envelope_version, mla_diag *diag);

/* A positive receipt version 3 against the list the sender sealed (SPEC 17.13): the same
 * number of attachments, and each with the index, size and root sealed
 * (MLA_ERR_RECEIPT_MISMATCH: "receipt names attachment 2 with another root than the one
 * sealed"). A refusal carries no list and passes. */
mla_err mla_receipt_match_attachments(const mla_receipt *r, const mla_receipt_attachments *got,
				      const mla_attach_list *sealed, mla_diag *diag);

#endif
