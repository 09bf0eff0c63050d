/* Sealing an attachment segment by segment (SPEC 17.2-17.4): each segment encrypted as it
 * comes, its leaf hash added to a compact Merkle range, so memory stays one segment. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attach_internal.h"

struct mla_attach_sealer {
	struct attach_keys keys;
	uint32_t index, segment_size;
	uint64_t max_bytes, segments, ct_size, plain;
	int done;
	mla_merkle_hasher *hasher;
	mla_merkle_compact range;
	EVP_MD_CTX *plain_md; /* SHA-256 of the plaintext segments, NULL if not kept */
	uint8_t last_leaf[MLA_MERKLE_HASH_LEN]; /* of the segment sealed last */
};

mla_err mla_attach_sealer_new(const uint8_t secret[MLA_ATTACH_SECRET_LEN],
			      const char *message_id, uint32_t index, uint32_t segment_size,
			      uint64_t max_bytes, mla_attach_sealer **out, mla_diag *diag)
{
	mla_attach_sealer *s = calloc(1, sizeof(*s));
	mla_err r;

	*out = NULL;
	if (s == NULL)
		return MLA_ERR_NOMEM;
	s->index = index;
	s->segment_size = segment_size;
	s->max_bytes = max_bytes < MLA_ATTACH_CEILING ? max_bytes : MLA_ATTACH_CEILING;
	mla_merkle_compact_init(&s->range);
	if (segment_size < MLA_ATTACH_SEGMENT_MIN || segment_size > MLA_ATTACH_SEGMENT_MAX ||
	    (segment_size & (segment_size - 1)) != 0) {
		r = mla_fail(diag, MLA_ERR_ARG,
			     "attachment %u: segment size %u is not a power of two from %u to %u",
			     index, segment_size, MLA_ATTACH_SEGMENT_MIN, MLA_ATTACH_SEGMENT_MAX);
		goto fail;
	}
	if (index < 1 || index > MLA_ATTACH_MAX) {
		r = mla_fail(diag, MLA_ERR_ARG, "attachment index %u is not 1 to %u", index,
			     MLA_ATTACH_MAX);
		goto fail;
	}
	if ((r = attach_keys_init(&s->keys, secret, message_id, index)) != MLA_OK ||
	    (r = mla_merkle_hasher_new(&s->hasher)) != MLA_OK)
		goto fail;
	if ((s->plain_md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->plain_md, EVP_sha256(), NULL) != 1) {
		r = MLA_ERR_INTERNAL;
		goto fail;
	}
	*out = s;
	return MLA_OK;
fail:
	mla_attach_sealer_free(s);
	return r;
}

void mla_attach_sealer_free(mla_attach_sealer *s)
{
	if (s == NULL)
		return;
	attach_keys_wipe(&s->keys);
	mla_merkle_hasher_free(s->hasher);
	EVP_MD_CTX_free(s->plain_md);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* The segment rules of SPEC 17.2 for the next segment of len bytes. */
static mla_err check_segment(const mla_attach_sealer *s, size_t len, int last, mla_diag *diag)
{
	if (s->done)
		return mla_fail(diag, MLA_ERR_ARG, "attachment %u: a segment after the last",
				s->index);
	if (!last && len != s->segment_size)
		return mla_fail(diag, MLA_ERR_ARG,
				"attachment %u: segment %llu of %zu bytes; all but the last hold %u",
				s->index, (unsigned long long)s->segments, len, s->segment_size);
	if (last && (len > s->segment_size || (len == 0 && s->segments > 0)))
		return mla_fail(diag, MLA_ERR_ARG,
				"attachment %u: last segment of %zu bytes; it holds 1 to %u (0 only "
				"when it is the only one)", s->index, len, s->segment_size);
	if (len > s->max_bytes - s->plain)
		return mla_fail(diag, MLA_ERR_TOO_LARGE,
				"attachment %u exceeds the limit of %llu bytes", s->index,
				(unsigned long long)s->max_bytes);
	return MLA_OK;
}

mla_err mla_attach_sealer_segment(mla_attach_sealer *s, const uint8_t *pt, size_t len,
				  int last, uint8_t *out, size_t *out_len, mla_diag *diag)
{
	uint8_t leaf[MLA_MERKLE_HASH_LEN];
	mla_err r;

	if ((r = check_segment(s, len, last, diag)) != MLA_OK)
		return r;
	if ((len > 0 && s->plain_md != NULL && EVP_DigestUpdate(s->plain_md, pt, len) != 1) ||
	    (r = attach_seal_segment(&s->keys, s->segments, last, pt, len, out)) != MLA_OK ||
	    (r = mla_merkle_hasher_leaf(s->hasher, out, len + MLA_ATTACH_TAG_LEN, leaf)) !=
		    MLA_OK ||
	    (r = mla_merkle_hasher_compact_append(s->hasher, &s->range, leaf)) != MLA_OK)
		return mla_fail(diag, r != MLA_OK ? r : MLA_ERR_INTERNAL,
				"attachment %u: cannot encrypt segment %llu", s->index,
				(unsigned long long)s->segments);
	memcpy(s->last_leaf, leaf, sizeof(leaf));
	s->segments++;
	s->plain += len;
	s->ct_size += len + MLA_ATTACH_TAG_LEN;
	s->done = last;
	*out_len = len + MLA_ATTACH_TAG_LEN;
	return MLA_OK;
}

mla_err mla_attach_sealer_finish(const mla_attach_sealer *s, mla_attach_entry *e,
				 uint8_t plain_sha256[32], mla_diag *diag)
{
	EVP_MD_CTX *md = NULL;
	unsigned int n = 0;
	mla_err r = MLA_ERR_INTERNAL;

	if (!s->done)
		return mla_fail(diag, MLA_ERR_ARG, "attachment %u: no last segment yet", s->index);
	memset(e, 0, sizeof(*e));
	e->index = s->index;
	e->size = s->ct_size;
	e->segment_size = s->segment_size;
	e->segments = s->segments;
	if (plain_sha256 != NULL && s->plain_md == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "attachment %u: its plaintext digest was not "
				"kept", s->index);
	/* a copy of the digest state, so finish may be asked twice */
	if ((plain_sha256 != NULL &&
	     ((md = EVP_MD_CTX_new()) == NULL || EVP_MD_CTX_copy_ex(md, s->plain_md) != 1 ||
	      EVP_DigestFinal_ex(md, plain_sha256, &n) != 1 || n != 32)) ||
	    (r = mla_merkle_compact_root(&s->range, e->root)) != MLA_OK)
		r = mla_fail(diag, MLA_ERR_INTERNAL, "attachment %u: cannot finish", s->index);
	EVP_MD_CTX_free(md);
	return r;
}

void mla_attach_sealer_last_leaf(const mla_attach_sealer *s, uint8_t leaf[MLA_MERKLE_HASH_LEN])
{
	memcpy(leaf, s->last_leaf, MLA_MERKLE_HASH_LEN);
}

void mla_attach_sealer_no_plain_digest(mla_attach_sealer *s)
{
	EVP_MD_CTX_free(s->plain_md);
	s->plain_md = NULL;
}
