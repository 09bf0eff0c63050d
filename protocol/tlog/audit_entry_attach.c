/* The attachments field of audit entry version 7 (protocol/SPEC.md section 14): the signed
 * list of an envelope version 3 as one canonical line, so that the log records each
 * attachment's size and Merkle root (SPEC 17.5) beside the envelope's digest. */
#include <inttypes.h>
#include <string.h>

#include "mlagw/audit_entry.h"
#include "mlagw/codec.h"

mla_err mla_audit_attachments_format(const mla_attach_list *l, char *out, size_t size)
{
	char hex[65];
	size_t used = 0;
	int n;

	if (l == NULL || l->n < 1 || l->n > MLA_ATTACH_MAX || size == 0)
		return MLA_ERR_ARG;
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		const mla_attach_entry *e = &l->item[i].pub;
		if (mla_hex_encode(e->root, sizeof e->root, hex, sizeof hex) != MLA_OK)
			return MLA_ERR_INTERNAL;
		n = snprintf(out + used, size - used, "%s%" PRIu32 ":%" PRIu64 ":%s",
			     i > 0 ? "," : "", e->index, e->size, hex);
		if (n < 0 || (size_t)n >= size - used) {
			out[0] = '\0';
			return MLA_ERR_TOO_LARGE;
		}
		used += (size_t)n;
	}
	return MLA_OK;
}

/* A decimal without sign or leading zero of 1 to max digits at *p, at least min; advances. */
static int take_dec(const char **p, size_t max, uint64_t min, uint64_t *v)
{
	const char *s = *p;
	size_t i = 0;

	*v = 0;
	while (s[i] >= '0' && s[i] <= '9' && i < max)
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	if (i == 0 || (s[i] >= '0' && s[i] <= '9') || (i > 1 && s[0] == '0') || *v < min)
		return 0;
	*p = s + i;
	return 1;
}

int mla_audit_attachments_ok(const char *s)
{
	uint64_t index, size;

	for (uint64_t want = 1; want <= MLA_ATTACH_MAX; want++) {
		if (!take_dec(&s, 2, 1, &index) || index != want || *s++ != ':' ||
		    !take_dec(&s, 14, MLA_ATTACH_TAG_LEN, &size) || *s++ != ':')
			return 0;
		for (int k = 0; k < 64; k++, s++)
			if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
				return 0;
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
	return 0;
}
