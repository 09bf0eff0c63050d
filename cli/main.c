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
	"  directory      build, sign, verify, show and diff the signed directory of States\n"
	"  case validate  check a case document (request or answer) as before sealing\n"
	"  submit         hand a document to the local gateway (sealed, queued)\n"
	"  other-channel  record a request sent by other means (courier, fax, ...; its digest)\n"
	"  status         state and history of a message or a case\n"
	"  cases          the case lifecycle: each case's state and steps; --due, --overdue (--socket)\n"
	"  inbox          received requests and answers (agencies)\n"
	"  fetch          read a received document, with a reason (audited)\n"
	"  answer         acknowledge or answer a message with an action\n"
	"  health, whoami the gateway's health; who the credentials are\n"
	"  audit proof    verify an audit entry's inclusion or the log's consistency against\n"
	"                 the gateway's signed checkpoint (auditors)\n"
	"  audit export   write an offline audit bundle from a gateway's store\n"
	"  audit verify   verify an audit bundle with the States' roots only\n"
	"  audit stats    the case statistics recomputed from verified audit bundles\n"
	"  stats          the case statistics of a gateway's audit log (JSON or CSV)\n"
	"  store init     create a gateway's store (a gateway never creates one itself)\n"
	"  store accept-loss  go on after a lost write-ahead log (the operator's decision)\n"
	"  store show     read a gateway's store (read-only): messages, history, alerts,\n"
	"                 audit entries, checkpoints, meta; text or JSON\n"
	"  store check    check a store read-only: quick_check, audit entries against their\n"
	"                 leaves, the latest checkpoint under a held audit key\n"
	"  store backup   online backup of a (running) gateway's store, checked before use\n"
	"  (these talk to the local API with --gateway URL, or to the submission socket\n"
	"   with --socket PATH for submit, status and health)\n"
	"  bench envelope   measure seal/open rates against OpenSSL's own bound\n"
	"  bench gateway    two local gateways: receipted/s, latency, memory\n"
	"  bench audit      audit log: appends/s, proof time, bundle verification\n"
	"  version        print the version\n"
	"Every command takes --help. Exit codes: 0 ok, 1 refused, 2 usage, 3 file/key/cert,\n"
	"4 internal.\n";

static int is_api_command(const char *c)
{
	static const char *const cmds[] = {"submit", "status", "inbox", "fetch",
					   "answer", "health", "whoami", "other-channel"};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(c, cmds[i]) == 0)
			return 1;
	return 0;
}

/* The local API (--gateway or MLAGW_GATEWAY) unless --socket names the submission socket;
 * inbox, fetch, answer and whoami exist only there. */
static int wants_api(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--socket") == 0 || strncmp(argv[i], "--socket=", 9) == 0)
			return 0;
	return 1;
}

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
	else if (strcmp(argv[1], "audit") == 0)
		r = cmd_audit(argc - 1, argv + 1);
	else if (strcmp(argv[1], "receipt") == 0)
		r = cmd_receipt(argc - 1, argv + 1);
	else if (strcmp(argv[1], "directory") == 0)
		r = cmd_directory(argc - 1, argv + 1);
	else if (strcmp(argv[1], "case") == 0)
		r = cmd_case(argc - 1, argv + 1);
	else if (is_api_command(argv[1]) && wants_api(argc, argv))
		r = cmd_api(argc - 1, argv + 1);
	else if (strcmp(argv[1], "submit") == 0 || strcmp(argv[1], "status") == 0 ||
		 strcmp(argv[1], "health") == 0 || strcmp(argv[1], "cases") == 0)
		r = cmd_gateway(argc - 1, argv + 1);
	else if (strcmp(argv[1], "store") == 0)
		r = cmd_store(argc - 1, argv + 1);
	else if (strcmp(argv[1], "stats") == 0)
		r = cmd_stats(argc - 1, argv + 1);
	else if (strcmp(argv[1], "bench") == 0)
		r = cmd_bench(argc - 1, argv + 1);
	else {
		fprintf(stderr, "mlagw: unknown command '%s'\n%s", argv[1], main_usage);
		return CLI_USAGE;
	}
	mla_crypto_shutdown();
	return r;
}
