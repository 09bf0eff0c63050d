/* mlagw audit export, the proofs of a bundle (SPEC section 15): an RFC 6962 consistency proof
 * between each two consecutive checkpoints, and in a filtered bundle an inclusion proof of each
 * entry of a selected message in the latest checkpoint, so that an auditor can check them
 * against the signed roots as the log's clients would. One lower-case hex hash per line. */
#include <string.h>

#include "audit_export_proofs.h"
#include "cli_util.h"
#include "mlagw/codec.h"

static int add_proof(mla_buf *out, const char *name, const mla_merkle_proof *p, size_t *count)
{
	char body[MLA_MERKLE_PROOF_MAX * 65 + 1];
	size_t n = 0;
	mla_diag d = {MLA_OK, ""};
	mla_err r;

	/* p->len <= MLA_MERKLE_PROOF_MAX: body holds every line and the last NUL */
	for (size_t i = 0; i < p->len; i++) {
		mla_require(mla_hex_encode(p->hash[i], MLA_MERKLE_HASH_LEN, body + n,
					   sizeof(body) - n) == MLA_OK);
		n += 2 * MLA_MERKLE_HASH_LEN;
		body[n++] = '\n';
	}
	if ((r = mla_bundle_add(out, MLA_BUNDLE_PROOF, name, body, n, &d)) != MLA_OK)
		return cli_fail("audit export", r, &d);
	(*count)++;
	return CLI_OK;
}

int audit_export_proofs(mla_buf *out, const uint8_t (*leaves)[MLA_MERKLE_HASH_LEN],
			uint64_t nleaves, const uint64_t *sizes, size_t nsizes,
			const uint64_t *incl, size_t nincl, size_t *count)
{
	mla_merkle_tree *t = NULL;
	mla_merkle_proof p;
	char name[64];
	int rc = CLI_OK;

	if (nleaves == 0 || nsizes == 0 || (nsizes < 2 && nincl == 0))
		return CLI_OK; /* nothing to prove: no tree to build (1M leaves cost seconds) */
	if (mla_merkle_tree_new(nleaves, &t) != MLA_OK)
		return CLI_INTERNAL;
	for (uint64_t i = 0; i < nleaves && rc == CLI_OK; i++)
		if (mla_merkle_tree_append(t, leaves[i]) != MLA_OK)
			rc = CLI_INTERNAL;
	for (size_t i = 1; i < nsizes && rc == CLI_OK; i++) {
		mla_require(mla_snprintf(name, sizeof(name), "c.%llu.%llu",
					 (unsigned long long)sizes[i - 1],
					 (unsigned long long)sizes[i]) == MLA_OK); /* <= 43 */
		rc = mla_merkle_tree_consistency_proof(t, sizes[i - 1], sizes[i], &p) != MLA_OK
			     ? CLI_INTERNAL
			     : add_proof(out, name, &p, count);
	}
	for (size_t i = 0; i < nincl && rc == CLI_OK; i++) {
		uint64_t last = sizes[nsizes - 1];
		mla_require(mla_snprintf(name, sizeof(name), "i.%llu.%llu",
					 (unsigned long long)incl[i],
					 (unsigned long long)last) == MLA_OK); /* <= 43 */
		rc = mla_merkle_tree_inclusion_proof(t, incl[i], last, &p) != MLA_OK
			     ? CLI_INTERNAL
			     : add_proof(out, name, &p, count);
	}
	mla_merkle_tree_free(t);
	return rc;
}
