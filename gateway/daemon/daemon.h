/* The gateway's orchestration (daemon.c): starts every subsystem in order, runs the event
 * loop, reloads on SIGHUP and stops in order on SIGTERM/SIGINT. Only main.c uses it. */
#ifndef MLAGW_GATEWAY_DAEMON_H
#define MLAGW_GATEWAY_DAEMON_H

#include "core/gw.h"

/* Start everything, run the loop until SIGTERM/SIGINT has drained, free. */
mla_err gw_start(struct gw *g, const struct gw_config *c, mla_diag *diag);
void gw_run(struct gw *g);
void gw_free(struct gw *g);
/* Reloads the configuration file as SIGHUP does; the running one stays on error. */
mla_err gw_reload(struct gw *g, mla_diag *diag);

#endif
