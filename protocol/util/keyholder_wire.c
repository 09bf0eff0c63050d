/* The keyholder's framing (see keyholder_wire.h): bounded, length-first, whole reads. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

int kh_write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: a peer gone is an error to handle, not a SIGPIPE */
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
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

int kh_read_msg(int fd, mla_buf *out)
{
	uint8_t len[4];
	uint32_t n;
	int r;

	out->len = 0;
	if ((r = read_all(fd, len, sizeof(len))) != 0)
		return r;
	n = kh_get32(len);
	if (n == 0 || n > KH_MSG_MAX || mla_buf_reserve(out, n) != MLA_OK)
		return -1;
	if (read_all(fd, out->data, n) != 0)
		return -1;
	out->len = n;
	return 0;
}

int kh_send(int fd, const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	uint8_t len[4];

	if (na + nb == 0 || na + nb > KH_MSG_MAX)
		return -1;
	kh_put32(len, (uint32_t)(na + nb));
	/* one message per exchange and no other writer on the channel: three writes are fine */
	return kh_write_all(fd, len, sizeof(len)) == 0 && kh_write_all(fd, a, na) == 0 &&
			       (nb == 0 || kh_write_all(fd, b, nb) == 0) ? 0 : -1;
}
