/* The key-holding process (docs/internals/keys.md, "The keyholder"): a process with no
 * network socket and no store that holds every private key and performs only private-key
 * operations, asked over socketpairs in a small, fixed, length-prefixed message set. A
 * process attached to it (mla_keyholder_attach) loads and uses its keys through
 * include/mlagw/privkey.h as before, but holds only their public halves. */
#ifndef MLAGW_KEYHOLDER_H
#define MLAGW_KEYHOLDER_H

#include <stddef.h>

#include "mlagw/error.h"

/* The most channels one keyholder serves (one thread each, one client thread at a time on
 * each). */
#define MLA_KEYHOLDER_MAX_CHANNELS 64

/* Whether the keyholder may load the key file at path: the keyholder's own reading of the
 * configuration decides, never the asking process. Nonzero: allowed. */
typedef int (*mla_keyholder_allow)(const char *path, void *arg);

/* Serves the channels fds[0..n) (n <= MLA_KEYHOLDER_MAX_CHANNELS), one thread each, until every
 * channel is closed by its peer; then returns. A malformed or unexpected request ends the
 * process (exit status 3): only a process not following the protocol sends one. */
void mla_keyholder_serve(const int *fds, size_t n, mla_keyholder_allow allow, void *arg);

/* From now on mla_privkey_load in this process asks the keyholder on fds[0..n) (the caller
 * gives them up) to load the key and keeps only its public half; signing, unwrapping and the
 * EVP_PKEY for xmlsec and TLS (RSA and EC keys, whose private operations are forwarded) go to
 * the keyholder. Concurrent callers use free channels; a caller waits when none is free. */
mla_err mla_keyholder_attach(const int *fds, size_t n, mla_diag *diag);

/* Nonzero once a channel failed: the keyholder died or answered out of protocol. Every key
 * operation fails from then on; the daemon stops. */
int mla_keyholder_failed(void);

#endif
