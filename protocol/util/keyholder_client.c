/* The asking side of the keyholder (see keyholder_client.h): a fixed set of channels, each
 * used by one thread at a time for one request and its answer. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keyholder_client.h"
#include "keyholder_wire.h"
#include "mlagw/keyholder.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int fds[MLA_KEYHOLDER_MAX_CHANNELS];
	int busy[MLA_KEYHOLDER_MAX_CHANNELS];
	/* each channel's answer buffer, kept from call to call (wiped after each answer): an
	 * allocation less per private-key operation */
	mla_buf answer[MLA_KEYHOLDER_MAX_CHANNELS];
	size_t n;
	atomic_int attached, failed;
} khc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, {0}, {{0}}, 0, 0, 0};

int kh_client_attached(void)
{
	return atomic_load(&khc.attached);
}

int mla_keyholder_failed(void)
{
	return atomic_load(&khc.failed);
}

mla_err mla_keyholder_attach(const int *fds, size_t n, mla_diag *diag)
{
	if (n == 0 || n > MLA_KEYHOLDER_MAX_CHANNELS || kh_client_attached())
		return mla_fail(diag, MLA_ERR_ARG, "keyholder: %zu channels (1 to %d, once)", n,
				MLA_KEYHOLDER_MAX_CHANNELS);
	pthread_mutex_lock(&khc.lock);
	memcpy(khc.fds, fds, n * sizeof(fds[0]));
	for (size_t i = 0; i < n; i++)
		mla_buf_init_secret(&khc.answer[i], KH_MSG_MAX);
	(void)kh_channel_cpu(0); /* the CPU set read now, as the keyholder read it at its fork */
	khc.n = n;
	pthread_mutex_unlock(&khc.lock);
	atomic_store(&khc.attached, 1);
	return MLA_OK;
}

void mla_keyholder_detach(void)
{
	pthread_mutex_lock(&khc.lock);
	for (size_t i = 0; i < khc.n; i++) {
		(void)close(khc.fds[i]);
		if (!khc.busy[i]) /* a call under way keeps its buffer: it fails, unread */
			mla_buf_free(&khc.answer[i]); /* wiped */
	}
	khc.n = 0;
	pthread_mutex_unlock(&khc.lock);
	atomic_store(&khc.failed, 1); /* nothing to ask any more */
}

/* A free channel, one whose keyholder thread runs on this thread's CPU when one is free
 * (keyholder_cpu.c: a wake-up on the same CPU costs a fifth of one across). */
static size_t take_channel(void)
{
	int cpu = kh_current_cpu();
	size_t i, any;

	pthread_mutex_lock(&khc.lock);
	for (;;) {
		any = khc.n;
		for (i = 0; i < khc.n; i++) {
			if (khc.busy[i])
				continue;
			if (cpu < 0 || kh_channel_cpu(i) == cpu)
				break;
			if (any == khc.n)
				any = i;
		}
		if (i == khc.n)
			i = any;
		if (i < khc.n)
			break;
		pthread_cond_wait(&khc.freed, &khc.lock);
	}
	khc.busy[i] = 1;
	pthread_mutex_unlock(&khc.lock);
	return i;
}

static void give_channel(size_t i)
{
	pthread_mutex_lock(&khc.lock);
	khc.busy[i] = 0;
	pthread_cond_signal(&khc.freed);
	pthread_mutex_unlock(&khc.lock);
}

/* The answer in m: its result appended to out, or the refusal as an error. */
static mla_err take_answer(const mla_buf *m, mla_buf *out, mla_diag *diag)
{
	int32_t code;

	if (m->data[0] == KH_ANSWER_OK)
		return m->len == 1 ? MLA_OK : mla_buf_append(out, m->data + 1, m->len - 1);
	if (m->data[0] != KH_ANSWER_REFUSED || m->len < 5)
		return MLA_ERR_INTERNAL;
	code = -(int32_t)kh_get32(m->data + 1);
	if (code >= 0 || code < -1000)
		code = MLA_ERR_INTERNAL;
	return mla_fail(diag, (mla_err)code, "keyholder: %.*s", (int)(m->len - 5 > 200 ? 200 :
									   m->len - 5),
			(const char *)m->data + 5);
}

mla_err kh_call(uint8_t op, uint32_t id, const uint8_t *pre, size_t npre, const uint8_t *b,
		size_t nb, mla_buf *out, mla_diag *diag)
{
	uint8_t head[5 + 8];
	mla_buf *m;
	size_t ch;
	int ok, broken;
	mla_err r = MLA_ERR_INTERNAL;

	if (atomic_load(&khc.failed))
		return mla_fail(diag, MLA_ERR_INTERNAL, "the keyholder is gone");
	if (npre > 8 || 5 + npre + nb > KH_MSG_MAX)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "a request too large for the keyholder");
	head[0] = op;
	kh_put32(head + 1, id);
	if (npre > 0)
		memcpy(head + 5, pre, npre);
	ch = take_channel();
	m = &khc.answer[ch];
	ok = kh_send(khc.fds[ch], head, 5 + npre, b, nb) == 0 && kh_read_msg(khc.fds[ch], m) == 0 &&
	     m->len > 0;
	/* an answer outside the protocol, or none: the keyholder is taken for gone */
	broken = !ok || ((r = take_answer(m, out, diag)) == MLA_ERR_INTERNAL &&
			 m->data[0] != KH_ANSWER_REFUSED);
	if (m->data != NULL)
		OPENSSL_cleanse(m->data, m->len);
	m->len = 0;
	give_channel(ch);
	if (broken)
		atomic_store(&khc.failed, 1);
	if (!ok)
		return mla_fail(diag, MLA_ERR_INTERNAL, "the keyholder is gone");
	return r;
}
