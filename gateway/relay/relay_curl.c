/* libcurl's multi interface on the daemon's libevent loop: curl tells us which sockets and
 * timeouts to watch (socket and timer callbacks), libevent tells curl when they fire. */
#include <stdlib.h>

#include "core/log.h"
#include "relay_internal.h"

struct sock_watch {
	struct event *ev;
	struct gw *g;
};

static void check_finished(struct gw *g)
{
	struct gw_relay *rl = g->relay;
	struct transfer *t = NULL;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(rl->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(rl->multi, msg->easy_handle);
		t->done(g, t, msg->data.result);
	}
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	int running = 0, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(g->relay->multi, fd, flags, &running);
	check_finished(g);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct gw *g = arg;
	int running = 0;

	(void)fd;
	(void)what;
	curl_multi_socket_action(g->relay->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_finished(g);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct gw *g = userp;
	struct sock_watch *w = socketp;
	short kind = (short)(EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
			     ((what & CURL_POLL_OUT) ? EV_WRITE : 0));

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			event_free(w->ev);
			free(w);
		}
		curl_multi_assign(g->relay->multi, s, NULL);
		return 0;
	}
	if (w == NULL) {
		if ((w = calloc(1, sizeof(*w))) == NULL)
			return -1;
		w->g = g;
		curl_multi_assign(g->relay->multi, s, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(g->base, s, kind, on_socket_event, g);
	return w->ev != NULL && event_add(w->ev, NULL) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct gw *g = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0)
		return event_del(g->relay->timer);
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return event_add(g->relay->timer, &tv);
}

mla_err relay_curl_init(struct gw *g, mla_diag *diag)
{
	struct gw_relay *rl = g->relay;

	if ((rl->multi = curl_multi_init()) == NULL ||
	    (rl->timer = evtimer_new(g->base, on_timeout, g)) == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot initialise libcurl");
	curl_multi_setopt(rl->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(rl->multi, CURLMOPT_SOCKETDATA, g);
	curl_multi_setopt(rl->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(rl->multi, CURLMOPT_TIMERDATA, g);
	curl_multi_setopt(rl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
	return MLA_OK;
}

mla_err relay_curl_start(struct gw *g, struct transfer *t)
{
	return curl_multi_add_handle(g->relay->multi, t->easy) == CURLM_OK ? MLA_OK
									    : MLA_ERR_TRANSPORT;
}

void relay_curl_free(struct gw *g)
{
	struct gw_relay *rl = g->relay;

	if (rl->multi != NULL)
		curl_multi_cleanup(rl->multi);
	if (rl->timer != NULL)
		event_free(rl->timer);
	rl->multi = NULL;
	rl->timer = NULL;
}
