/* The peer listener's public interface: mutual-TLS HTTPS for envelopes and witnessing from
 * peer gateways (peer_server.c), as a listener table the daemon walks. */
#ifndef MLAGW_GATEWAY_PEER_H
#define MLAGW_GATEWAY_PEER_H

#include "core/gw.h"

extern const struct gw_listener peer_listener;

#endif
