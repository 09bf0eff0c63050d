/* The keyholder's messages (docs/internals/keys.md): each a 4-byte big-endian length of what
 * follows, then for a request the operation (1 byte), the key id (4 bytes) and the operation's
 * bytes; for an answer a status (1 byte: 0 done, 1 refused) and the result, or for a refusal
 * the error (4 bytes, the negated mla_err) and a message. One request, one answer, in order,
 * on each channel. */
#ifndef MLAGW_KEYHOLDER_WIRE_H
#define MLAGW_KEYHOLDER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"

/* The largest message after its length: a checkpoint note to sign, a path, an RSA block. */
#define KH_MSG_MAX (64 * 1024)
#define KH_PATH_MAX 4096

enum kh_op {
	KH_LOAD = 1,        /* bytes: a key file's path; answer: key id (4) + SubjectPublicKeyInfo */
	KH_FREE = 2,        /* the key is no longer used */
	KH_SIGN = 3,        /* bytes: a message; answer: mla_privkey_sign's signature */
	KH_SIGN_DIGEST = 4, /* bytes: a digest; answer: the DER ECDSA signature of it (EC keys) */
	KH_RSA_SIGN = 5,    /* bytes: padding (4) + block; answer: the raw private operation
			     * (RSA_private_encrypt: PKCS#1 type 1 or no padding) */
	KH_RSA_DECRYPT = 6, /* bytes: padding (4) + block; answer: RSA_private_decrypt's result */
	KH_UNWRAP = 7       /* bytes: an RSA-OAEP wrapped content key; answer: the key */
};

#define KH_ANSWER_OK 0
#define KH_ANSWER_REFUSED 1

/* Reads one message (its length first) into out, at most KH_MSG_MAX bytes after the length.
 * 0 when read, 1 at a clean end of the channel before a message, -1 otherwise (short read,
 * too long). */
int kh_read_msg(int fd, mla_buf *out);
/* Sends one message of the parts a (na bytes) and b (nb bytes), its length first. */
int kh_send(int fd, const uint8_t *a, size_t na, const uint8_t *b, size_t nb);

/* The CPU channel's keyholder thread is kept on, or -1 (one CPU, or the set unknown): the
 * same answer in the daemon and in its keyholder (keyholder_cpu.c). */
int kh_channel_cpu(size_t channel);
/* Keeps the calling thread on channel's CPU (the keyholder's thread serving it). */
void kh_pin_to_channel_cpu(size_t channel);
/* The CPU the calling thread runs on now, or -1. */
int kh_current_cpu(void);

void kh_put32(uint8_t *p, uint32_t v);
uint32_t kh_get32(const uint8_t *p);

#endif
