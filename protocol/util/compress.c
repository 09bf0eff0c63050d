/* Payload compression with zlib (see compress.h). */
#include <limits.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"

#define GZIP_WINDOW (15 + 16) /* zlib's way of asking for a gzip wrapper */
#define CHUNK ((size_t)64 << 10)
#define RATIO_GRACE ((size_t)1 << 20)

mla_err compress_gzip(const uint8_t *in, size_t len, mla_buf *out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	z_stream zs;
	int zr;

	memset(&zs, 0, sizeof(zs));
	if (len > UINT_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "document of %zu bytes is too large", len);
	if (deflateInit2(&zs, 6, Z_DEFLATED, GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return mla_fail(diag, MLA_ERR_NOMEM, "deflateInit2 failed");
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	if ((r = mla_buf_reserve(out, (size_t)deflateBound(&zs, (uLong)len))) != MLA_OK) {
		mla_fail(diag, r, "compressed document exceeds the envelope size limit");
		goto out;
	}
	zs.next_out = out->data + out->len;
	zs.avail_out = (uInt)(out->cap - out->len - 1);
	zr = deflate(&zs, Z_FINISH);
	if (zr != Z_STREAM_END) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "deflate failed (%d)", zr);
		goto out;
	}
	out->len += zs.total_out;
	r = MLA_OK;
out:
	deflateEnd(&zs);
	return r;
}

static mla_err check_growth(const z_stream *zs, size_t produced, size_t in_len,
			    const mla_limits *limits, mla_diag *diag)
{
	if (produced > limits->max_document_bytes)
		return mla_fail(diag, MLA_ERR_ZIP_BOMB,
				"payload inflates beyond the document limit of %zu bytes",
				limits->max_document_bytes);
	if (produced > RATIO_GRACE && zs->total_in > 0 &&
	    produced / zs->total_in > limits->max_ratio)
		return mla_fail(diag, MLA_ERR_ZIP_BOMB,
				"payload expands more than %u:1 (%zu bytes from %lu of %zu)",
				limits->max_ratio, produced, (unsigned long)zs->total_in, in_len);
	return MLA_OK;
}

static mla_err inflate_loop(z_stream *zs, size_t len, const mla_limits *limits, mla_buf *out,
			    mla_diag *diag)
{
	mla_err r;
	size_t start = out->len, room;
	int zr = Z_OK;

	while (zr != Z_STREAM_END) {
		room = limits->max_document_bytes + 1 - (out->len - start);
		if (room > CHUNK)
			room = CHUNK;
		if ((r = mla_buf_reserve(out, room)) != MLA_OK)
			return mla_fail(diag, MLA_ERR_ZIP_BOMB,
					"payload inflates beyond the buffer limit");
		zs->next_out = out->data + out->len;
		zs->avail_out = (uInt)room;
		zr = inflate(zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END)
			return mla_fail(diag, MLA_ERR_INFLATE, "payload is not valid gzip data (%s)",
					zs->msg != NULL ? zs->msg : "truncated");
		out->len += room - zs->avail_out;
		if ((r = check_growth(zs, out->len - start, len, limits, diag)) != MLA_OK)
			return r;
		if (zr == Z_OK && zs->avail_in == 0 && zs->avail_out != 0)
			return mla_fail(diag, MLA_ERR_INFLATE, "payload gzip data is truncated");
	}
	if (zs->avail_in != 0)
		return mla_fail(diag, MLA_ERR_INFLATE, "payload has %u bytes after the gzip data",
				zs->avail_in);
	return MLA_OK;
}

mla_err compress_gunzip(const uint8_t *in, size_t len, const mla_limits *limits, mla_buf *out,
			mla_diag *diag)
{
	mla_err r;
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	if (len > UINT_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "payload of %zu bytes is too large", len);
	if (inflateInit2(&zs, GZIP_WINDOW) != Z_OK)
		return mla_fail(diag, MLA_ERR_NOMEM, "inflateInit2 failed");
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	r = inflate_loop(&zs, len, limits, out, diag);
	inflateEnd(&zs);
	return r;
}
