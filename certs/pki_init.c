/* mla_pki_init: creates a State's test PKI directory (root CA plus the TLS, signing,
 * encryption and audit leaves) under out_dir/STATE/. A failed run removes what it wrote,
 * so it can simply be run again. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "pki_internal.h"

#define PKI_DEFAULT_RSA_BITS 3072
/* Same bounds as mla_pki_keygen, checked before anything is written. */
#define PKI_RSA_MIN_BITS 2048
#define PKI_RSA_MAX_BITS 16384
#define PKI_DEFAULT_DAYS 730L
/* Leaves cannot usefully outlive the 10-year root. */
#define PKI_MAX_DAYS 3650L
#define PKI_ROOT_YEARS 10
#define PKI_DAY_SECONDS 86400L
/* Tolerance for peers whose clocks run a little behind ours. */
#define PKI_CLOCK_SKEW_SECONDS 300L
#define PKI_NFILES 10

/* Options with defaults applied, plus what a run has written (to undo it on failure). */
struct pki_run {
	char state[3];
	char dir[PATH_MAX];
	char key_dir[PATH_MAX]; /* the leaves' keys: dir, or keys_dir/STATE */
	int rsa_bits;
	long days;
	const char *hosts;
	int overwrite;
	mla_pki_urls urls;
	time_t not_before;
	time_t root_not_after;
	time_t leaf_not_after;
	int created_dir; /* run->dir did not exist before this run */
	int created_keys_top, created_key_dir; /* keys_dir and key_dir, when this run made them */
	int wrote_index; /* index.txt is this run's (removed by a rollback) */
	struct {
		const char *name;
		const char *ext;
	} written[PKI_NFILES];
	int nwritten;
};

static mla_err check_state(const char *state, mla_diag *diag)
{
	if (state == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "no State code given");
	if (strlen(state) != 2 || state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' ||
	    state[1] > 'Z')
		return mla_fail(diag, MLA_ERR_ARG,
				"state code '%.16s' is not ISO 3166-1 alpha-2 (two upper-case "
				"letters)",
				state);
	return MLA_OK;
}

static mla_err apply_opts(const mla_pki_opts *opts, struct pki_run *run, mla_diag *diag)
{
	mla_err r;
	int n;

	if (opts == NULL || opts->out_dir == NULL || opts->out_dir[0] == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "no output directory given");
	if ((r = check_state(opts->state, diag)) != MLA_OK)
		return r;
	memcpy(run->state, opts->state, 3);
	run->rsa_bits = opts->rsa_bits != 0 ? opts->rsa_bits : PKI_DEFAULT_RSA_BITS;
	if (run->rsa_bits < PKI_RSA_MIN_BITS)
		return mla_fail(diag, MLA_ERR_ARG,
				"RSA key size %d bits is too small; the minimum is %d",
				run->rsa_bits, PKI_RSA_MIN_BITS);
	if (run->rsa_bits > PKI_RSA_MAX_BITS)
		return mla_fail(diag, MLA_ERR_ARG,
				"RSA key size %d bits is too large; the maximum is %d",
				run->rsa_bits, PKI_RSA_MAX_BITS);
	run->days = opts->days != 0 ? opts->days : PKI_DEFAULT_DAYS;
	if (run->days < 1 || run->days > PKI_MAX_DAYS)
		return mla_fail(diag, MLA_ERR_ARG, "validity of %ld days is outside 1..%ld",
				run->days, PKI_MAX_DAYS);
	run->hosts = opts->hosts;
	run->overwrite = opts->overwrite;
	run->urls = opts->urls;
	n = snprintf(run->dir, sizeof(run->dir), "%s/%s", opts->out_dir, run->state);
	if (n < 0 || (size_t)n >= sizeof(run->dir) - 16) /* room for "/encrypt.key" */
		return mla_fail(diag, MLA_ERR_ARG, "output directory %s: path too long",
				opts->out_dir);
	if (opts->keys_dir != NULL && opts->keys_dir[0] == '\0')
		return mla_fail(diag, MLA_ERR_ARG, "an empty keys directory given");
	if ((r = mla_pki_key_dir(opts, run->key_dir, sizeof(run->key_dir) - 16, diag)) != MLA_OK)
		return r;
	return MLA_OK;
}

mla_err mla_pki_key_dir(const mla_pki_opts *opts, char *out, size_t cap, mla_diag *diag)
{
	const char *top = opts->keys_dir != NULL ? opts->keys_dir : opts->out_dir;

	if (mla_snprintf(out, cap, "%s/%s", top, opts->state) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "keys directory %s: path too long", top);
	return MLA_OK;
}

static mla_err set_times(struct pki_run *run, mla_diag *diag)
{
	time_t now = time(NULL);

	if (now == (time_t)-1)
		return mla_fail(diag, MLA_ERR_INTERNAL, "cannot read the clock");
	run->not_before = now - PKI_CLOCK_SKEW_SECONDS;
	/* 365.25 days a year, so "10 years" does not end a few days early. */
	run->root_not_after = now + (time_t)(PKI_ROOT_YEARS * 36525L * PKI_DAY_SECONDS / 100);
	run->leaf_not_after = now + (time_t)(run->days * PKI_DAY_SECONDS);
	return MLA_OK;
}

/* mkdir that accepts an existing directory (but not an existing file); *created tells
 * which happened, so a failed run can remove only what it made. */
static mla_err make_dir(const char *path, int *created, mla_diag *diag)
{
	struct stat st;

	*created = 0;
	if (mkdir(path, 0755) == 0) {
		*created = 1;
		return MLA_OK;
	}
	if (errno != EEXIST)
		return mla_fail(diag, MLA_ERR_IO, "cannot create directory %s: %s", path,
				strerror(errno));
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return mla_fail(diag, MLA_ERR_IO, "%s exists and is not a directory", path);
	return MLA_OK;
}

/* NAME.EXT in the State's folder, or a leaf's key in the keys' folder. */
static mla_err file_path(const struct pki_run *run, const char *name, const char *ext,
			 char *out, size_t outlen, mla_diag *diag)
{
	const char *dir = strcmp(ext, "key") == 0 && strcmp(name, "root") != 0 ? run->key_dir
									     : run->dir;
	int n = snprintf(out, outlen, "%s/%s.%s", dir, name, ext);

	if (n < 0 || (size_t)n >= outlen)
		return mla_fail(diag, MLA_ERR_ARG, "path %s/%s.%s too long", dir, name, ext);
	return MLA_OK;
}

/* Refuses to touch a State that is already initialised, unless asked to. */
static mla_err check_not_initialised(const struct pki_run *run, mla_diag *diag)
{
	char path[PATH_MAX];
	struct stat st;
	mla_err r;

	if (run->overwrite)
		return MLA_OK;
	if ((r = file_path(run, "root", "crt", path, sizeof(path), diag)) != MLA_OK)
		return r;
	if (lstat(path, &st) == 0)
		return mla_fail(diag, MLA_ERR_EXISTS,
				"%s already exists; State %s already has a PKI (overwrite not "
				"requested)",
				path, run->state);
	return MLA_OK;
}

static void remember(struct pki_run *run, const char *name, const char *ext)
{
	run->written[run->nwritten].name = name;
	run->written[run->nwritten].ext = ext;
	run->nwritten++;
}

/* Writes NAME.key and NAME.crt and remembers them for rollback. */
static mla_err write_pair(struct pki_run *run, const char *name, X509 *cert, EVP_PKEY *key,
			  mla_diag *diag)
{
	char path[PATH_MAX];
	mla_err r;

	mla_require(run->nwritten + 2 <= PKI_NFILES); /* one root and the fixed leaves */
	if ((r = file_path(run, name, "key", path, sizeof(path), diag)) != MLA_OK ||
	    (r = mla_pem_write_key(path, key, run->overwrite, diag)) != MLA_OK)
		return r;
	remember(run, name, "key");
	if ((r = file_path(run, name, "crt", path, sizeof(path), diag)) != MLA_OK ||
	    (r = mla_pem_write_cert(path, cert, run->overwrite, diag)) != MLA_OK)
		return r;
	remember(run, name, "crt");
	return MLA_OK;
}

static void make_cn(const struct pki_run *run, const char *suffix, char *cn, size_t len)
{
	int n = snprintf(cn, len, "%s %s", run->state, suffix);

	mla_require(n > 0 && (size_t)n < len); /* a checked 2-letter State and a fixed suffix */
}

static mla_err make_leaf(struct pki_run *run, const struct pki_leaf_spec *spec, X509 *root,
			 EVP_PKEY *root_key, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char cn[64];

	make_cn(run, spec->cn_suffix, cn, sizeof(cn));
	if ((r = mla_pki_keygen(spec->key_type, run->rsa_bits, &key, diag)) != MLA_OK)
		goto out;
	if ((r = mla_pki_issue_with(spec->role, run->state, cn, key, root, root_key,
				    run->not_before, run->leaf_not_after, run->hosts, &run->urls,
				    &cert, diag)) != MLA_OK)
		goto out;
	if ((r = write_pair(run, spec->name, cert, key, diag)) != MLA_OK)
		goto out;
	r = mla_pki_index_add(run->dir, cert, diag);
out:
	X509_free(cert);
	EVP_PKEY_free(key);
	return r;
}

/* Generates the root and every leaf; root.crt is written last, because its presence is
 * what marks a State as initialised. */
static mla_err make_all(struct pki_run *run, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	EVP_PKEY *root_key = NULL;
	X509 *root = NULL;
	char cn[64], path[PATH_MAX];

	make_cn(run, "MLA test root CA", cn, sizeof(cn));
	/* the index lists this run's leaves only: a replaced PKI's serials mean nothing now */
	if ((r = file_path(run, "index", "txt", path, sizeof(path), diag)) != MLA_OK)
		goto out;
	if (unlink(path) != 0 && errno != ENOENT) {
		r = mla_fail(diag, MLA_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
		goto out;
	}
	run->wrote_index = 1;
	if ((r = mla_pki_keygen(MLA_KEY_EC_P256, 0, &root_key, diag)) != MLA_OK ||
	    (r = mla_pki_issue(MLA_ROLE_ROOT, run->state, cn, root_key, NULL, NULL,
			       run->not_before, run->root_not_after, NULL, &root, diag)) !=
		    MLA_OK)
		goto out;
	for (size_t i = 0; i < PKI_N_LEAVES; i++)
		if ((r = make_leaf(run, &pki_leaves[i], root, root_key, diag)) != MLA_OK)
			goto out;
	r = write_pair(run, "root", root, root_key, diag);
out:
	X509_free(root);
	EVP_PKEY_free(root_key);
	return r;
}

/* Removes the files (and the State directory) this run created. */
static void rollback(struct pki_run *run)
{
	char path[PATH_MAX];

	for (int i = 0; i < run->nwritten; i++)
		if (file_path(run, run->written[i].name, run->written[i].ext, path, sizeof(path),
			      NULL) == MLA_OK)
			(void)unlink(path);
	run->nwritten = 0;
	if (run->wrote_index && file_path(run, "index", "txt", path, sizeof(path), NULL) == MLA_OK)
		(void)unlink(path);
	if (run->created_dir)
		(void)rmdir(run->dir);
	if (run->created_key_dir)
		(void)rmdir(run->key_dir);
}

/* The keys' folder when it is not the State's: mode 0700, only its owner may list it. */
static mla_err make_key_dir(const mla_pki_opts *opts, struct pki_run *run, mla_diag *diag)
{
	if (opts->keys_dir == NULL)
		return MLA_OK;
	if (make_dir(opts->keys_dir, &run->created_keys_top, diag) != MLA_OK ||
	    make_dir(run->key_dir, &run->created_key_dir, diag) != MLA_OK)
		return MLA_ERR_IO;
	if (chmod(run->key_dir, 0700) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot make %s private: %s", run->key_dir,
				strerror(errno));
	return MLA_OK;
}

mla_err mla_pki_init(const mla_pki_opts *opts, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	struct pki_run run;
	int created_out = 0;

	memset(&run, 0, sizeof(run));
	if ((r = apply_opts(opts, &run, diag)) != MLA_OK ||
	    (r = set_times(&run, diag)) != MLA_OK)
		goto out;
	if ((r = make_dir(opts->out_dir, &created_out, diag)) != MLA_OK ||
	    (r = make_dir(run.dir, &run.created_dir, diag)) != MLA_OK ||
	    (r = check_not_initialised(&run, diag)) != MLA_OK ||
	    (r = make_key_dir(opts, &run, diag)) != MLA_OK)
		goto out;
	if ((r = make_all(&run, diag)) != MLA_OK)
		goto out;
	r = MLA_OK;
out:
	if (r != MLA_OK) {
		rollback(&run);
		if (created_out)
			(void)rmdir(opts->out_dir);
		if (run.created_keys_top)
			(void)rmdir(opts->keys_dir);
	}
	return r;
}
