/* The reference bound of `mlagw bench envelope`: per-operation times of the bare OpenSSL
 * primitives a seal or an open cannot avoid (signature, key transport, bulk AES-GCM and
 * SHA-256), measured on the envelope's own keys, plus the timing loop shared with the bench. */
#ifndef MLAGW_CLI_BENCH_BOUND_H
#define MLAGW_CLI_BENCH_BOUND_H

#include <stddef.h>

#include <openssl/evp.h>

#include "mlagw/error.h"

/* One benchmarked operation; anything but MLA_OK (with diag set) stops the measurement. */
typedef mla_err (*bench_fn)(void *arg, mla_diag *diag);

/* Calls fn once untimed (warm-up), then repeatedly until at least seconds of wall time have
 * passed; *per_op is the mean wall time of one call in seconds. */
mla_err bench_run(bench_fn fn, void *arg, double seconds, double *per_op, mla_diag *diag);

/* Seconds per operation of the size-independent primitives. */
struct bench_fixed {
	double sign;    /* SHA-256 of 64 bytes + ECDSA sign (the signer's key) */
	double verify;  /* SHA-256 of 64 bytes + ECDSA verify */
	double rsa_enc; /* RSA-OAEP (SHA-1, MGF1-SHA1) encrypt of a 32-byte key, public */
	double rsa_dec; /* RSA-OAEP decrypt of it, private */
};

/* Seconds per operation of the bulk primitives over one document size. */
struct bench_bulk {
	double gcm;    /* AES-256-GCM encrypt with tag */
	double sha256; /* SHA-256 */
};

/* Operations per second the bare primitives allow. */
struct bench_bounds {
	double seal;  /* 1 / (sign + rsa_enc + gcm + sha256) */
	double open;  /* 1 / (verify + rsa_dec + gcm + sha256) */
	double cycle; /* 1 / (both sums) */
};

/* ec is the signing key (EC, private), rsa the recipient's key (RSA, private). */
mla_err bench_bound_fixed(EVP_PKEY *ec, EVP_PKEY *rsa, double seconds, struct bench_fixed *out,
			  mla_diag *diag);
mla_err bench_bound_bulk(size_t len, double seconds, struct bench_bulk *out, mla_diag *diag);
void bench_bound_rates(const struct bench_fixed *f, const struct bench_bulk *b,
		       struct bench_bounds *out);

#endif
