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
/* Whether rules[0..n) let a process read file (as named, or where its links lead): 0 when
 * not, else the rule's place + 1, that rule's path in *folder. A key file the daemon's rules
 * reach is logged at start (keys-reachable): Landlock then does not keep it from the daemon. */
size_t landlock_daemon_reaches(const struct landlock_path *rules, size_t n, const char *file,
			       const char **folder);

#endif
