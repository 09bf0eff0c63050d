/* Connection limits of the HTTPS listeners (tls_listener.h): a total per listener kept below
 * the descriptor limit (accepting pauses at it, so a flood waits in the kernel's backlog
 * instead of exhausting descriptors), a cap per source address enforced by the sweep, a
 * back-off when accept() runs out of descriptors anyway, and one log line per cause and
 * interval with counts instead of one per refused connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "core/clock.h"
#include "core/log.h"
#include "tls_limits_internal.h"
#include "tls_listener.h"

#define LOG_INTERVAL_MS 10000
#define RESUME_MIN_MS 100
#define RESUME_MAX_MS 2000
#define FD_RESERVE 128 /* store, peers' connections, submission socket, logs */

static struct evconnlistener *listener_of(struct tls_listener *l)
{
	return l->bound != NULL ? evhttp_bound_socket_get_listener(l->bound) : NULL;
}

void tls_listener_limits(struct tls_listener *l, unsigned max_conns, unsigned max_per_source)
{
	struct rlimit rl;
	rlim_t fit;

	/* two listeners share what the descriptor limit leaves after the reserve */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		fit = rl.rlim_cur > 2 * FD_RESERVE ? (rl.rlim_cur - FD_RESERVE) / 2 : 8;
		if ((rlim_t)max_conns > fit)
			max_conns = (unsigned)fit;
	}
	l->max_conns = max_conns;
	l->max_per_source = max_per_source;
}

/* The refusals counted since the last line, at most one line per interval. */
static void log_refusals(struct tls_listener *l, int64_t now)
{
	struct tls_refusals *f = &l->refused;

	if (now - f->last_log_ms < LOG_INTERVAL_MS ||
	    f->capped_total + f->capped_source + f->accept_errors == 0)
		return;
	gw_log(GW_LOG_WARN, "connections-refused", NULL,
	       "listener=%s at_total_cap=%u over_source_cap=%u accept_errors=%u limit=%u "
	       "per_source=%u", l->name, f->capped_total, f->capped_source, f->accept_errors,
	       l->max_conns, l->max_per_source);
	f->capped_total = f->capped_source = f->accept_errors = 0;
	f->last_log_ms = now;
}

void tls_limits_on_accept(struct tls_listener *l)
{
	struct evconnlistener *lev = listener_of(l);

	if (l->max_conns == 0 || l->conns.count < l->max_conns || lev == NULL || l->paused)
		return;
	evconnlistener_disable(lev);
	l->paused = 1;
	l->refused.capped_total++;
	log_refusals(l, gw_mono_ms());
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct tls_listener *l = arg;

	(void)fd;
	(void)what;
	if (l->conns.count < l->max_conns || l->max_conns == 0) {
		if (listener_of(l) != NULL)
			evconnlistener_enable(listener_of(l));
		l->paused = 0;
	}
}

/* evhttp owns its listeners' callback argument (its struct evhttp): the error callback finds
 * its tls_listener here, by listener. Two listeners per daemon (peer, API). */
#define REGISTRY_MAX 4
static struct {
	struct evconnlistener *lev;
	struct tls_listener *l;
} registry[REGISTRY_MAX];

static struct tls_listener *registered(const struct evconnlistener *lev)
{
	for (size_t i = 0; i < REGISTRY_MAX; i++)
		if (registry[i].lev == lev)
			return registry[i].l;
	return NULL;
}

/* accept() failed: out of descriptors or memory means trying again at once only spins. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct tls_listener *l = registered(lev);
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

	(void)arg; /* the struct evhttp, not ours */
	if (l == NULL) {
		evconnlistener_disable(lev); /* impossible: every bound listener is registered */
		return;
	}
	l->refused.accept_errors++;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(lev);
		l->paused = 1;
		l->resume_ms = l->resume_ms == 0 ? RESUME_MIN_MS :
			       l->resume_ms * 2 > RESUME_MAX_MS ? RESUME_MAX_MS : l->resume_ms * 2;
		tv.tv_sec = l->resume_ms / 1000;
		tv.tv_usec = (l->resume_ms % 1000) * 1000;
		if (l->resume != NULL)
			(void)event_add(l->resume, &tv);
	}
	log_refusals(l, gw_mono_ms());
}

mla_err tls_limits_start(struct tls_listener *l, struct event_base *base)
{
	struct evconnlistener *lev = listener_of(l);

	size_t i = 0;

	while (i < REGISTRY_MAX && registry[i].lev != NULL)
		i++;
	if (lev == NULL || i == REGISTRY_MAX ||
	    (l->resume = evtimer_new(base, on_resume, l)) == NULL)
		return MLA_ERR_NOMEM;
	registry[i].lev = lev;
	registry[i].l = l;
	evconnlistener_set_error_cb(lev, on_accept_error);
	return MLA_OK;
}

/* The client's address, read once (after evhttp has set the descriptor). */
static const char *source_of(struct tls_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	evutil_socket_t fd;
	const void *addr = NULL;

	if (c->source[0] != '\0' || c->bev == NULL || (fd = bufferevent_getfd(c->bev)) < 0 ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return c->source;
	if (ss.ss_family == AF_INET)
		addr = &((struct sockaddr_in *)&ss)->sin_addr;
	else if (ss.ss_family == AF_INET6)
		addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
	if (addr == NULL || inet_ntop(ss.ss_family, addr, c->source, sizeof(c->source)) == NULL)
		c->source[0] = '\0';
	return c->source;
}

static void close_conn(struct tls_conn *c)
{
	evutil_socket_t fd = c->bev != NULL ? bufferevent_getfd(c->bev) : -1;

	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
}

struct source_count {
	const char *src;
	unsigned n;
};

static uint32_t hash_source(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a: table lookup only, not security */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The count of src in a table of size (a power of two) with room to spare, added to. */
static unsigned *count_of(struct source_count *t, size_t size, const char *src)
{
	size_t i = hash_source(src) & (size - 1);

	while (t[i].src != NULL && strcmp(t[i].src, src) != 0)
		i = (i + 1) & (size - 1);
	t[i].src = src;
	return &t[i].n;
}

/* Per source, the connections beyond the cap are closed, newest first: one pass from the
 * oldest (the list's tail) to the newest with a count per source. */
static void cap_sources(struct tls_listener *l)
{
	struct tls_conn *c = l->conns.head, *tail = NULL;
	size_t size = 16;
	struct source_count *t;

	while (size < 2 * (size_t)l->conns.count + 2)
		size *= 2;
	if ((t = calloc(size, sizeof(*t))) == NULL)
		return; /* the next sweep tries again */
	for (; c != NULL; c = c->next)
		tail = c;
	for (c = tail; c != NULL; c = c->prev) {
		const char *src = c->closing ? "" : source_of(c);
		if (src[0] == '\0' || c->busy > 0 || ++*count_of(t, size, src) <= l->max_per_source)
			continue;
		close_conn(c);
		c->closing = 1; /* still listed until libevent frees it; counted no more */
		l->refused.capped_source++;
	}
	free(t);
}

void tls_limits_sweep(struct tls_listener *l, int64_t now)
{
	if (l->max_per_source > 0)
		cap_sources(l);
	if (l->paused && (l->max_conns == 0 || l->conns.count < l->max_conns))
		on_resume(-1, 0, l);
	log_refusals(l, now);
}

void tls_limits_unregister(struct tls_listener *l)
{
	for (size_t i = 0; i < REGISTRY_MAX; i++)
		if (registry[i].l == l) {
			registry[i].lev = NULL;
			registry[i].l = NULL;
		}
}

void tls_limits_free(struct tls_listener *l)
{
	tls_limits_unregister(l);
	if (l->resume != NULL)
		event_free(l->resume);
	l->resume = NULL;
}
