/* [cases] protected_roles (protocol/SPEC.md 16.11, conf/README.md): the API roles that see a
 * protected person's identifying fields; every other reader gets them redacted. */
#include <string.h>

#include "conf/config.h"

mla_err protect_roles_parse(const char *s, unsigned *mask)
{
	char word[16];
	unsigned m = 0;
	size_t n;

	if (strcmp(s, "none") == 0) {
		*mask = 0;
		return MLA_OK;
	}
	while (*s != '\0') {
		enum api_role role;

		while (*s == ' ')
			s++;
		n = strcspn(s, " ");
		if (n == 0)
			break;
		if (n >= sizeof(word))
			return MLA_ERR_CONFIG;
		memcpy(word, s, n);
		word[n] = '\0';
		s += n;
		/* auditors and administrators never read a document (docs/api/README.md) */
		if (api_role_parse(word, &role) != MLA_OK ||
		    (role != API_ROLE_AUTHORITY && role != API_ROLE_AGENCY) ||
		    (m & API_ROLE_BIT(role)) != 0)
			return MLA_ERR_CONFIG;
		m |= API_ROLE_BIT(role);
	}
	if (m == 0)
		return MLA_ERR_CONFIG;
	*mask = m;
	return MLA_OK;
}
