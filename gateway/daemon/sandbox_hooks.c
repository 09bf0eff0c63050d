/* The hook runner's system-call filter (see sandbox.h, docs/internals/keys.md "Sandbox"). A
 * deny list, where the daemon and the keyholder have allow lists: a filter outlives execve,
 * and the runner's children run the operator's programs (a shell script, curl, a mail
 * client), whose calls nobody here can list. What is denied is what no such program needs and
 * what an attacker who got one to run his code would use to leave it: the kernel's
 * administration, namespaces, reading or steering other processes of the daemon's user (the
 * daemon itself above all), loading code into the kernel, and the kernel surfaces most used by
 * exploits. Denied calls fail with EPERM, as most of them already would for an unprivileged
 * user, so that a program that merely probes one (a Kerberos library trying the keyring, a
 * tool asking for a namespace) goes on as without the privilege: killing it would cost an
 * escalation notice, which matters more than a probe. */
#define _GNU_SOURCE /* CLONE_NEW* */
#include <errno.h>
#include <sched.h>

#include "sandbox.h"
#include "sandbox_filter.h"

static const int hook_denied_calls[] = {
	/* mounts and the file system's root */
	SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
	SCMP_SYS(move_mount), SCMP_SYS(fsopen), SCMP_SYS(fsmount), SCMP_SYS(fspick),
	SCMP_SYS(open_tree), SCMP_SYS(mount_setattr),
	/* namespaces (clone's namespace flags: below) */
	SCMP_SYS(unshare), SCMP_SYS(setns),
	/* code into the kernel, a new kernel, the machine's state */
	SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load), SCMP_SYS(init_module),
	SCMP_SYS(finit_module), SCMP_SYS(delete_module), SCMP_SYS(reboot), SCMP_SYS(swapon),
	SCMP_SYS(swapoff), SCMP_SYS(acct), SCMP_SYS(quotactl), SCMP_SYS(quotactl_fd),
	SCMP_SYS(syslog), SCMP_SYS(vhangup), SCMP_SYS(uselib), SCMP_SYS(lookup_dcookie),
	/* the clock every deadline and every checkpoint reads */
	SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(adjtimex),
	SCMP_SYS(clock_adjtime),
	/* other processes of the daemon's user, the daemon among them: its memory, its
	 * descriptors */
	SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_getfd),
	SCMP_SYS(kcmp), SCMP_SYS(process_madvise), SCMP_SYS(move_pages), SCMP_SYS(migrate_pages),
	/* the kernel surfaces exploits use most (io_uring also works unseen by any filter) */
	SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd), SCMP_SYS(keyctl),
	SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(io_uring_setup),
	SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register), SCMP_SYS(fanotify_init),
	/* files by handle, past the directories' permissions */
	SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
#if !defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer stops the world at exit with ptrace: the sanitizers' build allows it */
	SCMP_SYS(ptrace),
#endif
#if defined(__x86_64__)
	SCMP_SYS(iopl), SCMP_SYS(ioperm), SCMP_SYS(modify_ldt),
#endif
};

/* Flags of clone that make a namespace (unshare's, at a process's birth). */
static const scmp_datum_t namespace_flags[] = {
	CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET,
};

static int add_rules(scmp_filter_ctx f, uint32_t deny)
{
	/* personality: asking (0xffffffff, as the sanitizers' runtime does at its start) is
	 * harmless; setting one can turn address randomisation off or make data executable */
	const struct scmp_arg_cmp asking = {0, SCMP_CMP_NE, 0xffffffffu, 0};
	int ok = sandbox_filter_add(f, deny, hook_denied_calls,
				    sizeof(hook_denied_calls) / sizeof(hook_denied_calls[0]));

	ok = ok && seccomp_rule_add_array(f, deny, SCMP_SYS(personality), 1, &asking) == 0;
	for (size_t i = 0; ok && i < sizeof(namespace_flags) / sizeof(namespace_flags[0]); i++) {
		const struct scmp_arg_cmp flag = {0, SCMP_CMP_MASKED_EQ, namespace_flags[i],
						  namespace_flags[i]};
		ok = seccomp_rule_add_array(f, deny, SCMP_SYS(clone), 1, &flag) == 0;
	}
	return ok;
}

mla_err sandbox_hook_runner(enum gw_seccomp_mode mode, mla_diag *diag)
{
	scmp_filter_ctx f;

	if (mode == GW_SECCOMP_OFF)
		return MLA_OK;
	if ((f = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return mla_fail(diag, MLA_ERR_INTERNAL, "seccomp: cannot start a filter");
	/* log: what the filter would refuse is let through and logged by the kernel (type 1326) */
	return sandbox_filter_load(f, add_rules(f, mode == GW_SECCOMP_LOG ? SCMP_ACT_LOG :
						SCMP_ACT_ERRNO(EPERM)),
				   "hook runner", diag);
}
