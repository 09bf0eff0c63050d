/* Connection limits of the HTTPS listeners (tls_listener.h): a total per listener kept below
 * the descriptor limit (accepting pauses at it, so a flood waits in the kernel's backlog
 * instead of exhausting descriptors), a cap per source address enforced by the sweep, a
 * back-off when accept() runs out of descriptors anyway, and one log line per cause and
 * interval with counts instead of one per refused connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
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

/* accept() failed: out of descriptors or memory means trying again at once only spins. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct tls_listener *l = arg;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

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

	if (lev == NULL || (l->resume = evtimer_new(base, on_resume, l)) == NULL)
		return MLA_ERR_NOMEM;
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

/* How many connections, from this one (the newest first) to the oldest, share its source. */
static unsigned same_source(struct tls_conn *from, const char *src)
{
	unsigned n = 0;

	for (struct tls_conn *c = from; c != NULL; c = c->next)
		n += strcmp(source_of(c), src) == 0;
	return n;
}

void tls_limits_sweep(struct tls_listener *l, int64_t now)
{
	/* per source: the newest beyond the cap are closed (the list is newest first) */
	for (struct tls_conn *c = l->conns.head; c != NULL && l->max_per_source > 0; c = c->next) {
		const char *src = source_of(c);
		if (src[0] != '\0' && c->busy == 0 && same_source(c, src) > l->max_per_source) {
			close_conn(c);
			c->source[0] = '\0'; /* counted no more; libevent frees it on the error */
			c->bev = NULL;
			l->refused.capped_source++;
		}
	}
	if (l->paused && (l->max_conns == 0 || l->conns.count < l->max_conns))
		on_resume(-1, 0, l);
	log_refusals(l, now);
}

void tls_limits_free(struct tls_listener *l)
{
	if (l->resume != NULL)
		event_free(l->resume);
	l->resume = NULL;
}
