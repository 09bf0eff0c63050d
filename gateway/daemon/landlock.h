/* Filesystem confinement with Landlock (Linux 5.13+; issue 17 §3, docs/internals/keys.md
 * "Sandbox"): a process names the paths it may read (and those beneath which it may also
 * write); every other file and folder is out of its reach, whatever its permissions say. It
 * holds for the calling thread and the threads and processes it starts later: call it before
 * any thread is started. On a kernel without Landlock nothing is applied (*applied 0). */
#ifndef MLAGW_GATEWAY_LANDLOCK_H
#define MLAGW_GATEWAY_LANDLOCK_H

#include <limits.h>
#include <stddef.h>

#include "mlagw/error.h"

struct landlock_path {
	const char *path; /* a folder (everything beneath it) or a file */
	int write;        /* also write, make, remove and move entries beneath it */
	int exec;         /* also run programs (a PKCS#11 module is mapped, not run: 0 will do) */
};

/* The folders every process of mlagwd reads (libraries, OpenSSL's, the resolver's and
 * p11-kit's configuration in /etc, its own /proc entries, the CPU count, /dev/null and
 * /dev/urandom), read-only, into out; their count (LANDLOCK_SYSTEM_PATHS). */
#define LANDLOCK_SYSTEM_PATHS 8
size_t landlock_system_paths(struct landlock_path out[LANDLOCK_SYSTEM_PATHS]);
/* The folders a process needs to read file: the folder it is named in (when named by an
 * absolute path) and, when file exists and is a link, the folder of the file it leads to
 * (Landlock judges the file reached, and a relative name is taken from the working folder).
 * Into out, their count: 0 for a URL, a pkcs11: URI or none. */
size_t landlock_folders_of(const char *file, char out[2][PATH_MAX]);

/* The Landlock ABI version of the running kernel, 0 when it has none (or it is off). */
int landlock_abi(void);
/* Confines the calling thread to paths (read everywhere listed, write where said; missing
 * paths skipped); *applied is the ABI used, 0 when the kernel has no Landlock. */
mla_err landlock_confine(const struct landlock_path *paths, size_t n, int *applied,
			 mla_diag *diag);

#endif
