/* Hooks run by the hook runner (see hook_remote.h). A request travels with a socketpair's end
 * (SCM_RIGHTS) on which the runner's per-request process answers, so the daemon's threads
 * wait each on their own socket and a slow command holds nobody else up. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook_remote.h"

static atomic_int delegate_fd = -1;

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

struct hook_answer { /* both ends are the same executable: the struct as it is */
	int32_t err;     /* mla_err of gw_hook_run in the runner; MLA_ERR_FORBIDDEN: not allowed */
	struct gw_hook_result res;
};

void gw_hook_delegate(int fd)
{
	atomic_store(&delegate_fd, fd);
}

int gw_hook_delegate_fd(void)
{
	return atomic_load(&delegate_fd);
}

static int put(char *buf, size_t cap, size_t *at, const void *p, size_t n)
{
	if (n > cap - *at)
		return 0;
	memcpy(buf + *at, p, n);
	*at += n;
	return 1;
}

size_t gw_hook_request_encode(char *const argv[], char *const envp[], uint64_t timeout_ms,
			      char *buf, size_t cap)
{
	char *const none[] = {NULL};
	char *const *lists[2] = {argv, envp != NULL ? envp : none};
	uint8_t head[16];
	uint32_t counts[2] = {0, 0};
	size_t at = 0;

	cap = cap > HOOK_REQ_MAX ? HOOK_REQ_MAX : cap;
	for (int l = 0; l < 2; l++)
		while (lists[l][counts[l]] != NULL)
			if (++counts[l] > HOOK_REQ_STRINGS)
				return 0;
	put_be(head, timeout_ms, 8);
	put_be(head + 8, counts[0], 4);
	put_be(head + 12, counts[1], 4);
	if (!put(buf, cap, &at, head, sizeof(head)))
		return 0;
	for (int l = 0; l < 2; l++)
		for (uint32_t i = 0; i < counts[l]; i++)
			if (!put(buf, cap, &at, lists[l][i], strlen(lists[l][i]) + 1))
				return 0;
	return at;
}

mla_err gw_hook_request_parse(char *buf, size_t n, struct hook_request *req)
{
	uint32_t counts[2];
	size_t at = 16;

	if (n < 16 || n > HOOK_REQ_MAX)
		return MLA_ERR_ARG;
	req->timeout_ms = get_be((const uint8_t *)buf, 8);
	counts[0] = (uint32_t)get_be((const uint8_t *)buf + 8, 4);
	counts[1] = (uint32_t)get_be((const uint8_t *)buf + 12, 4);
	if (counts[0] < 1 || counts[0] > HOOK_REQ_STRINGS || counts[1] > HOOK_REQ_STRINGS)
		return MLA_ERR_ARG;
	for (int l = 0; l < 2; l++) {
		char **list = l == 0 ? req->argv : req->envp;
		for (uint32_t i = 0; i < counts[l]; i++) {
			char *end = at < n ? memchr(buf + at, '\0', n - at) : NULL;
			if (end == NULL)
				return MLA_ERR_ARG;
			list[i] = buf + at;
			at = (size_t)(end - buf) + 1;
		}
		list[counts[l]] = NULL;
	}
	return at == n ? MLA_OK : MLA_ERR_ARG;
}

/* One message with one descriptor (fd < 0: none). */
static int send_with_fd(int sock, const void *p, size_t n, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)(uintptr_t)p, n};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;
	ssize_t w;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while ((w = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return w == (ssize_t)n ? 0 : -1;
}

mla_err gw_hook_remote_run(char *const argv[], char *const envp[], uint64_t timeout_ms,
			   struct gw_hook_result *res, mla_diag *diag)
{
	char *buf = malloc(HOOK_REQ_MAX);
	struct hook_answer a;
	size_t n = 0;
	ssize_t got;
	int sv[2] = {-1, -1};
	mla_err r = MLA_ERR_IO;

	memset(res, 0, sizeof(*res));
	if (buf == NULL)
		return MLA_ERR_NOMEM;
	if ((n = gw_hook_request_encode(argv, envp, timeout_ms, buf, HOOK_REQ_MAX)) == 0) {
		r = mla_fail(diag, MLA_ERR_ARG, "hook: command, arguments or environment too large");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0 ||
	    send_with_fd(gw_hook_delegate_fd(), buf, n, sv[1]) != 0) {
		r = mla_fail(diag, MLA_ERR_IO, "hook: the hook runner is gone");
		goto out;
	}
	(void)close(sv[1]);
	sv[1] = -1;
	while ((got = recv(sv[0], &a, sizeof(a), 0)) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(a)) {
		r = mla_fail(diag, MLA_ERR_IO, "hook: no answer from the hook runner");
		goto out;
	}
	*res = a.res;
	r = a.err == MLA_OK ? MLA_OK : mla_fail(diag, (mla_err)a.err, "hook: %s", a.err ==
						MLA_ERR_FORBIDDEN ? "the hook runner refused a command "
						"the configuration does not name" : "cannot start it");
out:
	for (int i = 0; i < 2; i++)
		if (sv[i] >= 0)
			(void)close(sv[i]);
	free(buf);
	return r;
}

/* In a process of its own (so the runner never waits for a command): runs and answers. */
static _Noreturn void serve_one(struct hook_request *req, int answer_fd, int allowed_ok)
{
	struct hook_answer a;

	memset(&a, 0, sizeof(a));
	a.err = allowed_ok ? (int32_t)gw_hook_run(req->argv, req->envp, req->timeout_ms, &a.res,
						  NULL) : (int32_t)MLA_ERR_FORBIDDEN;
	(void)send_with_fd(answer_fd, &a, sizeof(a), -1);
	_exit(0);
}

/* One request and its descriptor; 0 at the channel's end, -1 for a malformed one. */
static int receive(int fd, char *buf, size_t cap, size_t *n, int *answer_fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {buf, cap};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b,
			   .msg_controllen = sizeof(u.b)};
	struct cmsghdr *c;
	ssize_t got;

	while ((got = recvmsg(fd, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (got <= 0)
		return 0;
	c = CMSG_FIRSTHDR(&m);
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || c == NULL ||
	    c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -1;
	memcpy(answer_fd, CMSG_DATA(c), sizeof(int));
	*n = (size_t)got;
	return 1;
}

void gw_hook_serve(int fd, int (*allowed)(const char *command, void *arg), void *arg)
{
	static char buf[HOOK_REQ_MAX];
	struct hook_request req;
	size_t n = 0;
	int answer_fd = -1, got;
	pid_t pid;

	while ((got = receive(fd, buf, sizeof(buf), &n, &answer_fd)) > 0) {
		if (gw_hook_request_parse(buf, n, &req) != MLA_OK) {
			(void)close(answer_fd);
			return;
		}
		/* twice forked: the command's process is init's child, the runner reaps at once */
		if ((pid = fork()) == 0) {
			int ok = allowed(req.argv[0], arg);
			(void)close(fd);
			if (fork() == 0)
				serve_one(&req, answer_fd, ok);
			_exit(0);
		}
		(void)close(answer_fd);
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
}
