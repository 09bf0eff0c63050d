/* The local API's public interface (api_listen.c; docs/api): its listener table, which the
 * daemon walks. Nothing is served without [api]. */
#ifndef MLAGW_GATEWAY_API_H
#define MLAGW_GATEWAY_API_H

#include "core/gw.h"

extern const struct gw_listener api_listener;

#endif
