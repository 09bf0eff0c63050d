/* Local submission on a unix-domain socket (file permissions decide who may submit):
 *   POST /local/v1/submit          the document as body, header fields as X-MLA-* headers
 *   GET  /local/v1/messages/{id}   state and history of a message, sent or received
 *   GET  /local/v1/health          queue depths and counts
 *   GET  /local/v1/cases[/{id}]    the case lifecycle: every case, or one with its steps
 * A submission is sealed by a worker and stored durably before the answer "queued". */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "core/log.h"
#include "mlagw/json.h"
#include "submit.h"

struct gw_submit_server {
	struct evhttp *http;
	struct evconnlistener *listener;
	struct evhttp_bound_socket *bound;
	unsigned busy;
};

void submit_reply_json(struct evhttp_request *req, int code, const char *reason, mla_buf *json)
{
	struct evbuffer *b = evbuffer_new();

	if (b != NULL && json != NULL)
		evbuffer_add(b, json->data, json->len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evhttp_send_reply(req, code, reason, b);
	if (b != NULL)
		evbuffer_free(b);
}

void submit_reply_error(struct evhttp_request *req, int code, const char *reason, mla_err err,
			const char *message, const char *field)
{
	mla_buf b;
	int ok;

	mla_buf_init(&b, 4096);
	ok = mla_json_error(&b, mla_errname(err), message, field) == MLA_OK;
	submit_reply_json(req, code, reason, ok ? &b : NULL);
	mla_buf_free(&b);
}

void submit_reply_problems(struct evhttp_request *req, mla_err err, const char *message,
			   const char *problems)
{
	mla_buf b;
	int ok;

	mla_buf_init(&b, 64 << 10);
	ok = mla_json_error_problems(&b, mla_errname(err), message, problems) == MLA_OK;
	submit_reply_json(req, 422, "Unprocessable Entity", ok ? &b : NULL);
	mla_buf_free(&b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct gw *g = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);

	if (path == NULL) {
			submit_reply_error(req, 400, "Bad Request", MLA_ERR_ARG, "no path", NULL);
			return;
	}
	if (strcmp(path, "/local/v1/submit") == 0 && cmd == EVHTTP_REQ_POST) {
			submit_handle(g, req);
			return;
	}
	if (strncmp(path, "/local/v1/messages/", 19) == 0 && cmd == EVHTTP_REQ_GET) {
			submit_status(g, req, path + 19);
			return;
	}
	if (strcmp(path, "/local/v1/cases") == 0 && cmd == EVHTTP_REQ_GET) {
			submit_cases(g, req, NULL);
			return;
	}
	if (strncmp(path, "/local/v1/cases/", 16) == 0 && cmd == EVHTTP_REQ_GET) {
			submit_cases(g, req, path + 16);
			return;
	}
	if (strcmp(path, "/local/v1/health") == 0 && cmd == EVHTTP_REQ_GET) {
			submit_health(g, req);
			return;
	}
	submit_reply_error(req, 404, "Not Found", MLA_ERR_NOT_FOUND, "no such endpoint", NULL);
}

static mla_err listen_unix(struct gw *g, const char *path, mla_diag *diag)
{
	struct sockaddr_un sun;
	mode_t old;

	if (strlen(path) >= sizeof(sun.sun_path))
		return mla_fail(diag, MLA_ERR_CONFIG, "submit_socket path is too long: %s", path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (unlink(path) != 0 && errno != ENOENT)
		return mla_fail(diag, MLA_ERR_IO, "cannot remove old socket %s: %s", path,
				strerror(errno));
	old = umask(0117); /* socket mode 0660: owner and group may submit */
	g->submit->listener = evconnlistener_new_bind(
		g->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 64,
		(struct sockaddr *)&sun, (int)sizeof(sun));
	umask(old);
	if (g->submit->listener == NULL)
		return mla_fail(diag, MLA_ERR_IO, "cannot listen on %s: %s", path, strerror(errno));
	if ((g->submit->bound = evhttp_bind_listener(g->submit->http, g->submit->listener)) == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot serve HTTP on %s", path);
	g->submit->listener = NULL; /* owned by the bound socket now */
	return MLA_OK;
}

static mla_err submit_server_start(struct gw *g, mla_diag *diag)
{
	const struct gw_config *c = &g->snap->cfg;
	mla_err r;

	if (c->submit_socket[0] == '\0')
		return MLA_OK;
	if ((g->submit = calloc(1, sizeof(*g->submit))) == NULL ||
	    (g->submit->http = evhttp_new(g->base)) == NULL)
		return MLA_ERR_NOMEM;
	evhttp_set_max_body_size(g->submit->http, (ev_ssize_t)c->limits.max_document_bytes);
	evhttp_set_timeout(g->submit->http, 60);
	evhttp_set_allowed_methods(g->submit->http, EVHTTP_REQ_POST | EVHTTP_REQ_GET);
	evhttp_set_gencb(g->submit->http, on_request, g);
	if ((r = listen_unix(g, c->submit_socket, diag)) != MLA_OK)
		return r;
	gw_log(GW_LOG_INFO, "listening", NULL, "submit_socket=%s", c->submit_socket);
	return MLA_OK;
}

void submit_server_busy_add(struct gw *g, int delta)
{
	if (g->submit != NULL)
		g->submit->busy = (unsigned)((int)g->submit->busy + delta);
}

static unsigned submit_server_busy(const struct gw *g)
{
	return g->submit != NULL ? g->submit->busy : 0;
}

static void submit_server_stop_accepting(struct gw *g)
{
	if (g->submit != NULL && g->submit->bound != NULL) {
		evhttp_del_accept_socket(g->submit->http, g->submit->bound);
		g->submit->bound = NULL;
		(void)unlink(g->snap->cfg.submit_socket);
	}
}

static void submit_server_free(struct gw *g)
{
	if (g->submit == NULL)
		return;
	if (g->submit->http != NULL)
		evhttp_free(g->submit->http);
	free(g->submit);
	g->submit = NULL;
}

const struct gw_listener submit_listener = {
	.name = "submit",
	.start = submit_server_start,
	.stop_accepting = submit_server_stop_accepting,
	.reload = NULL, /* the socket and its limits stay until a restart */
	.busy = submit_server_busy,
	.free = submit_server_free,
};
