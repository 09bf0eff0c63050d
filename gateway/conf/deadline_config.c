/* Reads the [deadlines] section key by key for config_parse.c: one key per rule (its text as
 * mla_deadline_rule_parse reads it), the escalation command and its timeout. Messages follow
 * config_parse.c: "FILE:LINE: [deadlines] key: problem", never quoting a value. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mlagw/codec.h"
#include "config_internal.h"
#include "deadline_config.h"

void deadline_config_defaults(struct deadline_config *d)
{
	memset(d, 0, sizeof(*d));
	mla_deadline_rules_default(&d->rules);
	d->escalate_timeout_ms = 30 * CFG_SEC;
}

#define fail(diag, file, line, ...) cfg_section_fail(diag, file, line, "deadlines", __VA_ARGS__)

static mla_err why_fail(char *why, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static mla_err why_fail(char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(why, n, fmt, ap);
	va_end(ap);
	return MLA_ERR_CONFIG;
}

mla_err cfg_hook_command(const char *value, const char *base_dir, char cmd_out[PATH_MAX],
			 char (*args)[DEADLINE_HOOK_ARG_MAX], size_t *n_args, char *why, size_t n)
{
	char words[CFG_LINE_MAX + 1], *p = words, *cmd = NULL;
	const char *bad = NULL;

	*n_args = 0;
	if (strlen(value) > CFG_LINE_MAX)
		return why_fail(why, n, "longer than %d bytes", CFG_LINE_MAX);
	memcpy(words, value, strlen(value) + 1);
	for (;;) {
		p += strspn(p, " ");
		if (*p == '\0')
			break;
		char *w = p;
		p += strcspn(p, " ");
		if (*p != '\0')
			*p++ = '\0';
		if (cmd == NULL) {
			cmd = w;
			continue;
		}
		if (*n_args == DEADLINE_HOOK_ARGS_MAX)
			return why_fail(why, n, "more than %d arguments",
				DEADLINE_HOOK_ARGS_MAX);
		if (strlen(w) >= DEADLINE_HOOK_ARG_MAX)
			return why_fail(why, n, "argument %zu longer than %d bytes",
				*n_args + 1, DEADLINE_HOOK_ARG_MAX - 1);
		memcpy(args[(*n_args)++], w, strlen(w) + 1);
	}
	if (cmd == NULL)
		return why_fail(why, n, "empty value");
	if (cfg_resolve_path(base_dir, cmd, cmd_out, &bad) != MLA_OK)
		return why_fail(why, n, "%s", bad != NULL ? bad : "bad path");
	return MLA_OK;
}

static mla_err escalate_key(struct deadline_config *d, const char *file, unsigned line,
			    const char *base_dir, const char *value, mla_diag *diag)
{
	char why[160];

	if (cfg_hook_command(value, base_dir, d->escalate, d->escalate_args, &d->n_escalate_args,
			     why, sizeof(why)) != MLA_OK)
		return fail(diag, file, line, "escalate: %s", why);
	return MLA_OK;
}

static mla_err timeout_key(struct deadline_config *d, const char *file, unsigned line,
			   const char *value, mla_diag *diag)
{
	char why[96];

	if (cfg_duration_in(value, CFG_SEC, 10 * CFG_MIN, &d->escalate_timeout_ms, why,
			    sizeof(why)) != MLA_OK)
		return fail(diag, file, line, "escalate_timeout: %s", why);
	return MLA_OK;
}

const char *deadline_config_key_name(size_t i)
{
	if (i < MLA_DEADLINE_RULE_N)
		return mla_deadline_rule_name((mla_deadline_rule_id)i);
	i -= MLA_DEADLINE_RULE_N;
	return i == 0 ? "escalate" : i == 1 ? "escalate_timeout" : NULL;
}

mla_err deadline_config_key(struct deadline_config *d, const char *file, unsigned line,
			    const char *base_dir, const char *key, const char *value,
			    mla_diag *diag)
{
	mla_deadline_rule_id id = mla_deadline_rule_by_name(key);
	unsigned k = id != MLA_DEADLINE_RULE_N ? (unsigned)id
		     : strcmp(key, "escalate") == 0 ? DEADLINE_KEY_ESCALATE
		     : strcmp(key, "escalate_timeout") == 0 ? DEADLINE_KEY_ESCALATE_TIMEOUT
							: DEADLINE_KEY_N;
	const char *why = NULL;

	if (k == DEADLINE_KEY_N)
		return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: unknown key '%s' in [deadlines]",
				file, line, key);
	if (d->seen[k] != 0)
		return fail(diag, file, line, "%s: repeated (first set on line %u)", key, d->seen[k]);
	if (*value == '\0')
		return fail(diag, file, line, "%s: empty value", key);
	if (cfg_check_text(value, &why) != MLA_OK)
		return fail(diag, file, line, "%s: %s", key, why);
	d->seen[k] = line;
	if (k == DEADLINE_KEY_ESCALATE)
		return escalate_key(d, file, line, base_dir, value, diag);
	if (k == DEADLINE_KEY_ESCALATE_TIMEOUT)
		return timeout_key(d, file, line, value, diag);
	if (mla_deadline_rule_parse(value, &d->rules.rule[id], &why) != MLA_OK)
		return fail(diag, file, line, "%s: %s", key, why);
	return MLA_OK;
}
