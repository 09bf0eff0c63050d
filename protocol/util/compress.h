/* gzip (RFC 1952) compression of payloads, and bounded decompression that refuses
 * zip bombs by absolute size and by expansion ratio. */
#ifndef MLAGW_COMPRESS_H
#define MLAGW_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/limits.h"

/* Appends the gzip form of in to out (bounded by out's maximum). */
mla_err compress_gzip(const uint8_t *in, size_t len, mla_buf *out, mla_diag *diag);
/* Appends the inflated form of in to out; refuses output beyond limits->max_document_bytes,
 * or beyond limits->max_ratio times the input once past 1 MiB, and trailing garbage. */
mla_err compress_gunzip(const uint8_t *in, size_t len, const mla_limits *limits, mla_buf *out,
			mla_diag *diag);

#endif
