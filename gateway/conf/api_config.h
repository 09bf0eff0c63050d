/* The [api] section of the configuration: the local API listener and who may call it (bearer
 * tokens kept as SHA-256, client certificates of the State's own CA mapped by subject CN).
 * Read key by key from config_parse.c; format in conf/README.md and docs/api/README.md. */
#ifndef MLAGW_GATEWAY_API_CONFIG_H
#define MLAGW_GATEWAY_API_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "mlagw/error.h"

#define API_MAX_TOKENS 256
#define API_MAX_CLIENTS 256
#define API_NAME_MAX 64     /* bytes of a token name or a client certificate CN */
#define API_LISTEN_MAX 128
#define API_MAX_GRANTS 64   /* supervisor lines, and delegate lines */
/* The local submission socket's principal (its actor "authority:socket"): reserved, so that no
 * token or client certificate can own, read or act on what was submitted through the socket. */
#define API_SOCKET_NAME "socket"
#define API_SOCKET_ACTOR "authority:" API_SOCKET_NAME

enum api_role {
	API_ROLE_AUTHORITY = 0, /* central authority: submits, answers, reads its own cases */
	API_ROLE_AGENCY = 1,    /* executing agency: inbox, received documents, answers */
	API_ROLE_AUDITOR = 2,   /* reads metadata of every message and case, never a document */
	API_ROLE_ADMIN = 3,     /* health, metrics, configuration; no message at all */
	API_ROLE_N = 4
};
#define API_ROLE_BIT(r) (1u << (unsigned)(r))

/* "authority", "agency", "auditor", "admin"; "unknown" out of range. */
const char *api_role_name(enum api_role r);
/* Exact, lower case. MLA_ERR_ARG for anything else. */
mla_err api_role_parse(const char *s, enum api_role *out);

struct api_token {
	enum api_role role;
	char name[API_NAME_MAX + 1]; /* who, in logs and the audit log */
	uint8_t sha256[32];          /* SHA-256 of the token's bytes; the token itself is never kept */
};

struct api_client {
	enum api_role role;
	char cn[API_NAME_MAX + 1];   /* subject CN of the client certificate; also its name */
};

/* delegate = OWNER DELEGATE: DELEGATE may read and act on OWNER's cases (both authority
 * principals by name). raw is the line's value until api_config_finish splits it (a client
 * CN may hold spaces, and the names may be listed after the line). */
struct api_delegation {
	char raw[2 * API_NAME_MAX + 2];
	char owner[API_NAME_MAX + 1], delegate[API_NAME_MAX + 1];
};

/* Keys seen, for "repeated" messages; indexes of api_config.seen. */
enum { API_KEY_LISTEN, API_KEY_TLS_CERT, API_KEY_TLS_KEY, API_KEY_CLIENT_CA,
       API_KEY_MAX_BODY, API_KEY_N };

struct api_config {
	char listen[API_LISTEN_MAX]; /* host:port of the HTTPS listener; empty: the API is off */
	char tls_cert[PATH_MAX];     /* server certificate; empty: [keys] tls_cert */
	char tls_key[PATH_MAX];      /* its key; empty: [keys] tls_key */
	char client_ca[PATH_MAX];    /* the State's own CA for client certificates; empty: none */
	size_t max_body_bytes;       /* 0: api_config_body_limit derives it */
	struct api_token tokens[API_MAX_TOKENS];
	size_t n_tokens;
	struct api_client clients[API_MAX_CLIENTS];
	size_t n_clients;
	unsigned seen[API_KEY_N];    /* line where each single-valued key was set (parse state) */
	unsigned token_line[API_MAX_TOKENS], client_line[API_MAX_CLIENTS];
	/* grants over cases (docs/api/README.md, "Own"): names of authority principals */
	char supervisors[API_MAX_GRANTS][API_NAME_MAX + 1]; /* may act on every case */
	size_t n_supervisors;
	struct api_delegation delegations[API_MAX_GRANTS];
	size_t n_delegations;
	unsigned supervisor_line[API_MAX_GRANTS], delegate_line[API_MAX_GRANTS];
};

/* The API off, nothing set. */
void api_config_defaults(struct api_config *a);

/* One "key = value" line of [api]. base_dir is the configuration file's directory (absolute,
 * as realpath gives it) for relative paths. On error the diag reads
 * "FILE:LINE: [api] key: problem"; values (a hash, a path, a name) are never quoted. */
mla_err api_config_key(struct api_config *a, const char *file, unsigned line,
		       const char *base_dir, const char *key, const char *value, mla_diag *diag);

/* After the whole file (section_line: the line of the [api] header, 0 if there was none):
 * an [api] section needs listen and at least one token or client; tls_cert and tls_key go
 * together; client needs client_ca and client_ca needs a client; every supervisor and
 * delegate name is an authority's token name or client CN (delegate lines are split into
 * owner and delegate here). MLA_ERR_CONFIG with "FILE: [api] ..." or "FILE:LINE: [api] ...". */
/* The i-th key [api] accepts, or NULL past the last (the man page's check lists them). */
const char *api_config_key_name(size_t i);
mla_err api_config_finish(struct api_config *a, const char *file, unsigned section_line,
			  mla_diag *diag);

/* Whether actor ("role:name") may read and act on a case of this State owned by owner
 * ("role:name"): its owner, a supervisor, or a delegate of that owner. */
int api_config_may_act(const struct api_config *a, const char *actor, const char *owner);
/* Whether actor is an authority named by a supervisor line. */
int api_config_supervisor(const struct api_config *a, const char *actor);

/* Largest API request body: max_body_bytes if set, else the base64 of max_document_bytes
 * plus 64 KiB for the JSON around it. */
size_t api_config_body_limit(const struct api_config *a, size_t max_document_bytes);

#endif
