/* The [deadlines] section of the configuration (conf/README.md): the rule of each legal
 * deadline (protocol/SPEC.md 16.9) and the escalation hook, the command run at 50%, 90% and
 * 100% of a deadline. Read key by key from config_parse.c. */
#ifndef MLAGW_GATEWAY_DEADLINE_CONFIG_H
#define MLAGW_GATEWAY_DEADLINE_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "mlagw/deadline.h"
#include "mlagw/error.h"

#define DEADLINE_HOOK_ARGS_MAX 16 /* arguments configured after the command */
#define DEADLINE_HOOK_ARG_MAX 128 /* bytes of one, with its NUL */

/* Keys seen besides the rules, for "repeated" messages: indexes after the rules. */
enum { DEADLINE_KEY_ESCALATE = MLA_DEADLINE_RULE_N, DEADLINE_KEY_ESCALATE_TIMEOUT,
       DEADLINE_KEY_N };

struct deadline_config {
	mla_deadline_rules rules;      /* defaults from the instruments */
	char escalate[PATH_MAX];       /* the hook's command, absolute; empty: no hook */
	char escalate_args[DEADLINE_HOOK_ARGS_MAX][DEADLINE_HOOK_ARG_MAX];
	size_t n_escalate_args;
	uint64_t escalate_timeout_ms;  /* the hook is killed after this; default 30 s */
	unsigned seen[DEADLINE_KEY_N]; /* line where each key was set (parse state) */
};

/* The instruments' rules, no hook, a 30 s timeout. */
void deadline_config_defaults(struct deadline_config *d);

/* One "key = value" line of [deadlines]. base_dir is the configuration file's directory
 * (absolute) for a relative command. On error the diag reads
 * "FILE:LINE: [deadlines] key: problem", never quoting the value. */
mla_err deadline_config_key(struct deadline_config *d, const char *file, unsigned line,
			    const char *base_dir, const char *key, const char *value,
			    mla_diag *diag);

/* "COMMAND [ARG ...]" of a hook (conf/README.md): blank-separated words, no quoting; the
 * command a path (relative to base_dir, the file's directory), run without a shell. On error
 * MLA_ERR_CONFIG and why the problem, never quoting the value. */
/* The i-th key [deadlines] accepts (the rules, escalate, escalate_timeout), or NULL past the
 * last. */
const char *deadline_config_key_name(size_t i);
mla_err cfg_hook_command(const char *value, const char *base_dir, char cmd_out[PATH_MAX],
			 char (*args)[DEADLINE_HOOK_ARG_MAX], size_t *n_args, char *why, size_t n);

#endif
