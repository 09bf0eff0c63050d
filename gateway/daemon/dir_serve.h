/* The directory's own listener ([directory] listen, SPEC 18.6 Distribution): this State's
 * signed entry and the directory in force, for anyone, over HTTPS without client
 * certificates. */
#ifndef MLAGW_GATEWAY_DIR_SERVE_H
#define MLAGW_GATEWAY_DIR_SERVE_H

#include "core/gw.h"

extern const struct gw_listener dir_listener;

#endif
