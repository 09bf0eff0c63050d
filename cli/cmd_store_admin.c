/* mlagw store init: creates a gateway's store, the only way one comes into being (mlagwd
 * refuses a missing or empty store rather than silently starting an empty log); mlagw store
 * accept-loss: the operator's decision to go on after a write-ahead log was lost. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "cmd_store.h"
#include "store/store.h"


static const char init_usage[] =
	"usage: mlagw store init --store STORE.db\n"
	"Creates a new, empty store for a gateway (mode 0600). Refuses an existing file. A\n"
	"gateway never starts on a store it did not create this way (or with mlagwd --init):\n"
	"a lost store is restored from a backup, never recreated (docs/operations.md).\n"
	"exit: 0 created, 2 usage, 3 cannot create it (it exists, or cannot be written)\n";

/* The one option these commands take: --store PATH (or --help). Returns -1 to go on with
 * *path set, else the CLI status to exit with. */
static int store_path_arg(int argc, char **argv, const char *cmd, const char *usage,
			  const char **path)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;

	*path = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's') {
			*path = optarg;
		} else if (c == 'h') {
			fputs(usage, stdout);
			return CLI_OK;
		} else {
			return cli_usage_error(cmd, "unknown option or missing value");
		}
	}
	if (*path == NULL || optind != argc)
		return cli_usage_error(cmd, "--store STORE.db is required, and nothing else");
	return -1;
}

int store_init_cmd(int argc, char **argv)
{
	const char *path;
	mla_diag d = {MLA_OK, ""};
	int rc = store_path_arg(argc, argv, "store init", init_usage, &path);

	if (rc != -1)
		return rc;
	if (store_init(path, &d) != MLA_OK) {
		fprintf(stderr, "mlagw store init: %s\n", mla_diag_message(&d));
		return CLI_IO;
	}
	printf("store %s created\n", path);
	return CLI_OK;
}

static const char accept_usage[] =
	"usage: mlagw store accept-loss --store STORE.db\n"
	"After an unclean stop whose write-ahead log was lost (deleted), mlagwd refuses the\n"
	"store: writes acknowledged since SQLite's last checkpoint may be gone. This records the\n"
	"operator's decision to go on with what the file holds (once its quick check passes):\n"
	"the next start then asks the peers for the heads of its log they cosigned and refuses\n"
	"if they saw more (then restore from a backup or open a new log epoch). The gateway must\n"
	"be stopped. exit: 0 accepted, 2 usage, 3 refused (the log is there, or the file fails)\n";

int store_accept_loss_cmd(int argc, char **argv)
{
	const char *path;
	mla_diag d = {MLA_OK, ""};
	struct timespec ts;
	int rc = store_path_arg(argc, argv, "store accept-loss", accept_usage, &path);

	if (rc != -1)
		return rc;
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (store_accept_loss(path, (int64_t)ts.tv_sec * 1000, &d) != MLA_OK) {
		fprintf(stderr, "mlagw store accept-loss: %s\n", mla_diag_message(&d));
		return CLI_IO;
	}
	printf("store %s: loss of its write-ahead log accepted; the next start checks the "
	       "peers' heads\n", path);
	return CLI_OK;
}
