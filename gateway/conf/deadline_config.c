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

static mla_err fail(mla_diag *diag, const char *file, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static mla_err fail(mla_diag *diag, const char *file, unsigned line, const char *fmt, ...)
{
	char msg[MLA_DIAG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)mla_vsnprintf_cut(msg, sizeof(msg), fmt, ap); /* a message: cut visibly */
	va_end(ap);
	return mla_fail(diag, MLA_ERR_CONFIG, "%s:%u: [deadlines] %s", file, line, msg);
}

/* "COMMAND [ARG ...]": blank-separated words, no quoting; the command a path (relative to
 * the file's directory), run without a shell. */
static mla_err escalate_key(struct deadline_config *d, const char *file, unsigned line,
			    const char *base_dir, const char *value, mla_diag *diag)
{
	char words[CFG_LINE_MAX + 1], *p = words, *cmd = NULL;
	const char *why = NULL;

	if (strlen(value) > CFG_LINE_MAX)
		return fail(diag, file, line, "escalate: longer than %d bytes", CFG_LINE_MAX);
	memcpy(words, value, strlen(value) + 1);
	d->n_escalate_args = 0;
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
		if (d->n_escalate_args == DEADLINE_HOOK_ARGS_MAX)
			return fail(diag, file, line, "escalate: more than %d arguments",
				    DEADLINE_HOOK_ARGS_MAX);
		if (strlen(w) >= DEADLINE_HOOK_ARG_MAX)
			return fail(diag, file, line, "escalate: argument %zu longer than %d bytes",
				    d->n_escalate_args + 1, DEADLINE_HOOK_ARG_MAX - 1);
		memcpy(d->escalate_args[d->n_escalate_args++], w, strlen(w) + 1);
	}
	if (cmd == NULL)
		return fail(diag, file, line, "escalate: empty value");
	if (cfg_resolve_path(base_dir, cmd, d->escalate, &why) != MLA_OK)
		return fail(diag, file, line, "escalate: %s", why != NULL ? why : "bad path");
	return MLA_OK;
}

static mla_err timeout_key(struct deadline_config *d, const char *file, unsigned line,
			   const char *value, mla_diag *diag)
{
	const char *why = NULL;
	char v[32], lo[32], hi[32];
	uint64_t ms = 0;

	if (cfg_parse_duration(value, &ms, &why) != MLA_OK)
		return fail(diag, file, line, "escalate_timeout: %s", why);
	if (ms < CFG_SEC || ms > 10 * CFG_MIN) {
		mla_require(cfg_format_duration(ms, v, sizeof(v)) == MLA_OK &&
			    cfg_format_duration(CFG_SEC, lo, sizeof(lo)) == MLA_OK &&
			    cfg_format_duration(10 * CFG_MIN, hi, sizeof(hi)) == MLA_OK);
		return fail(diag, file, line, "escalate_timeout: %s is out of range (%s..%s)", v,
			    lo, hi);
	}
	d->escalate_timeout_ms = ms;
	return MLA_OK;
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
