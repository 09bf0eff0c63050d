/* The C2SP tlog-witness add-checkpoint exchange between gateways (protocol/SPEC.md section
 * 14, "Witnessing"): a log sends "old <size>", a consistency proof and its signed checkpoint;
 * the witness answers with cosignature lines, or 409 and the size it last cosigned. */
#ifndef MLAGW_WITNESS_H
#define MLAGW_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"
#include "mlagw/merkle.h"

#define MLA_WITNESS_PROOF_MAX 63 /* consistency proof lines a request may carry */
#define MLA_WITNESS_BODY_MAX (64 + MLA_WITNESS_PROOF_MAX * 45 + 16384)

typedef struct mla_witness_request {
	uint64_t old_size;
	uint8_t proof[MLA_WITNESS_PROOF_MAX][MLA_MERKLE_HASH_LEN];
	size_t nproof;
	const char *note; /* the signed checkpoint: points into the parsed body */
	size_t note_len;
} mla_witness_request;

/* Writes the request body into out (reset first). */
mla_err mla_witness_request_format(uint64_t old_size,
				   const uint8_t (*proof)[MLA_MERKLE_HASH_LEN], size_t nproof,
				   const char *note, size_t note_len, mla_buf *out,
				   mla_diag *diag);
/* Parses a request body strictly: "old <decimal>\n", at most 63 lines of base64 of 32
 * bytes, an empty line, then the checkpoint (not checked here). MLA_ERR_SCHEMA naming what is
 * wrong, MLA_ERR_TOO_LARGE over MLA_WITNESS_BODY_MAX. */
mla_err mla_witness_request_parse(const char *body, size_t len, mla_witness_request *w,
				  mla_diag *diag);
/* Parses a 409 answer's body, "<decimal>\n". */
mla_err mla_witness_size_parse(const char *body, size_t len, uint64_t *size, mla_diag *diag);

#endif
