/* Text rules shared by the signed-note code (checkpoint.c) and the witness protocol
 * (witness.c): strict base64 and canonical decimal sizes. */
#ifndef MLAGW_NOTE_INTERNAL_H
#define MLAGW_NOTE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Canonical standard base64 of at most max bytes into out; 0 when invalid. */
int mla_note_b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen);
/* ASCII decimal without leading zeros, at most 2^64 - 1; 0 when invalid. */
int mla_note_parse_size(const char *s, size_t n, uint64_t *out);

#endif
