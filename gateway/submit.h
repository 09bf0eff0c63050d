/* Internal interface of the local submission listener (submit_server.c) and its handlers
 * (submit.c: sealing and storing; submit_status.c: status and health). */
#ifndef MLAGW_GATEWAY_SUBMIT_H
#define MLAGW_GATEWAY_SUBMIT_H

#include <event2/http.h>

#include "gw.h"

void submit_handle(struct gw *g, struct evhttp_request *req);
void submit_status(struct gw *g, struct evhttp_request *req, const char *id);
void submit_health(struct gw *g, struct evhttp_request *req);

void submit_reply_json(struct evhttp_request *req, int code, const char *reason, mla_buf *json);
void submit_reply_error(struct evhttp_request *req, int code, const char *reason, mla_err err,
			const char *message, const char *field);
void submit_server_busy_add(struct gw *g, int delta);

#endif
