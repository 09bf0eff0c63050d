/* Local API: who is calling (bearer token or client certificate) and whether that role may
 * call an operation of the generated table (api_ops.c, from docs/api/openapi.yaml).
 * Tokens are never stored, logged or put in a message: only their SHA-256 is compared. */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

#include "api_auth.h"

const struct api_op *api_op_find(const struct api_op *ops, size_t n, const char *operation_id)
{
	for (size_t i = 0; operation_id != NULL && i < n; i++)
		if (strcmp(ops[i].id, operation_id) == 0)
			return &ops[i];
	return NULL;
}

enum api_decision api_authorize(const struct api_op *ops, size_t n, enum api_role role,
				const char *operation_id)
{
	const struct api_op *op = api_op_find(ops, n, operation_id);

	if (op == NULL || (unsigned)role >= API_ROLE_N || !(op->roles & API_ROLE_BIT(role)))
		return API_DENY;
	return (op->own & API_ROLE_BIT(role)) ? API_ALLOW_OWN : API_ALLOW;
}

/* 1 if path matches the template tpl; the last {param}'s segment in *param, *plen. */
static int path_match(const char *tpl, const char *path, const char **param, size_t *plen)
{
	while (*tpl != '\0' && *path != '\0') {
		size_t tl = strcspn(tpl, "/"), pl = strcspn(path, "/");
		if (tpl[0] == '{' && tl > 2 && tpl[tl - 1] == '}') {
			if (pl == 0)
				return 0;
			*param = path;
			*plen = pl;
		} else if (tl != pl || memcmp(tpl, path, tl) != 0) {
			return 0;
		}
		tpl += tl;
		path += pl;
		if (*tpl != *path)
			return 0; /* one has a '/' here, the other ends */
		if (*tpl == '/') {
			tpl++;
			path++;
		}
	}
	return *tpl == '\0' && *path == '\0';
}

mla_err api_route(const struct api_op *ops, size_t n, enum api_method method, const char *path,
		  const struct api_op **op, const char **param, size_t *param_len)
{
	mla_err r = MLA_ERR_NOT_FOUND;

	*op = NULL;
	*param = NULL;
	*param_len = 0;
	for (size_t i = 0; path != NULL && i < n; i++) {
		const char *p = NULL;
		size_t pl = 0;
		if (!path_match(ops[i].path, path, &p, &pl))
			continue;
		r = MLA_ERR_ARG; /* the path exists: 405 unless a method matches */
		if (ops[i].method == method) {
			*op = &ops[i];
			*param = p;
			*param_len = pl;
			return MLA_OK;
		}
	}
	return r;
}

void api_token_hash(const char *token, size_t len, uint8_t out[32])
{
	SHA256((const unsigned char *)token, len, out);
}

int api_token_hash_equal(const uint8_t a[32], const uint8_t b[32])
{
	return CRYPTO_memcmp(a, b, 32) == 0;
}

/* RFC 6750 b64token (token68): [A-Za-z0-9-._~+/]+ then '=' padding only. */
static int token_syntax_ok(const char *t, size_t len)
{
	size_t body = 0;

	while (body < len && t[body] != '\0' &&
	       strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/",
		      t[body]) != NULL)
		body++;
	if (body == 0)
		return 0;
	for (size_t i = body; i < len; i++)
		if (t[i] != '=')
			return 0;
	return 1;
}

mla_err api_auth_token(const struct api_config *c, const char *token, size_t len,
		       struct api_principal *out, mla_diag *diag)
{
	uint8_t h[32];
	size_t match = SIZE_MAX;

	if (token == NULL || len == 0)
		return mla_fail(diag, MLA_ERR_ARG, "no bearer token");
	if (len < API_TOKEN_MIN || len > API_TOKEN_MAX || !token_syntax_ok(token, len))
		return mla_fail(diag, MLA_ERR_ARG, "malformed bearer token (%d to %d characters of "
				"A-Z a-z 0-9 - . _ ~ + / then =)", API_TOKEN_MIN, API_TOKEN_MAX);
	api_token_hash(token, len, h);
	for (size_t i = 0; i < c->n_tokens; i++) /* no early exit: every hash is compared */
		if (api_token_hash_equal(h, c->tokens[i].sha256))
			match = i;
	OPENSSL_cleanse(h, sizeof(h));
	if (match == SIZE_MAX)
		return mla_fail(diag, MLA_ERR_NOT_FOUND, "unknown bearer token");
	out->role = c->tokens[match].role;
	out->via = API_VIA_TOKEN;
	memcpy(out->name, c->tokens[match].name, sizeof(out->name));
	return MLA_OK;
}

mla_err api_auth_bearer(const struct api_config *c, const char *authorization,
			struct api_principal *out, mla_diag *diag)
{
	if (authorization == NULL)
		return mla_fail(diag, MLA_ERR_ARG, "no Authorization header");
	if (strncasecmp(authorization, "Bearer ", 7) != 0)
		return mla_fail(diag, MLA_ERR_ARG, "the Authorization header must be Bearer TOKEN");
	return api_auth_token(c, authorization + 7, strlen(authorization + 7), out, diag);
}

/* The subject's only CN as UTF-8 text (no control characters), in cn. */
static mla_err cert_cn(X509 *cert, char cn[API_NAME_MAX + 1], mla_diag *diag)
{
	const X509_NAME *subj = cert != NULL ? X509_get_subject_name(cert) : NULL;
	int i = subj != NULL ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
	unsigned char *u = NULL;
	int n;
	mla_err r = MLA_ERR_CERT_UNTRUSTED;

	if (i < 0 || X509_NAME_get_index_by_NID(subj, NID_commonName, i) >= 0)
		return mla_fail(diag, r, "the client certificate's subject needs exactly one CN");
	n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	if (n <= 0 || n > API_NAME_MAX) {
		r = mla_fail(diag, r, "the client certificate's CN is empty or longer than %d bytes",
			     API_NAME_MAX);
		goto out;
	}
	for (int k = 0; k < n; k++) {
		if (u[k] < 0x20 || u[k] == 0x7f) {
			r = mla_fail(diag, r, "the client certificate's CN has a control character");
			goto out;
		}
	}
	memcpy(cn, u, (size_t)n);
	cn[n] = '\0';
	r = MLA_OK;
out:
	OPENSSL_free(u);
	return r;
}

mla_err api_auth_cert(const struct api_config *c, X509 *cert, struct api_principal *out,
		      mla_diag *diag)
{
	char cn[API_NAME_MAX + 1];
	mla_err r;

	if ((r = cert_cn(cert, cn, diag)) != MLA_OK)
		return r;
	for (size_t i = 0; i < c->n_clients; i++) {
		if (strcmp(c->clients[i].cn, cn) == 0) {
			out->role = c->clients[i].role;
			out->via = API_VIA_CERTIFICATE;
			memcpy(out->name, cn, sizeof(cn));
			return MLA_OK;
		}
	}
	return mla_fail(diag, MLA_ERR_CERT_UNTRUSTED,
			"client certificate CN '%s' is not listed in [api] client", cn);
}
