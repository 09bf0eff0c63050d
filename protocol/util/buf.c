/* Bounded growable buffer (see include/mlagw/buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mlagw/buf.h"

void *mla_grow(void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return arr;
	nc = *cap == 0 ? 16 : 2 * *cap;
	if (elem == 0 || nc < *cap || nc > SIZE_MAX / elem || (p = realloc(arr, nc * elem)) == NULL)
		return NULL;
	*cap = nc;
	return p;
}

void mla_buf_init(mla_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void mla_buf_init_secret(mla_buf *b, size_t max)
{
	mla_buf_init(b, max);
	b->secret = 1;
}

static void release(uint8_t *p, size_t cap, int secret)
{
	if (p != NULL && secret)
		OPENSSL_cleanse(p, cap);
	free(p);
}

mla_err mla_buf_reserve(mla_buf *b, size_t extra)
{
	size_t need, ncap;
	uint8_t *n;

	if (extra > b->max || b->len > b->max - extra)
		return MLA_ERR_TOO_LARGE;
	need = b->len + extra + 1; /* room for a terminating NUL */
	if (need <= b->cap)
		return MLA_OK;
	ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if (b->secret) {
		/* realloc could leave a copy of the secret behind; copy and wipe instead */
		if ((n = malloc(ncap)) == NULL)
			return MLA_ERR_NOMEM;
		if (b->len > 0)
			memcpy(n, b->data, b->len);
		release(b->data, b->cap, 1);
	} else if ((n = realloc(b->data, ncap)) == NULL) {
		return MLA_ERR_NOMEM;
	}
	b->data = n;
	b->cap = ncap;
	return MLA_OK;
}

mla_err mla_buf_append(mla_buf *b, const void *p, size_t n)
{
	mla_err r;

	if (n == 0)
		return MLA_OK;
	if ((r = mla_buf_reserve(b, n)) != MLA_OK)
		return r;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return MLA_OK;
}

mla_err mla_buf_append_str(mla_buf *b, const char *s)
{
	return mla_buf_append(b, s, strlen(s));
}

mla_err mla_buf_printf(mla_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	mla_err r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MLA_ERR_INTERNAL;
	if ((r = mla_buf_reserve(b, (size_t)n)) != MLA_OK)
		return r;
	va_start(ap, fmt);
	n = vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MLA_ERR_INTERNAL;
	b->len += (size_t)n;
	return MLA_OK;
}

mla_err mla_buf_terminate(mla_buf *b)
{
	mla_err r;

	if ((r = mla_buf_reserve(b, 0)) != MLA_OK)
		return r;
	b->data[b->len] = '\0';
	return MLA_OK;
}

uint8_t *mla_buf_detach(mla_buf *b, size_t *len)
{
	uint8_t *p = b->data;

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void mla_buf_reset(mla_buf *b)
{
	if (b->secret && b->data != NULL)
		OPENSSL_cleanse(b->data, b->cap);
	b->len = 0;
}

void mla_buf_free(mla_buf *b)
{
	release(b->data, b->cap, b->secret);
	b->data = NULL;
	b->len = b->cap = 0;
}
