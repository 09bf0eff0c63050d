/* Helpers shared by the mlagw subcommands: exit codes, number parsing, bounded file I/O,
 * JSON string output and error reporting. */
#ifndef MLAGW_CLI_UTIL_H
#define MLAGW_CLI_UTIL_H

#include <getopt.h>
#include <stdio.h>
#include <sys/types.h>

#include "mlagw/buf.h"
#include "mlagw/error.h"
#include "mlagw/json.h"

/* Documented exit codes of every mlagw command (README.md, section CLI). */
enum cli_exit {
	CLI_OK = 0,
	CLI_REJECTED = 1, /* the input was refused: verification or opening failed */
	CLI_USAGE = 2,
	CLI_IO = 3, /* files, keys, certificates, configuration */
	CLI_INTERNAL = 4
};

int cli_exit_code(mla_err r);
/* Prints "mlagw CMD: <message>" on stderr and returns the exit code for r. */
int cli_fail(const char *cmd, mla_err r, const mla_diag *diag);
/* Prints "mlagw CMD: <message>" and a --help hint on stderr; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A command whose options are all applied one by one and that takes no operands. */
struct cli_optspec {
	const char *cmd, *usage, *shortopts;
	const struct option *longopts;
	/* applies option c (value v, or NULL) to args; CLI_OK or an exit code */
	int (*apply)(int c, const char *v, void *args);
};
/* getopt_long over argv with spec: CLI_OK, an exit code, or -1 after printing the usage for
 * -h/--help (which must map to 'h'). Unknown options, missing values and operands are usage
 * errors naming them. */
int cli_parse_options(int argc, char **argv, const struct cli_optspec *spec, void *args);
/* Range-checked decimal parse; 0 on success, -1 on anything else. */
int cli_parse_long(const char *s, long min, long max, long *out);
/* Reads a whole file ("-" is stdin) into out, refusing more than max bytes. */
mla_err cli_read_file(const char *path, size_t max, mla_buf *out, mla_diag *diag);
/* Writes data to path via a temporary file, fsync and rename ("-" is stdout). */
mla_err cli_write_file(const char *path, const void *data, size_t len, mode_t mode,
		       mla_diag *diag);
/* Writes s as a JSON string literal with escapes ("" if s is not valid UTF-8). */
void cli_json_string(FILE *fp, const char *s);
/* Prints v (a --json answer) compact with a newline on stdout and releases it. v NULL (a
 * value jansson refused: not UTF-8, or no memory) or a failed write is an error in d. */
mla_err cli_json_print(json_t *v, mla_diag *d);
/* A message's "problems" (a refusal before sealing, or those a peer's receipt version 2
 * listed), one a line "  PATH: CODE (DETAIL)", then "  and N more"; nothing when absent. */
void cli_print_problems(FILE *out, json_t *problems);

#endif
