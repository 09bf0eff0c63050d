/* Landlock for the network-facing process of mlagwd (issue 17 §3; the keyholder has its own
 * rules, keyholder_proc.h; the hook runner, which runs the operator's commands, none): the
 * folders its configuration names at start, nothing else. Only main.c uses it. */
#ifndef MLAGW_GATEWAY_LANDLOCK_DAEMON_H
#define MLAGW_GATEWAY_LANDLOCK_DAEMON_H

#include "conf/config.h"
#include "landlock.h"

/* Confines the calling thread, and the threads it starts later, to the folders c names.
 * Read-only: the system's, the configuration's at config_path, each certificate's, CA's,
 * CRL's and entry's. Read and write: the store's, the submission socket's, the pid file's at
 * pid_file, and the [directory] file's (a newer one fetched replaces it). For a file named
 * through a link, its target's folder too; with keys_here (mlagwd --no-keyholder) the
 * keyholder's folders as well. Call it before the first thread is started and after the
 * processes it must not confine are forked. *applied is the ABI used, 0 when the kernel has
 * no Landlock. A reload naming a file outside these folders is refused (Permission denied),
 * the running configuration kept. */
mla_err landlock_daemon(const struct gw_config *c, const char *config_path, const char *pid_file,
			int keys_here, int *applied, mla_diag *diag);

#endif
