/* The keyholder's framing (see keyholder_wire.h): bounded, length-first, whole reads. */
#include <errno.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "keyholder_wire.h"

void kh_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t kh_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 0 when all n bytes were read, 1 when the channel ended before the first, -1 otherwise. */
static int read_all(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, b + got, n - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 && got == 0)
			return 1;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

/* A message's length and, in the same read, as much of it as fits here: requests and
 * answers alternate on a channel, so what one read gives is one message's start, and a short
 * message (most of them) costs one system call, not two. */
#define KH_FIRST_READ 1024

int kh_read_msg(int fd, mla_buf *out)
{
	uint8_t first[4 + KH_FIRST_READ];
	ssize_t k;
	size_t got, have;
	uint32_t n;

	out->len = 0;
	while ((k = read(fd, first, sizeof(first))) < 0 && errno == EINTR)
		;
	if (k == 0)
		return 1;
	if (k < 0)
		return -1;
	got = (size_t)k;
	if (got < 4 && read_all(fd, first + got, 4 - got) != 0)
		return -1;
	have = got < 4 ? 0 : got - 4;
	n = kh_get32(first);
	if (n == 0 || n > KH_MSG_MAX || have > n || mla_buf_reserve(out, n) != MLA_OK)
		return -1;
	memcpy(out->data, first + 4, have);
	OPENSSL_cleanse(first, sizeof(first)); /* a key's bytes may pass here (UNWRAP's answer) */
	if (have < n && read_all(fd, out->data + have, n - have) != 0)
		return -1;
	out->len = n;
	return 0;
}

int kh_send(int fd, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	uint8_t len[4];
	struct iovec iov[3] = {{len, sizeof(len)}, {(void *)(uintptr_t)a, na},
			       {(void *)(uintptr_t)b, nb}};
	struct msghdr m = {NULL, 0, iov, 3, NULL, 0, 0};
	size_t left = sizeof(len) + na + nb;

	if (na + nb == 0 || na + nb > KH_MSG_MAX)
		return -1;
	kh_put32(len, (uint32_t)(na + nb));
	/* one system call for the whole message, as a rule: the exchange's cost is its calls */
	while (left > 0) {
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		left -= (size_t)w;
		while (w > 0) { /* skip what was sent: w <= the bytes the vectors still hold */
			size_t k;

			if (m.msg_iov->iov_len == 0) {
				m.msg_iov++;
				m.msg_iovlen--;
				continue;
			}
			k = (size_t)w < m.msg_iov->iov_len ? (size_t)w : m.msg_iov->iov_len;
			m.msg_iov->iov_base = (uint8_t *)m.msg_iov->iov_base + k;
			m.msg_iov->iov_len -= k;
			w -= (ssize_t)k;
		}
	}
	return 0;
}
