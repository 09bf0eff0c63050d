/* The one codec layer (include/mlagw/codec.h), bounded strings: copies and formats that
 * fail on truncation, and the one place where cutting text is allowed (log lines), done on a
 * UTF-8 character boundary with a visible mark. */
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"

mla_err mla_strcpy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (n == 0)
		return MLA_ERR_TOO_LARGE;
	if (len >= n) {
		dst[0] = '\0';
		return MLA_ERR_TOO_LARGE;
	}
	memcpy(dst, src, len + 1);
	return MLA_OK;
}

mla_err mla_vsnprintf(char *dst, size_t n, const char *fmt, va_list ap)
{
	int len;

	if (n == 0)
		return MLA_ERR_TOO_LARGE;
	len = vsnprintf(dst, n, fmt, ap);
	if (len < 0 || (size_t)len >= n) {
		dst[0] = '\0';
		return len < 0 ? MLA_ERR_INTERNAL : MLA_ERR_TOO_LARGE;
	}
	return MLA_OK;
}

mla_err mla_snprintf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	mla_err r;

	va_start(ap, fmt);
	r = mla_vsnprintf(dst, n, fmt, ap);
	va_end(ap);
	return r;
}

int mla_vsnprintf_cut(char *dst, size_t n, const char *fmt, va_list ap)
{
	const size_t mark = sizeof(MLA_CUT_MARK) - 1;
	int len;
	size_t end;

	if (n == 0)
		return 1;
	len = vsnprintf(dst, n, fmt, ap);
	if (len < 0) {
		dst[0] = '\0';
		return 1;
	}
	if ((size_t)len < n)
		return 0;
	if (n <= mark) {
		dst[0] = '\0';
		return 1;
	}
	/* back to the start of a character: continuation bytes are 10xxxxxx */
	end = n - 1 - mark;
	while (end > 0 && ((unsigned char)dst[end] & 0xc0) == 0x80)
		end--;
	memcpy(dst + end, MLA_CUT_MARK, mark + 1);
	return 1;
}

int mla_snprintf_cut(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	int cut;

	va_start(ap, fmt);
	cut = mla_vsnprintf_cut(dst, n, fmt, ap);
	va_end(ap);
	return cut;
}
