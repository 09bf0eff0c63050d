/* Unit tests of the keyholder (protocol/util/keyholder_*.c, privkey_proxy.c; docs/internals/
 * keys.md): a server in a child process over socketpairs. Keys it holds sign (EC, Ed25519) and
 * unwrap (RSA-OAEP) for this process, whose proxy keys sign through OpenSSL's own EVP calls;
 * a file the configuration does not name is refused; a decryption failure has one answer; a
 * request outside the protocol ends the keyholder (exit 3); a dead keyholder fails every later
 * operation and says so. Each channel's thread keeps to one CPU, spread over the CPUs this
 * process may use. */
#define _GNU_SOURCE /* CPU_COUNT */
#include <dirent.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keyholder_spawn.h"
#include "mlagw/codec.h"
#include "mlagw/keyholder.h"
#include "mlagw/privkey.h"

static char dir[] = "/tmp/mlagw-keyholder-XXXXXX";
static char ec_path[64], ed_path[64], rsa_path[64], other_path[64];
static pid_t server;

static void write_key(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
	EVP_PKEY_free(k);
}

/* The keyholder's rule here: every key file of dir but "other.key". */
static int allow(const char *path, void *arg)
{
	(void)arg;
	return strncmp(path, dir, strlen(dir)) == 0 && strstr(path, "other") == NULL;
}

static int setup(void **state)
{
	int fds[4];

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ec_path, sizeof(ec_path), "%s/ec.key", dir);
	snprintf(ed_path, sizeof(ed_path), "%s/ed.key", dir);
	snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.key", dir);
	snprintf(other_path, sizeof(other_path), "%s/other.key", dir);
	write_key(ec_path, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	write_key(ed_path, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	write_key(rsa_path, EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048));
	write_key(other_path, EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
	server = keyholder_spawn(fds, 4, allow, NULL);
	return mla_keyholder_attach(fds, 4, NULL) == MLA_OK ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int verifies(const EVP_PKEY *pub, const EVP_MD *md, const uint8_t *msg, size_t n,
		    const uint8_t *sig, size_t len)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL &&
		 EVP_DigestVerifyInit(c, NULL, md, NULL, (EVP_PKEY *)(uintptr_t)pub) == 1 &&
		 EVP_DigestVerify(c, sig, len, msg, n) == 1;

	EVP_MD_CTX_free(c);
	return ok;
}

/* Signing through the keyholder, and through the proxy with OpenSSL's own calls (TLS's way). */
static void test_sign(void **state)
{
	static const uint8_t msg[] = "checkpoint note to sign";
	uint8_t sig[512];
	size_t len;
	mla_privkey *ec = NULL, *ed = NULL;
	EVP_MD_CTX *c;

	(void)state;
	assert_int_equal(mla_privkey_load(ec_path, &ec, NULL), MLA_OK);
	assert_int_equal(mla_privkey_load(ed_path, &ed, NULL), MLA_OK);
	assert_true(mla_privkey_elsewhere(ec) && mla_privkey_elsewhere(ed));
	len = sizeof(sig);
	assert_int_equal(mla_privkey_sign(ec, msg, sizeof(msg), sig, &len, NULL), MLA_OK);
	assert_true(verifies(mla_privkey_public(ec), EVP_sha256(), msg, sizeof(msg), sig, len));
	len = sizeof(sig);
	assert_int_equal(mla_privkey_sign(ed, msg, sizeof(msg), sig, &len, NULL), MLA_OK);
	assert_int_equal(len, 64);
	assert_true(verifies(mla_privkey_public(ed), NULL, msg, sizeof(msg), sig, len));
	assert_null(mla_privkey_evp(ed)); /* no proxy for Ed25519 */
	/* the EC proxy signs through EVP_DigestSign: its private half is the keyholder's */
	assert_non_null(c = EVP_MD_CTX_new());
	len = sizeof(sig);
	assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, mla_privkey_evp(ec)), 1);
	assert_int_equal(EVP_DigestSign(c, sig, &len, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(c);
	assert_true(verifies(mla_privkey_public(ec), EVP_sha256(), msg, sizeof(msg), sig, len));
	/* a TLS context may hold the proxy beyond the mla_privkey (a reload): it still signs,
	 * and the keyholder forgets the key only when the last holder lets go */
	{
		EVP_PKEY *held = mla_privkey_evp(ec);

		assert_int_equal(EVP_PKEY_up_ref(held), 1);
		mla_privkey_free(ec);
		assert_non_null(c = EVP_MD_CTX_new());
		len = sizeof(sig);
		assert_int_equal(EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, held), 1);
		assert_int_equal(EVP_DigestSign(c, sig, &len, msg, sizeof(msg)), 1);
		EVP_MD_CTX_free(c);
		assert_true(verifies(held, EVP_sha256(), msg, sizeof(msg), sig, len));
		EVP_PKEY_free(held);
		assert_false(mla_keyholder_failed());
	}
	mla_privkey_free(ed);
}

/* RSA: OAEP unwrap, one error for any failure; PKCS#1 and PSS signatures through the proxy. */
static void test_rsa(void **state)
{
	static const uint8_t cek[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint8_t ct[256], sig[256], junk[256];
	size_t ct_len = sizeof(ct), len;
	mla_privkey *k = NULL;
	EVP_PKEY_CTX *pc;
	EVP_MD_CTX *c;
	mla_diag d = {MLA_OK, ""};
	mla_buf out;

	(void)state;
	assert_int_equal(mla_privkey_load(rsa_path, &k, NULL), MLA_OK);
	assert_non_null(pc = EVP_PKEY_CTX_new((EVP_PKEY *)(uintptr_t)mla_privkey_public(k), NULL));
	assert_int_equal(EVP_PKEY_encrypt_init(pc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_OAEP_PADDING), 1);
	assert_int_equal(EVP_PKEY_encrypt(pc, ct, &ct_len, cek, sizeof(cek)), 1);
	EVP_PKEY_CTX_free(pc);
	mla_buf_init_secret(&out, 1024);
	assert_int_equal(mla_privkey_unwrap_oaep(k, ct, ct_len, &out, NULL), MLA_OK);
	assert_int_equal(out.len, sizeof(cek));
	assert_memory_equal(out.data, cek, sizeof(cek));
	memset(junk, 0x5a, sizeof(junk));
	out.len = 0;
	assert_int_equal(mla_privkey_unwrap_oaep(k, junk, sizeof(junk), &out, &d), MLA_ERR_DECRYPT);
	assert_string_equal(d.msg, "content key does not decrypt with this key");
	mla_buf_free(&out);
	for (int pss = 0; pss < 2; pss++) {
		assert_non_null(c = EVP_MD_CTX_new());
		len = sizeof(sig);
		assert_int_equal(EVP_DigestSignInit(c, &pc, EVP_sha256(), NULL, mla_privkey_evp(k)),
				 1);
		if (pss)
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_DigestSign(c, sig, &len, cek, sizeof(cek)), 1);
		EVP_MD_CTX_free(c);
		assert_non_null(c = EVP_MD_CTX_new());
		assert_int_equal(EVP_DigestVerifyInit(c, &pc, EVP_sha256(), NULL,
						      (EVP_PKEY *)(uintptr_t)mla_privkey_public(k)),
				 1);
		if (pss)
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_DigestVerify(c, sig, len, cek, sizeof(cek)), 1);
		EVP_MD_CTX_free(c);
	}
	mla_privkey_free(k);
}

static void test_refused_file(void **state)
{
	mla_privkey *k = NULL;
	mla_diag d = {MLA_OK, ""};

	(void)state;
	assert_int_equal(mla_privkey_load(other_path, &k, &d), MLA_ERR_KEY_FILE);
	assert_null(k);
	assert_non_null(strstr(d.msg, "the configuration names no such key file"));
	assert_int_equal(mla_privkey_load("/etc/passwd", &k, &d), MLA_ERR_KEY_FILE);
	assert_false(mla_keyholder_failed());
}

/* One whole answer (its length first) into buf; its length, or -1. */
static ssize_t read_answer(int fd, uint8_t *buf, size_t max)
{
	size_t got = 0, want = 4;
	ssize_t k;

	while (got < want) {
		if ((k = read(fd, buf + got, want - got)) <= 0)
			return -1;
		got += (size_t)k;
		if (got == 4 && want == 4) {
			want = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 |
				    buf[3]);
			if (want > max)
				return -1;
		}
	}
	return (ssize_t)got;
}

/* What a raw request does to a fresh keyholder (that first loaded the RSA key when load is
 * set: slot 1, generation 1, id 0x101): its exit status. */
static int raw_request(int load, const uint8_t *req, size_t n)
{
	int fd, st = 0;
	pid_t p = keyholder_spawn(&fd, 1, allow, NULL);
	uint8_t ans[2048], head[9] = {0, 0, 0, 0, 1, 0, 0, 0, 0};

	if (load) {
		uint32_t len = (uint32_t)(5 + strlen(rsa_path));

		head[0] = (uint8_t)(len >> 24);
		head[1] = (uint8_t)(len >> 16);
		head[2] = (uint8_t)(len >> 8);
		head[3] = (uint8_t)len;
		assert_int_equal(write(fd, head, 9), 9);
		assert_int_equal(write(fd, rsa_path, strlen(rsa_path)), (ssize_t)strlen(rsa_path));
		assert_true(read_answer(fd, ans, sizeof(ans)) > 5 && ans[4] == 0); /* loaded */
	}
	assert_int_equal(write(fd, req, n), (ssize_t)n);
	(void)read(fd, ans, sizeof(ans)); /* an answer, or the end of the channel */
	close(fd);
	assert_int_equal(waitpid(p, &st, 0), p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_outside_protocol(void **state)
{
	static const uint8_t unknown_op[] = {0, 0, 0, 5, 99, 0, 0, 0, 1};
	static const uint8_t unknown_key[] = {0, 0, 0, 6, 3, 0, 0, 0, 42, 'x'};
	static const uint8_t too_long[] = {0, 2, 0, 0, 3};
	static const uint8_t short_head[] = {0, 0, 0, 2, 3, 0};
	static const uint8_t bad_pad[] = {0, 0, 0, 10, 5, 0, 0, 1, 1, 0, 0, 0, 4, 'x'};

	(void)state;
	static const uint8_t good_then_end[] = {0, 0, 0, 5, 2, 0, 0, 1, 1}; /* FREE the key */

	assert_int_equal(raw_request(0, unknown_op, sizeof(unknown_op)), 3);
	assert_int_equal(raw_request(0, unknown_key, sizeof(unknown_key)), 3);
	assert_int_equal(raw_request(0, too_long, sizeof(too_long)), 3);
	assert_int_equal(raw_request(0, short_head, sizeof(short_head)), 3);
	assert_int_equal(raw_request(1, bad_pad, sizeof(bad_pad)), 3);
	/* the control: a request inside the protocol, then the channel closed: a clean end */
	assert_int_equal(raw_request(1, good_then_end, sizeof(good_then_end)), 0);
}

/* The number of threads of process pid that may run on exactly one CPU, and in *cpus the set
 * of those CPUs. */
static int pinned_threads(pid_t pid, cpu_set_t *cpus)
{
	char path[320], line[256];
	struct dirent *t;
	DIR *d;
	int n = 0;

	CPU_ZERO(cpus);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	assert_non_null(d = opendir(path));
	while ((t = readdir(d)) != NULL) {
		FILE *f;

		if (t->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, t->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue; /* ended meanwhile */
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *v = line + 18;
			uint64_t c;

			if (strncmp(line, "Cpus_allowed_list:", 18) != 0)
				continue;
			v += strspn(v, " \t");
			/* one CPU is a number alone: "0-1" or "0,2" are not */
			if (mla_parse_u64n(v, strcspn(v, "\n"), 0, CPU_SETSIZE - 1, &c) == MLA_OK) {
				CPU_SET((int)c, cpus);
				n++;
			}
		}
		(void)fclose(f);
	}
	(void)closedir(d);
	return n;
}

/* The four channels' threads each on one CPU, spread over as many CPUs as there are (up to
 * four), all of them CPUs this process may use. */
static void test_channels_pinned(void **state)
{
	cpu_set_t mine, pinned;
	int n = 0, spread;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	if (CPU_COUNT(&mine) < 2)
		skip(); /* one CPU: nothing is pinned */
	for (int i = 0; i < 200 && (n = pinned_threads(server, &pinned)) < 4; i++)
		usleep(10000); /* each thread pins itself first thing */
	assert_int_equal(n, 4);
	spread = CPU_COUNT(&mine) < 4 ? CPU_COUNT(&mine) : 4;
	assert_int_equal(CPU_COUNT(&pinned), spread);
	CPU_AND(&pinned, &pinned, &mine);
	assert_int_equal(CPU_COUNT(&pinned), spread);
}

/* Last: the keyholder killed, every operation fails and says why. */
static void test_keyholder_gone(void **state)
{
	static const uint8_t msg[] = "x";
	uint8_t sig[128];
	size_t len = sizeof(sig);
	mla_privkey *k = NULL;
	mla_diag d = {MLA_OK, ""};
	int st;

	(void)state;
	assert_int_equal(mla_privkey_load(ec_path, &k, NULL), MLA_OK);
	assert_int_equal(kill(server, SIGKILL), 0);
	assert_int_equal(waitpid(server, &st, 0), server);
	assert_int_equal(mla_privkey_sign(k, msg, 1, sig, &len, &d), MLA_ERR_INTERNAL);
	assert_non_null(strstr(d.msg, "the keyholder is gone"));
	assert_true(mla_keyholder_failed());
	mla_privkey_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_channels_pinned),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_refused_file),
		cmocka_unit_test(test_outside_protocol),
		cmocka_unit_test(test_keyholder_gone),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
