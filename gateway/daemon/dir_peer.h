/* Newer directories seen on an exchange (SPEC 18.6): every answer of a peer gateway to an
 * envelope or a segment carries the directory it holds ("Mlagw-Directory: <publisher>
 * <serial> <port>"); when that is a higher serial of our publisher, the directory is fetched
 * from the peer's directory listener (the host the exchange reached, the advertised port)
 * and adopted only if it verifies as a reload would. At most one such fetch a minute per
 * peer, never twice for a serial a peer advertised: a bogus serial costs a log line. */
#ifndef MLAGW_GATEWAY_DIR_PEER_H
#define MLAGW_GATEWAY_DIR_PEER_H

#include <stdint.h>

#include "core/gw.h"
#include "dir_fetch.h"

#define DIR_PEER_FETCH_MIN_MS 60000 /* between two fetches prompted by one peer */
#define DIR_WELL_KNOWN "/.well-known/mlagw/directory.xml"

struct gw_dir_peers;

/* Told of every peer answer's header by g->client (started before) from now on. */
mla_err dir_peers_new(struct gw *g, struct gw_dir_fetch *fetch, struct gw_dir_peers **out);
void dir_peers_free(struct gw_dir_peers *p);
/* A peer's header value (peer_client_on_directory's callback; arg the gw_dir_peers). */
void dir_peers_seen(void *arg, const char *state, const char *value, const char *url);

/* The URL to fetch a peer's directory at: the scheme and host of the exchange's url (https
 * only), port, DIR_WELL_KNOWN; into out (cap bytes). 0 when it cannot be made. */
int dir_advert_url(const char *url, unsigned port, char *out, size_t cap);

#endif
