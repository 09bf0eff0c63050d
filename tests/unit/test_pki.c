/* Unit tests of the test PKI (certs/pki_*.c) and the PEM helpers (protocol/pem.c):
 * files and modes, chains, key usages and key types, refusal cases, expiry. */
#define _XOPEN_SOURCE 700 /* nftw(), to remove the temporary directories */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "mlagw/privkey.h"

/* One PKI shared by the read-only tests: ES with default options, made by group setup. */
static char g_dir[64];

static const char *const names[] = {"root", "tls", "sign", "encrypt", "audit"};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *dir)
{
	(void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_tmpdir(char *buf, size_t len)
{
	assert_true(snprintf(buf, len, "/tmp/mlagw-test-pki-XXXXXX") < (int)len);
	assert_non_null(mkdtemp(buf));
}

static void path_of(char *buf, size_t len, const char *dir, const char *state,
		    const char *name, const char *ext)
{
	int n = snprintf(buf, len, "%s/%s/%s.%s", dir, state, name, ext);
	assert_true(n > 0 && (size_t)n < len);
}

static mla_err init_state(const char *dir, const char *state, int rsa_bits, int overwrite,
			  mla_diag *diag)
{
	mla_pki_opts o;

	memset(&o, 0, sizeof(o));
	o.state = state;
	o.out_dir = dir;
	o.rsa_bits = rsa_bits;
	o.overwrite = overwrite;
	return mla_pki_init(&o, diag);
}

static X509 *load_cert(const char *dir, const char *state, const char *name)
{
	char path[512];
	X509 *x = NULL;
	mla_diag d = {0};

	path_of(path, sizeof(path), dir, state, name, "crt");
	assert_int_equal(mla_pem_load_cert(path, &x, &d), MLA_OK);
	return x;
}

static int group_setup(void **state)
{
	mla_diag d = {0};

	(void)state;
	make_tmpdir(g_dir, sizeof(g_dir));
	if (init_state(g_dir, "ES", 0, 0, &d) != MLA_OK) {
		fprintf(stderr, "setup: %s\n", mla_diag_message(&d));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_tree(g_dir);
	return 0;
}

static void test_init_writes_all_files_with_modes(void **state)
{
	char path[512];
	struct stat st;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		path_of(path, sizeof(path), g_dir, "ES", names[i], "key");
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		path_of(path, sizeof(path), g_dir, "ES", names[i], "crt");
		assert_int_equal(stat(path, &st), 0);
		assert_true(st.st_size > 0);
	}
}

/* Verifies leaf against a store holding only the State's root, at the current time. */
static int verify_against_root(X509 *root, X509 *leaf, int purpose, int *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
	if (purpose != 0)
		assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	ok = X509_verify_cert(ctx);
	*err = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void test_leaves_chain_to_root(void **state)
{
	X509 *root = load_cert(g_dir, "ES", "root");
	int err = 0;

	(void)state;
	assert_int_equal(X509_check_ca(root), 1);
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		X509 *leaf = load_cert(g_dir, "ES", names[i]);
		int ok = verify_against_root(root, leaf, 0, &err);
		if (ok != 1)
			fail_msg("%s.crt does not verify: %s", names[i],
				 X509_verify_cert_error_string(err));
		assert_int_equal(X509_check_ca(leaf), 0);
		X509_free(leaf);
	}
	X509_free(root);
}

static void test_key_usage_per_role(void **state)
{
	static const struct {
		const char *name;
		uint32_t ku;
	} want[] = {
		{"root", KU_KEY_CERT_SIGN | KU_CRL_SIGN},
		{"tls", KU_DIGITAL_SIGNATURE},
		{"sign", KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION},
		{"encrypt", KU_KEY_ENCIPHERMENT},
		{"audit", KU_DIGITAL_SIGNATURE},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		X509 *x = load_cert(g_dir, "ES", want[i].name);
		if (X509_get_key_usage(x) != want[i].ku)
			fail_msg("%s.crt key usage %#x, want %#x", want[i].name,
				 (unsigned int)X509_get_key_usage(x), (unsigned int)want[i].ku);
		if (strcmp(want[i].name, "tls") == 0)
			assert_int_equal(X509_get_extended_key_usage(x),
					 XKU_SSL_SERVER | XKU_SSL_CLIENT);
		else
			assert_int_equal(X509_get_extended_key_usage(x), UINT32_MAX);
		X509_free(x);
	}
}

static void test_tls_cert_names_and_purpose(void **state)
{
	X509 *root = load_cert(g_dir, "ES", "root");
	X509 *tls = load_cert(g_dir, "ES", "tls");
	X509_NAME *subj = X509_get_subject_name(tls);
	char buf[128];
	int err = 0;

	(void)state;
	assert_int_equal(X509_check_host(tls, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(tls, "127.0.0.1", 0), 1);
	assert_int_not_equal(X509_check_host(tls, "example.org", 0, 0, NULL), 1);
	assert_true(X509_NAME_get_text_by_NID(subj, NID_countryName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "ES");
	assert_true(X509_NAME_get_text_by_NID(subj, NID_organizationName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "ES Ministry of Justice (test PKI)");
	assert_int_equal(verify_against_root(root, tls, X509_PURPOSE_SSL_SERVER, &err), 1);
	assert_int_equal(verify_against_root(root, tls, X509_PURPOSE_SSL_CLIENT, &err), 1);
	X509_free(tls);
	X509_free(root);
}

static void test_key_types_and_keys_match(void **state)
{
	static const int want[] = {EVP_PKEY_EC, EVP_PKEY_EC, EVP_PKEY_EC, EVP_PKEY_RSA,
				   EVP_PKEY_ED25519};
	char path[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		X509 *x = load_cert(g_dir, "ES", names[i]);
		mla_privkey *k = NULL;
		EVP_PKEY *key;
		mla_diag d = {0};

		path_of(path, sizeof(path), g_dir, "ES", names[i], "key");
		assert_int_equal(mla_privkey_load(path, &k, &d), MLA_OK);
		key = mla_privkey_evp(k);
		assert_int_equal(EVP_PKEY_get_base_id(key), want[i]);
		assert_int_equal(X509_check_private_key(x, key), 1);
		if (want[i] == EVP_PKEY_RSA)
			assert_int_equal(EVP_PKEY_get_bits(key), 3072);
		if (want[i] == EVP_PKEY_EC)
			assert_int_equal(EVP_PKEY_get_bits(key), 256);
		mla_privkey_free(k);
		X509_free(x);
	}
}

static void test_key_file_is_pkcs8(void **state)
{
	char path[512], line[64] = "";
	FILE *fp;

	(void)state;
	path_of(path, sizeof(path), g_dir, "ES", "encrypt", "key");
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_string_equal(line, "-----BEGIN PRIVATE KEY-----\n");
}

static void test_rsa_bits_4096(void **state)
{
	char dir[64];
	X509 *x;
	mla_diag d = {0};

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(init_state(dir, "PT", 4096, 0, &d), MLA_OK);
	x = load_cert(dir, "PT", "encrypt");
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(x)), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 4096);
	X509_free(x);
	rm_tree(dir);
}

static void test_second_init_same_state_refused(void **state)
{
	char fp_before[65], fp_after[65];
	X509 *x = load_cert(g_dir, "ES", "root");
	mla_diag d = {0};

	(void)state;
	assert_int_equal(mla_cert_fingerprint(x, fp_before), MLA_OK);
	X509_free(x);
	assert_int_equal(init_state(g_dir, "ES", 0, 0, &d), MLA_ERR_EXISTS);
	assert_non_null(strstr(d.msg, "/ES/root.crt"));
	x = load_cert(g_dir, "ES", "root");
	assert_int_equal(mla_cert_fingerprint(x, fp_after), MLA_OK);
	X509_free(x);
	assert_string_equal(fp_before, fp_after); /* the refused run changed nothing */
}

static void test_overwrite_replaces(void **state)
{
	char dir[64], fp_before[65], fp_after[65];
	mla_diag d = {0};
	X509 *x;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(init_state(dir, "IT", 0, 0, &d), MLA_OK);
	x = load_cert(dir, "IT", "root");
	assert_int_equal(mla_cert_fingerprint(x, fp_before), MLA_OK);
	X509_free(x);
	assert_int_equal(init_state(dir, "IT", 0, 1, &d), MLA_OK);
	x = load_cert(dir, "IT", "root");
	assert_int_equal(mla_cert_fingerprint(x, fp_after), MLA_OK);
	X509_free(x);
	assert_string_not_equal(fp_before, fp_after);
	rm_tree(dir);
}

static void test_second_state_adds_sibling(void **state)
{
	char dir[64], path[512];
	X509 *es, *fr;
	mla_diag d = {0};
	struct stat st;
	int err = 0;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(init_state(dir, "CO", 0, 0, &d), MLA_OK);
	assert_int_equal(init_state(dir, "FR", 0, 0, &d), MLA_OK);
	path_of(path, sizeof(path), dir, "CO", "root", "crt");
	assert_int_equal(stat(path, &st), 0);
	path_of(path, sizeof(path), dir, "FR", "audit", "key");
	assert_int_equal(stat(path, &st), 0);
	/* Each State has its own root: FR's leaf must not verify against CO's root. */
	es = load_cert(dir, "CO", "root");
	fr = load_cert(dir, "FR", "sign");
	assert_int_equal(verify_against_root(es, fr, 0, &err), 0);
	X509_free(es);
	X509_free(fr);
	rm_tree(dir);
}

static void test_invalid_state_code(void **state)
{
	static const char *const bad[] = {"es", "ESP", "E", "", "E1", "É"};
	char dir[64], sub[128];
	mla_diag d = {0};
	struct stat st;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(init_state(dir, bad[i], 0, 0, &d), MLA_ERR_ARG);
		assert_non_null(strstr(d.msg, "ISO 3166-1 alpha-2"));
	}
	assert_true(snprintf(sub, sizeof(sub), "%s/es", dir) > 0);
	assert_int_not_equal(stat(sub, &st), 0);
	rm_tree(dir);
}

static void test_rsa_1024_refused(void **state)
{
	char dir[64], sub[128];
	mla_diag d = {0};
	struct stat st;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_int_equal(init_state(dir, "DE", 1024, 0, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "1024"));
	assert_true(snprintf(sub, sizeof(sub), "%s/DE", dir) > 0);
	assert_int_not_equal(stat(sub, &st), 0); /* nothing was created */
	rm_tree(dir);
}

/* A failed run removes what it made, the keys' folder (--keys-out) included. */
static void test_bad_host_refused_and_rolled_back(void **state)
{
	char dir[64], sub[128], kdir[128];
	mla_pki_opts o;
	mla_diag d = {0};
	struct stat st;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_true(snprintf(kdir, sizeof(kdir), "%s/keys", dir) > 0);
	memset(&o, 0, sizeof(o));
	o.state = "NL";
	o.out_dir = dir;
	o.keys_dir = kdir;
	o.hosts = "gw.example,bad host";
	assert_int_equal(mla_pki_init(&o, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "bad host"));
	assert_true(snprintf(sub, sizeof(sub), "%s/NL", dir) > 0);
	assert_int_not_equal(stat(sub, &st), 0);
	assert_int_not_equal(stat(kdir, &st), 0);
	rm_tree(dir);
}

/* --keys-out: the leaves' keys in KDIR/CC (0700), each matching its certificate; the
 * certificates and root.key in DIR/CC, no leaf key there. */
static void test_keys_out_folder(void **state)
{
	char dir[64], kdir[128], path[512];
	mla_pki_opts o;
	mla_diag d = {0};
	struct stat st;
	mla_privkey *key = NULL;
	X509 *cert;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_true(snprintf(kdir, sizeof(kdir), "%s/keys", dir) > 0);
	memset(&o, 0, sizeof(o));
	o.state = "PT";
	o.out_dir = dir;
	o.keys_dir = "";
	o.rsa_bits = 2048;
	assert_int_equal(mla_pki_init(&o, &d), MLA_ERR_ARG);
	assert_non_null(strstr(d.msg, "empty keys directory"));
	o.keys_dir = kdir;
	assert_int_equal(mla_pki_init(&o, &d), MLA_OK);
	path_of(path, sizeof(path), kdir, "PT", "tls", "key");
	assert_int_equal(stat(path, &st), 0);
	assert_true(snprintf(path, sizeof(path), "%s/PT", kdir) > 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++) {
		path_of(path, sizeof(path), dir, "PT", names[i], "key");
		assert_int_not_equal(stat(path, &st), 0); /* not beside the certificate */
		path_of(path, sizeof(path), kdir, "PT", names[i], "key");
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(mla_privkey_load(path, &key, &d), MLA_OK);
		cert = load_cert(dir, "PT", names[i]);
		assert_int_equal(X509_check_private_key(cert, mla_privkey_evp(key)), 1);
		X509_free(cert);
		mla_privkey_free(key);
		key = NULL;
	}
	path_of(path, sizeof(path), dir, "PT", "root", "key"); /* the CA's stays with it */
	assert_int_equal(stat(path, &st), 0);
	path_of(path, sizeof(path), kdir, "PT", "root", "key");
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(mla_pki_key_dir(&o, path, sizeof(path), &d), MLA_OK);
	assert_true(strcmp(path + strlen(path) - 8, "/keys/PT") == 0);
	rm_tree(dir);
}

static void test_load_key_refuses_0644(void **state)
{
	char dir[64], path[128];
	EVP_PKEY *key = NULL;
	mla_privkey *loaded = NULL;
	mla_diag d = {0};

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_true(snprintf(path, sizeof(path), "%s/k.key", dir) > 0);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &key, &d), MLA_OK);
	assert_int_equal(mla_pem_write_key(path, key, 0, &d), MLA_OK);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(mla_privkey_load(path, &loaded, &d), MLA_ERR_KEY_FILE);
	assert_null(loaded);
	assert_non_null(strstr(d.msg, path));
	assert_non_null(strstr(d.msg, "0644"));
	assert_int_equal(chmod(path, 0640), 0); /* group-readable is refused too */
	assert_int_equal(mla_privkey_load(path, &loaded, &d), MLA_ERR_KEY_FILE);
	assert_null(loaded);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(mla_privkey_load(path, &loaded, &d), MLA_OK);
	assert_int_equal(EVP_PKEY_eq(key, mla_privkey_evp(loaded)), 1);
	mla_privkey_free(loaded);
	EVP_PKEY_free(key);
	rm_tree(dir);
}

static void test_write_refuses_existing(void **state)
{
	char path[512];
	X509 *x = load_cert(g_dir, "ES", "tls");
	mla_diag d = {0};

	(void)state;
	path_of(path, sizeof(path), g_dir, "ES", "tls", "crt");
	assert_int_equal(mla_pem_write_cert(path, x, 0, &d), MLA_ERR_EXISTS);
	assert_non_null(strstr(d.msg, path));
	X509_free(x);
}

static void test_load_certs_without_cert(void **state)
{
	char dir[64], path[128];
	STACK_OF(X509) *certs = NULL;
	mla_diag d = {0};
	FILE *fp;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_true(snprintf(path, sizeof(path), "%s/empty.crt", dir) > 0);
	assert_non_null(fp = fopen(path, "w"));
	fputs("not a certificate\n", fp);
	fclose(fp);
	assert_int_equal(mla_pem_load_certs(path, &certs, &d), MLA_ERR_CERT_FILE);
	assert_null(certs);
	assert_non_null(strstr(d.msg, path));
	/* A key file is PEM too, but holds no certificate. */
	path_of(path, sizeof(path), g_dir, "ES", "sign", "key");
	assert_int_equal(mla_pem_load_certs(path, &certs, &d), MLA_ERR_CERT_FILE);
	assert_null(certs);
	rm_tree(dir);
}

static void test_load_certs_reads_all(void **state)
{
	char dir[64], path[128];
	STACK_OF(X509) *certs = NULL;
	X509 *root = load_cert(g_dir, "ES", "root");
	X509 *tls = load_cert(g_dir, "ES", "tls");
	mla_diag d = {0};
	FILE *fp;

	(void)state;
	make_tmpdir(dir, sizeof(dir));
	assert_true(snprintf(path, sizeof(path), "%s/chain.pem", dir) > 0);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, tls), 1);
	assert_int_equal(PEM_write_X509(fp, root), 1);
	fclose(fp);
	assert_int_equal(mla_pem_load_certs(path, &certs, &d), MLA_OK);
	assert_int_equal(sk_X509_num(certs), 2);
	assert_int_equal(X509_cmp(sk_X509_value(certs, 0), tls), 0);
	assert_int_equal(X509_cmp(sk_X509_value(certs, 1), root), 0);
	sk_X509_pop_free(certs, X509_free);
	X509_free(root);
	X509_free(tls);
	rm_tree(dir);
}

static void test_fingerprint_is_sha256_of_der(void **state)
{
	X509 *x = load_cert(g_dir, "ES", "root");
	unsigned char *der = NULL, md[32];
	char want[65], got[65];
	int len;

	(void)state;
	assert_true((len = i2d_X509(x, &der)) > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL), 1);
	for (size_t i = 0; i < sizeof(md); i++)
		assert_int_equal(snprintf(want + 2 * i, 3, "%02x", md[i]), 2);
	assert_int_equal(mla_cert_fingerprint(x, got), MLA_OK);
	assert_string_equal(got, want);
	OPENSSL_free(der);
	X509_free(x);
}

static void test_issue_expired_rejected(void **state)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	time_t now = time(NULL);
	mla_diag d = {0};
	int err = 0;

	(void)state;
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &ca_key, &d), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_ED25519, 0, &key, &d), MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_ROOT, "ES", "root", ca_key, NULL, NULL,
				       now - 3600, now + 86400, NULL, &ca, &d),
			 MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_AUDIT, "ES", "old", key, ca, ca_key,
				       now - 10 * 86400, now - 86400, NULL, &leaf, &d),
			 MLA_OK);
	assert_int_equal(verify_against_root(ca, leaf, 0, &err), 0);
	assert_int_equal(err, X509_V_ERR_CERT_HAS_EXPIRED);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

static void test_issue_ed25519_issuer(void **state)
{
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *leaf = NULL;
	time_t now = time(NULL);
	mla_diag d = {0};
	int err = 0;

	(void)state;
	assert_int_equal(mla_pki_keygen(MLA_KEY_ED25519, 0, &ca_key, &d), MLA_OK);
	assert_int_equal(mla_pki_keygen(MLA_KEY_EC_P256, 0, &key, &d), MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_ROOT, "ES", "root", ca_key, NULL, NULL, now - 60,
				       now + 86400, NULL, &ca, &d),
			 MLA_OK);
	assert_int_equal(mla_pki_issue(MLA_ROLE_SIGN, "ES", "s", key, ca, ca_key, now - 60,
				       now + 86400, NULL, &leaf, &d),
			 MLA_OK);
	assert_int_equal(X509_get_signature_nid(leaf), NID_ED25519);
	assert_int_equal(verify_against_root(ca, leaf, 0, &err), 1);
	/* A leaf needs its issuer's matching key. */
	X509_free(leaf);
	leaf = NULL;
	assert_int_equal(mla_pki_issue(MLA_ROLE_SIGN, "ES", "s", key, ca, key, now - 60,
				       now + 86400, NULL, &leaf, &d),
			 MLA_ERR_ARG);
	assert_null(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

static void test_keygen_rsa_bounds(void **state)
{
	EVP_PKEY *key = NULL;
	mla_diag d = {0};

	(void)state;
	assert_int_equal(mla_pki_keygen(MLA_KEY_RSA, 1024, &key, &d), MLA_ERR_ARG);
	assert_null(key);
	assert_non_null(strstr(d.msg, "1024"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_writes_all_files_with_modes),
		cmocka_unit_test(test_leaves_chain_to_root),
		cmocka_unit_test(test_key_usage_per_role),
		cmocka_unit_test(test_tls_cert_names_and_purpose),
		cmocka_unit_test(test_key_types_and_keys_match),
		cmocka_unit_test(test_key_file_is_pkcs8),
		cmocka_unit_test(test_rsa_bits_4096),
		cmocka_unit_test(test_second_init_same_state_refused),
		cmocka_unit_test(test_overwrite_replaces),
		cmocka_unit_test(test_second_state_adds_sibling),
		cmocka_unit_test(test_invalid_state_code),
		cmocka_unit_test(test_rsa_1024_refused),
		cmocka_unit_test(test_bad_host_refused_and_rolled_back),
		cmocka_unit_test(test_load_key_refuses_0644),
		cmocka_unit_test(test_write_refuses_existing),
		cmocka_unit_test(test_load_certs_without_cert),
		cmocka_unit_test(test_load_certs_reads_all),
		cmocka_unit_test(test_fingerprint_is_sha256_of_der),
		cmocka_unit_test(test_issue_expired_rejected),
		cmocka_unit_test(test_issue_ed25519_issuer),
		cmocka_unit_test(test_keygen_rsa_bounds),
		cmocka_unit_test(test_keys_out_folder),
	};

	return cmocka_run_group_tests_name("pki", tests, group_setup, group_teardown);
}
