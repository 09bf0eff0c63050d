/* The SHA-256 of an attachment's file, computed on a thread of its own beside the sealer
 * (submit_attach.c): while the sealing worker reads the next segment, encrypts this one,
 * hashes its ciphertext and writes it, this thread hashes the same plaintext, which both only
 * read. Sealing then costs about the longer of the two instead of their sum. */
#ifndef MLAGW_GATEWAY_SEAL_HASH_H
#define MLAGW_GATEWAY_SEAL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

struct seal_hash;

/* Starts the thread with a fresh SHA-256. */
mla_err seal_hash_start(struct seal_hash **out, mla_diag *diag);
/* Waits until the piece added before is hashed, then hashes p[0..n) on the thread; p must
 * stay unchanged until the next seal_hash_add, seal_hash_wait or seal_hash_finish. */
void seal_hash_add(struct seal_hash *h, const uint8_t *p, size_t n);
/* Waits until what was added is hashed (then its buffer may change). */
void seal_hash_wait(struct seal_hash *h);
/* Waits, stops the thread and gives the digest (MLA_ERR_INTERNAL if a hash step failed). */
mla_err seal_hash_finish(struct seal_hash *h, uint8_t digest[32], mla_diag *diag);
/* Stops the thread (if running) and frees h; NULL is fine. */
void seal_hash_free(struct seal_hash *h);

#endif
