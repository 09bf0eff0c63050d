/* Reads the [expiry] section key by key for config_parse.c (see expiry_config.h). Messages
 * follow config_parse.c: "FILE:LINE: [expiry] key: problem", never quoting a value. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlagw/codec.h"
#include "config_internal.h"
#include "expiry_config.h"

static const char *const key_names[EXPIRY_KEY_N] = {"warn_days", "command", "command_timeout",
						    "check_interval"};

void expiry_config_defaults(struct expiry_config *x)
{
	memset(x, 0, sizeof(*x));
	x->warn_days[0] = 60;
	x->warn_days[1] = 30;
	x->warn_days[2] = 7;
	x->n_warn = 3;
	x->command_timeout_ms = 30 * CFG_SEC;
	x->check_interval_ms = 10 * CFG_MIN;
}

#define fail(diag, file, line, ...) cfg_section_fail(diag, file, line, "expiry", __VA_ARGS__)

mla_err expiry_parse_days(const char *s, unsigned *days, size_t *n, const char **why)
{
	*n = 0;
	for (;;) {
		size_t digits;
		uint64_t v;

		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		if ((digits = strspn(s, "0123456789")) == 0 ||
		    (s[digits] != '\0' && strchr(" \t,", s[digits]) == NULL)) {
			*why = "expected numbers of days separated by commas";
			return MLA_ERR_CONFIG;
		}
		if (mla_parse_u64n(s, digits, 1, EXPIRY_WARN_DAYS_MAX, &v) != MLA_OK) {
			*why = "a number of days out of range (1..3650)";
			return MLA_ERR_CONFIG;
		}
		if (*n == EXPIRY_WARN_MAX) {
			*why = "more than 8 thresholds";
			return MLA_ERR_CONFIG;
		}
		if (*n > 0 && v >= days[*n - 1]) {
			*why = "thresholds must be strictly decreasing (60, 30, 7)";
			return MLA_ERR_CONFIG;
		}
		days[(*n)++] = (unsigned)v;
		s += digits;
	}
	if (*n == 0) {
		*why = "no threshold";
		return MLA_ERR_CONFIG;
	}
	return MLA_OK;
}

static mla_err duration_key(uint64_t *out, uint64_t lo, uint64_t hi, const char *name,
			    const char *file, unsigned line, const char *value, mla_diag *diag)
{
	char why[96];

	if (cfg_duration_in(value, lo, hi, out, why, sizeof(why)) != MLA_OK)
		return fail(diag, file, line, "%s: %s", name, why);
	return MLA_OK;
}

const char *expiry_config_key_name(size_t i)
{
	return i < EXPIRY_KEY_N ? key_names[i] : NULL;
}

mla_err expiry_config_key(struct expiry_config *x, const char *file, unsigned line,
			  const char *base_dir, const char *key, const char *value,
			  mla_diag *diag)
{
	const char *why = NULL;
	char because[160];
	unsigned k = 0;

	while (k < EXPIRY_KEY_N && strcmp(key, key_names[k]) != 0)
		k++;
	if (k == EXPIRY_KEY_N)
		return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: unknown key '%s' in [expiry]", file,
				line, key);
	if (x->seen[k] != 0)
		return fail(diag, file, line, "%s: repeated (first set on line %u)", key, x->seen[k]);
	if (*value == '\0')
		return fail(diag, file, line, "%s: empty value", key);
	if (cfg_check_text(value, &why) != MLA_OK)
		return fail(diag, file, line, "%s: %s", key, why);
	x->seen[k] = line;
	switch (k) {
	case EXPIRY_KEY_WARN_DAYS:
		if (expiry_parse_days(value, x->warn_days, &x->n_warn, &why) != MLA_OK)
			return fail(diag, file, line, "%s: %s", key, why);
		return MLA_OK;
	case EXPIRY_KEY_COMMAND:
		if (cfg_hook_command(value, base_dir, x->command, x->command_args,
				     &x->n_command_args, because, sizeof(because)) != MLA_OK)
			return fail(diag, file, line, "%s: %s", key, because);
		return MLA_OK;
	case EXPIRY_KEY_COMMAND_TIMEOUT:
		return duration_key(&x->command_timeout_ms, CFG_SEC, 10 * CFG_MIN, key, file, line,
				    value, diag);
	default:
		return duration_key(&x->check_interval_ms, CFG_SEC, 7 * CFG_DAY, key, file, line,
				    value, diag);
	}
}
