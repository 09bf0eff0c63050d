/* Revocation in the test PKI (include/mlagw/pki.h): the State's index of issued and revoked
 * certificates, kept in the text format of OpenSSL's `ca` database so that a stock
 * `openssl ocsp -index` responder answers for it, and CRLs built from it with OpenSSL's
 * X509_CRL API and signed by the State's root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mlagw/buf.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"
#include "pki_internal.h"
#include "mlagw/privkey.h"

/* A test PKI's index stays small; the bound keeps a damaged file from costing much. */
#define INDEX_MAX ((size_t)4 << 20)
#define SERIAL_HEX_MAX 80
#define SUBJECT_MAX 512
/* The index's field order: status, expiry, revocation time, serial, file, subject. */
#define F_STATUS 0
#define F_REVOKED 2
#define F_SERIAL 3
#define F_SUBJECT 5
#define N_FIELDS 6

static mla_err index_path(const char *state_dir, char out[PATH_MAX], mla_diag *diag)
{
	if (mla_snprintf(out, PATH_MAX, "%s/index.txt", state_dir) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path %s/index.txt too long", state_dir);
	return MLA_OK;
}

/* The index's time format: UTCTime, YYMMDDHHMMSSZ (as `openssl ca` writes it). */
static mla_err index_time(const ASN1_TIME *t, char out[16], mla_diag *diag)
{
	struct tm tm;
	char full[24];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || tm.tm_year < 50 || tm.tm_year >= 150 ||
	    strftime(full, sizeof(full), "%Y%m%d%H%M%SZ", &tm) != 15)
		return mla_fail(diag, MLA_ERR_ARG, "a time outside 1950..2049 cannot be indexed");
	memcpy(out, full + 2, 14); /* the century dropped: YYMMDDHHMMSSZ and its NUL */
	return MLA_OK;
}

/* Upper-case hex of the serial, an even number of digits (as `openssl ca` writes it). */
static mla_err serial_hex(X509 *cert, char out[SERIAL_HEX_MAX], mla_diag *diag)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	mla_err r = MLA_OK;

	if (hex == NULL || hex[0] == '-')
		r = mla_fail(diag, MLA_ERR_ARG, "certificate serial number not usable");
	else if (mla_snprintf(out, SERIAL_HEX_MAX, "%s%s", strlen(hex) % 2 ? "0" : "", hex) !=
		 MLA_OK)
		r = mla_fail(diag, MLA_ERR_ARG, "certificate serial number too long");
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* One index line for cert: valid ("V") or revoked at when ("R"). */
static mla_err index_line(X509 *cert, time_t when, int revoked, mla_buf *out, mla_diag *diag)
{
	char expiry[16], rtime[16] = "", serial[SERIAL_HEX_MAX], subject[SUBJECT_MAX];
	ASN1_TIME *t = NULL;
	mla_err r;

	if ((r = index_time(X509_get0_notAfter(cert), expiry, diag)) != MLA_OK ||
	    (r = serial_hex(cert, serial, diag)) != MLA_OK)
		return r;
	if (revoked) {
		if ((t = ASN1_TIME_set(NULL, when)) == NULL)
			return mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
		r = index_time(t, rtime, diag);
		ASN1_TIME_free(t);
		if (r != MLA_OK)
			return r;
	}
	if (X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject)) == NULL ||
	    strpbrk(subject, "\t\n") != NULL)
		return mla_fail(diag, MLA_ERR_ARG, "certificate subject cannot be indexed");
	if (mla_buf_printf(out, "%s\t%s\t%s\t%s\tunknown\t%s\n", revoked ? "R" : "V", expiry,
			   rtime, serial, subject) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "index larger than %zu bytes", INDEX_MAX);
	return MLA_OK;
}

/* The index's bytes ("" when it does not exist yet). */
static mla_err index_read(const char *path, mla_buf *out, mla_diag *diag)
{
	FILE *fp = fopen(path, "rbe");
	char chunk[4096];
	size_t n;
	mla_err r = MLA_OK;

	if (fp == NULL)
		return errno == ENOENT ? MLA_OK
				       : mla_fail(diag, MLA_ERR_IO, "cannot open %s: %s", path,
						  strerror(errno));
	while (r == MLA_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (mla_buf_append(out, chunk, n) != MLA_OK)
			r = mla_fail(diag, MLA_ERR_TOO_LARGE, "%s is larger than %zu bytes", path,
				     INDEX_MAX);
	if (r == MLA_OK && ferror(fp))
		r = mla_fail(diag, MLA_ERR_IO, "cannot read %s", path);
	fclose(fp);
	return r;
}

/* Replaces path with data by a rename, so a reader never sees half a file. */
static mla_err write_atomic(const char *path, const void *data, size_t len, mla_diag *diag)
{
	char tmp[PATH_MAX];
	int fd, ok;

	if (mla_snprintf(tmp, sizeof(tmp), "%s.new", path) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path %s too long", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
	ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return mla_fail(diag, MLA_ERR_IO, "cannot write %s: %s", path, strerror(errno));
	}
	return MLA_OK;
}

/* Splits one line (NUL-terminated, no newline) into its tab-separated fields. */
static int split_fields(char *line, char *f[N_FIELDS])
{
	int n = 0;

	for (char *p = line; n < N_FIELDS; n++) {
		f[n] = p;
		if ((p = strchr(p, '\t')) == NULL)
			return n + 1;
		*p++ = '\0';
	}
	return n;
}

mla_err mla_pki_index_add(const char *state_dir, X509 *cert, mla_diag *diag)
{
	char path[PATH_MAX];
	mla_buf b;
	mla_err r;

	mla_buf_init(&b, INDEX_MAX);
	if ((r = index_path(state_dir, path, diag)) == MLA_OK &&
	    (r = index_read(path, &b, diag)) == MLA_OK &&
	    (r = index_line(cert, 0, 0, &b, diag)) == MLA_OK)
		r = write_atomic(path, b.data, b.len, diag);
	mla_buf_free(&b);
	return r;
}

/* Copies the index in to out with cert's line marked revoked at when (added if absent). */
static mla_err mark_revoked(mla_buf *in, X509 *cert, time_t when, mla_buf *out, mla_diag *diag)
{
	char serial[SERIAL_HEX_MAX], *line, *f[N_FIELDS], *next;
	mla_err r;

	if ((r = serial_hex(cert, serial, diag)) != MLA_OK ||
	    mla_buf_terminate(in) != MLA_OK)
		return r != MLA_OK ? r : mla_fail(diag, MLA_ERR_TOO_LARGE, "index too large");
	for (line = (char *)in->data; line != NULL && *line != '\0'; line = next) {
		char copy[SUBJECT_MAX + 256];
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (mla_strcpy(copy, sizeof(copy), line) == MLA_OK &&
		    split_fields(copy, f) == N_FIELDS && strcmp(f[F_SERIAL], serial) == 0) {
			if (strcmp(f[F_STATUS], "R") == 0)
				return mla_fail(diag, MLA_ERR_EXISTS, "certificate %s is already "
						"revoked (since %s)", serial, f[F_REVOKED]);
			continue; /* replaced by the revoked line below */
		}
		if (mla_buf_printf(out, "%s\n", line) != MLA_OK)
			return mla_fail(diag, MLA_ERR_TOO_LARGE, "index too large");
	}
	return index_line(cert, when, 1, out, diag);
}

mla_err mla_pki_revoke(const char *state_dir, X509 *cert, time_t when, mla_diag *diag)
{
	char path[PATH_MAX];
	X509 *root = NULL;
	mla_buf in, out;
	mla_err r;

	mla_buf_init(&in, INDEX_MAX);
	mla_buf_init(&out, INDEX_MAX);
	if (cert == NULL || state_dir == NULL) {
		r = mla_fail(diag, MLA_ERR_ARG, "mla_pki_revoke: NULL argument");
		goto out;
	}
	if ((r = pki_load_root(state_dir, &root, NULL, diag)) != MLA_OK)
		goto out;
	if (X509_check_issued(root, cert) != X509_V_OK) {
		r = mla_fail(diag, MLA_ERR_CERT_UNTRUSTED, "the certificate was not issued by "
			     "%s/root.crt", state_dir);
		goto out;
	}
	if ((r = index_path(state_dir, path, diag)) == MLA_OK &&
	    (r = index_read(path, &in, diag)) == MLA_OK &&
	    (r = mark_revoked(&in, cert, when, &out, diag)) == MLA_OK)
		r = write_atomic(path, out.data, out.len, diag);
out:
	X509_free(root);
	mla_buf_free(&in);
	mla_buf_free(&out);
	return r;
}

/* One revoked entry of the CRL from an index line's serial and revocation time. */
static mla_err add_revoked(X509_CRL *crl, const char *serial, const char *rtime,
			   mla_diag *diag)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = ASN1_TIME_new();
	BIGNUM *bn = NULL;
	mla_err r = MLA_ERR_NOMEM;

	if (rev == NULL || t == NULL)
		goto out;
	if (BN_hex2bn(&bn, serial) != (int)strlen(serial) ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL || ASN1_TIME_set_string(t, rtime) != 1) {
		r = mla_fail(diag, MLA_ERR_ARG, "index line for %.40s is damaged", serial);
		goto out;
	}
	if (X509_REVOKED_set_serialNumber(rev, sn) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, t) != 1 || X509_CRL_add0_revoked(crl, rev) != 1)
		goto out;
	rev = NULL; /* the CRL's now */
	r = MLA_OK;
out:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	BN_free(bn);
	return r;
}

static mla_err add_index_revoked(X509_CRL *crl, mla_buf *index, mla_diag *diag)
{
	char *line, *next, *f[N_FIELDS];
	mla_err r = MLA_OK;

	if (mla_buf_terminate(index) != MLA_OK)
		return mla_fail(diag, MLA_ERR_TOO_LARGE, "index too large");
	for (line = (char *)index->data; r == MLA_OK && line != NULL && *line != '\0';
	     line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (split_fields(line, f) == N_FIELDS && strcmp(f[F_STATUS], "R") == 0)
			r = add_revoked(crl, f[F_SERIAL], f[F_REVOKED], diag);
	}
	return r;
}

/* Version 2, issuer, dates, CRL number (the issue time: increasing without a counter file)
 * and authority key identifier. */
static mla_err crl_fields(X509_CRL *crl, X509 *root, time_t this_update, time_t next_update,
			  mla_diag *diag)
{
	ASN1_TIME *tu = ASN1_TIME_set(NULL, this_update), *nu = ASN1_TIME_set(NULL, next_update);
	ASN1_INTEGER *number = ASN1_INTEGER_new();
	X509_EXTENSION *aki = NULL;
	X509V3_CTX ctx;
	int ok;

	X509V3_set_ctx(&ctx, root, NULL, NULL, crl, 0);
	ok = tu != NULL && nu != NULL && number != NULL && next_update > this_update &&
	     X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1 &&
	     X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) == 1 &&
	     X509_CRL_set1_lastUpdate(crl, tu) == 1 && X509_CRL_set1_nextUpdate(crl, nu) == 1 &&
	     ASN1_INTEGER_set_int64(number, (int64_t)this_update) == 1 &&
	     X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) == 1 &&
	     (aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
					 "keyid:always")) != NULL &&
	     X509_CRL_add_ext(crl, aki, -1) == 1;
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(number);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	if (!ok)
		return mla_fail(diag, MLA_ERR_ARG, "cannot build the CRL (next update must follow "
				"this update): %s", ERR_reason_error_string(ERR_get_error()));
	return MLA_OK;
}

static mla_err write_crl(X509_CRL *crl, const char *out_path, mla_diag *diag)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	mla_err r;

	if (mem == NULL || PEM_write_bio_X509_CRL(mem, crl) != 1 ||
	    (len = BIO_get_mem_data(mem, &data)) <= 0)
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot encode the CRL");
	else
		r = write_atomic(out_path, data, (size_t)len, diag);
	BIO_free(mem);
	return r;
}

mla_err mla_pki_crl(const char *state_dir, time_t this_update, time_t next_update,
		    const char *out_path, mla_diag *diag)
{
	char path[PATH_MAX];
	X509 *root = NULL;
	mla_privkey *key = NULL;
	X509_CRL *crl = X509_CRL_new();
	mla_buf index;
	mla_err r;

	mla_buf_init(&index, INDEX_MAX);
	if (crl == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = pki_load_root(state_dir, &root, &key, diag)) != MLA_OK ||
	    (r = index_path(state_dir, path, diag)) != MLA_OK ||
	    (r = index_read(path, &index, diag)) != MLA_OK ||
	    (r = crl_fields(crl, root, this_update, next_update, diag)) != MLA_OK ||
	    (r = add_index_revoked(crl, &index, diag)) != MLA_OK)
		goto out;
	if (X509_CRL_sort(crl) != 1 ||
	    X509_CRL_sign(crl, mla_privkey_evp(key), EVP_sha256()) <= 0) {
		r = mla_fail(diag, MLA_ERR_INTERNAL, "cannot sign the CRL with %s/root.key",
			     state_dir);
		goto out;
	}
	r = write_crl(crl, out_path, diag);
out:
	X509_CRL_free(crl);
	X509_free(root);
	mla_privkey_free(key);
	mla_buf_free(&index);
	return r;
}
