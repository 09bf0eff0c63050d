/* Opening an attachment (SPEC 17.4, 17.8): a segment alone, by its number, or a stream in
 * order whose end and Merkle root are checked against the signed list. */
#include <stdlib.h>
#include <string.h>

#include "attach_internal.h"

struct mla_attach_opener {
	struct attach_keys keys;
	mla_attach_entry e;
	uint64_t next; /* segments read by _next */
	mla_merkle_hasher *hasher;
	mla_merkle_compact range;
};

mla_err mla_attach_opener_new(const mla_attach_entry *e,
			      const uint8_t secret[MLA_ATTACH_SECRET_LEN], const char *message_id,
			      mla_attach_opener **out, mla_diag *diag)
{
	mla_attach_opener *o = calloc(1, sizeof(*o));
	mla_err r;

	*out = NULL;
	if (o == NULL)
		return MLA_ERR_NOMEM;
	o->e = *e;
	mla_merkle_compact_init(&o->range);
	if ((r = mla_attach_entry_check(e, MLA_ATTACH_CEILING, diag)) != MLA_OK)
		goto fail;
	if ((r = attach_keys_init(&o->keys, secret, message_id, e->index)) != MLA_OK ||
	    (r = mla_merkle_hasher_new(&o->hasher)) != MLA_OK) {
		mla_fail(diag, r, "attachment %u: cannot derive its key", e->index);
		goto fail;
	}
	*out = o;
	return MLA_OK;
fail:
	mla_attach_opener_free(o);
	return r;
}

void mla_attach_opener_free(mla_attach_opener *o)
{
	if (o == NULL)
		return;
	attach_keys_wipe(&o->keys);
	mla_merkle_hasher_free(o->hasher);
	OPENSSL_cleanse(o, sizeof(*o));
	free(o);
}

mla_err mla_attach_opener_segment(mla_attach_opener *o, uint64_t k, const uint8_t *ct,
				  size_t len, uint8_t *pt, size_t *pt_len, mla_diag *diag)
{
	uint64_t want = mla_attach_segment_ct_len(&o->e, k);
	mla_err r;

	if (k >= o->e.segments)
		return mla_fail(diag, MLA_ERR_DECRYPT,
				"attachment %u has %llu segments; there is no segment %llu",
				o->e.index, (unsigned long long)o->e.segments, (unsigned long long)k);
	if (len != want)
		return mla_fail(diag, MLA_ERR_DECRYPT,
				"attachment %u: segment %llu has %zu bytes, the list says %llu",
				o->e.index, (unsigned long long)k, len, (unsigned long long)want);
	r = attach_open_segment(&o->keys, k, k + 1 == o->e.segments, ct, len, pt);
	if (r == MLA_ERR_DECRYPT)
		return mla_fail(diag, r,
				"attachment %u: segment %llu does not authenticate (altered, "
				"moved, reordered or truncated)", o->e.index, (unsigned long long)k);
	if (r != MLA_OK)
		return mla_fail(diag, r, "attachment %u: cannot decrypt segment %llu", o->e.index,
				(unsigned long long)k);
	*pt_len = len - MLA_ATTACH_TAG_LEN;
	return MLA_OK;
}

mla_err mla_attach_opener_next(mla_attach_opener *o, const uint8_t *ct, size_t len,
			       uint8_t *pt, size_t *pt_len, mla_diag *diag)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if (o->next >= o->e.segments)
		return mla_fail(diag, MLA_ERR_DECRYPT,
				"attachment %u has %llu segments; a further one was given",
				o->e.index, (unsigned long long)o->e.segments);
	if ((r = mla_attach_opener_segment(o, o->next, ct, len, pt, pt_len, diag)) != MLA_OK)
		return r;
	if ((r = mla_merkle_hasher_leaf(o->hasher, ct, len, leaf)) != MLA_OK ||
	    (r = mla_merkle_hasher_compact_append(o->hasher, &o->range, leaf)) != MLA_OK)
		return mla_fail(diag, r, "attachment %u: cannot hash segment %llu", o->e.index,
				(unsigned long long)o->next);
	o->next++;
	return MLA_OK;
}

mla_err mla_attach_opener_finish(const mla_attach_opener *o, mla_diag *diag)
{
	uint8_t root[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if (o->next != o->e.segments)
		return mla_fail(diag, MLA_ERR_DECRYPT,
				"attachment %u truncated: %llu of its %llu segments read",
				o->e.index, (unsigned long long)o->next,
				(unsigned long long)o->e.segments);
	if ((r = mla_merkle_compact_root(&o->range, root)) != MLA_OK)
		return r;
	/* every segment authenticated, so a different root means a list that lies about the
	 * ciphertext (a sender's fault an auditor would see too) */
	if (CRYPTO_memcmp(root, o->e.root, sizeof(root)) != 0)
		return mla_fail(diag, MLA_ERR_SIG_INVALID,
				"attachment %u: its segments do not have the signed Merkle root",
				o->e.index);
	return MLA_OK;
}
