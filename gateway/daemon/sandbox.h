/* Least privilege for mlagwd's processes (issue 17 §3, docs/internals/keys.md "Sandbox"):
 * no new privileges, no core dumps, and a system-call allowlist (libseccomp) per process. */
#ifndef MLAGW_GATEWAY_SANDBOX_H
#define MLAGW_GATEWAY_SANDBOX_H

#include "conf/config.h"
#include "mlagw/error.h"

/* The keyholder's confinement, applied to the calling thread and every thread it starts
 * later: no_new_privs, RLIMIT_CORE 0, not dumpable, and the smallest allowlist: reading and
 * writing its channels, reading key and configuration files, memory, threads (clone3
 * answered ENOSYS so libc falls back to clone), the clock and randomness. Anything else, a
 * socket above all, kills the process (SIGSYS). */
mla_err sandbox_keyholder(mla_diag *diag);

/* The network daemon's allowlist ([daemon] seccomp; sandbox_daemon.c), applied once it has
 * started and given up root, to every thread (TSYNC): GW_SECCOMP_ON kills the process on
 * anything else (SIGSYS), GW_SECCOMP_LOG lets it through logged, GW_SECCOMP_OFF installs
 * nothing. It may not fork or exec: hooks go to the hook runner (hook_runner.h). */
mla_err sandbox_daemon(enum gw_seccomp_mode mode, mla_diag *diag);

/* The hook runner's filter ([daemon] seccomp; sandbox_hooks.c), applied after it gave up
 * root, to every thread, and inherited by the commands it starts: a deny list, since those
 * are the operator's programs. GW_SECCOMP_ON refuses kernel administration, namespaces,
 * ptrace and reading other processes, loading code into the kernel and its exploit surfaces
 * (bpf, io_uring, userfaultfd, keys...) with EPERM; GW_SECCOMP_LOG lets them through logged;
 * GW_SECCOMP_OFF installs nothing. */
mla_err sandbox_hook_runner(enum gw_seccomp_mode mode, mla_diag *diag);

/* What every process of the daemon gets: no_new_privs and no core dumps (a core of a
 * network-facing process would hold document content). */
mla_err sandbox_common(mla_diag *diag);

/* In a child of a detached daemon (close_fd: the start pipe; -1: not detached, nothing to
 * do): the start pipe closed, stdin, stdout and stderr on /dev/null, so that nothing waiting
 * on the invoker's pipes waits for the child. 0, or -1 when a stream cannot be replaced. */
int sandbox_child_leave_terminal(int close_fd);

#endif
