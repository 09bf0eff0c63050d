/* Local API authentication and authorisation: who is calling (a bearer token checked against
 * the SHA-256 hashes of [api] token, or a client certificate's CN listed in [api] client) and
 * whether that role may call an operation. The operation table (api_ops) is generated from
 * docs/api/openapi.yaml by scripts/openapi_ops.py; design in docs/api/README.md. */
#ifndef MLAGW_GATEWAY_API_AUTH_H
#define MLAGW_GATEWAY_API_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "conf/api_config.h"
#include "mlagw/error.h"

#define API_TOKEN_MIN 32  /* characters of a presented token; shorter ones are refused */
#define API_TOKEN_MAX 256

enum api_method { API_GET, API_POST, API_PUT, API_PATCH, API_DELETE };

/* One operation of openapi.yaml. */
struct api_op {
	const char *id;         /* operationId */
	enum api_method method;
	const char *path;       /* template: "/api/v1/messages/{message_id}" */
	unsigned roles;         /* API_ROLE_BIT of each role in x-mlagw-roles */
	unsigned own;           /* roles limited to their own messages and cases (x-mlagw-own) */
	int audit;              /* x-mlagw-audit: each call writes an audit entry */
};

extern const struct api_op api_ops[]; /* generated: api_ops.c */
extern const size_t api_ops_n;

enum api_decision {
	API_DENY = 0,      /* 403, and an audit entry */
	API_ALLOW = 1,
	API_ALLOW_OWN = 2  /* allowed for the caller's own messages and cases only */
};

/* The operation named operation_id in ops, or NULL. */
const struct api_op *api_op_find(const struct api_op *ops, size_t n, const char *operation_id);

/* What role may do with operation_id. An unknown operation or role is API_DENY. */
enum api_decision api_authorize(const struct api_op *ops, size_t n, enum api_role role,
				const char *operation_id);

/* Matches a request path (without the query, still percent-encoded) against the templates;
 * a {param} matches one non-empty segment, returned in param/param_len (the last one if
 * several; NULL if none). MLA_OK with *op set; MLA_ERR_NOT_FOUND when no path matches (404);
 * MLA_ERR_ARG when a path matches but not with this method (405). */
mla_err api_route(const struct api_op *ops, size_t n, enum api_method method, const char *path,
		  const struct api_op **op, const char **param, size_t *param_len);

enum api_via { API_VIA_TOKEN, API_VIA_CERTIFICATE };

/* The caller, once authenticated. */
struct api_principal {
	enum api_role role;
	enum api_via via;
	char name[API_NAME_MAX + 1]; /* the token's name or the certificate's CN */
};

/* SHA-256 of the token's bytes, as `printf %s TOKEN | sha256sum` prints it. */
void api_token_hash(const char *token, size_t len, uint8_t out[32]);

/* 1 if a and b are equal, compared in constant time (CRYPTO_memcmp). */
int api_token_hash_equal(const uint8_t a[32], const uint8_t b[32]);

/* Checks a presented token: API_TOKEN_MIN..API_TOKEN_MAX characters of the RFC 6750 token68
 * alphabet (A-Z a-z 0-9 - . _ ~ + / and trailing =), then its hash against every configured
 * hash (all are compared, whichever matches). MLA_ERR_ARG when malformed, MLA_ERR_NOT_FOUND
 * when unknown; the message never shows the token. */
mla_err api_auth_token(const struct api_config *c, const char *token, size_t len,
		       struct api_principal *out, mla_diag *diag);

/* The value of an Authorization header: "Bearer TOKEN" (scheme case-insensitive, one blank). */
mla_err api_auth_bearer(const struct api_config *c, const char *authorization,
			struct api_principal *out, mla_diag *diag);

/* A client certificate that the TLS layer has already verified against [api] client_ca: its
 * subject must have exactly one CN, listed in [api] client. MLA_ERR_CERT_UNTRUSTED otherwise
 * (the message names the CN only when it is printable). */
mla_err api_auth_cert(const struct api_config *c, X509 *cert, struct api_principal *out,
		      mla_diag *diag);

#endif
