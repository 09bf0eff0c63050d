/* The proof records of an audit bundle (audit_export_proofs.c; SPEC section 15). */
#ifndef MLAGW_CLI_AUDIT_EXPORT_PROOFS_H
#define MLAGW_CLI_AUDIT_EXPORT_PROOFS_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/bundle.h"
#include "mlagw/merkle.h"

/* Appends to out a consistency proof "c.<m>.<n>" for each two consecutive sizes (ascending,
 * each at most nleaves) and an inclusion proof "i.<seq>.<last size>" for each seq of incl,
 * from the tree of the nleaves leaves; *count grows by the records added. A CLI status. */
int audit_export_proofs(mla_buf *out, const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN],
			uint64_t nleaves, const uint64_t *sizes, size_t nsizes,
			const uint64_t *incl, size_t nincl, size_t *count);

#endif
