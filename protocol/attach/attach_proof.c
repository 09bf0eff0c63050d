/* The Merkle tree of an attachment (SPEC 17.7): RFC 6962 over the encrypted segments, built
 * on the audit log's tree code (mlagw/merkle.h); inclusion proofs and their bytes. */
#include <string.h>

#include "mlagw/attach.h"

mla_err mla_attach_leaf(const uint8_t *ct, size_t len, uint8_t leaf[MLA_MERKLE_HASH_LEN])
{
	return mla_merkle_leaf_hash(ct, len, leaf);
}

mla_err mla_attach_proof(const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN], size_t n, uint64_t k,
			 mla_merkle_proof *proof)
{
	if (k >= n)
		return MLA_ERR_ARG;
	return mla_merkle_inclusion_proof(leaves, n, (size_t)k, proof);
}

size_t mla_attach_proof_len(uint64_t k, uint64_t n)
{
	size_t len = 0;

	/* PATH(k, D[0:n]): one hash per level of the RFC 6962 recursion */
	while (n > 1 && k < n) {
		uint64_t split = 1; /* the largest power of two below n, without overflow */
		while (split <= (n - 1) / 2)
			split *= 2;
		if (k < split) {
			n = split;
		} else {
			k -= split;
			n -= split;
		}
		len++;
	}
	return len;
}

mla_err mla_attach_proof_verify(const mla_attach_entry *e, uint64_t k, const uint8_t *ct,
				size_t len, const mla_merkle_proof *proof, mla_diag *diag)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if (k >= e->segments)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u has %llu segments; there is no segment %llu",
				e->index, (unsigned long long)e->segments, (unsigned long long)k);
	if (len != mla_attach_segment_ct_len(e, k))
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u: segment %llu has %zu bytes, the list says %llu",
				e->index, (unsigned long long)k, len,
				(unsigned long long)mla_attach_segment_ct_len(e, k));
	if ((r = mla_attach_leaf(ct, len, leaf)) != MLA_OK)
		return r;
	r = mla_merkle_inclusion_verify(k, e->segments, leaf, proof, e->root);
	if (r != MLA_OK)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u: segment %llu is not in the signed Merkle root",
				e->index, (unsigned long long)k);
	return MLA_OK;
}

size_t mla_attach_proof_encode(const mla_merkle_proof *proof,
			       uint8_t out[MLA_MERKLE_PROOF_MAX * MLA_MERKLE_HASH_LEN])
{
	size_t n = proof->len <= MLA_MERKLE_PROOF_MAX ? proof->len : MLA_MERKLE_PROOF_MAX;

	memcpy(out, proof->hash, n * MLA_MERKLE_HASH_LEN);
	return n * MLA_MERKLE_HASH_LEN;
}

mla_err mla_attach_proof_decode(const uint8_t *buf, size_t len, uint64_t k, uint64_t n,
				mla_merkle_proof *proof, mla_diag *diag)
{
	size_t want;

	if (k >= n)
		return mla_fail(diag, MLA_ERR_HEADER, "proof for segment %llu of %llu",
				(unsigned long long)k, (unsigned long long)n);
	want = mla_attach_proof_len(k, n);
	if (len != want * MLA_MERKLE_HASH_LEN)
		return mla_fail(diag, MLA_ERR_HEADER,
				"proof of segment %llu of %llu has %zu bytes; it has %zu hashes of 32",
				(unsigned long long)k, (unsigned long long)n, len, want);
	proof->len = want;
	if (len > 0)
		memcpy(proof->hash, buf, len);
	return MLA_OK;
}
