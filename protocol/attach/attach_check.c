/* Checking an attachment's ciphertext against its signed list entry with no key (SPEC 17.7):
 * what an auditor does with an exported attachment, and a receiver with a whole file. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mlagw/attach.h"

struct mla_attach_checker {
	mla_attach_entry e;
	uint64_t next;
	mla_merkle_hasher *hasher;
	mla_merkle_compact range;
};

mla_err mla_attach_checker_new(const mla_attach_entry *e, mla_attach_checker **out,
			       mla_diag *diag)
{
	mla_attach_checker *c;
	mla_err r;

	*out = NULL;
	if ((r = mla_attach_entry_check(e, MLA_ATTACH_CEILING, diag)) != MLA_OK)
		return r;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MLA_ERR_NOMEM;
	c->e = *e;
	mla_merkle_compact_init(&c->range);
	if ((r = mla_merkle_hasher_new(&c->hasher)) != MLA_OK) {
		free(c);
		return r;
	}
	*out = c;
	return MLA_OK;
}

void mla_attach_checker_free(mla_attach_checker *c)
{
	if (c == NULL)
		return;
	mla_merkle_hasher_free(c->hasher);
	free(c);
}

mla_err mla_attach_checker_next(mla_attach_checker *c, const uint8_t *ct, size_t len,
				mla_diag *diag)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if (c->next >= c->e.segments)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u has %llu segments; a further one was given",
				c->e.index, (unsigned long long)c->e.segments);
	if (len != mla_attach_segment_ct_len(&c->e, c->next))
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u: segment %llu has %zu bytes, the list says %llu",
				c->e.index, (unsigned long long)c->next, len,
				(unsigned long long)mla_attach_segment_ct_len(&c->e, c->next));
	if ((r = mla_merkle_hasher_leaf(c->hasher, ct, len, leaf)) != MLA_OK ||
	    (r = mla_merkle_hasher_compact_append(c->hasher, &c->range, leaf)) != MLA_OK)
		return r;
	c->next++;
	return MLA_OK;
}

mla_err mla_attach_checker_finish(const mla_attach_checker *c, mla_diag *diag)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if (c->next != c->e.segments)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u truncated: %llu of its %llu segments given",
				c->e.index, (unsigned long long)c->next,
				(unsigned long long)c->e.segments);
	if ((r = mla_merkle_compact_root(&c->range, root)) != MLA_OK)
		return r;
	if (CRYPTO_memcmp(root, c->e.root, sizeof(root)) != 0)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u: its segments do not have the signed Merkle root",
				c->e.index);
	return MLA_OK;
}
