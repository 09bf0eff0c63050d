/* The [expiry] section of the configuration (conf/README.md): the days before an expiry at
 * which a warning is given (60, 30 and 7 by default), the command run with each warning, its
 * timeout, and how often the gateway looks. Read key by key from config_parse.c. */
#ifndef MLAGW_GATEWAY_EXPIRY_CONFIG_H
#define MLAGW_GATEWAY_EXPIRY_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "deadline_config.h"
#include "mlagw/error.h"

#define EXPIRY_WARN_MAX 8       /* thresholds */
#define EXPIRY_WARN_DAYS_MAX 3650

enum { EXPIRY_KEY_WARN_DAYS, EXPIRY_KEY_COMMAND, EXPIRY_KEY_COMMAND_TIMEOUT,
       EXPIRY_KEY_CHECK_INTERVAL, EXPIRY_KEY_N };

struct expiry_config {
	unsigned warn_days[EXPIRY_WARN_MAX]; /* strictly decreasing, each 1..3650 */
	size_t n_warn;
	char command[PATH_MAX];              /* absolute; empty: no command */
	char command_args[DEADLINE_HOOK_ARGS_MAX][DEADLINE_HOOK_ARG_MAX];
	size_t n_command_args;
	uint64_t command_timeout_ms;         /* default 30 s */
	uint64_t check_interval_ms;          /* default 10 min */
	unsigned seen[EXPIRY_KEY_N];         /* line where each key was set (parse state) */
};

/* 60, 30 and 7 days, no command, 30 s, 10 min. */
void expiry_config_defaults(struct expiry_config *x);

/* One "key = value" line of [expiry]; messages read "FILE:LINE: [expiry] key: problem". */
mla_err expiry_config_key(struct expiry_config *x, const char *file, unsigned line,
			  const char *base_dir, const char *key, const char *value,
			  mla_diag *diag);

/* "60, 30, 7": the thresholds in days, separated by commas and/or blanks, each 1..3650,
 * strictly decreasing. */
/* The i-th key [expiry] accepts, or NULL past the last. */
const char *expiry_config_key_name(size_t i);
mla_err expiry_parse_days(const char *s, unsigned *days, size_t *n, const char **why);

#endif
