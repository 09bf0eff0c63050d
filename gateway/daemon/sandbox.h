/* Least privilege for mlagwd's processes (issue 17 §3, docs/internals/keys.md "Sandbox"):
 * no new privileges, no core dumps, and a system-call allowlist (libseccomp) per process. */
#ifndef MLAGW_GATEWAY_SANDBOX_H
#define MLAGW_GATEWAY_SANDBOX_H

#include "mlagw/error.h"

/* The keyholder's confinement, applied to the calling thread and every thread it starts
 * later: no_new_privs, RLIMIT_CORE 0, not dumpable, and the smallest allowlist: reading and
 * writing its channels, reading key and configuration files, memory, threads (clone3
 * answered ENOSYS so libc falls back to clone), the clock and randomness. Anything else, a
 * socket above all, kills the process (SIGSYS). */
mla_err sandbox_keyholder(mla_diag *diag);

/* What every process of the daemon gets: no_new_privs and no core dumps (a core of a
 * network-facing process would hold document content). */
mla_err sandbox_common(mla_diag *diag);

#endif
