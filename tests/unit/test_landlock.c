/* Landlock (gateway/daemon/landlock.c): a confined child reads and writes beneath what it was
 * given and nothing else, whatever the files' permissions (the test runs as root); a path
 * that does not exist is skipped. Skipped as a whole on a kernel without Landlock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/landlock.h"

static char dir[] = "/tmp/mlagw-landlock-XXXXXX";
static char ro[96], rw[96], out[96];

static void touch(const char *folder, const char *name)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", folder, name);
	assert_true((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static int can_open(const char *folder, const char *name, int flags)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", folder, name);
	if ((fd = open(p, flags | O_CLOEXEC, 0600)) < 0)
		return -errno;
	close(fd);
	return 1;
}

/* In a child: confined to ro (read) and rw (read, write), every expectation checked; the
 * exit status counts the ones that failed. */
static int confined_child(void)
{
	const struct landlock_path paths[] = {{ro, 0, 0}, {rw, 1, 0}, {"/nonexistent/x", 0, 0}};
	mla_diag d = {MLA_OK, ""};
	int applied = 0, bad = 0;

	if (landlock_confine(paths, 3, &applied, &d) != MLA_OK || applied < 1)
		return 100;
	bad += can_open(ro, "f", O_RDONLY) != 1;           /* read where given */
	bad += can_open(ro, "f", O_WRONLY) != -EACCES;     /* not write there */
	bad += can_open(ro, "new", O_WRONLY | O_CREAT) != -EACCES;
	bad += can_open(rw, "f", O_RDWR) != 1;             /* read and write where given */
	bad += can_open(rw, "new", O_WRONLY | O_CREAT) != 1;
	bad += can_open(out, "f", O_RDONLY) != -EACCES;    /* nothing elsewhere */
	bad += can_open(out, "new", O_WRONLY | O_CREAT) != -EACCES;
	bad += can_open("/etc", "passwd", O_RDONLY) != -EACCES;
	return bad;
}

static void test_confined(void **state)
{
	pid_t p;
	int status = 0;

	(void)state;
	if (landlock_abi() < 1)
		skip(); /* the kernel has no Landlock: nothing to show here */
	assert_true((p = fork()) >= 0);
	if (p == 0)
		_exit(confined_child());
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent is not confined */
	assert_int_equal(can_open(out, "f", O_RDONLY), 1);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ro, sizeof(ro), "%s/ro", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	if (mkdir(ro, 0755) != 0 || mkdir(rw, 0755) != 0 || mkdir(out, 0755) != 0)
		return -1;
	touch(ro, "f");
	touch(rw, "f");
	touch(out, "f");
	return 0;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_confined),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
