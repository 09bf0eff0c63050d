/* [cases] protected_roles (protocol/SPEC.md 16.12, conf/README.md): the API roles, or single
 * principals of them, that see a protected person's identifying fields; every other reader
 * gets them redacted. */
#include <string.h>

#include "conf/config.h"

/* One word: "authority", "agency", or "authority:NAME" / "agency:NAME" (NAME 1-64 bytes of
 * a token name or certificate CN without blanks). Auditors and administrators never read a
 * document (docs/api/README.md), so they cannot be named. */
static mla_err add_word(const char *w, size_t n, struct protect_config *p)
{
	char role_s[16];
	const char *colon = memchr(w, ':', n);
	size_t rn = colon != NULL ? (size_t)(colon - w) : n;
	enum api_role role;

	if (rn == 0 || rn >= sizeof(role_s))
		return MLA_ERR_CONFIG;
	memcpy(role_s, w, rn);
	role_s[rn] = '\0';
	if (api_role_parse(role_s, &role) != MLA_OK ||
	    (role != API_ROLE_AUTHORITY && role != API_ROLE_AGENCY))
		return MLA_ERR_CONFIG;
	if (colon == NULL) {
		if (p->role_mask & API_ROLE_BIT(role))
			return MLA_ERR_CONFIG;
		p->role_mask |= API_ROLE_BIT(role);
		return MLA_OK;
	}
	if (n - rn - 1 == 0 || n - rn - 1 > API_NAME_MAX || p->n_actors == PROTECT_MAX_ACTORS)
		return MLA_ERR_CONFIG;
	memcpy(p->actors[p->n_actors], w, n);
	p->actors[p->n_actors][n] = '\0';
	for (size_t i = 0; i < p->n_actors; i++)
		if (strcmp(p->actors[i], p->actors[p->n_actors]) == 0)
			return MLA_ERR_CONFIG;
	p->n_actors++;
	return MLA_OK;
}

mla_err protect_roles_parse(const char *s, struct protect_config *out)
{
	struct protect_config p;
	size_t n;

	memset(&p, 0, sizeof(p));
	if (strcmp(s, "none") == 0) {
		*out = p;
		return MLA_OK;
	}
	while (*s != '\0') {
		while (*s == ' ')
			s++;
		if ((n = strcspn(s, " ")) == 0)
			break;
		if (add_word(s, n, &p) != MLA_OK)
			return MLA_ERR_CONFIG;
		s += n;
	}
	if (p.role_mask == 0 && p.n_actors == 0)
		return MLA_ERR_CONFIG;
	*out = p;
	return MLA_OK;
}

int protect_allows(const struct protect_config *p, enum api_role role, const char *actor)
{
	if ((unsigned)role < API_ROLE_N && (p->role_mask & API_ROLE_BIT(role)) != 0)
		return 1;
	for (size_t i = 0; i < p->n_actors; i++)
		if (strcmp(p->actors[i], actor) == 0)
			return 1;
	return 0;
}
