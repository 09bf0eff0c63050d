/* mla_buf: the one growable byte buffer, bounded by a maximum fixed at creation.
 * Appends past the maximum fail with MLA_ERR_TOO_LARGE and leave the buffer unchanged. */
#ifndef MLAGW_BUF_H
#define MLAGW_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

#define MLA_MUST_CHECK __attribute__((warn_unused_result))

typedef struct mla_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
	int secret; /* wipe on growth and free */
} mla_buf;

/* Initialises an empty buffer that may grow to max bytes. */
/* Room for element n of an array of *cap elements of elem bytes: arr itself when it has it,
 * else arr reallocated to twice its capacity (16 at first; *cap updated); NULL when that
 * overflows or allocation fails (arr is then untouched and still the caller's). */
MLA_MUST_CHECK void *mla_grow(void *arr, size_t *cap, size_t n, size_t elem);
void mla_buf_init(mla_buf *b, size_t max);
/* Like mla_buf_init, but the contents are wiped whenever memory is released. */
void mla_buf_init_secret(mla_buf *b, size_t max);
MLA_MUST_CHECK mla_err mla_buf_reserve(mla_buf *b, size_t extra);
MLA_MUST_CHECK mla_err mla_buf_append(mla_buf *b, const void *p, size_t n);
MLA_MUST_CHECK mla_err mla_buf_append_str(mla_buf *b, const char *s);
MLA_MUST_CHECK mla_err mla_buf_printf(mla_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends a NUL that is not counted in len, so data can be used as a C string. */
MLA_MUST_CHECK mla_err mla_buf_terminate(mla_buf *b);
/* Gives the memory to the caller (free() it) and resets the buffer. */
uint8_t *mla_buf_detach(mla_buf *b, size_t *len);
void mla_buf_reset(mla_buf *b);
void mla_buf_free(mla_buf *b);

#endif
