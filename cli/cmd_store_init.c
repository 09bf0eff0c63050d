/* mlagw store init: creates a gateway's store, the only way one comes into being (mlagwd
 * refuses a missing or empty store rather than silently starting an empty log). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "cmd_store.h"
#include "store/store.h"

#define CMD "store init"

static const char init_usage[] =
	"usage: mlagw store init --store STORE.db\n"
	"Creates a new, empty store for a gateway (mode 0600). Refuses an existing file. A\n"
	"gateway never starts on a store it did not create this way (or with mlagwd --init):\n"
	"a lost store is restored from a backup, never recreated (docs/operations.md).\n"
	"exit: 0 created, 2 usage, 3 cannot create it (it exists, or cannot be written)\n";

int store_init_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *path = NULL;
	mla_diag d = {MLA_OK, ""};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's')
			path = optarg;
		else if (c == 'h') {
			fputs(init_usage, stdout);
			return CLI_OK;
		} else
			return cli_usage_error(CMD, "unknown option or missing value");
	}
	if (path == NULL || optind != argc)
		return cli_usage_error(CMD, "usage: mlagw store init --store STORE.db");
	if (store_init(path, &d) != MLA_OK) {
		fprintf(stderr, "mlagw %s: %s\n", CMD, mla_diag_message(&d));
		return CLI_IO;
	}
	printf("store %s created\n", path);
	return CLI_OK;
}
