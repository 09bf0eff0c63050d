/* Hooks started by another process (issue 17 §3): once the daemon's system-call filter forbids
 * it to fork and exec, gw_hook_run hands each command to a hook runner forked before the
 * filter, over a SOCK_SEQPACKET channel: one request (with a fresh socket for its answer) per
 * command, so commands run side by side as they did. The runner's side is gw_hook_serve. */
#ifndef MLAGW_GATEWAY_HOOK_REMOTE_H
#define MLAGW_GATEWAY_HOOK_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "hook.h"

#define HOOK_REQ_MAX 32768 /* bytes of one request: the command, its arguments, environment */
#define HOOK_REQ_STRINGS 64 /* arguments and environment entries, each */

/* From now on gw_hook_run asks the runner behind fd (this process keeps fd); -1: runs
 * commands itself again. */
void gw_hook_delegate(int fd);
/* The runner's channel, or -1. */
int gw_hook_delegate_fd(void);

/* gw_hook_run's delegated path: same contract. A runner gone is MLA_ERR_IO. */
mla_err gw_hook_remote_run(char *const argv[], char *const envp[], uint64_t timeout_ms,
			   struct gw_hook_result *res, mla_diag *diag);

/* A request's bytes: timeout (8 bytes, big-endian), argument count and environment count
 * (4 bytes each), then that many NUL-terminated strings, nothing after. Into argv and envp
 * (NULL-terminated, pointing into buf, which must stay): MLA_ERR_ARG for anything else. */
struct hook_request {
	uint64_t timeout_ms;
	char *argv[HOOK_REQ_STRINGS + 1];
	char *envp[HOOK_REQ_STRINGS + 1];
};
mla_err gw_hook_request_parse(char *buf, size_t n, struct hook_request *req);
/* The reverse, into buf (at most HOOK_REQ_MAX): its length, or 0 when it does not fit. */
size_t gw_hook_request_encode(char *const argv[], char *const envp[], uint64_t timeout_ms,
			      char *buf, size_t cap);

/* The runner's loop: reads requests on fd until it closes, runs each command that allowed
 * (argv[0], arg) accepts in a process of its own, and answers on the request's socket; a
 * malformed request ends the loop (only a broken or compromised daemon sends one). */
void gw_hook_serve(int fd, int (*allowed)(const char *command, void *arg), void *arg);

#endif
