/* PEM key and certificate files (see include/mlagw/pem.h): certificates, no-clobber durable
 * writes (O_EXCL, fsync), and certificate fingerprints. Private keys are read by privkey.c.
 * Key bytes pass through a stdio buffer we own, so it can be wiped after fclose. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "pem_internal.h"

/* A PEM file with more certificates than this is not a chain we would ever use. */
#define PEM_MAX_CERTS 64
/* Size of the stdio buffer used for key material; wiped after use. */
#define PEM_KEY_IOBUF 4096

/* The reason of the most recent OpenSSL error (a static string), clearing the queue so
 * that stale errors never leak into a later message. */
const char *pem_ossl_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e != 0 ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return s != NULL ? s : "no detail from OpenSSL";
}

/* Never prompt on the terminal for a passphrase: a daemon has nobody to ask. */
int pem_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Opens path read-only; *st receives fstat of the opened file (not of the name, so
 * the checks apply to exactly what we read). */
mla_err pem_open_read(const char *path, const char *what, mla_err code, int *fdp,
			 struct stat *st, mla_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return mla_fail(diag, code, "cannot open %s %s: %s", what, path, strerror(errno));
	if (fstat(fd, st) != 0) {
		int e = errno;
		(void)close(fd);
		return mla_fail(diag, code, "cannot stat %s %s: %s", what, path, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		(void)close(fd);
		return mla_fail(diag, code, "%s %s is not a regular file", what, path);
	}
	*fdp = fd;
	return MLA_OK;
}

/* Reads every certificate of fp into certs. Stops at the end of the file (OpenSSL reports
 * "no start line"); any other failure is a malformed certificate. */
static mla_err read_certs_fp(FILE *fp, const char *path, STACK_OF(X509) *certs,
			     mla_diag *diag)
{
	X509 *x;

	ERR_clear_error();
	while ((x = PEM_read_X509(fp, NULL, pem_no_passphrase, NULL)) != NULL) {
		if (sk_X509_num(certs) >= PEM_MAX_CERTS) {
			X509_free(x);
			return mla_fail(diag, MLA_ERR_CERT_FILE,
					"certificate file %s holds more than %d certificates", path,
					PEM_MAX_CERTS);
		}
		if (sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			return mla_fail(diag, MLA_ERR_NOMEM, "out of memory reading %s", path);
		}
	}
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE)
		return mla_fail(diag, MLA_ERR_CERT_FILE,
				"certificate %d in %s is malformed: %s", sk_X509_num(certs) + 1,
				path, pem_ossl_reason());
	ERR_clear_error();
	if (sk_X509_num(certs) == 0)
		return mla_fail(diag, MLA_ERR_CERT_FILE, "no PEM certificate found in %s", path);
	return MLA_OK;
}

mla_err mla_pem_load_certs(const char *path, STACK_OF(X509) **out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	STACK_OF(X509) *certs = NULL;
	struct stat st;
	FILE *fp = NULL;
	int fd = -1;

	if (path == NULL || out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pem_load_certs: NULL argument");
	if ((r = pem_open_read(path, "certificate file", MLA_ERR_CERT_FILE, &fd, &st, diag)) !=
	    MLA_OK)
		goto out;
	if ((fp = fdopen(fd, "r")) == NULL) {
		r = mla_fail(diag, MLA_ERR_CERT_FILE, "cannot read certificate file %s: %s", path,
			     strerror(errno));
		goto out;
	}
	fd = -1;
	if ((certs = sk_X509_new_null()) == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory reading %s", path);
		goto out;
	}
	if ((r = read_certs_fp(fp, path, certs, diag)) != MLA_OK)
		goto out;
	*out = certs;
	certs = NULL;
	r = MLA_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	if (fp != NULL)
		(void)fclose(fp);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

mla_err mla_pem_load_cert(const char *path, X509 **out, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	STACK_OF(X509) *certs = NULL;

	if (out == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pem_load_cert: NULL argument");
	if ((r = mla_pem_load_certs(path, &certs, diag)) != MLA_OK)
		goto out;
	*out = sk_X509_shift(certs); /* the stack is non-empty on success */
	r = MLA_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}

/* Creates (or, with overwrite, truncates) path with exactly mode: fchmod because an
 * existing file keeps its old mode through O_TRUNC and umask may narrow a new one. */
static mla_err open_write(const char *path, const char *what, mode_t mode, int overwrite,
			  int *fdp, mla_diag *diag)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
	int fd;

	flags |= overwrite ? O_TRUNC : O_EXCL;
	if ((fd = open(path, flags, mode)) < 0) {
		if (errno == EEXIST)
			return mla_fail(diag, MLA_ERR_EXISTS, "%s %s already exists", what, path);
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s %s: %s", what, path,
				strerror(errno));
	}
	if (fchmod(fd, mode) != 0) {
		int e = errno;
		(void)close(fd);
		(void)unlink(path);
		return mla_fail(diag, MLA_ERR_IO, "cannot set mode of %s %s: %s", what, path,
				strerror(e));
	}
	*fdp = fd;
	return MLA_OK;
}

/* Flushes fp to disk and closes it; any failure means the file is not durable. */
static mla_err finish_write(FILE *fp, const char *what, const char *path, mla_diag *diag)
{
	int failed = fflush(fp) != 0 || ferror(fp) || fsync(fileno(fp)) != 0;
	int e = errno;

	if (fclose(fp) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	if (failed)
		return mla_fail(diag, MLA_ERR_IO, "cannot write %s %s: %s", what, path,
				strerror(e));
	return MLA_OK;
}

/* The PEM writer each public write function plugs into write_pem(). */
typedef int (*pem_writer)(FILE *fp, void *obj);

static int write_key_pem(FILE *fp, void *obj)
{
	/* PEM_write_PrivateKey emits PKCS#8 ("BEGIN PRIVATE KEY") in OpenSSL 3. */
	return PEM_write_PrivateKey(fp, obj, NULL, NULL, 0, NULL, NULL);
}

static int write_cert_pem(FILE *fp, void *obj)
{
	return PEM_write_X509(fp, obj);
}

static mla_err write_pem(const char *path, const char *what, mode_t mode, int overwrite,
			 pem_writer writer, void *obj, mla_diag *diag)
{
	mla_err r = MLA_ERR_INTERNAL;
	unsigned char iobuf[PEM_KEY_IOBUF];
	FILE *fp = NULL;
	int fd = -1;

	if ((r = open_write(path, what, mode, overwrite, &fd, diag)) != MLA_OK)
		return r; /* nothing created, so nothing to remove */
	if ((fp = fdopen(fd, "w")) == NULL) {
		r = mla_fail(diag, MLA_ERR_IO, "cannot write %s %s: %s", what, path,
			     strerror(errno));
		goto out;
	}
	fd = -1;
	if (setvbuf(fp, (char *)iobuf, _IOFBF, sizeof(iobuf)) != 0) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot set buffer for %s %s", what, path);
		goto out;
	}
	if (writer(fp, obj) != 1) {
		r = mla_fail(diag, MLA_ERR_IO, "cannot encode %s %s: %s", what, path,
			     pem_ossl_reason());
		goto out;
	}
	r = finish_write(fp, what, path, diag);
	fp = NULL;
out:
	if (fp != NULL)
		(void)fclose(fp);
	if (fd >= 0)
		(void)close(fd);
	if (r != MLA_OK)
		(void)unlink(path); /* never leave a truncated key or certificate behind */
	OPENSSL_cleanse(iobuf, sizeof(iobuf));
	return r;
}

mla_err mla_pem_write_key(const char *path, EVP_PKEY *key, int overwrite, mla_diag *diag)
{
	if (path == NULL || key == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pem_write_key: NULL argument");
	return write_pem(path, "key file", 0600, overwrite, write_key_pem, key, diag);
}

mla_err mla_pem_write_cert(const char *path, X509 *cert, int overwrite, mla_diag *diag)
{
	if (path == NULL || cert == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "mla_pem_write_cert: NULL argument");
	return write_pem(path, "certificate file", 0644, overwrite, write_cert_pem, cert, diag);
}

mla_err mla_cert_fingerprint(X509 *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (cert == NULL || out == NULL)
		return MLA_ERR_ARG;
	/* X509_digest hashes the DER encoding of the whole certificate. */
	if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32) {
		ERR_clear_error();
		return MLA_ERR_INTERNAL;
	}
	return mla_hex_encode(md, len, out, 65);
}
