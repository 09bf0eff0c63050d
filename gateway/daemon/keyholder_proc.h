/* The keyholder process of mlagwd (include/mlagw/keyholder.h, docs/internals/keys.md): forked
 * before any key file is read, with no network socket and no store; it loads only the key
 * files the configuration, as it reads it itself, names. Only main.c uses it. */
#ifndef MLAGW_GATEWAY_KEYHOLDER_PROC_H
#define MLAGW_GATEWAY_KEYHOLDER_PROC_H

#include <sys/types.h>

#include "conf/config.h"
#include "landlock.h"
#include "privdrop.h"

/* Forks the keyholder with a channel per worker thread plus four (the loop's, the relay's and
 * the listeners' handshakes), and attaches this process to it: from then on its private keys
 * live there. close_fd (-1: none; a detached daemon's start pipe) is closed in the keyholder,
 * which then also leaves the terminal (its standard streams on /dev/null, as the daemon's
 * once started) so that nothing waiting on them waits for it. With become (NULL: stay who
 * this is), the keyholder gives up root for that user before anything else. 0, or -1 with
 * errno. */
int keyholder_start(const struct gw_config *c, const char *config_path, int close_fd,
		    const struct privdrop_user *become, pid_t *pid);

/* Closes this process's channels, so the keyholder ends, and waits for it (pid -1: none). */
void keyholder_end(pid_t pid);

/* Every private key the configuration names (some may be "" or a pkcs11: URI), into out;
 * their count. The one list the keyholder loads from and confines itself to, and the daemon
 * checks its own Landlock rules against. */
#define KEY_FILES_MAX (6 + GW_MAX_OLD_KEYS)
size_t keyholder_key_files(const struct gw_config *c, const char *out[KEY_FILES_MAX]);

/* Whether path is a private key file of the configuration at config_path (the keyholder's
 * check before it loads one). */
int keyholder_allows(const char *path, void *config_path);

/* What the keyholder may read (Landlock, [daemon] landlock): the system's folders (libraries,
 * OpenSSL's and p11-kit's configuration, a PKCS#11 module), its configuration's folder, and
 * the folder of each key file named at start and, for a link, of the file it leads to (a
 * renewed key is written beside the old one, mlagw pki renew); [daemon] keyholder_write, the
 * one folder it may also write beneath. Nothing else. Into out (dirs holds the folders
 * named), their count. mlagwd --no-keyholder gives the daemon these too, as it reads the
 * keys itself. */
#define KEYHOLDER_PATHS_MAX 48 /* the system's, 2 per file named (as named and real), 1 */
size_t keyholder_paths(const struct gw_config *c, const char *config_path,
		       char (*dirs)[PATH_MAX], struct landlock_path *out);

#endif
