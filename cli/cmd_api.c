/* mlagw submit | status | inbox | fetch | answer | health | whoami with --gateway URL: the
 * local API over HTTPS (docs/api/openapi.yaml), for central authorities, agencies, auditors
 * and administrators. Human output by default, the API's JSON with --json. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "api_client.h"
#include "cli_util.h"
#include "cmd_api.h"
#include "commands.h"

static const char api_usage[] =
	"usage: mlagw submit  --gateway URL --to CC --kind KIND --in DOC [--case-id ID | --new-case]\n"
	"                     [--priority P] [--handling H] [--from-authority T] [--to-authority T]\n"
	"                     [--attach FILE]... [--compress]  (evidence files, SPEC 17.14)\n"
	"       mlagw status  --gateway URL MESSAGE_ID        (or --case-id ID for a whole case)\n"
	"       mlagw inbox   --gateway URL [--case-id ID] [--peer CC] [--kind K] [--action A]\n"
	"                     [--priority P] [--unanswered] [--limit N]\n"
	"       mlagw fetch   --gateway URL MESSAGE_ID --reason TEXT --out FILE\n"
	"                     [--attachment N]  (an attachment; resumes a partial FILE)\n"
	"       mlagw answer  --gateway URL MESSAGE_ID --action ACTION [--in DOC] [--priority P]\n"
	"                     [--attach FILE]... [--compress]\n"
	"       mlagw health  --gateway URL      mlagw whoami --gateway URL\n"
	"       mlagw other-channel --gateway URL --to CC --kind KIND (--case-id ID | --new-case)\n"
	"                     --means M --sent-at TIME (--in DOC | --sha256 HEX) [--priority P]\n"
	"         records a request sent by other means because the link was down (SPEC 16.11):\n"
	"         M courier, diplomatic, fax, post, email, hand or other; TIME\n"
	"         YYYY-MM-DDThh:mm:ss.mmmZ; only the document's SHA-256 leaves this machine\n"
	"credentials: --token-file F (or MLAGW_TOKEN_FILE), or --cert C --key K; --ca ROOT.crt\n"
	"--config FILE (or MLAGW_CONFIG): lines 'gateway = URL', 'ca = PATH', 'token_file = PATH',\n"
	"'cert = PATH', 'key = PATH' for what the command line does not give\n"
	"(or MLAGW_CA) is the gateway's root; MLAGW_GATEWAY may replace --gateway. --json prints\n"
	"the API's answer. Reading a document needs a reason: it goes to the audit log.\n"
	"exit: 0 ok, 1 refused by the gateway, 2 usage, 3 cannot reach it, 4 internal\n";

static const char *const field_names[] = {
	"to", "kind", "priority", "handling", "case-id", "from-authority", "to-authority",
	"action", "peer", "limit", "means", "sent-at", "sha256",
};
#define N_FIELDS (sizeof(field_names) / sizeof(field_names[0]))

enum { O_CONFIG = 299, O_GATEWAY = 300, O_TOKEN, O_TOKEN_FILE, O_CERT, O_KEY, O_CA, O_IN, O_OUT, O_REASON,
       O_CT, O_JSON, O_NEW_CASE, O_UNANSWERED, O_HELP, O_ATTACH, O_ATTACHMENT, O_COMPRESS };

static int take(int c, const char *v, struct api_args *a)
{
	switch (c) {
	case O_GATEWAY: a->c.gateway = v; break;
	case O_CONFIG: a->config = v; break;
	case O_TOKEN: a->c.token = v; break;
	case O_TOKEN_FILE: a->token_file = v; break;
	case O_CERT: a->c.cert = v; break;
	case O_KEY: a->c.key = v; break;
	case O_CA: a->c.ca = v; break;
	case O_IN: a->in = v; break;
	case O_OUT: a->out = v; break;
	case O_REASON: a->reason = v; break;
	case O_CT: a->content_type = v; break;
	case O_JSON: a->json = 1; break;
	case O_NEW_CASE: a->new_case = 1; break;
	case O_UNANSWERED: a->unanswered = 1; break;
	case O_ATTACH:
		if (a->n_attach >= 64)
			return -1;
		a->attach[a->n_attach++] = v;
		break;
	case O_ATTACHMENT: a->attachment = v; break;
	case O_COMPRESS: a->compress = 1; break;
	default: return -1;
	}
	return 0;
}

static int parse(const char *cmd, int argc, char **argv, struct api_args *a)
{
	static const struct option fixed[] = {
		{"gateway", 1, NULL, O_GATEWAY},   {"token", 1, NULL, O_TOKEN},
		{"config", 1, NULL, O_CONFIG},
		{"token-file", 1, NULL, O_TOKEN_FILE}, {"cert", 1, NULL, O_CERT},
		{"key", 1, NULL, O_KEY},	   {"ca", 1, NULL, O_CA},
		{"in", 1, NULL, O_IN},		   {"out", 1, NULL, O_OUT},
		{"reason", 1, NULL, O_REASON},	   {"content-type", 1, NULL, O_CT},
		{"json", 0, NULL, O_JSON},	   {"new-case", 0, NULL, O_NEW_CASE},
		{"unanswered", 0, NULL, O_UNANSWERED}, {"help", 0, NULL, O_HELP},
		{"attach", 1, NULL, O_ATTACH},	   {"attachment", 1, NULL, O_ATTACHMENT},
		{"compress", 0, NULL, O_COMPRESS},
	};
	struct option opts[N_FIELDS + sizeof(fixed) / sizeof(fixed[0]) + 1];
	size_t n = 0;
	int c, idx = 0;

	for (; n < N_FIELDS; n++)
		opts[n] = (struct option){field_names[n], required_argument, NULL, 0};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		opts[n++] = fixed[i];
	opts[n] = (struct option){NULL, 0, NULL, 0};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (c == O_HELP) {
			fputs(api_usage, stdout);
			return -1;
		}
		if (c == 0 && idx < (int)N_FIELDS && a->nf < 16) {
			a->f[a->nf][0] = field_names[idx];
			a->f[a->nf++][1] = optarg;
		} else if (c == '?' || c == ':' || take(c, optarg, a) != 0) {
			return cli_usage_error(cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	return CLI_OK;
}

const char *api_field(const struct api_args *a, const char *name)
{
	for (int i = 0; i < a->nf; i++)
		if (strcmp(a->f[i][0], name) == 0)
			return a->f[i][1];
	return NULL;
}

int cmd_api(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct api_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse(cmd, argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (a.config == NULL)
		a.config = getenv("MLAGW_CONFIG");
	if (a.config != NULL && (rc = api_client_config(&a.c, cmd, a.config, &a.token_file)) != CLI_OK)
		return rc;
	if ((rc = api_client_ready(&a.c, cmd, a.token_file)) != CLI_OK)
		return rc;
	a.cmd = cmd;
	a.rest = argv + optind;
	a.nrest = argc - optind;
	if (strcmp(cmd, "submit") == 0)
		rc = api_submit(&a);
	else if (strcmp(cmd, "status") == 0)
		rc = api_status(&a);
	else if (strcmp(cmd, "inbox") == 0)
		rc = api_inbox(&a);
	else if (strcmp(cmd, "fetch") == 0)
		rc = api_fetch(&a);
	else if (strcmp(cmd, "answer") == 0)
		rc = api_answer(&a);
	else if (strcmp(cmd, "other-channel") == 0)
		rc = api_other_channel(&a);
	else if (strcmp(cmd, "health") == 0)
		rc = api_simple(&a, "/healthz");
	else
		rc = api_simple(&a, "/api/v1/me");
	api_client_wipe(&a.c);
	return rc;
}
