/* Runs a configured command (an operator's hook: the deadline escalation) without a shell:
 * argv as given, a fixed environment, standard streams on /dev/null, its own process group,
 * killed with the group at a timeout. A leaf: no struct gw, no store. */
#ifndef MLAGW_GATEWAY_HOOK_H
#define MLAGW_GATEWAY_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

enum gw_hook_outcome {
	GW_HOOK_EXITED = 0, /* it ran and exited: status is its exit status */
	GW_HOOK_SIGNALED,   /* it died of signal status */
	GW_HOOK_TIMEOUT,    /* it ran past the timeout: it and its group were killed */
	GW_HOOK_NOT_RUN,    /* it could not be started: status is the errno (ENOENT, EACCES) */
	GW_HOOK_LOST        /* it started but its status could not be read: status is the errno */
};

struct gw_hook_result {
	enum gw_hook_outcome outcome;
	int status;
	int64_t ms; /* how long it took, on the monotonic clock */
};

/* Runs argv[0] (an absolute path; not searched in PATH) with argv and envp (both
 * NULL-terminated; envp NULL: an empty environment) and waits for it, at most timeout_ms.
 * Blocks its caller up to the timeout (plus the time to reap): call it from a worker thread,
 * never from the event loop. MLA_OK when the outcome is known (res says it, GW_HOOK_NOT_RUN
 * included); MLA_ERR_ARG for a relative argv[0]; MLA_ERR_IO when no process could be made. */
mla_err gw_hook_run(char *const argv[], char *const envp[], uint64_t timeout_ms,
		    struct gw_hook_result *res, mla_diag *diag);

/* "exited 0", "signal 9", "timeout", "not run: No such file or directory", "status lost:
 * ..." into out. */
void gw_hook_describe(const struct gw_hook_result *res, char *out, size_t n);

#endif
