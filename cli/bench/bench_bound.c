/* The bare-OpenSSL bound of the benchmarks (see bench_bound.h): each primitive is set up once
 * (contexts, fetched algorithms, inputs) so that only the operation itself is timed; and the
 * helpers the benchmarks share. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "mlagw/codec.h"
#include "bench_bound.h"
#include "mlagw/privkey.h"

#define SIG_INPUT 64 /* bytes hashed before each ECDSA sign/verify */
#define CEK_LEN 32   /* the AES-256 content key that RSA-OAEP transports */
#define RSA_MAX 2048 /* bytes of the largest RSA modulus accepted (16384 bits) */

static double now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

mla_err bench_run(bench_fn fn, void *arg, double seconds, double *per_op, mla_diag *diag)
{
	mla_err r;
	unsigned long n = 0;
	double start, elapsed;

	if ((r = fn(arg, diag)) != MLA_OK)
		return r;
	start = now();
	do {
		if ((r = fn(arg, diag)) != MLA_OK)
			return r;
		n++;
		elapsed = now() - start;
	} while (elapsed < seconds);
	*per_op = elapsed / (double)n;
	return MLA_OK;
}

static mla_err ossl_fail(mla_diag *diag, const char *what)
{
	char err[160];

	ERR_error_string_n(ERR_get_error(), err, sizeof(err));
	ERR_clear_error();
	return mla_fail(diag, MLA_ERR_INTERNAL, "bench: %s failed: %s", what, err);
}

/* State of the size-independent operations; every buffer is set up before timing. */
struct pk_ops {
	EVP_MD *sha256;
	EVP_PKEY_CTX *sign, *verify, *enc, *dec;
	unsigned char input[SIG_INPUT], digest[32], cek[CEK_LEN];
	unsigned char sig[256], ct[RSA_MAX], out[RSA_MAX];
	size_t sig_len, ct_len;
};

static mla_err op_sign(void *arg, mla_diag *diag)
{
	struct pk_ops *p = arg;
	unsigned char sig[256];
	size_t len = sizeof(sig);

	if (EVP_Digest(p->input, sizeof(p->input), p->digest, NULL, p->sha256, NULL) != 1 ||
	    EVP_PKEY_sign(p->sign, sig, &len, p->digest, sizeof(p->digest)) != 1)
		return ossl_fail(diag, "ECDSA sign");
	return MLA_OK;
}

static mla_err op_verify(void *arg, mla_diag *diag)
{
	struct pk_ops *p = arg;

	if (EVP_Digest(p->input, sizeof(p->input), p->digest, NULL, p->sha256, NULL) != 1 ||
	    EVP_PKEY_verify(p->verify, p->sig, p->sig_len, p->digest, sizeof(p->digest)) != 1)
		return ossl_fail(diag, "ECDSA verify");
	return MLA_OK;
}

static mla_err op_rsa_enc(void *arg, mla_diag *diag)
{
	struct pk_ops *p = arg;
	size_t len = sizeof(p->out);

	if (EVP_PKEY_encrypt(p->enc, p->out, &len, p->cek, sizeof(p->cek)) != 1)
		return ossl_fail(diag, "RSA-OAEP encrypt");
	return MLA_OK;
}

static mla_err op_rsa_dec(void *arg, mla_diag *diag)
{
	struct pk_ops *p = arg;
	size_t len = sizeof(p->out);

	if (EVP_PKEY_decrypt(p->dec, p->out, &len, p->ct, p->ct_len) != 1 || len != CEK_LEN)
		return ossl_fail(diag, "RSA-OAEP decrypt");
	return MLA_OK;
}

/* OAEP as xmlsec 1.2 does it for rsa-oaep-mgf1p: SHA-1 digest and MGF1 with SHA-1. */
static int oaep_setup(EVP_PKEY_CTX *ctx)
{
	return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
	       EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1;
}

static mla_err pk_setup(struct pk_ops *p, EVP_PKEY *ec, EVP_PKEY *rsa, mla_diag *diag)
{
	if (EVP_PKEY_get_base_id(ec) != EVP_PKEY_EC || EVP_PKEY_get_base_id(rsa) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_size(rsa) > RSA_MAX)
		return mla_fail(diag, MLA_ERR_INTERNAL,
				"bench: need an EC key and an RSA key of at most 16384 bits");
	if ((p->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (p->sign = EVP_PKEY_CTX_new(ec, NULL)) == NULL ||
	    (p->verify = EVP_PKEY_CTX_new(ec, NULL)) == NULL ||
	    (p->enc = EVP_PKEY_CTX_new(rsa, NULL)) == NULL ||
	    (p->dec = EVP_PKEY_CTX_new(rsa, NULL)) == NULL)
		return ossl_fail(diag, "context set-up");
	if (EVP_PKEY_sign_init(p->sign) != 1 || EVP_PKEY_verify_init(p->verify) != 1 ||
	    EVP_PKEY_encrypt_init(p->enc) != 1 || EVP_PKEY_decrypt_init(p->dec) != 1 ||
	    !oaep_setup(p->enc) || !oaep_setup(p->dec))
		return ossl_fail(diag, "operation set-up");
	if (RAND_bytes(p->input, sizeof(p->input)) != 1 || RAND_bytes(p->cek, sizeof(p->cek)) != 1)
		return ossl_fail(diag, "random input");
	p->sig_len = sizeof(p->sig);
	p->ct_len = sizeof(p->ct);
	if (EVP_Digest(p->input, sizeof(p->input), p->digest, NULL, p->sha256, NULL) != 1 ||
	    EVP_PKEY_sign(p->sign, p->sig, &p->sig_len, p->digest, sizeof(p->digest)) != 1 ||
	    EVP_PKEY_encrypt(p->enc, p->ct, &p->ct_len, p->cek, sizeof(p->cek)) != 1)
		return ossl_fail(diag, "reference signature or ciphertext");
	return MLA_OK;
}

static void pk_free(struct pk_ops *p)
{
	EVP_MD_free(p->sha256);
	EVP_PKEY_CTX_free(p->sign);
	EVP_PKEY_CTX_free(p->verify);
	EVP_PKEY_CTX_free(p->enc);
	EVP_PKEY_CTX_free(p->dec);
	OPENSSL_cleanse(p, sizeof(*p));
}

mla_err bench_bound_fixed(EVP_PKEY *ec, EVP_PKEY *rsa, double seconds, struct bench_fixed *out,
			  mla_diag *diag)
{
	struct pk_ops p;
	mla_err r;

	memset(&p, 0, sizeof(p));
	if ((r = pk_setup(&p, ec, rsa, diag)) != MLA_OK ||
	    (r = bench_run(op_sign, &p, seconds, &out->sign, diag)) != MLA_OK ||
	    (r = bench_run(op_verify, &p, seconds, &out->verify, diag)) != MLA_OK ||
	    (r = bench_run(op_rsa_enc, &p, seconds, &out->rsa_enc, diag)) != MLA_OK ||
	    (r = bench_run(op_rsa_dec, &p, seconds, &out->rsa_dec, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	pk_free(&p);
	return r;
}

/* State of the bulk operations over one document size. */
struct bulk_ops {
	EVP_CIPHER *aes;
	EVP_CIPHER_CTX *cctx;
	EVP_MD *sha256;
	unsigned char key[32], iv[12], tag[16], digest[32];
	uint8_t *in, *out;
	size_t len;
};

static mla_err op_gcm(void *arg, mla_diag *diag)
{
	struct bulk_ops *b = arg;
	int n = 0, fin = 0;

	if (EVP_EncryptInit_ex2(b->cctx, b->aes, b->key, b->iv, NULL) != 1 ||
	    EVP_EncryptUpdate(b->cctx, b->out, &n, b->in, (int)b->len) != 1 ||
	    EVP_EncryptFinal_ex(b->cctx, b->out + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(b->cctx, EVP_CTRL_AEAD_GET_TAG, sizeof(b->tag), b->tag) != 1)
		return ossl_fail(diag, "AES-256-GCM encrypt");
	return MLA_OK;
}

static mla_err op_sha256(void *arg, mla_diag *diag)
{
	struct bulk_ops *b = arg;

	if (EVP_Digest(b->in, b->len, b->digest, NULL, b->sha256, NULL) != 1)
		return ossl_fail(diag, "SHA-256");
	return MLA_OK;
}

static mla_err bulk_setup(struct bulk_ops *b, size_t len, mla_diag *diag)
{
	if (len == 0 || len > INT_MAX - 32)
		return mla_fail(diag, MLA_ERR_ARG, "bench: document size %zu out of range", len);
	b->len = len;
	if ((b->in = malloc(len)) == NULL || (b->out = malloc(len + 32)) == NULL)
		return mla_fail(diag, MLA_ERR_NOMEM, "bench: cannot allocate %zu bytes", len);
	if ((b->aes = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) == NULL ||
	    (b->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (b->cctx = EVP_CIPHER_CTX_new()) == NULL)
		return ossl_fail(diag, "bulk set-up");
	if (RAND_bytes(b->key, sizeof(b->key)) != 1 || RAND_bytes(b->iv, sizeof(b->iv)) != 1 ||
	    RAND_bytes(b->in, (int)len) != 1)
		return ossl_fail(diag, "random input");
	return MLA_OK;
}

mla_err bench_bound_bulk(size_t len, double seconds, struct bench_bulk *out, mla_diag *diag)
{
	struct bulk_ops b;
	mla_err r;

	memset(&b, 0, sizeof(b));
	if ((r = bulk_setup(&b, len, diag)) != MLA_OK ||
	    (r = bench_run(op_gcm, &b, seconds, &out->gcm, diag)) != MLA_OK ||
	    (r = bench_run(op_sha256, &b, seconds, &out->sha256, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	EVP_CIPHER_free(b.aes);
	EVP_CIPHER_CTX_free(b.cctx);
	EVP_MD_free(b.sha256);
	free(b.in);
	free(b.out);
	return r;
}

void bench_bound_rates(const struct bench_fixed *f, const struct bench_bulk *b,
		       struct bench_bounds *out)
{
	double seal = f->sign + f->rsa_enc + b->gcm + b->sha256;
	double open = f->verify + f->rsa_dec + b->gcm + b->sha256;

	out->seal = 1.0 / seal;
	out->open = 1.0 / open;
	out->cycle = 1.0 / (seal + open);
}

double bench_bound_exchange(const struct bench_fixed *f, const struct bench_bulk *b)
{
	double seal = f->sign + f->rsa_enc + b->gcm + b->sha256;
	double open = f->verify + f->rsa_dec + b->gcm + b->sha256;

	return seal + open + f->sign + f->verify;
}

/* --- helpers shared by the benchmarks --- */

uint8_t *bench_document(size_t len)
{
	uint8_t *buf = malloc(len);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t off = 0;

	while (buf != NULL && off < len) {
		char line[128];
		int n;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = snprintf(line, sizeof(line),
			     "<Item id=\"%u\">evidence request bank record tracing %u</Item>\n",
			     (unsigned)(x & 0xffff), (unsigned)(x >> 20 & 0xffffff));
		for (int i = 0; i < n && off < len; i++)
			buf[off++] = (uint8_t)line[i];
	}
	return buf;
}

void bench_cpu_model(char *out, size_t n)
{
	FILE *fp = fopen("/proc/cpuinfo", "r");
	char line[256], *colon;

	(void)mla_snprintf_cut(out, n, "unknown"); /* for display */
	while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "model name", 10) != 0 || (colon = strchr(line, ':')) == NULL)
			continue;
		colon += strspn(colon + 1, " \t") + 1;
		colon[strcspn(colon, "\n")] = '\0';
		(void)mla_snprintf_cut(out, n, "%s", colon);
		break;
	}
	if (fp != NULL)
		fclose(fp);
}

void bench_key_names(EVP_PKEY *ec, EVP_PKEY *rsa, char *sign, size_t sn, char *trans,
		     size_t tn)
{
	char curve[32] = "?";

	(void)EVP_PKEY_get_utf8_string_param(ec, "group", curve, sizeof(curve), NULL);
	/* names for display */
	(void)mla_snprintf_cut(sign, sn, "ECDSA %s",
			       strcmp(curve, "prime256v1") == 0 ? "P-256" : curve);
	(void)mla_snprintf_cut(trans, tn, "RSA-%d", EVP_PKEY_get_bits(rsa));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

int bench_remove_tree(const char *dir)
{
	return nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0 ? -1 : 0;
}

/* --- how much the machine's cores add up (measured, not assumed) --- */

struct par_arg {
	EVP_PKEY *ec, *rsa;
	double seconds;
	unsigned long ops;
	int failed;
};

/* One thread: the exchange's private-key work (RSA decrypt + ECDSA sign) in a loop. */
static void *par_worker(void *arg)
{
	struct par_arg *a = arg;
	struct pk_ops p;
	mla_diag d = {MLA_OK, ""};
	double start = now();

	memset(&p, 0, sizeof(p));
	if (pk_setup(&p, a->ec, a->rsa, &d) != MLA_OK) {
		a->failed = 1;
		pk_free(&p);
		return NULL;
	}
	while (now() - start < a->seconds) {
		if (op_rsa_dec(&p, &d) != MLA_OK || op_sign(&p, &d) != MLA_OK) {
			a->failed = 1;
			break;
		}
		a->ops++;
	}
	pk_free(&p);
	return NULL;
}

static mla_err par_rate(EVP_PKEY *ec, EVP_PKEY *rsa, unsigned threads, double seconds,
			double *rate, mla_diag *diag)
{
	pthread_t tid[64];
	struct par_arg args[64];
	unsigned long total = 0;
	unsigned started = 0;

	for (unsigned i = 0; i < threads && i < 64; i++) {
		args[i] = (struct par_arg){ec, rsa, seconds, 0, 0};
		if (pthread_create(&tid[i], NULL, par_worker, &args[i]) != 0)
			break;
		started++;
	}
	for (unsigned i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		if (args[i].failed)
			return mla_fail(diag, MLA_ERR_INTERNAL, "bench: parallel crypto loop failed");
		total += args[i].ops;
	}
	if (started != threads)
		return mla_fail(diag, MLA_ERR_INTERNAL, "bench: cannot start %u threads", threads);
	*rate = (double)total / seconds;
	return MLA_OK;
}

static double median3(double a, double b, double c)
{
	return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b));
}

/* Three alternating one-thread and many-thread measurements, the median ratio: a shared VM's
 * neighbours make single measurements swing (2.23 x on 2 cores was seen), and more than one
 * core's worth per thread is impossible, so the ratio is capped at the thread count. */
mla_err bench_parallel_scale(EVP_PKEY *ec, EVP_PKEY *rsa, unsigned threads, double seconds,
			     double *scale, mla_diag *diag)
{
	double ratio[3] = {1.0, 1.0, 1.0};
	mla_err r;

	*scale = 1.0;
	if (threads <= 1)
		return MLA_OK;
	for (int i = 0; i < 3; i++) {
		double one = 0, many = 0;
		if ((r = par_rate(ec, rsa, 1, seconds / 3, &one, diag)) != MLA_OK ||
		    (r = par_rate(ec, rsa, threads, seconds / 3, &many, diag)) != MLA_OK)
			return r;
		if (one > 0)
			ratio[i] = many / one;
	}
	*scale = median3(ratio[0], ratio[1], ratio[2]);
	if (*scale > (double)threads)
		*scale = (double)threads;
	return MLA_OK;
}

mla_err bench_load_key(const char *path, EVP_PKEY **out, mla_diag *diag)
{
	mla_privkey *k = NULL;
	mla_err r;

	*out = NULL;
	if ((r = mla_privkey_load(path, &k, diag)) != MLA_OK)
		return r;
	if (EVP_PKEY_up_ref(mla_privkey_evp(k)) == 1)
		*out = mla_privkey_evp(k);
	else
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot take a reference to %s", path);
	mla_privkey_free(k);
	return r;
}
