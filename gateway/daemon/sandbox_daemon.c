/* The network daemon's system-call allowlist (see sandbox.h, docs/internals/keys.md
 * "Sandbox"). Wider than the keyholder's: the daemon speaks to the network (libevent's epoll,
 * libcurl's connections and resolver), keeps its store (SQLite's files, locks, shared memory,
 * fdatasync) and runs worker threads. What it no longer does once started: fork or exec
 * (clone only with CLONE_THREAD; hooks go to the hook runner), change its ids, ptrace, mount,
 * load modules, or open a socket other than Unix, IPv4, IPv6 and netlink (the resolver). */
#define _GNU_SOURCE /* CLONE_THREAD */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>

#include "sandbox.h"
#include "sandbox_filter.h"

static const int daemon_calls[] = {
	/* descriptors and files: the store, attachments, the revocation cache, configuration,
	 * certificates and the directory at a reload */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
	SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev), SCMP_SYS(lseek), SCMP_SYS(close),
	SCMP_SYS(openat), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx), SCMP_SYS(statfs),
	SCMP_SYS(fstatfs), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlinkat),
	SCMP_SYS(getdents64), SCMP_SYS(getcwd), SCMP_SYS(fcntl), SCMP_SYS(flock), SCMP_SYS(dup),
	SCMP_SYS(dup3), SCMP_SYS(pipe2), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(ftruncate), SCMP_SYS(fallocate), SCMP_SYS(unlinkat), SCMP_SYS(renameat),
	SCMP_SYS(renameat2), SCMP_SYS(mkdirat), SCMP_SYS(fchmod), SCMP_SYS(fchown),
	SCMP_SYS(utimensat), SCMP_SYS(umask), SCMP_SYS(sync_file_range),
	/* memory, SQLite's shared memory included */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise), SCMP_SYS(msync),
	/* the network: listeners (already bound), libcurl's connections, the resolver */
	SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(bind), SCMP_SYS(listen),
	SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(setsockopt), SCMP_SYS(getsockopt),
	SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg), SCMP_SYS(recvmmsg), SCMP_SYS(shutdown), SCMP_SYS(socketpair),
	SCMP_SYS(ioctl), /* FIONREAD, FIONBIO: libevent and libcurl */
	/* waiting: libevent's epoll, libcurl's poll */
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(pselect6), SCMP_SYS(eventfd2),
	/* threads (clone: below, threads only) and signals */
	SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),
	SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu), SCMP_SYS(gettid),
	SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(tgkill), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(restart_syscall), SCMP_SYS(prctl),
	/* time, randomness, identity and limits (read only) */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(uname),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(getrusage), SCMP_SYS(sysinfo),
	SCMP_SYS(wait4), /* a child's status: none is started, but a lost one is reaped */
#if defined(__x86_64__)
	SCMP_SYS(open), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(access), SCMP_SYS(readlink),
	SCMP_SYS(unlink), SCMP_SYS(rename), SCMP_SYS(mkdir), SCMP_SYS(rmdir), SCMP_SYS(dup2),
	SCMP_SYS(pipe), SCMP_SYS(select), SCMP_SYS(epoll_create), SCMP_SYS(time),
	SCMP_SYS(getdents),
#endif
#if defined(__SANITIZE_ADDRESS__)
	/* the sanitizers' runtime: LeakSanitizer stops the world at exit from a tracer task
	 * (clone without CLONE_THREAD, then ptrace of every thread) */
	SCMP_SYS(kill), SCMP_SYS(ptrace),
#endif
};

/* Socket domains the daemon opens. */
static const int daemon_domains[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

static int add_rules(scmp_filter_ctx f, uint32_t allow)
{
	int ok = sandbox_filter_add(f, allow, daemon_calls,
				    sizeof(daemon_calls) / sizeof(daemon_calls[0]));

	/* each comparison spelt out whole: SCMP_A0 with two values leaves datum_b to the
	 * compiler, which clang's -Wmissing-field-initializers refuses */
	for (size_t i = 0; ok && i < sizeof(daemon_domains) / sizeof(daemon_domains[0]); i++) {
		const struct scmp_arg_cmp domain = {0, SCMP_CMP_EQ,
						    (scmp_datum_t)daemon_domains[i], 0};
		ok = seccomp_rule_add_array(f, allow, SCMP_SYS(socket), 1, &domain) == 0;
	}
#if defined(__SANITIZE_ADDRESS__)
	ok = ok && seccomp_rule_add(f, allow, SCMP_SYS(clone), 0) == 0; /* LeakSanitizer's tracer */
#else
	/* a thread, never a process: fork and posix_spawn's clone lack CLONE_THREAD */
	ok = ok && seccomp_rule_add(f, allow, SCMP_SYS(clone), 1,
				    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) == 0;
#endif
	return ok;
}

mla_err sandbox_daemon(enum gw_seccomp_mode mode, mla_diag *diag)
{
	scmp_filter_ctx f;

	if (mode == GW_SECCOMP_OFF)
		return MLA_OK;
	/* log: what the filter would kill is let through and logged by the kernel (type 1326) */
	if ((f = seccomp_init(mode == GW_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS)) ==
	    NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "seccomp: cannot start a filter");
	return sandbox_filter_load(f, add_rules(f, SCMP_ACT_ALLOW), "daemon", diag);
}
