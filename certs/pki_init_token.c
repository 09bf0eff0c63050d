/* `mlagw pki init --pkcs11`: the State's test PKI as mla_pki_init makes it, then the TLS,
 * signing and encryption keys replaced by key pairs generated in a PKCS#11 token (never
 * extractable), their certificates issued for requests signed in the token, the file keys
 * removed. What docs/internals/keys.md's manual steps did with pkcs11-tool and openssl. The
 * audit key stays a file (libp11 0.4.12 has no EdDSA). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "mlagw/codec.h"
#include "mlagw/pki.h"
#include "mlagw/privkey.h"
#include "pki_internal.h"
#include "pki_token.h"

#define PIN_MAX 256

/* The leaves that go to the token, with their object ids. */
static const struct {
	const char *name;
	unsigned char id;
} token_leaves[MLA_PKI_TOKEN_KEYS] = {{"tls", 1}, {"sign", 2}, {"encrypt", 3}};

/* "pkcs11:token=LABEL?module-path=PATH", each part as written (for the keys' URIs) and
 * decoded (for PKCS#11). */
struct token_uri {
	char label_raw[128], module_raw[PATH_MAX];
	char label[33], module[PATH_MAX];
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes in into out (n bytes with the NUL); -1 for a bad escape, a NUL or no room. */
static int decode(const char *in, char *out, size_t n)
{
	size_t o = 0;

	for (; *in != '\0'; in++) {
		int c = (unsigned char)*in, h, l;
		if (c == '%') {
			if ((h = hexval(in[1])) < 0 || (l = hexval(in[2])) < 0 || (h | l) == 0)
				return -1;
			c = h * 16 + l;
			in += 2;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}

static mla_err parse_uri(const char *uri, struct token_uri *u, mla_diag *diag)
{
	static const char pre[] = "pkcs11:token=", mod[] = "module-path=";
	const char *q = strchr(uri, '?');
	size_t label_len = q != NULL ? (size_t)(q - uri) - (sizeof(pre) - 1) : 0;

	if (strncmp(uri, pre, sizeof(pre) - 1) != 0 || q == NULL ||
	    strncmp(q + 1, mod, sizeof(mod) - 1) != 0 || label_len == 0 ||
	    label_len >= sizeof(u->label_raw) || memchr(uri, ';', (size_t)(q - uri)) != NULL ||
	    strpbrk(q + 1, "&;?") != NULL ||
	    mla_strcpy(u->module_raw, sizeof(u->module_raw), q + 1 + sizeof(mod) - 1) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "--pkcs11 takes pkcs11:token=LABEL?module-path="
				"MODULE (the token's label and its PKCS#11 module)");
	memcpy(u->label_raw, uri + sizeof(pre) - 1, label_len);
	u->label_raw[label_len] = '\0';
	if (decode(u->label_raw, u->label, sizeof(u->label)) != 0 ||
	    decode(u->module_raw, u->module, sizeof(u->module)) != 0 || u->module[0] != '/')
		return mla_fail(diag, MLA_ERR_ARG, "--pkcs11: a token label of at most 32 bytes and "
				"an absolute module path, percent-encoded as RFC 7512 says");
	return MLA_OK;
}

/* The whole file is the PIN, as libp11 reads pin-source. */
static mla_err read_pin(const char *path, char *pin, size_t *n, mla_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return mla_fail(diag, MLA_ERR_IO, "PIN file %s: %s", path, strerror(errno));
	got = read(fd, pin, PIN_MAX);
	(void)close(fd);
	if (got <= 0 || got >= PIN_MAX)
		return mla_fail(diag, MLA_ERR_ARG, "PIN file %s: empty, unreadable or longer than "
				"%d bytes", path, PIN_MAX - 1);
	*n = (size_t)got;
	return MLA_OK;
}

/* Opens the token and makes room for the three keys: an existing one is refused, or with
 * overwrite destroyed. */
static mla_err prepare(const struct token_uri *u, const char *pin_file, int overwrite,
		       struct pki_token **t, mla_diag *diag)
{
	char pin[PIN_MAX];
	size_t pin_len = 0;
	mla_err r;

	if ((r = read_pin(pin_file, pin, &pin_len, diag)) == MLA_OK)
		r = pki_token_open(u->module, u->label, pin, pin_len, t, diag);
	OPENSSL_cleanse(pin, sizeof(pin));
	for (size_t i = 0; r == MLA_OK && i < MLA_PKI_TOKEN_KEYS; i++) {
		int has = pki_token_has(*t, token_leaves[i].name);
		if (has < 0)
			r = mla_fail(diag, MLA_ERR_KEY_FILE, "cannot search the token");
		else if (has && !overwrite)
			r = mla_fail(diag, MLA_ERR_EXISTS, "the token %s already holds an object "
				     "labelled %s (--force replaces it)", u->label,
				     token_leaves[i].name);
		else if (has)
			r = pki_token_destroy(*t, token_leaves[i].name, diag);
	}
	return r;
}

/* Overwrites the file key with zeros before it is removed: its bytes are the key. */
static mla_err remove_key_file(const char *path, mla_diag *diag)
{
	static const char zeros[4096];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	int ok = size >= 0 && lseek(fd, 0, SEEK_SET) == 0;

	for (off_t done = 0; ok && done < size; done += (off_t)sizeof(zeros))
		ok = write(fd, zeros, sizeof(zeros)) == (ssize_t)sizeof(zeros);
	ok = ok && fsync(fd) == 0;
	if (fd >= 0)
		(void)close(fd);
	if (!ok || unlink(path) != 0)
		return mla_fail(diag, MLA_ERR_IO, "cannot remove the file key %s: %s", path,
				strerror(errno));
	return MLA_OK;
}

/* One leaf moved to the token: the request signed there, the certificate issued for it. */
static mla_err issue_for_token_key(const mla_pki_opts *o, const char *state_dir,
				   const char *name, const char *uri, mla_diag *diag)
{
	const struct pki_leaf_spec *s = pki_leaf_by_name(name);
	char csr[PATH_MAX], crt[PATH_MAX], key[PATH_MAX], key_dir[PATH_MAX];
	mla_privkey *k = NULL;
	X509_REQ *req = NULL;
	mla_err r;

	if ((r = mla_pki_key_dir(o, key_dir, sizeof(key_dir), diag)) != MLA_OK)
		return r;
	if (mla_snprintf(csr, sizeof(csr), "%s/%s.csr", state_dir, name) != MLA_OK ||
	    mla_snprintf(crt, sizeof(crt), "%s/%s.crt", state_dir, name) != MLA_OK ||
	    mla_snprintf(key, sizeof(key), "%s/%s.key", key_dir, name) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path under %s too long", state_dir);
	if ((r = mla_privkey_load(uri, &k, diag)) == MLA_OK &&
	    (r = pki_make_csr(o->state, s, mla_privkey_evp(k), &req, diag)) == MLA_OK &&
	    (r = pki_write_csr(csr, req, 1, diag)) == MLA_OK &&
	    (r = mla_pki_issue_csr(state_dir, o->state, name, csr, o->days, o->hosts, crt, 1,
				   diag)) == MLA_OK)
		r = remove_key_file(key, diag);
	X509_REQ_free(req);
	mla_privkey_free(k);
	return r;
}

mla_err mla_pki_init_token(const mla_pki_opts *o, const char *uri, const char *pin_file,
			   char key_uris[MLA_PKI_TOKEN_KEYS][MLA_PKI_URI_MAX], mla_diag *diag)
{
	struct token_uri u;
	struct pki_token *t = NULL;
	char state_dir[PATH_MAX];
	mla_err r;

	if ((r = parse_uri(uri, &u, diag)) != MLA_OK)
		return r;
	if (pin_file[strcspn(pin_file, "%&;?# ")] != '\0' || pin_file[0] != '/')
		return mla_fail(diag, MLA_ERR_ARG, "--pin-source file:PATH takes an absolute path "
				"without %%, &, ;, ?, # or blanks");
	if (mla_snprintf(state_dir, sizeof(state_dir), "%s/%s", o->out_dir, o->state) != MLA_OK)
		return mla_fail(diag, MLA_ERR_ARG, "path under %s too long", o->out_dir);
	for (size_t i = 0; i < MLA_PKI_TOKEN_KEYS; i++)
		if (mla_snprintf(key_uris[i], MLA_PKI_URI_MAX, "pkcs11:token=%s;object=%s;"
				 "type=private?module-path=%s&pin-source=file:%s", u.label_raw,
				 token_leaves[i].name, u.module_raw, pin_file) != MLA_OK)
			return mla_fail(diag, MLA_ERR_ARG, "the keys' pkcs11: URIs are too long");
	/* the token first: a wrong PIN or a taken label leaves no file behind */
	if ((r = prepare(&u, pin_file, o->overwrite, &t, diag)) == MLA_OK &&
	    (r = mla_pki_init(o, diag)) == MLA_OK)
		for (size_t i = 0; r == MLA_OK && i < MLA_PKI_TOKEN_KEYS; i++) {
			const struct pki_leaf_spec *s = pki_leaf_by_name(token_leaves[i].name);
			r = pki_token_generate(t, s->key_type, o->rsa_bits > 0 ? o->rsa_bits : 3072,
					       token_leaves[i].name, token_leaves[i].id, diag);
		}
	pki_token_close(t); /* libp11's engine loads the module itself from here */
	for (size_t i = 0; r == MLA_OK && i < MLA_PKI_TOKEN_KEYS; i++)
		r = issue_for_token_key(o, state_dir, token_leaves[i].name, key_uris[i], diag);
	return r;
}
