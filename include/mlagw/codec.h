/* The one codec layer (protocol/util/codec*.c): text forms of times, numbers and binary data
 * shared by every format and every front end, each strict and canonical in both directions,
 * and the bounded string copies that report truncation instead of hiding it. */
#ifndef MLAGW_CODEC_H
#define MLAGW_CODEC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mlagw/buf.h"

/* ---- UTC times (xs:dateTime, "Z" only) ---- */

#define MLA_TIME_LEN 21    /* "2026-11-27T20:00:00Z" and its NUL */
#define MLA_TIME_MS_LEN 25 /* "2026-11-27T20:47:47.123Z" and its NUL */
/* The last millisecond of 9999-12-31: four-digit years only. */
#define MLA_TIME_MS_MAX INT64_C(253402300799999)

/* Formats t as xs:dateTime in UTC with seconds precision ("2026-11-27T20:00:00Z"); an empty
 * string when t cannot be represented (before 1970 or after 9999). */
void mla_time_format(time_t t, char out[MLA_TIME_LEN]);
/* Parses exactly that form and nothing else: -1 on any other text, including impossible
 * dates such as 2026-02-31 or 2026-13-45, 24:00:00 and leap seconds (the parse must
 * round-trip through mla_time_format). */
time_t mla_time_parse(const char *s);
/* Milliseconds since the epoch as "YYYY-MM-DDThh:mm:ss.mmmZ" (SPEC section 14); an empty
 * string outside 0 .. MLA_TIME_MS_MAX. */
void mla_time_ms_format(int64_t ms, char out[MLA_TIME_MS_LEN]);
/* Parses exactly the n bytes at s in that form (round-trip checked); MLA_ERR_ARG otherwise. */
mla_err mla_time_ms_parse(const char *s, size_t n, int64_t *ms);

/* ---- decimal numbers ---- */

/* s is ASCII decimal digits only: no sign, no spaces, no leading zeros ("0" alone for zero),
 * min <= value <= max. MLA_ERR_ARG for any other text or a value below min, MLA_ERR_TOO_LARGE
 * above max (including overflow). *out is written only on success. */
MLA_MUST_CHECK mla_err mla_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The same for the n bytes at s (which need not be NUL-terminated). */
MLA_MUST_CHECK mla_err mla_parse_u64n(const char *s, size_t n, uint64_t min, uint64_t max,
				      uint64_t *out);
/* The same with an optional '-' ("-0" refused): MLA_ERR_TOO_LARGE outside min .. max. */
MLA_MUST_CHECK mla_err mla_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* ---- base64: RFC 4648 section 4, standard alphabet, padded ---- */

/* Characters of the base64 of n bytes, without the NUL. */
#define MLA_B64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the base64 of in[0..n) and a NUL into out (size bytes); MLA_ERR_TOO_LARGE (out
 * empty) when it does not fit. */
MLA_MUST_CHECK mla_err mla_b64_encode(const uint8_t *in, size_t n, char *out, size_t size);
/* Appends the base64 of in[0..n) to b (no NUL). */
MLA_MUST_CHECK mla_err mla_b64_encode_buf(const uint8_t *in, size_t n, mla_buf *b);
/* Decodes the n characters at s, which must be canonical: a multiple of 4 characters of the
 * alphabet, '=' only as the last one or two, zero pad bits; no whitespace. The empty string is
 * zero bytes. MLA_ERR_BASE64 on any other text; MLA_ERR_TOO_LARGE when the bytes exceed max.
 * With outlen NULL the bytes must be exactly max (a fixed-size value such as a digest). */
MLA_MUST_CHECK mla_err mla_b64_decode(const char *s, size_t n, uint8_t *out, size_t max,
				      size_t *outlen);
/* Like mla_b64_decode, appending the bytes to b (bounded by b's maximum). */
MLA_MUST_CHECK mla_err mla_b64_decode_buf(const char *s, size_t n, mla_buf *b);

/* ---- hex: lower case both ways ---- */

/* Writes the lower-case hex of in[0..n) and a NUL into out (size bytes); MLA_ERR_TOO_LARGE
 * (out empty) when it does not fit. */
MLA_MUST_CHECK mla_err mla_hex_encode(const uint8_t *in, size_t n, char *out, size_t size);
/* Decodes the n characters at s. Upper case is refused: the formats of this project write
 * and require lower case (SPEC sections 3 and 14, sha256sum's output, token hashes), so one
 * spelling per value. MLA_ERR_ARG for odd length or a character outside 0-9a-f,
 * MLA_ERR_TOO_LARGE beyond max bytes; with outlen NULL exactly max bytes are required. */
MLA_MUST_CHECK mla_err mla_hex_decode(const char *s, size_t n, uint8_t *out, size_t max,
				      size_t *outlen);
/* The same accepting A-F too, only for foreign formats that allow either case (C2SP vkey key
 * IDs, which Go's note package reads in either case). */
MLA_MUST_CHECK mla_err mla_hex_decode_anycase(const char *s, size_t n, uint8_t *out,
					      size_t max, size_t *outlen);

/* ---- bounded strings ---- */

/* Copies src into dst (n bytes); MLA_ERR_TOO_LARGE, with dst empty, when it does not fit. */
MLA_MUST_CHECK mla_err mla_strcpy(char *dst, size_t n, const char *src);
/* snprintf that fails: MLA_ERR_TOO_LARGE, with dst empty, on truncation; MLA_ERR_INTERNAL on
 * an encoding error. A half-written value is never left behind to be used. */
MLA_MUST_CHECK mla_err mla_snprintf(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
MLA_MUST_CHECK mla_err mla_vsnprintf(char *dst, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* For text where a cut is acceptable (log lines, diagnostics): formats like vsnprintf, and
 * when the text does not fit cuts it on a UTF-8 character boundary and ends it with
 * MLA_CUT_MARK so a reader sees that something is missing. Returns 1 when it cut. */
#define MLA_CUT_MARK "[...]"
int mla_vsnprintf_cut(char *dst, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int mla_snprintf_cut(char *dst, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
