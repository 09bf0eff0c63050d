/* The attachment list's model (SPEC 17.2, 17.5, 17.6): segment geometry, and the consistency
 * of what a list claims, checked the same way when sealing and when reading. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mlagw/attach.h"
#include "mlagw/text.h"

mla_err mla_attach_list_new(mla_attach_list **out)
{
	*out = calloc(1, sizeof(**out));
	return *out != NULL ? MLA_OK : MLA_ERR_NOMEM;
}

void mla_attach_list_free(mla_attach_list *l)
{
	if (l == NULL)
		return;
	OPENSSL_cleanse(l, sizeof(*l)); /* the private parts hold the secrets */
	free(l);
}

static int segment_size_ok(uint32_t s)
{
	return s >= MLA_ATTACH_SEGMENT_MIN && s <= MLA_ATTACH_SEGMENT_MAX && (s & (s - 1)) == 0;
}

mla_err mla_attach_geometry(uint64_t plain, uint32_t segment_size, uint64_t *segments,
			    uint64_t *ct_size)
{
	uint64_t n;

	if (!segment_size_ok(segment_size) || plain > MLA_ATTACH_CEILING)
		return MLA_ERR_ARG;
	n = plain == 0 ? 1 : (plain + segment_size - 1) / segment_size;
	*segments = n;
	*ct_size = plain + n * MLA_ATTACH_TAG_LEN;
	return MLA_OK;
}

uint64_t mla_attach_plain_size(const mla_attach_entry *e)
{
	return e->size - e->segments * MLA_ATTACH_TAG_LEN;
}

uint64_t mla_attach_segment_ct_len(const mla_attach_entry *e, uint64_t k)
{
	if (k >= e->segments)
		return 0;
	if (k + 1 < e->segments)
		return (uint64_t)e->segment_size + MLA_ATTACH_TAG_LEN;
	return e->size - (e->segments - 1) * ((uint64_t)e->segment_size + MLA_ATTACH_TAG_LEN);
}

mla_err mla_attach_entry_check(const mla_attach_entry *e, uint64_t max_bytes, mla_diag *diag)
{
	uint64_t plain, n, size, limit = max_bytes < MLA_ATTACH_CEILING ? max_bytes
									 : MLA_ATTACH_CEILING;

	if (!segment_size_ok(e->segment_size))
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: segment size %u is not a power of two from %u to %u",
				e->index, e->segment_size, MLA_ATTACH_SEGMENT_MIN,
				MLA_ATTACH_SEGMENT_MAX);
	/* the bound first, so that no product below can overflow */
	if (e->segments == 0 || e->segments > MLA_ATTACH_CEILING / MLA_ATTACH_SEGMENT_MIN ||
	    e->size > MLA_ATTACH_CEILING + e->segments * MLA_ATTACH_TAG_LEN ||
	    e->size < e->segments * MLA_ATTACH_TAG_LEN)
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: size %llu does not hold %llu segments", e->index,
				(unsigned long long)e->size, (unsigned long long)e->segments);
	plain = mla_attach_plain_size(e);
	if (plain > limit)
		return mla_fail(diag, MLA_ERR_TOO_LARGE,
				"attachment %u of %llu bytes exceeds the limit of %llu", e->index,
				(unsigned long long)plain, (unsigned long long)limit);
	if (mla_attach_geometry(plain, e->segment_size, &n, &size) != MLA_OK ||
	    n != e->segments)
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: %llu segments of %u bytes cannot hold %llu bytes "
				"(%llu segments do)", e->index, (unsigned long long)e->segments,
				e->segment_size, (unsigned long long)plain, (unsigned long long)n);
	return MLA_OK;
}

int mla_attach_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= MLA_ATTACH_NAME_MAX && mla_text_is_clean(name) &&
	       strpbrk(name, "/\\") == NULL && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* RFC 6838 restricted-name: a letter or digit, then up to 126 of these. */
static size_t restricted_name(const char *s)
{
	static const char more[] = "!#$&-^_.+";
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(more, s[i]) != NULL))
			break;
	return i;
}

int mla_attach_type_ok(const char *type)
{
	size_t a = restricted_name(type), b;

	if (a == 0 || type[a] != '/' || strlen(type) > MLA_ATTACH_TYPE_MAX)
		return 0;
	b = restricted_name(type + a + 1);
	return b > 0 && type[a + 1 + b] == '\0';
}

/* deflate's largest ratio: one 258-byte match in about 2 bits, some 1032 to 1 */
#define GZIP_RATIO_MAX 1032u

static mla_err private_check(const mla_attachment *a, uint64_t max_bytes, mla_diag *diag)
{
	uint64_t limit = max_bytes < MLA_ATTACH_CEILING ? max_bytes : MLA_ATTACH_CEILING;
	uint64_t stream = mla_attach_plain_size(&a->pub);

	if (!mla_attach_name_ok(a->priv.name))
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: file name is not 1-255 bytes of UTF-8 text without "
				"control characters, '/' or '\\'", a->pub.index);
	if (!mla_attach_type_ok(a->priv.type))
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: content type is not type/subtype", a->pub.index);
	if (a->priv.gzip != 0 && a->priv.gzip != 1)
		return mla_fail(diag, MLA_ERR_HEADER, "attachment %u: compression is not 0 or 1",
				a->pub.index);
	/* a compressed file's own size bounds what a reader inflates: the limit of a file, and
	 * no more than deflate can give from the stream's bytes (a bomb otherwise) */
	if (a->priv.gzip && a->priv.plain_size > limit)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "attachment %u: a compressed file of %llu "
				"bytes exceeds the limit of %llu", a->pub.index,
				(unsigned long long)a->priv.plain_size, (unsigned long long)limit);
	if (a->priv.gzip && a->priv.plain_size / GZIP_RATIO_MAX > stream)
		return mla_fail(diag, MLA_ERR_HEADER, "attachment %u: a gzip stream of %llu bytes "
				"cannot inflate to %llu (deflate's ratio is at most %u to 1)",
				a->pub.index, (unsigned long long)stream,
				(unsigned long long)a->priv.plain_size, GZIP_RATIO_MAX);
	if (!a->priv.gzip && a->priv.plain_size != mla_attach_plain_size(&a->pub))
		return mla_fail(diag, MLA_ERR_HEADER,
				"attachment %u: file of %llu bytes, but its segments hold %llu",
				a->pub.index, (unsigned long long)a->priv.plain_size,
				(unsigned long long)mla_attach_plain_size(&a->pub));
	return MLA_OK;
}

mla_err mla_attach_list_check(const mla_attach_list *l, uint64_t max_bytes, mla_diag *diag)
{
	mla_err r;

	if (l->n == 0 || l->n > MLA_ATTACH_MAX)
		return mla_fail(diag, MLA_ERR_HEADER, "%zu attachments; an envelope version 3 "
				"lists 1 to %u", l->n, MLA_ATTACH_MAX);
	for (size_t i = 0; i < l->n; i++) {
		const mla_attachment *a = &l->item[i];
		for (size_t j = 0; j < i; j++)
			if (l->item[j].pub.index == a->pub.index)
				return mla_fail(diag, MLA_ERR_HEADER,
						"attachment index %u appears twice", a->pub.index);
		if (a->pub.index != i + 1)
			return mla_fail(diag, MLA_ERR_HEADER,
					"attachment %zu of the list has index %u; indices run "
					"1 to %zu in order", i + 1, a->pub.index, l->n);
		if ((r = mla_attach_entry_check(&a->pub, max_bytes, diag)) != MLA_OK ||
		    (l->has_private && (r = private_check(a, max_bytes, diag)) != MLA_OK))
			return r;
	}
	return MLA_OK;
}
