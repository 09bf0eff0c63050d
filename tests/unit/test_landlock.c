/* Landlock (gateway/daemon/landlock.c): a confined child reads and writes beneath what it was
 * given and nothing else, whatever the files' permissions (the test runs as root); a path
 * that does not exist is skipped. The network daemon's rules (landlock_daemon.c): confined
 * from a configuration, a child reads its configuration's and its certificates' folders (a
 * linked certificate's target's too), writes beneath its store's and pid file's, and reaches
 * nothing else, a key file's folder included (it is the keyholder's) unless it holds the keys
 * itself (--no-keyholder); SQLite's temporary files go to the store's folder. Skipped as a
 * whole on a kernel without Landlock. */
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

static char dir[] = "/tmp/mlagw-landlock-XXXXXX";
static char ro[96], rw[96], out[96];
static char conf[160], store[160], run[160]; /* the daemon's, beside ro, rw and out */
static struct gw_config cfg;

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

/* Makes in folder a FIFO ('p'), a symbolic link ('l') or a folder ('d'): 1, or -errno. */
static int made_in(const char *folder, char kind)
{
	char p[160];
	int r;

	snprintf(p, sizeof(p), "%s/made-%c", folder, kind);
	r = kind == 'p' ? mkfifo(p, 0600) : kind == 'l' ? symlink("f", p) : mkdir(p, 0700);
	return r == 0 ? 1 : -errno;
}

static int truncated(const char *folder, const char *name)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", folder, name);
	return truncate(p, 0) == 0 ? 1 : -errno;
}

/* In a child: confined to ro (read) and rw (read, write), every expectation checked; the
 * exit status counts the ones that failed. */
static int confined_child(int unused)
{
	const struct landlock_path paths[] = {{ro, 0, 0}, {rw, 1, 0}, {"/nonexistent/x", 0, 0}};
	mla_diag d = {MLA_OK, ""};
	int applied = 0, bad = 0;

	(void)unused;
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
	bad += made_in(rw, 'p') != -EACCES;                /* no FIFO, link or device anywhere */
	bad += made_in(rw, 'l') != -EACCES;
	bad += made_in(rw, 'd') != 1;                      /* a folder where writing is given */
	if (landlock_abi() >= 3) {                         /* truncating: with write only */
		bad += truncated(ro, "f") != -EACCES;
		bad += truncated(rw, "f") != 1;
	}
	return bad;
}

/* child(arg) in a child process: it exits with the count of its failed expectations. */
static void run_confined(int (*child)(int), int arg)
{
	pid_t p;
	int status = 0;

	if (landlock_abi() < 1)
		skip(); /* the kernel has no Landlock: nothing to show here */
	assert_true((p = fork()) >= 0);
	if (p == 0)
		_exit(child(arg));
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent is not confined */
	assert_int_equal(can_open(out, "f", O_RDONLY), 1);
}

static void test_confined(void **state)
{
	(void)state;
	run_confined(confined_child, 0);
}

static void path_of(char dst[160], const char *folder, const char *name)
{
	snprintf(dst, 160, "%s/%s/%s", dir, folder, name);
}

/* can_open in dir/folder */
static int can_open_in(const char *folder, const char *name, int flags)
{
	char p[96];

	snprintf(p, sizeof(p), "%s/%s", dir, folder);
	return can_open(p, name, flags);
}

/* In a child: confined as the daemon (keys_here: --no-keyholder); the exit status counts the
 * expectations that failed. */
static int daemon_child(int keys_here)
{
	mla_diag d = {MLA_OK, ""};
	int applied = 0, bad = 0;
	const char *tmp;

	if (landlock_daemon(&cfg, conf, run, keys_here, &applied, &d) != MLA_OK || applied < 1)
		return 100;
	bad += can_open_in("etc", "gw.conf", O_RDONLY) != 1;       /* its configuration */
	bad += can_open_in("etc", "new", O_WRONLY | O_CREAT) != -EACCES;
	bad += can_open_in("certs", "tls.crt", O_RDONLY) != 1;     /* its certificates */
	bad += can_open_in("certs", "tls.crt", O_WRONLY) != -EACCES;
	bad += can_open_in("certs", "sign.crt", O_RDONLY) != 1;    /* a link: its target's folder */
	bad += can_open_in("store", "store.db", O_RDWR) != 1;      /* its store */
	bad += can_open_in("store", "store.db-wal", O_RDWR | O_CREAT) != 1;
	bad += can_open_in("run", "mlagwd.pid", O_WRONLY | O_CREAT) != 1; /* its pid file */
	bad += can_open_in("out", "f", O_RDONLY) != -EACCES;       /* nothing else */
	bad += can_open_in("keys", "tls.key", O_RDONLY) != (keys_here ? 1 : -EACCES);
	bad += (tmp = getenv("SQLITE_TMPDIR")) == NULL || strcmp(tmp, store) != 0;
	bad += open("/usr/bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC) < 0; /* the system's */
	return bad;
}

static void test_daemon_rules(void **state)
{
	(void)state;
	run_confined(daemon_child, 0);
}

static void test_no_keyholder(void **state)
{
	(void)state;
	run_confined(daemon_child, 1);
}

/* Which key files the daemon's rules reach (logged at start as keys-reachable): one beside a
 * certificate, one in a folder of its own, a folder whose name only starts the same, a key
 * named through a link into a folder it may read, a pkcs11: URI, and everything under "/". */
static void test_keys_reachable(void **state)
{
	char certs[96], key_beside[160], key_apart[160], key_prefix[160], key_link[160];
	char target[160];
	const char *folder = NULL;
	struct landlock_path rules[2];

	(void)state;
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	rules[0] = (struct landlock_path){"/usr", 0, 0};
	rules[1] = (struct landlock_path){certs, 0, 0};
	path_of(key_beside, "certs", "sign.key");
	path_of(key_apart, "keys", "tls.key");
	snprintf(key_prefix, sizeof(key_prefix), "%s/certs-old/sign.key", dir);
	path_of(key_link, "keys", "linked.key");
	path_of(target, "certs", "tls.crt");
	assert_int_equal(symlink(target, key_link), 0);
	assert_int_equal(landlock_daemon_reaches(rules, 2, key_beside, &folder), 2);
	assert_string_equal(folder, certs);
	assert_int_equal(landlock_daemon_reaches(rules, 2, key_apart, &folder), 0);
	assert_int_equal(landlock_daemon_reaches(rules, 2, key_prefix, &folder), 0);
	assert_int_equal(landlock_daemon_reaches(rules, 2, key_link, &folder), 2);
	assert_int_equal(landlock_daemon_reaches(rules, 2, "pkcs11:token=t;object=k", &folder), 0);
	rules[0] = (struct landlock_path){"/", 0, 0};
	assert_int_equal(landlock_daemon_reaches(rules, 1, key_apart, &folder), 1);
	assert_int_equal(unlink(key_link), 0);
}

/* The daemon's folders beside ro, rw and out (out/f its "elsewhere"), and its configuration. */
static int setup_daemon(void)
{
	static const char *const folders[] = {"etc", "certs", "keys", "store", "run", "real"};
	const char *files[][2] = {{"etc", "gw.conf"}, {"certs", "tls.crt"}, {"keys", "tls.key"},
				  {"store", "store.db"}, {"real", "sign.crt"}};
	char p[160], target[160];

	for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, folders[i]);
		if (mkdir(p, 0755) != 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i][0]);
		touch(p, files[i][1]);
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
	return setup_daemon();
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
		cmocka_unit_test(test_daemon_rules),
		cmocka_unit_test(test_no_keyholder),
		cmocka_unit_test(test_keys_reachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
