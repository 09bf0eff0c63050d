/* The connection limits of the HTTPS listener (tls_limits.c), for tls_listener.c only. */
#ifndef MLAGW_GATEWAY_TLS_LIMITS_INTERNAL_H
#define MLAGW_GATEWAY_TLS_LIMITS_INTERNAL_H

#include <event2/event.h>

#include "tls_listener.h"

/* After bind: the back-off timer and accept()'s error callback. */
mla_err tls_limits_start(struct tls_listener *l, struct event_base *base);
/* After each accepted connection: pauses accepting at the total cap. */
void tls_limits_on_accept(struct tls_listener *l);
/* Once a second: the per-source cap, resuming below the total, the counted log line. */
void tls_limits_sweep(struct tls_listener *l, int64_t now_ms);
/* Before the listener's evconnlistener goes (stop accepting, free). */
void tls_limits_unregister(struct tls_listener *l);
void tls_limits_free(struct tls_listener *l);

#endif
