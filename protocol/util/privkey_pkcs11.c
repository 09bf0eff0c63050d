/* Keys in a PKCS#11 token, named by an RFC 7512 "pkcs11:" URI (docs/internals/keys.md,
 * "Keys in a token"). Debian 12 has no OpenSSL PKCS#11 provider, only libp11's engine
 * (libengine-pkcs11-openssl), and the ENGINE API is deprecated in OpenSSL 3: this is the one
 * file that uses it. The EVP_PKEY the engine gives is a "foreign" key (libp11's RSA_METHOD and
 * EC_KEY_METHOD call the token); the private material never leaves the token. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>

#include "pem_internal.h"
#include "privkey_pkcs11.h"

#define PKCS11_URI_MAX 2048
#define MODULE_ATTR "module-path="

/* One engine per process, started at the first token key and kept for the process's life
 * (its keys need it); the lock makes concurrent first loads safe (keyholder threads). */
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
static ENGINE *engine;
static char engine_module[PKCS11_URI_MAX];
static UI_METHOD *no_prompt;

int privkey_is_pkcs11(const char *name)
{
	return strncmp(name, "pkcs11:", 7) == 0;
}

/* A UI reader that never answers: a daemon must not prompt for a PIN (nor hang on one). */
static int refuse_prompt(UI *ui, UI_STRING *uis)
{
	(void)ui;
	(void)uis;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes [v, end) into module (room for end - v + 1 bytes); 0 when malformed or
 * when it would hold a NUL. */
static int decode_value(const char *v, const char *end, char *module)
{
	size_t m = 0;
	int hi, lo;

	for (; v < end; v++) {
		if (*v != '%')
			module[m++] = *v;
		else if (end - v >= 3 && (hi = hexval(v[1])) >= 0 && (lo = hexval(v[2])) >= 0 &&
			 hi + lo > 0) {
			module[m++] = (char)(hi * 16 + lo);
			v += 2;
		} else
			return 0;
	}
	module[m] = '\0';
	return 1;
}

/* Copies uri to rest without its module-path query attribute (RFC 7512 2.4; libp11 0.4.12
 * does not know it), whose percent-decoded value goes to module ("" when absent). 0 when the
 * URI is too long or its module-path malformed or repeated. */
static int split_module(const char *uri, char rest[PKCS11_URI_MAX], char module[PKCS11_URI_MAX])
{
	const char *q = strchr(uri, '?'), *a, *end;
	size_t n, attr = strlen(MODULE_ATTR);
	int seen = 0;

	module[0] = '\0';
	if (strlen(uri) >= PKCS11_URI_MAX)
		return 0;
	n = q != NULL ? (size_t)(q - uri) : strlen(uri);
	memcpy(rest, uri, n);
	for (a = q != NULL ? q + 1 : uri + n; *a != '\0'; a = *end == '&' ? end + 1 : end) {
		end = a + strcspn(a, "&");
		if (strncmp(a, MODULE_ATTR, attr) == 0) {
			if (seen++ || !decode_value(a + attr, end, module))
				return 0;
			continue;
		}
		rest[n] = n == (size_t)(q - uri) ? '?' : '&';
		n++;
		memcpy(rest + n, a, (size_t)(end - a));
		n += (size_t)(end - a);
	}
	rest[n] = '\0';
	return 1;
}

/* The engine, started with module (or libp11's default, p11-kit's proxy); NULL with a reason. */
static ENGINE *engine_for(const char *module, const char **why)
{
	ENGINE *e;

	if (engine != NULL) {
		*why = "one process uses one PKCS#11 module; this URI names another";
		return strcmp(engine_module, module) == 0 ? engine : NULL;
	}
	*why = "cannot set up a PIN prompt refusal";
	if (no_prompt == NULL && ((no_prompt = UI_create_method("mlagw no prompt")) == NULL ||
				  UI_method_set_reader(no_prompt, refuse_prompt) != 0))
		return NULL;
	/* OpenSSL finds libp11's engine in its engines directory by this id */
	*why = "OpenSSL has no pkcs11 engine (install libengine-pkcs11-openssl)";
	if ((e = ENGINE_by_id("pkcs11")) == NULL)
		return NULL;
	*why = "the pkcs11 engine does not start with this module";
	if ((module[0] != '\0' && ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0) != 1) ||
	    ENGINE_init(e) != 1) {
		ENGINE_free(e);
		return NULL;
	}
	ENGINE_free(e); /* the functional reference from ENGINE_init keeps it */
	memcpy(engine_module, module, strlen(module) + 1);
	return engine = e;
}

mla_err privkey_pkcs11_load(const char *uri, EVP_PKEY **out, mla_diag *diag)
{
	char *rest = malloc(PKCS11_URI_MAX), *module = malloc(PKCS11_URI_MAX);
	const char *why = "malformed URI";
	ENGINE *e = NULL;
	EVP_PKEY *key = NULL;
	mla_err r = MLA_ERR_KEY_FILE;

	*out = NULL;
	/* the URI itself is named in messages and logs: a PIN in it would be too */
	if (strstr(uri, "pin-value=") != NULL) {
		r = mla_fail(diag, MLA_ERR_KEY_FILE, "a pkcs11: key URI must not hold the PIN "
			     "(pin-value); name a file with pin-source=file:PATH");
		goto out;
	}
	if (rest == NULL || module == NULL) {
		r = mla_fail(diag, MLA_ERR_NOMEM, "out of memory for a PKCS#11 URI");
		goto out;
	}
	if (!split_module(uri, rest, module))
		goto fail;
	pthread_mutex_lock(&engine_lock);
	if ((e = engine_for(module, &why)) != NULL &&
	    (key = ENGINE_load_private_key(e, rest, no_prompt, NULL)) == NULL)
		why = pem_ossl_reason();
	pthread_mutex_unlock(&engine_lock);
	if (key != NULL) {
		*out = key;
		r = MLA_OK;
		goto out;
	}
fail:
	r = mla_fail(diag, MLA_ERR_KEY_FILE, "token key %s: %s", uri, why);
out:
	ERR_clear_error();
	free(rest);
	free(module);
	return r;
}
