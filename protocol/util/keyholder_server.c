/* The keyholder's side (include/mlagw/keyholder.h): a thread per channel reads a request,
 * performs the one private-key operation it names with a key this process loaded itself
 * (when the configuration, as this process reads it, names the file), and answers. Anything
 * outside the protocol ends the process: only a compromised or broken peer sends it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keyholder_wire.h"
#include "mlagw/keyholder.h"
#include "mlagw/privkey.h"

#define KH_MAX_KEYS 64
#define KH_SIG_MAX 2048 /* an RSA-16384 signature */

/* A key's id: its slot + 1 in the low byte, the slot's generation above, so an id of a key
 * forgotten never names the key that took its slot. */
#define KH_ID(slot, gen) ((uint32_t)(gen) << 8 | (uint32_t)((slot) + 1))

static struct {
	pthread_mutex_t lock;
	mla_privkey *keys[KH_MAX_KEYS]; /* NULL: free */
	uint32_t gen[KH_MAX_KEYS];      /* bumped each time the slot is given */
	mla_keyholder_allow allow;
	void *arg;
} kh = {PTHREAD_MUTEX_INITIALIZER, {NULL}, {0}, NULL, NULL};

static void die(const char *why)
{
	fprintf(stderr, "mlagw keyholder: %s: ending\n", why);
	_exit(3);
}

/* The key of id, or the end of the process: an id never given out is outside the protocol. */
static mla_privkey *key_of(uint32_t id)
{
	mla_privkey *k = NULL;

	uint32_t slot = (id & 0xff) - 1;

	pthread_mutex_lock(&kh.lock);
	if ((id & 0xff) >= 1 && slot < KH_MAX_KEYS && KH_ID(slot, kh.gen[slot]) == id)
		k = kh.keys[slot];
	pthread_mutex_unlock(&kh.lock);
	if (k == NULL)
		die("a request names a key it was not given");
	return k;
}

static int answer_ok(int fd, const uint8_t *b, size_t n)
{
	uint8_t st = KH_ANSWER_OK;

	return kh_send(fd, &st, 1, b, n);
}

static int answer_refused(int fd, mla_err e, const char *msg)
{
	uint8_t head[5];

	head[0] = KH_ANSWER_REFUSED;
	kh_put32(head + 1, (uint32_t)(-(int32_t)e));
	return kh_send(fd, head, sizeof(head), (const uint8_t *)msg, strlen(msg));
}

static int op_load(int fd, const uint8_t *b, size_t n)
{
	char path[KH_PATH_MAX];
	unsigned char *der = NULL;
	mla_privkey *k = NULL;
	mla_diag d = {MLA_OK, ""};
	uint8_t *out;
	int len, r, slot = -1;
	uint32_t id = 0;

	if (n == 0 || n >= sizeof(path) || memchr(b, '\0', n) != NULL)
		die("a key path of the wrong shape");
	memcpy(path, b, n);
	path[n] = '\0';
	if (kh.allow == NULL || !kh.allow(path, kh.arg))
		return answer_refused(fd, MLA_ERR_KEY_FILE, "the configuration names no such key file");
	if (mla_privkey_load(path, &k, &d) != MLA_OK)
		return answer_refused(fd, d.code != MLA_OK ? d.code : MLA_ERR_KEY_FILE, d.msg);
	pthread_mutex_lock(&kh.lock);
	for (int i = 0; i < KH_MAX_KEYS && slot < 0; i++)
		if (kh.keys[i] == NULL) {
			kh.keys[(slot = i)] = k;
			kh.gen[i] = (kh.gen[i] + 1) & 0xffffff;
			id = KH_ID(i, kh.gen[i]);
		}
	pthread_mutex_unlock(&kh.lock);
	if (slot < 0) {
		mla_privkey_free(k);
		return answer_refused(fd, MLA_ERR_TOO_LARGE, "the keyholder holds too many keys");
	}
	if ((len = i2d_PUBKEY(mla_privkey_public(k), &der)) <= 0 ||
	    (out = malloc((size_t)len + 4)) == NULL) {
		OPENSSL_free(der);
		return answer_refused(fd, MLA_ERR_INTERNAL, "cannot encode the public key");
	}
	kh_put32(out, id);
	memcpy(out + 4, der, (size_t)len);
	r = answer_ok(fd, out, (size_t)len + 4);
	OPENSSL_free(der);
	free(out);
	return r;
}

static int op_free(int fd, uint32_t id)
{
	mla_privkey *k = key_of(id);

	pthread_mutex_lock(&kh.lock);
	kh.keys[(id & 0xff) - 1] = NULL;
	pthread_mutex_unlock(&kh.lock);
	mla_privkey_free(k);
	return answer_ok(fd, (const uint8_t *)"", 0);
}

/* EVP_PKEY_sign or _decrypt of in with padding pad (-1: the key's default), no digest. */
static int raw_op(int fd, mla_privkey *k, int decrypt, int pad, const uint8_t *in, size_t n)
{
	EVP_PKEY *key = mla_privkey_evp(k);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	uint8_t out[KH_SIG_MAX];
	size_t len = sizeof(out);
	int ok, r;

	ok = ctx != NULL && (decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_sign_init(ctx)) == 1 &&
	     (pad < 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, pad) == 1) &&
	     (decrypt ? EVP_PKEY_decrypt(ctx, out, &len, in, n)
		      : EVP_PKEY_sign(ctx, out, &len, in, n)) == 1;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	/* one answer for every failure of a decryption, whatever its cause */
	r = ok ? answer_ok(fd, out, len)
	       : answer_refused(fd, decrypt ? MLA_ERR_DECRYPT : MLA_ERR_INTERNAL,
				decrypt ? "does not decrypt" : "the private-key operation failed");
	OPENSSL_cleanse(out, sizeof(out));
	return r;
}

static int rsa_op(int fd, mla_privkey *k, int decrypt, const uint8_t *b, size_t n)
{
	uint32_t pad;

	if (n < 5)
		die("an RSA request without its padding and block");
	pad = kh_get32(b);
	if (pad != RSA_PKCS1_PADDING && pad != RSA_NO_PADDING)
		die("an RSA request with a padding outside the protocol");
	if (!EVP_PKEY_is_a(mla_privkey_public(k), "RSA"))
		return answer_refused(fd, MLA_ERR_ARG, "not an RSA key");
	return raw_op(fd, k, decrypt, (int)pad, b + 4, n - 4);
}

static int op_sign(int fd, mla_privkey *k, const uint8_t *b, size_t n)
{
	uint8_t sig[KH_SIG_MAX];
	size_t len = sizeof(sig);
	mla_diag d = {MLA_OK, ""};

	if (mla_privkey_sign(k, b, n, sig, &len, &d) != MLA_OK)
		return answer_refused(fd, MLA_ERR_INTERNAL, d.msg);
	return answer_ok(fd, sig, len);
}

static int op_unwrap(int fd, mla_privkey *k, const uint8_t *b, size_t n)
{
	mla_buf cek;
	int r;

	mla_buf_init_secret(&cek, KH_SIG_MAX);
	r = mla_privkey_unwrap_oaep(k, b, n, &cek, NULL) == MLA_OK
		    ? answer_ok(fd, cek.data, cek.len)
		    : answer_refused(fd, MLA_ERR_DECRYPT, "does not decrypt");
	mla_buf_free(&cek);
	return r;
}

/* One request: its answer sent (0), or the channel broken (-1). */
static int serve_one(int fd, const mla_buf *m)
{
	const uint8_t *b = m->data + 5;
	size_t n = m->len - 5;
	uint32_t id;

	if (m->len < 5)
		die("a request shorter than its head");
	id = kh_get32(m->data + 1);
	switch (m->data[0]) {
	case KH_LOAD:
		return op_load(fd, b, n);
	case KH_FREE:
		return op_free(fd, id);
	case KH_SIGN:
		return op_sign(fd, key_of(id), b, n);
	case KH_SIGN_DIGEST:
		if (n == 0 || n > 64 || !EVP_PKEY_is_a(mla_privkey_public(key_of(id)), "EC"))
			die("a digest to sign of the wrong size or for a key not EC");
		return raw_op(fd, key_of(id), 0, -1, b, n);
	case KH_RSA_SIGN:
	case KH_RSA_DECRYPT:
		return rsa_op(fd, key_of(id), m->data[0] == KH_RSA_DECRYPT, b, n);
	case KH_UNWRAP:
		return op_unwrap(fd, key_of(id), b, n);
	default:
		die("an unknown request");
	}
	return -1;
}

/* A channel: its socket and its place in the daemon's list, which names its CPU. */
struct channel {
	int fd;
	size_t index;
};

static void *serve_channel(void *arg)
{
	const struct channel *c = arg;
	int fd = c->fd, r;
	mla_buf m;

	kh_pin_to_channel_cpu(c->index);
	mla_buf_init_secret(&m, KH_MSG_MAX);
	while ((r = kh_read_msg(fd, &m)) == 0)
		if (serve_one(fd, &m) != 0)
			break;
	if (r < 0)
		die("a request broken or too long");
	mla_buf_free(&m);
	(void)close(fd);
	return NULL;
}

void mla_keyholder_serve(const int *fds, size_t n, mla_keyholder_allow allow, void *arg)
{
	pthread_t t[MLA_KEYHOLDER_MAX_CHANNELS];
	struct channel ch[MLA_KEYHOLDER_MAX_CHANNELS];
	size_t started = 0;

	kh.allow = allow;
	kh.arg = arg;
	for (size_t i = 0; i < n && i < MLA_KEYHOLDER_MAX_CHANNELS; i++) {
		ch[i] = (struct channel){fds[i], i};
		if (pthread_create(&t[started], NULL, serve_channel, &ch[i]) == 0)
			started++;
		else
			die("cannot start a thread");
	}
	for (size_t i = 0; i < started; i++)
		(void)pthread_join(t[i], NULL);
	for (int i = 0; i < KH_MAX_KEYS; i++)
		mla_privkey_free(kh.keys[i]);
}
