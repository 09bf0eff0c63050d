/* The keyholder process of mlagwd (include/mlagw/keyholder.h, docs/internals/keys.md): forked
 * before any key file is read, with no network socket and no store; it loads only the key
 * files the configuration, as it reads it itself, names. Only main.c uses it. */
#ifndef MLAGW_GATEWAY_KEYHOLDER_PROC_H
#define MLAGW_GATEWAY_KEYHOLDER_PROC_H

#include <sys/types.h>

#include "conf/config.h"

/* Forks the keyholder with a channel per worker thread plus four (the loop's, the relay's and
 * the listeners' handshakes), and attaches this process to it: from then on its private keys
 * live there. close_fd (-1: none) is closed in the keyholder. 0, or -1 with errno. */
int keyholder_start(const struct gw_config *c, const char *config_path, int close_fd,
		    pid_t *pid);

/* Whether path is a private key file of the configuration at config_path (the keyholder's
 * check before it loads one). */
int keyholder_allows(const char *path, void *config_path);

#endif
