/* Reads the [api] section key by key for config_parse.c: listener, TLS files, the client CA,
 * the body limit, the principals (token = ROLE NAME sha256:HEX, client = ROLE CN) and the
 * grants over cases (supervisor = NAME, delegate = OWNER DELEGATE).
 * Messages follow config_parse.c: "FILE:LINE: [api] key: problem", never quoting a value. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "api_config.h"
#include "mlagw/audit_entry.h"
#include "config_internal.h"

static const char *const role_names[API_ROLE_N] = {"authority", "agency", "auditor", "admin"};

const char *api_role_name(enum api_role r)
{
	return (unsigned)r < API_ROLE_N ? role_names[r] : "unknown";
}

mla_err api_role_parse(const char *s, enum api_role *out)
{
	for (unsigned i = 0; s != NULL && i < API_ROLE_N; i++) {
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum api_role)i;
			return MLA_OK;
		}
	}
	return MLA_ERR_ARG;
}

void api_config_defaults(struct api_config *a)
{
	memset(a, 0, sizeof(*a));
}

#define fail(diag, file, line, ...) cfg_section_fail(diag, file, line, "api", __VA_ARGS__)

/* Splits off the next blank-separated word of *s (modified in place); NULL at the end. */
static char *next_word(char **s)
{
	char *w = *s;

	while (*w == ' ' || *w == '\t')
		w++;
	if (*w == '\0')
		return NULL;
	*s = w + strcspn(w, " \t");
	if (**s != '\0')
		*(*s)++ = '\0';
	return w;
}

/* A token name: 1..API_NAME_MAX of A-Z a-z 0-9 . _ @ - */
static int is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > API_NAME_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-") == n;
}

/* "sha256:" and 64 lower-case hex digits. */
static const char *parse_hash(const char *s, uint8_t out[32])
{
	if (strncmp(s, "sha256:", 7) != 0)
		return "the hash must be sha256: followed by 64 hex digits";
	s += 7;
	if (strlen(s) != 64)
		return "the hash must have exactly 64 hex digits (a SHA-256)";
	/* upper case is refused (mla_hex_decode): sha256sum prints lower case */
	if (mla_hex_decode(s, 64, out, 32, NULL) != MLA_OK)
		return "the hash must be lower-case hex digits";
	return NULL;
}

static mla_err token_key(struct api_config *a, const char *file, unsigned line, char *v,
			 mla_diag *diag)
{
	char *role = next_word(&v), *name = next_word(&v), *hash = next_word(&v);
	struct api_token *t = &a->tokens[a->n_tokens];
	const char *why;

	if (a->n_tokens == API_MAX_TOKENS)
		return fail(diag, file, line, "token: more than %d tokens", API_MAX_TOKENS);
	if (hash == NULL || next_word(&v) != NULL)
		return fail(diag, file, line, "token: expected ROLE NAME sha256:HEX");
	if (api_role_parse(role, &t->role) != MLA_OK)
		return fail(diag, file, line, "token: unknown role (authority, agency, auditor, admin)");
	if (!is_name(name))
		return fail(diag, file, line, "token: the name must be 1-%d of A-Z a-z 0-9 . _ @ -",
			    API_NAME_MAX);
	if (strcmp(name, API_SOCKET_NAME) == 0)
		return fail(diag, file, line, "token: the name '%s' is reserved for the local "
			    "submission socket", API_SOCKET_NAME);
	if ((why = parse_hash(hash, t->sha256)) != NULL)
		return fail(diag, file, line, "token: %s", why);
	for (size_t i = 0; i < a->n_tokens; i++) {
		if (strcmp(a->tokens[i].name, name) == 0)
			return fail(diag, file, line, "token: name repeated (first on line %u)",
				    a->token_line[i]);
		if (memcmp(a->tokens[i].sha256, t->sha256, 32) == 0)
			return fail(diag, file, line, "token: same hash as line %u", a->token_line[i]);
	}
	memcpy(t->name, name, strlen(name) + 1);
	a->token_line[a->n_tokens++] = line;
	return MLA_OK;
}

static mla_err client_key(struct api_config *a, const char *file, unsigned line, char *v,
			  mla_diag *diag)
{
	char *role = next_word(&v), *cn = v;
	struct api_client *c = &a->clients[a->n_clients];
	size_t n;

	if (a->n_clients == API_MAX_CLIENTS)
		return fail(diag, file, line, "client: more than %d clients", API_MAX_CLIENTS);
	while (*cn == ' ' || *cn == '\t')
		cn++;
	if (role == NULL || *cn == '\0')
		return fail(diag, file, line, "client: expected ROLE CN");
	if (api_role_parse(role, &c->role) != MLA_OK)
		return fail(diag, file, line, "client: unknown role (authority, agency, auditor, admin)");
	if ((n = strlen(cn)) > API_NAME_MAX || strchr(cn, '\t') != NULL)
		return fail(diag, file, line, "client: the CN must be at most %d bytes, no tabs",
			    API_NAME_MAX);
	/* the CN is the actor's name in audit entries: their text rule, checked here */
	if (!mla_audit_text_ok(cn, MLA_AUDIT_ACTOR_NAME_MAX))
		return fail(diag, file, line, "client: the CN must be UTF-8 text without invisible "
			    "or control characters, no space at either end");
	if (strcmp(cn, API_SOCKET_NAME) == 0)
		return fail(diag, file, line, "client: the CN '%s' is reserved for the local "
			    "submission socket", API_SOCKET_NAME);
	for (size_t i = 0; i < a->n_clients; i++)
		if (strcmp(a->clients[i].cn, cn) == 0)
			return fail(diag, file, line, "client: CN repeated (first on line %u)",
				    a->client_line[i]);
	memcpy(c->cn, cn, n + 1);
	a->client_line[a->n_clients++] = line;
	return MLA_OK;
}

/* supervisor = NAME, delegate = OWNER DELEGATE: kept as written, checked by
 * api_config_finish once every principal is known. */
static mla_err grant_key(struct api_config *a, const char *file, unsigned line, int sup,
			 const char *v, mla_diag *diag)
{
	size_t *n = sup ? &a->n_supervisors : &a->n_delegations;
	char *dst = sup ? a->supervisors[*n] : a->delegations[*n].raw;
	size_t cap = sup ? sizeof(a->supervisors[0]) : sizeof(a->delegations[0].raw);

	if (*n == API_MAX_GRANTS)
		return fail(diag, file, line, "%s: more than %d lines", sup ? "supervisor" :
			    "delegate", API_MAX_GRANTS);
	if (mla_strcpy(dst, cap, v) != MLA_OK)
		return fail(diag, file, line, "%s: too long", sup ? "supervisor" : "delegate");
	(sup ? a->supervisor_line : a->delegate_line)[(*n)++] = line;
	return MLA_OK;
}

/* Whether name is an authority's token name or client CN. */
static int is_authority(const struct api_config *a, const char *name)
{
	for (size_t i = 0; i < a->n_tokens; i++)
		if (a->tokens[i].role == API_ROLE_AUTHORITY && strcmp(a->tokens[i].name, name) == 0)
			return 1;
	for (size_t i = 0; i < a->n_clients; i++)
		if (a->clients[i].role == API_ROLE_AUTHORITY && strcmp(a->clients[i].cn, name) == 0)
			return 1;
	return 0;
}

/* OWNER DELEGATE: the one split at a space where both halves are authorities. */
static mla_err split_delegation(const struct api_config *a, struct api_delegation *g,
				const char *file, unsigned line, mla_diag *diag)
{
	char owner[sizeof(g->raw)];
	size_t found = 0, len = strlen(g->raw);

	for (size_t i = 1; i + 1 < len; i++) {
		if (g->raw[i] != ' ')
			continue;
		memcpy(owner, g->raw, i);
		owner[i] = '\0';
		if (!is_authority(a, owner) || !is_authority(a, g->raw + i + 1))
			continue;
		if (found++ == 0 && (mla_strcpy(g->owner, sizeof(g->owner), owner) != MLA_OK ||
				     mla_strcpy(g->delegate, sizeof(g->delegate), g->raw + i + 1) !=
					     MLA_OK))
			return fail(diag, file, line, "delegate: a name is too long");
	}
	if (found == 1 && strcmp(g->owner, g->delegate) == 0)
		return fail(diag, file, line, "delegate: OWNER and DELEGATE are the same");
	if (found == 1)
		return MLA_OK;
	if (found > 1)
		return fail(diag, file, line, "delegate: ambiguous, more than one way to read OWNER "
			    "DELEGATE");
	if (strchr(g->raw, ' ') == NULL)
		return fail(diag, file, line, "delegate: expected OWNER DELEGATE");
	/* name the word that is not an authority when the line has exactly one space */
	if (strchr(g->raw, ' ') == strrchr(g->raw, ' ')) {
		memcpy(owner, g->raw, (size_t)(strchr(g->raw, ' ') - g->raw));
		owner[strchr(g->raw, ' ') - g->raw] = '\0';
		if (!is_authority(a, owner))
			return fail(diag, file, line, "delegate: %s is not an authority's token name or "
				    "client CN", owner);
		return fail(diag, file, line, "delegate: %s is not an authority's token name or "
			    "client CN", strchr(g->raw, ' ') + 1);
	}
	return fail(diag, file, line, "delegate: OWNER and DELEGATE must be authorities' token "
		    "names or client CNs");
}

static mla_err finish_grants(struct api_config *a, const char *file, mla_diag *diag)
{
	mla_err r;

	for (size_t i = 0; i < a->n_supervisors; i++)
		if (!is_authority(a, a->supervisors[i]))
			return fail(diag, file, a->supervisor_line[i], "supervisor: %s is not an "
				    "authority's token name or client CN", a->supervisors[i]);
	for (size_t i = 0; i < a->n_delegations; i++)
		if ((r = split_delegation(a, &a->delegations[i], file, a->delegate_line[i], diag)) !=
		    MLA_OK)
			return r;
	return MLA_OK;
}

/* "authority:NAME" gives NAME, anything else NULL. */
static const char *authority_name(const char *actor)
{
	static const char prefix[] = "authority:";

	return strncmp(actor, prefix, sizeof(prefix) - 1) == 0 ? actor + sizeof(prefix) - 1 : NULL;
}

int api_config_supervisor(const struct api_config *a, const char *actor)
{
	const char *name = authority_name(actor);

	for (size_t i = 0; name != NULL && i < a->n_supervisors; i++)
		if (strcmp(a->supervisors[i], name) == 0)
			return 1;
	return 0;
}

int api_config_may_act(const struct api_config *a, const char *actor, const char *owner)
{
	const char *name = authority_name(actor), *of = authority_name(owner);

	if (strcmp(actor, owner) == 0 || api_config_supervisor(a, actor))
		return 1;
	for (size_t i = 0; name != NULL && of != NULL && i < a->n_delegations; i++)
		if (strcmp(a->delegations[i].delegate, name) == 0 &&
		    strcmp(a->delegations[i].owner, of) == 0)
			return 1;
	return 0;
}

static const char *const single_keys[API_KEY_N] = {"listen", "tls_cert", "tls_key",
						    "client_ca", "max_body_bytes"};

static mla_err single_key(struct api_config *a, const char *file, unsigned line,
			  const char *base_dir, int k, const char *v, mla_diag *diag)
{
	const char *why = NULL;
	char *path = k == API_KEY_TLS_CERT ? a->tls_cert
		     : k == API_KEY_TLS_KEY ? a->tls_key : a->client_ca;
	uint64_t n = 0;

	if (a->seen[k] != 0)
		return fail(diag, file, line, "%s: repeated (first set on line %u)", single_keys[k],
			    a->seen[k]);
	if (k == API_KEY_LISTEN) {
		if (cfg_check_listen(v, &why) != MLA_OK)
			return fail(diag, file, line, "listen: %s", why);
		if (strlen(v) >= sizeof(a->listen))
			return fail(diag, file, line, "listen: longer than %zu bytes",
				    sizeof(a->listen) - 1);
		memcpy(a->listen, v, strlen(v) + 1);
	} else if (k == API_KEY_MAX_BODY) {
		if (cfg_parse_size(v, &n, &why) != MLA_OK)
			return fail(diag, file, line, "max_body_bytes: %s", why);
		if (n < 4 * CFG_KIB || n > 2 * CFG_GIB)
			return fail(diag, file, line,
				    "max_body_bytes: %llu is out of range (4 KiB..2 GiB)",
				    (unsigned long long)n);
		a->max_body_bytes = (size_t)n;
	} else if ((k == API_KEY_TLS_KEY ? cfg_resolve_key(base_dir, v, path, &why)
				       : cfg_resolve_path(base_dir, v, path, &why)) != MLA_OK) {
		return fail(diag, file, line, "%s: %s", single_keys[k], why);
	}
	a->seen[k] = line;
	return MLA_OK;
}

const char *api_config_key_name(size_t i)
{
	static const char *const multi[] = {"token", "client", "supervisor", "delegate"};

	if (i < API_KEY_N)
		return single_keys[i];
	i -= API_KEY_N;
	return i < sizeof(multi) / sizeof(multi[0]) ? multi[i] : NULL;
}

mla_err api_config_key(struct api_config *a, const char *file, unsigned line,
		       const char *base_dir, const char *key, const char *value, mla_diag *diag)
{
	char v[4097];
	const char *why = NULL;
	size_t n = strlen(value);

	if (n == 0)
		return fail(diag, file, line, "%.32s: empty value", key);
	if (n >= sizeof(v))
		return fail(diag, file, line, "%.32s: value too long", key);
	if (cfg_check_text(value, &why) != MLA_OK)
		return fail(diag, file, line, "%.32s: %s", key, why);
	memcpy(v, value, n + 1);
	if (strcmp(key, "token") == 0)
		return token_key(a, file, line, v, diag);
	if (strcmp(key, "client") == 0)
		return client_key(a, file, line, v, diag);
	if (strcmp(key, "supervisor") == 0 || strcmp(key, "delegate") == 0)
		return grant_key(a, file, line, key[0] == 's', v, diag);
	for (int k = 0; k < API_KEY_N; k++)
		if (strcmp(key, single_keys[k]) == 0)
			return single_key(a, file, line, base_dir, k, v, diag);
	return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: unknown key '%.32s' in [api]", file, line,
			key);
}

mla_err api_config_finish(struct api_config *a, const char *file, unsigned section_line,
			  mla_diag *diag)
{
	if (section_line == 0)
		return MLA_OK;
	if (a->listen[0] == '\0')
		return fail(diag, file, 0, "listen is required");
	if (a->n_tokens == 0 && a->n_clients == 0)
		return fail(diag, file, section_line, "no token and no client: nobody could call it");
	if ((a->tls_cert[0] == '\0') != (a->tls_key[0] == '\0'))
		return fail(diag, file, a->seen[a->tls_cert[0] ? API_KEY_TLS_CERT : API_KEY_TLS_KEY],
			    "tls_cert and tls_key go together");
	if (a->n_clients > 0 && a->client_ca[0] == '\0')
		return fail(diag, file, a->client_line[0], "client: needs client_ca");
	if (a->n_clients == 0 && a->client_ca[0] != '\0')
		return fail(diag, file, a->seen[API_KEY_CLIENT_CA], "client_ca: no client is listed");
	return finish_grants(a, file, diag);
}

size_t api_config_body_limit(const struct api_config *a, size_t max_document_bytes)
{
	if (a->max_body_bytes != 0)
		return a->max_body_bytes;
	return (max_document_bytes + 2) / 3 * 4 + 64 * 1024;
}
