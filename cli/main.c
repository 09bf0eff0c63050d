/* mlagw: the command-line entry point; dispatches to one subcommand per area. */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/envelope.h"

static const char main_usage[] =
	"usage: mlagw COMMAND [ARGS]\n"
	"commands:\n"
	"  pki init       make a test PKI for a State (root, TLS, signing, encryption, audit)\n"
	"  envelope seal  seal a document for another State's gateway\n"
	"  envelope verify  check an envelope's origin and integrity (no private key)\n"
	"  envelope open  verify, decrypt and decompress an envelope addressed to this State\n"
	"  receipt verify check a receipt offline (and that it answers an envelope)\n"
	"  submit         hand a document to the local gateway daemon (sealed, queued)\n"
	"  status         state and history of a message on the local gateway\n"
	"  health         queue depths of the local gateway\n"
	"  bench envelope   measure seal/open rates against OpenSSL's own bound\n"
	"  version        print the version\n"
	"Every command takes --help. Exit codes: 0 ok, 1 refused, 2 usage, 3 file/key/cert,\n"
	"4 internal.\n";

int main(int argc, char **argv)
{
	int r;

	if (argc < 2) {
		fputs(main_usage, stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(main_usage, stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mlagw %s\n", MLAGW_VERSION);
		return CLI_OK;
	}
	if (strcmp(argv[1], "pki") == 0)
		r = cmd_pki(argc - 1, argv + 1);
	else if (strcmp(argv[1], "envelope") == 0)
		r = cmd_envelope(argc - 1, argv + 1);
	else if (strcmp(argv[1], "receipt") == 0)
		r = cmd_receipt(argc - 1, argv + 1);
	else if (strcmp(argv[1], "submit") == 0 || strcmp(argv[1], "status") == 0 ||
		 strcmp(argv[1], "health") == 0)
		r = cmd_gateway(argc - 1, argv + 1);
	else if (strcmp(argv[1], "bench") == 0)
		r = cmd_bench(argc - 1, argv + 1);
	else {
		fprintf(stderr, "mlagw: unknown command '%s'\n%s", argv[1], main_usage);
		return CLI_USAGE;
	}
	mla_crypto_shutdown();
	return r;
}
