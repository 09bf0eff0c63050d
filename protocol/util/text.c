/* UTF-8 decoding and the "clean text" rule (see include/mlagw/text.h). */
#include <string.h>

#include "mlagw/text.h"

size_t mla_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, c = s[0] & 0x1fu, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, c = s[0] & 0x0fu, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, c = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t mla_text_copy_safe(char *dst, size_t n, const char *src)
{
	const uint8_t *p = (const uint8_t *)src;
	size_t len = strlen(src), o = 0, l;
	uint32_t cp;

	for (size_t i = 0; i < len; i += l) {
		if ((l = mla_utf8_next(p + i, len - i, &cp)) == 0 || cp < 0x20 ||
		    (cp >= 0x7f && cp <= 0x9f)) {
			l = l == 0 ? 1 : l;
			if (o + 1 >= n)
				break;
			dst[o++] = '?';
			continue;
		}
		if (o + l >= n)
			break;
		memmove(dst + o, p + i, l);
		o += l;
	}
	dst[o] = '\0';
	return o;
}

int mla_text_is_clean(const char *s)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), l;
	uint32_t cp;

	for (size_t i = 0; i < n; i += l) {
		if ((l = mla_utf8_next(p + i, n - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
	}
	return 1;
}
