/* The network daemon's Landlock rules (gateway/daemon/landlock_daemon.c): confined from a
 * configuration, a child reads its configuration's and its certificates' folders (a linked
 * certificate's target's too), writes beneath its store's and pid file's, and reaches nothing
 * else, a key file's folder included (it is the keyholder's) unless it holds the keys itself
 * (--no-keyholder); SQLite's temporary files go to the store's folder. Skipped on a kernel
 * without Landlock. */
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

#include "daemon/landlock_daemon.h"

static char dir[] = "/tmp/mlagw-landlock-daemon-XXXXXX";
static char conf[160], store[160], run[160];
static const char *const folders[] = {"etc", "certs", "keys", "store", "run", "out", "real"};
static struct gw_config cfg;

static void path_of(char out[160], const char *folder, const char *name)
{
	snprintf(out, 160, "%s/%s/%s", dir, folder, name);
}

static int can_open(const char *folder, const char *name, int flags)
{
	char p[160];
	int fd;

	path_of(p, folder, name);
	if ((fd = open(p, flags | O_CLOEXEC, 0600)) < 0)
		return -errno;
	close(fd);
	return 1;
}

/* In a child: confined as the daemon (keys_here: --no-keyholder); the exit status counts the
 * expectations that failed. */
static int confined_child(int keys_here)
{
	mla_diag d = {MLA_OK, ""};
	int applied = 0, bad = 0;
	const char *tmp;

	if (landlock_daemon(&cfg, conf, run, keys_here, &applied, &d) != MLA_OK || applied < 1)
		return 100;
	bad += can_open("etc", "gw.conf", O_RDONLY) != 1;       /* its configuration */
	bad += can_open("etc", "new", O_WRONLY | O_CREAT) != -EACCES;
	bad += can_open("certs", "tls.crt", O_RDONLY) != 1;     /* its certificates */
	bad += can_open("certs", "tls.crt", O_WRONLY) != -EACCES;
	bad += can_open("certs", "sign.crt", O_RDONLY) != 1;    /* a link: its target's folder */
	bad += can_open("store", "store.db", O_RDWR) != 1;      /* its store */
	bad += can_open("store", "store.db-wal", O_RDWR | O_CREAT) != 1;
	bad += can_open("run", "mlagwd.pid", O_WRONLY | O_CREAT) != 1; /* its pid file */
	bad += can_open("out", "f", O_RDONLY) != -EACCES;       /* nothing else */
	bad += can_open("keys", "tls.key", O_RDONLY) != (keys_here ? 1 : -EACCES);
	bad += (tmp = getenv("SQLITE_TMPDIR")) == NULL || strcmp(tmp, store) != 0;
	bad += open("/usr/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC) < 0; /* the system's */
	return bad;
}

static void run_confined(int keys_here)
{
	pid_t p;
	int status = 0;

	if (landlock_abi() < 1)
		skip(); /* the kernel has no Landlock: nothing to show here */
	assert_true((p = fork()) >= 0);
	if (p == 0)
		_exit(confined_child(keys_here));
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(can_open("out", "f", O_RDONLY), 1); /* the parent is not confined */
}

static void test_daemon(void **state)
{
	(void)state;
	run_confined(0);
}

static void test_no_keyholder(void **state)
{
	(void)state;
	run_confined(1);
}

static int setup(void **state)
{
	char p[160];
	const char *files[][2] = {{"etc", "gw.conf"}, {"certs", "tls.crt"}, {"keys", "tls.key"},
				  {"store", "store.db"}, {"out", "f"}, {"real", "sign.crt"}};
	char target[160];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, folders[i]);
		if (mkdir(p, 0755) != 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd;
		path_of(p, files[i][0], files[i][1]);
		if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
			return -1;
		close(fd);
	}
	path_of(target, "real", "sign.crt");
	path_of(p, "certs", "sign.crt");
	if (symlink(target, p) != 0)
		return -1;
	gw_config_defaults(&cfg);
	path_of(conf, "etc", "gw.conf");
	path_of(run, "run", "mlagwd.pid");
	path_of(cfg.store, "store", "store.db");
	path_of(cfg.tls.cert, "certs", "tls.crt");
	path_of(cfg.sign.cert, "certs", "sign.crt");
	path_of(cfg.tls.key, "keys", "tls.key");
	snprintf(store, sizeof(store), "%s/store", dir);
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
		cmocka_unit_test(test_daemon),
		cmocka_unit_test(test_no_keyholder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
