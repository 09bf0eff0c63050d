/* Our TLS client identity towards the peers (peer_identity.c): certificate chain and TLS key
 * through the private-key interface, counted like the exchanges that use it. Internal to net/. */
#ifndef MLAGW_GATEWAY_PEER_IDENTITY_H
#define MLAGW_GATEWAY_PEER_IDENTITY_H

#include <stdint.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "mlagw/error.h"
#include "mlagw/privkey.h"

struct peer_identity {
	unsigned refs;
	X509 *leaf;
	STACK_OF(X509) *chain; /* the intermediates after the leaf */
	mla_privkey *key;
	int64_t since_ms; /* monotonic time it replaced another identity; 0: the first one */
};

/* Loads our certificate chain and TLS key (mla_privkey_load, with its checks). */
mla_err peer_identity_load(const char *cert_path, const char *key_path,
			   struct peer_identity **out, mla_diag *diag);
/* After a reload: id (just loaded) replaces old; the same certificate and key keep old's
 * age, a new one is dated now. */
void peer_identity_replaces(struct peer_identity *id, const struct peer_identity *old);
struct peer_identity *peer_identity_ref(struct peer_identity *id);
void peer_identity_unref(struct peer_identity *id);
/* Makes each new connection of easy present id (CURLOPT_SSL_CTX_FUNCTION), and keeps easy
 * off connections opened before id replaced another: id must live as long as easy, so the
 * exchange holds a reference. */
void peer_identity_set(CURL *easy, struct peer_identity *id);

#endif
