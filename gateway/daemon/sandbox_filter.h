/* What building a seccomp filter is the same for in each of mlagwd's processes (sandbox.c,
 * sandbox_daemon.c, sandbox_hooks.c): a list of calls given one action, and the ending. */
#ifndef MLAGW_GATEWAY_SANDBOX_FILTER_H
#define MLAGW_GATEWAY_SANDBOX_FILTER_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

/* Adds a rule giving action to each of the n calls. 1, or 0 when libseccomp refused one. */
int sandbox_filter_add(scmp_filter_ctx f, uint32_t action, const int *calls, size_t n);

/* Ends f as every process's filter ends (ok: whether its rules went in): clone3 answered
 * ENOSYS, so that libc falls back to clone, whose flags a filter can see (clone3's are in
 * memory, out of its reach); applied to every thread of the process (TSYNC); loaded; released.
 * whose names the process in the error. */
mla_err sandbox_filter_load(scmp_filter_ctx f, int ok, const char *whose, mla_diag *diag);

#endif
