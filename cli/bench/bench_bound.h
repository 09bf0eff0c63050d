/* The reference bound of `mlagw bench envelope` and `mlagw bench gateway`: per-operation times
 * of the bare OpenSSL primitives a seal, an open or a receipt cannot avoid (signature, key
 * transport, bulk AES-GCM and SHA-256), measured on the keys in use, plus the timing loop and
 * the small helpers the benchmarks share (test document, CPU name, key names, clean-up). */
#ifndef MLAGW_CLI_BENCH_BOUND_H
#define MLAGW_CLI_BENCH_BOUND_H

#include <stddef.h>
#include <stdint.h>

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
/* Seconds of bare crypto in one gateway exchange of a document: the sender's seal (sign + RSA
 * encrypt + AES-GCM + SHA-256), the receiver's open (verify + RSA decrypt + AES-GCM + SHA-256)
 * and receipt signature (sign), and the sender's receipt verification (verify). */
double bench_bound_exchange(const struct bench_fixed *f, const struct bench_bulk *b);

/* How many times one core's rate of the exchange's private-key work (RSA decrypt + ECDSA
 * sign) the machine reaches with threads running it at once: 2.0 on two real cores, nearer
 * 1.0 on two hyperthreads of one core. The multi-core bound is scale / t_exchange. */
mla_err bench_parallel_scale(EVP_PKEY *ec, EVP_PKEY *rsa, unsigned threads, double seconds,
			     double *scale, mla_diag *diag);

/* --- helpers shared by the benchmarks --- */
/* Deterministic XML-like text of len bytes, the same for every run (NULL: out of memory). */
uint8_t *bench_document(size_t len);
/* The "model name" line of /proc/cpuinfo, or "unknown". */
void bench_cpu_model(char *out, size_t n);
/* "ECDSA P-256" and "RSA-3072": the names of the signing and the key-transport key. */
void bench_key_names(EVP_PKEY *ec, EVP_PKEY *rsa, char *sign, size_t sn, char *trans,
		     size_t tn);
/* The key object of a key file (through mla_privkey_load), for the bare-OpenSSL bound only:
 * the caller owns *out (EVP_PKEY_free). */
mla_err bench_load_key(const char *path, EVP_PKEY **out, mla_diag *diag);
/* Removes dir and everything under it (not following links); 0 on success. */
int bench_remove_tree(const char *dir);

#endif
