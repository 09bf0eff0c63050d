/* Least privilege for mlagwd's processes (see sandbox.h). The allowlists name system calls,
 * not wrappers: glibc's stdio, malloc and pthreads and OpenSSL's key reading and RNG are what
 * the keyholder runs, and these are the calls they make on Linux x86-64 and arm64. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/resource.h>

#include "sandbox.h"
#include "sandbox_filter.h"

int sandbox_child_leave_terminal(int close_fd)
{
	int null;

	if (close_fd < 0)
		return 0;
	(void)close(close_fd);
	if ((null = open("/dev/null", O_RDWR)) < 0)
		return 0; /* nothing better to give it: the streams stay */
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		return -1;
	if (null > 2)
		(void)close(null);
	return 0;
}

mla_err sandbox_common(mla_diag *diag)
{
	struct rlimit none = {0, 0};

	/* not dumpable: a process of the same user (a hook command above all: the runner starts
	 * them as the daemon's user) may not open /proc/PID/mem and read or rewrite this one,
	 * which needs none of the calls the runner's filter denies; a program the runner execs is
	 * dumpable again, which exposes only itself */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || setrlimit(RLIMIT_CORE, &none) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot drop privileges: %s", strerror(errno));
	return MLA_OK;
}

/* What the keyholder may call. */
static const int keyholder_calls[] = {
	/* its channels */
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(sendmsg), SCMP_SYS(sendto), SCMP_SYS(recvfrom),
	SCMP_SYS(close),
	/* key and configuration files (the configuration's paths are resolved with realpath) */
	SCMP_SYS(openat), SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(lseek),
	SCMP_SYS(readlinkat), SCMP_SYS(getcwd), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(statx), SCMP_SYS(fcntl),
	/* memory */
	SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect),
	SCMP_SYS(madvise),
	/* threads */
	SCMP_SYS(clone), SCMP_SYS(futex), SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
	SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigaction), SCMP_SYS(sched_yield), SCMP_SYS(gettid), SCMP_SYS(getpid),
	SCMP_SYS(exit), SCMP_SYS(exit_group),
	/* each channel's thread stays on one CPU (protocol/util/keyholder_cpu.c): the set it
	 * may use, and getcpu where the vDSO lacks it; sched_setaffinity of itself only (below) */
	SCMP_SYS(sched_getaffinity), SCMP_SYS(getcpu),
	/* time and randomness (OpenSSL's DRBG seeds from getrandom) */
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(getrandom),
	/* keys in a PKCS#11 token (protocol/util/privkey_pkcs11.c): the first token key dlopens
	 * libp11's engine and the module, whose program headers ld.so reads with pread64; SoftHSM2
	 * lists its token directory (getdents64), locks its object files (fcntl, above) and
	 * rewrites its token.object at login (its login state and PIN counters: ftruncate, write,
	 * fsync). A hardware token's module talks to pcscd instead and would need a socket. */
	SCMP_SYS(pread64), SCMP_SYS(getdents64), SCMP_SYS(ftruncate), SCMP_SYS(fsync),
	SCMP_SYS(fdatasync),
#if defined(__x86_64__)
	SCMP_SYS(open), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(readlink), SCMP_SYS(access),
#endif
#if defined(__SANITIZE_ADDRESS__)
	/* the sanitizers' runtime: reports, its own threads and maps */
	SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(getppid),
	SCMP_SYS(uname), SCMP_SYS(ioctl), SCMP_SYS(tgkill),
	SCMP_SYS(getrlimit), SCMP_SYS(prlimit64), SCMP_SYS(pipe2), SCMP_SYS(wait4),
#endif
};

int sandbox_filter_add(scmp_filter_ctx f, uint32_t action, const int *calls, size_t n)
{
	int ok = 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = seccomp_rule_add(f, action, calls[i], 0) == 0;
	return ok;
}

mla_err sandbox_filter_load(scmp_filter_ctx f, int ok, const char *whose, mla_diag *diag)
{
	ok = ok && seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) == 0 &&
	     seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1) == 0 && seccomp_load(f) == 0;
	seccomp_release(f);
	return ok ? MLA_OK : mla_fail(diag, MLA_ERR_INTERNAL, "seccomp: cannot load the %s's "
				      "filter", whose);
}

mla_err sandbox_keyholder(mla_diag *diag)
{
	/* spelt out whole (clang's -Wmissing-field-initializers): the calling thread, pid 0 */
	const struct scmp_arg_cmp self = {0, SCMP_CMP_EQ, 0, 0};
	scmp_filter_ctx f;
	mla_err r;
	int ok;

	if ((r = sandbox_common(diag)) != MLA_OK)
		return r;
	if ((f = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "seccomp: cannot start a filter");
	ok = sandbox_filter_add(f, SCMP_ACT_ALLOW, keyholder_calls,
				sizeof(keyholder_calls) / sizeof(keyholder_calls[0])) &&
	     seccomp_rule_add_array(f, SCMP_ACT_ALLOW, SCMP_SYS(sched_setaffinity), 1, &self) == 0;
	return sandbox_filter_load(f, ok, "keyholder", diag);
}
