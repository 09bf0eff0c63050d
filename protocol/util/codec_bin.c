/* The one codec layer (include/mlagw/codec.h), binary as text: canonical padded base64
 * (RFC 4648 section 4) and lower-case hex. One table each; decoders refuse every spelling
 * other than the one the encoder writes, so a value has exactly one text form. */
#include <string.h>

#include "mlagw/codec.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hex_digits[] = "0123456789abcdef";

/* The 6-bit value of c, or -1 when c is not in the standard alphabet ('=' included). */
static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static void b64_quantum(const uint8_t *in, size_t k, char out[4])
{
	uint32_t v = (uint32_t)in[0] << 16 | (k > 1 ? (uint32_t)in[1] << 8 : 0) |
		     (k > 2 ? in[2] : 0);

	out[0] = b64_alphabet[v >> 18 & 63];
	out[1] = b64_alphabet[v >> 12 & 63];
	out[2] = k > 1 ? b64_alphabet[v >> 6 & 63] : '=';
	out[3] = k > 2 ? b64_alphabet[v & 63] : '=';
}

mla_err mla_b64_encode(const uint8_t *in, size_t n, char *out, size_t size)
{
	if (size == 0)
		return MLA_ERR_TOO_LARGE;
	out[0] = '\0';
	if (n > (SIZE_MAX - 1) / 4 * 3 - 2 || MLA_B64_LEN(n) >= size)
		return MLA_ERR_TOO_LARGE;
	for (size_t i = 0; i < n; i += 3)
		b64_quantum(in + i, n - i < 3 ? n - i : 3, out + i / 3 * 4);
	out[MLA_B64_LEN(n)] = '\0';
	return MLA_OK;
}

mla_err mla_b64_encode_buf(const uint8_t *in, size_t n, mla_buf *b)
{
	mla_err r;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 2)
		return MLA_ERR_TOO_LARGE;
	if (n == 0)
		return MLA_OK; /* b->data may still be NULL */
	if ((r = mla_buf_reserve(b, MLA_B64_LEN(n))) != MLA_OK)
		return r;
	for (size_t i = 0; i < n; i += 3)
		b64_quantum(in + i, n - i < 3 ? n - i : 3, (char *)b->data + b->len + i / 3 * 4);
	b->len += MLA_B64_LEN(n);
	return MLA_OK;
}

/* The number of bytes s[0..n) decodes to, or -1 when it is not canonical base64. */
static long long b64_check(const char *s, size_t n)
{
	size_t pad = 0;
	int last;

	if (n % 4 != 0)
		return -1;
	if (n == 0)
		return 0;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (b64_value(s[i]) < 0)
			return -1;
	/* the bits the padding leaves unused must be zero, or two texts give the same bytes */
	last = b64_value(s[n - 1 - pad]);
	if ((pad == 1 && (last & 0x03) != 0) || (pad == 2 && (last & 0x0f) != 0))
		return -1;
	return (long long)(n / 4 * 3 - pad);
}

static void b64_decode_checked(const char *s, size_t len, uint8_t *out)
{
	for (size_t i = 0, o = 0; o < len; i += 4) {
		uint32_t v = (uint32_t)b64_value(s[i]) << 18 | (uint32_t)b64_value(s[i + 1]) << 12;
		if (s[i + 2] != '=')
			v |= (uint32_t)b64_value(s[i + 2]) << 6;
		if (s[i + 3] != '=')
			v |= (uint32_t)b64_value(s[i + 3]);
		for (int k = 0; k < 3 && o < len; k++)
			out[o++] = (uint8_t)(v >> (16 - 8 * k));
	}
}

mla_err mla_b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	long long len = s != NULL ? b64_check(s, n) : -1;

	if (len < 0)
		return MLA_ERR_BASE64;
	if ((unsigned long long)len > max)
		return MLA_ERR_TOO_LARGE;
	if (outlen == NULL && (size_t)len != max)
		return MLA_ERR_BASE64; /* a fixed-size value of another size */
	b64_decode_checked(s, (size_t)len, out);
	if (outlen != NULL)
		*outlen = (size_t)len;
	return MLA_OK;
}

mla_err mla_b64_decode_buf(const char *s, size_t n, mla_buf *b)
{
	long long len = s != NULL ? b64_check(s, n) : -1;
	mla_err r;

	if (len < 0)
		return MLA_ERR_BASE64;
	if (len == 0)
		return MLA_OK; /* b->data may still be NULL */
	if ((r = mla_buf_reserve(b, (size_t)len)) != MLA_OK)
		return r;
	b64_decode_checked(s, (size_t)len, b->data + b->len);
	b->len += (size_t)len;
	return MLA_OK;
}

/* ---- hex ---- */

mla_err mla_hex_encode(const uint8_t *in, size_t n, char *out, size_t size)
{
	if (size == 0)
		return MLA_ERR_TOO_LARGE;
	out[0] = '\0';
	if (n > (SIZE_MAX - 1) / 2 || 2 * n + 1 > size)
		return MLA_ERR_TOO_LARGE;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digits[in[i] >> 4];
		out[2 * i + 1] = hex_digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return MLA_OK;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static mla_err hex_decode(const char *s, size_t n, int upper_ok, uint8_t *out, size_t max,
			  size_t *outlen)
{
	if (s == NULL || n % 2 != 0)
		return MLA_ERR_ARG;
	if (n / 2 > max)
		return MLA_ERR_TOO_LARGE;
	if (outlen == NULL && n / 2 != max)
		return MLA_ERR_ARG; /* a fixed-size value of another size */
	/* one pass: out is written only up to a bad digit, and nothing is reported written */
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0 ||
		    (!upper_ok && ((s[2 * i] >= 'A' && s[2 * i] <= 'F') ||
				   (s[2 * i + 1] >= 'A' && s[2 * i + 1] <= 'F'))))
			return MLA_ERR_ARG;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (outlen != NULL)
		*outlen = n / 2;
	return MLA_OK;
}

mla_err mla_hex_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	return hex_decode(s, n, 0, out, max, outlen);
}

mla_err mla_hex_decode_anycase(const char *s, size_t n, uint8_t *out, size_t max,
			       size_t *outlen)
{
	return hex_decode(s, n, 1, out, max, outlen);
}
