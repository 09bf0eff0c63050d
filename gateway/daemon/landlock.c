/* Filesystem confinement with Landlock (see landlock.h): reading files and directories,
 * writing files, and making regular files, folders and sockets, removing and moving (REFER,
 * ABI 2) entries beneath the folders given write; truncating (ABI 3) with write too. Making
 * devices, FIFOs and symbolic links is handled and granted nowhere: nothing here makes one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "landlock.h"
#include "mlagw/codec.h"

/* ABI 3 (Linux 6.2): Debian 12's headers (6.1) do not name it */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif

#define READ_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define WRITE_RIGHTS                                                                          \
	(LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |                        \
	 LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |                         \
	 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_TRUNCATE)
/* denied everywhere: handled, never granted */
#define NEVER_RIGHTS                                                                          \
	(LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK |                         \
	 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM)
/* the rights a regular file can be given (the others are a directory's) */
#define FILE_RIGHTS                                                                           \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |                            \
	 LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)

size_t landlock_system_paths(struct landlock_path out[LANDLOCK_SYSTEM_PATHS])
{
	static const char *const system[LANDLOCK_SYSTEM_PATHS] = {
		"/usr", "/lib", "/lib64", "/etc", "/proc/self", "/sys/devices/system/cpu",
		"/dev/null", "/dev/urandom"};

	for (size_t i = 0; i < LANDLOCK_SYSTEM_PATHS; i++)
		out[i] = (struct landlock_path){system[i], 0, 0};
	return LANDLOCK_SYSTEM_PATHS;
}

/* The folder of the absolute path file into out ("/" for a file at the root). */
static int folder_of(const char *file, char out[PATH_MAX])
{
	const char *slash = strrchr(file, '/');

	return file[0] == '/' && slash != NULL &&
	       mla_snprintf(out, PATH_MAX, "%.*s", slash == file ? 1 : (int)(slash - file),
			    file) == MLA_OK;
}

size_t landlock_folders_of(const char *file, char out[2][PATH_MAX])
{
	char real[PATH_MAX];
	size_t n = folder_of(file, out[0]) ? 1 : 0;

	if (realpath(file, real) != NULL && folder_of(real, out[n]) &&
	    (n == 0 || strcmp(out[0], out[1]) != 0))
		n++;
	return n;
}

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

/* The rights handled at this abi: everything not granted below is denied. Execute is handled
 * too: neither process runs a program. */
static uint64_t handled_rights(int abi)
{
	uint64_t h = READ_RIGHTS | (WRITE_RIGHTS & ~LANDLOCK_ACCESS_FS_TRUNCATE) | NEVER_RIGHTS |
		     LANDLOCK_ACCESS_FS_EXECUTE;

	if (abi >= 2)
		h |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) /* truncate(2), O_TRUNC: an ABI 1 or 2 kernel refuses a right it lacks */
		h |= LANDLOCK_ACCESS_FS_TRUNCATE;
	return h;
}

/* Adds p beneath which (or on which, for a file) its rights hold; a path that does not exist
 * is skipped (an optional system folder such as /lib64). */
static mla_err add_path(int ruleset, const struct landlock_path *p, uint64_t handled,
			mla_diag *diag)
{
	struct landlock_path_beneath_attr attr;
	struct stat st;
	int fd = open(p->path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? MLA_OK
				       : mla_fail(diag, MLA_ERR_INTERNAL, "landlock: cannot open %s: "
						  "%s", p->path, strerror(errno));
	memset(&attr, 0, sizeof(attr));
	attr.parent_fd = fd;
	attr.allowed_access = READ_RIGHTS | (p->write ? WRITE_RIGHTS : 0);
	if (p->write && (handled & LANDLOCK_ACCESS_FS_REFER))
		attr.allowed_access |= LANDLOCK_ACCESS_FS_REFER;
	if (p->exec)
		attr.allowed_access |= LANDLOCK_ACCESS_FS_EXECUTE;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		attr.allowed_access &= FILE_RIGHTS;
	attr.allowed_access &= handled;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
		int e = errno;
		close(fd);
		return mla_fail(diag, MLA_ERR_INTERNAL, "landlock: cannot allow %s: %s", p->path,
				strerror(e));
	}
	close(fd);
	return MLA_OK;
}

mla_err landlock_confine(const struct landlock_path *paths, size_t n, int *applied,
			 mla_diag *diag)
{
	struct landlock_ruleset_attr ra;
	int abi = landlock_abi(), ruleset;
	mla_err r = MLA_OK;

	*applied = 0;
	if (abi <= 0)
		return MLA_OK; /* a kernel without Landlock: the seccomp filter still holds */
	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = handled_rights(abi);
	if ((ruleset = (int)syscall(SYS_landlock_create_ruleset, &ra, sizeof(ra), 0)) < 0)
		return mla_fail(diag, MLA_ERR_INTERNAL, "landlock: cannot create a ruleset: %s",
				strerror(errno));
	for (size_t i = 0; i < n && r == MLA_OK; i++)
		r = add_path(ruleset, &paths[i], ra.handled_access_fs, diag);
	if (r == MLA_OK && (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
			    syscall(SYS_landlock_restrict_self, ruleset, 0) != 0))
		r = mla_fail(diag, MLA_ERR_INTERNAL, "landlock: cannot confine: %s", strerror(errno));
	close(ruleset);
	if (r == MLA_OK)
		*applied = abi;
	return r;
}
