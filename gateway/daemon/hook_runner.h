/* The hook runner of mlagwd (issue 17 §3, docs/internals/keys.md "Sandbox"): a process forked
 * before the daemon's system-call filter, as the daemon's user, that starts the operator's
 * commands (the escalation hook, the expiry command) for it (gateway/core/hook_remote.h). It
 * starts only a command the configuration, as it reads it itself, names. Only main.c uses it. */
#ifndef MLAGW_GATEWAY_HOOK_RUNNER_H
#define MLAGW_GATEWAY_HOOK_RUNNER_H

#include <sys/types.h>

#include "conf/config.h"
#include "privdrop.h"

/* Forks the runner (becoming become first, when not NULL; closing close_fd, a detached
 * daemon's start pipe, and leaving the terminal as the keyholder does; then confined by its
 * filter in mode seccomp, sandbox_hook_runner) and delegates this process's hooks to it. Call
 * after the keyholder started: the runner closes its channels. Waits (10 s at most) for the
 * runner's word that it is confined; without it, logs why (hook-runner-failed), ends the
 * runner and gives -1 with ECHILD, so the daemon does not start. 0, or -1 with errno. */
int hook_runner_start(const char *config_path, int close_fd, const struct privdrop_user *become,
		      enum gw_seccomp_mode seccomp, pid_t *pid);

/* Closes the channel, so the runner ends (commands under way finish on their own, bounded by
 * their timeouts), and waits for it (pid -1: none). */
void hook_runner_end(pid_t pid);

/* Whether command is the configured escalation hook or expiry command of config_path. */
int hook_runner_allows(const char *command, void *config_path);

#endif
