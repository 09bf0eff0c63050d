/* fallocate_gate: preloaded into an mlagwd by an integration test (never installed), so that
 * the test can hold a disk reservation under way (SPEC 17.13, Disk) and see what the gateway
 * does meanwhile. With MLAGW_TEST_FALLOCATE_GATE=PATH in the environment, posix_fallocate
 * first creates PATH.entered, then waits while PATH exists (60 s at most), then answers ENOSPC
 * while PATH.enospc exists or else does its work; without it, it only does its work. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef int (*fallocate_fn)(int, off_t, off_t);

/* Whether the test asks for a full disk. */
static int disk_full(void)
{
	const char *gate = getenv("MLAGW_TEST_FALLOCATE_GATE");
	char full[4096];

	return gate != NULL && snprintf(full, sizeof full, "%s.enospc", gate) < (int)sizeof full &&
	       access(full, F_OK) == 0;
}

static void hold_while_gate(void)
{
	const char *gate = getenv("MLAGW_TEST_FALLOCATE_GATE");
	struct timespec step = {0, 20 * 1000 * 1000};
	char entered[4096];
	int fd;

	if (gate == NULL || snprintf(entered, sizeof entered, "%s.entered", gate) >=
				    (int)sizeof entered)
		return;
	if ((fd = open(entered, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	for (int i = 0; i < 3000 && access(gate, F_OK) == 0; i++)
		nanosleep(&step, NULL);
}

/* Built with _FILE_OFFSET_BITS=64 as the gateway is: <fcntl.h> renames this definition
 * posix_fallocate64, the symbol the gateway calls. */
int posix_fallocate(int fd, off_t offset, off_t len)
{
	void *sym = dlsym(RTLD_NEXT, "posix_fallocate64");
	fallocate_fn real = NULL;

	memcpy(&real, &sym, sizeof real); /* ISO C has no cast from object to function pointer */
	hold_while_gate();
	if (disk_full())
		return ENOSPC;
	return real != NULL ? real(fd, offset, len) : ENOSYS;
}
