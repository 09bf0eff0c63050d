/* `mlagw pki renew` and `mlagw pki issue` (certs/pki_renew.c, protocol/SPEC.md 18.9): new
 * keys and certificate requests for a key rollover, and a certificate from a request. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/pki.h"

enum { OPT_USES = 256, OPT_CSR_ONLY, OPT_DAYS, OPT_HOSTS, OPT_RSA_BITS, OPT_CSR, OPT_USE };

static void usage_renew(FILE *fp)
{
	fputs("Usage: mlagw pki renew --state CC --dir DIR [options]\n"
	      "\n"
	      "Prepares a key rollover: for each use, a new key (NAME.key, mode 0600) and a\n"
	      "certificate request (NAME.csr) in DIR/CC/next, never over the keys in use. When\n"
	      "DIR/CC/root.key is there (this test PKI is the State's CA), also issues NAME.crt.\n"
	      "Announce the new certificates in the State's directory entry (next, next_from)\n"
	      "before they take effect (protocol/SPEC.md 18.9).\n"
	      "\n"
	      "Options:\n"
	      "  -s, --state CC     the State (required)\n"
	      "  -d, --dir DIR      the PKI directory, as for pki init --out (required)\n"
	      "  -o, --out DIR      where the new files go (default DIR/CC/next)\n"
	      "      --uses LIST    some of tls,sign,encrypt,audit (default all four)\n"
	      "      --csr-only     requests only, even where root.key is at hand\n"
	      "      --days N       validity of certificates issued here, 1..3650 (default 730)\n"
	      "      --hosts LIST   TLS host names and addresses (default localhost,127.0.0.1)\n"
	      "      --rsa-bits N   encryption key size, 2048..16384 (default 3072)\n"
	      "  -f, --force        replace the files of an earlier renewal\n"
	      "  -h, --help         show this help\n",
	      fp);
}

static void usage_issue(FILE *fp)
{
	fputs("Usage: mlagw pki issue --state CC --dir DIR --use USE --csr FILE --out CRT\n"
	      "\n"
	      "Issues the certificate of a gateway key (USE tls, sign, encrypt or audit) for a\n"
	      "certificate request, signed by DIR/CC/root.key (the test PKI's CA); the request's\n"
	      "signature and key type are checked first.\n"
	      "\n"
	      "Options: --days N, --hosts LIST (tls), -f/--force, -h/--help\n",
	      fp);
}

struct renew_args {
	mla_pki_renew_opts o;
	const char *use, *csr;
	int help;
};

static int number(const char *name, const char *arg, long lo, long hi, long *out)
{
	if (cli_parse_long(arg, lo, hi, out) != 0)
		return cli_usage_error("pki", "%s '%s' is not a whole number from %ld to %ld", name,
				       arg, lo, hi);
	return CLI_OK;
}

static int apply(int c, const char *arg, const char *opt, struct renew_args *a)
{
	long v = 0;

	switch (c) {
	case 's': a->o.state = arg; return CLI_OK;
	case 'd': a->o.pki_dir = arg; return CLI_OK;
	case 'o': a->o.out_dir = arg; return CLI_OK;
	case 'f': a->o.overwrite = 1; return CLI_OK;
	case 'h': a->help = 1; return CLI_OK;
	case OPT_USES: a->o.uses = arg; return CLI_OK;
	case OPT_CSR_ONLY: a->o.csr_only = 1; return CLI_OK;
	case OPT_HOSTS: a->o.hosts = arg; return CLI_OK;
	case OPT_CSR: a->csr = arg; return CLI_OK;
	case OPT_USE: a->use = arg; return CLI_OK;
	case OPT_DAYS:
		if (number("--days", arg, 1, 3650, &v) != CLI_OK)
			return CLI_USAGE;
		a->o.days = v;
		return CLI_OK;
	case OPT_RSA_BITS:
		if (number("--rsa-bits", arg, 2048, 16384, &v) != CLI_OK)
			return CLI_USAGE;
		a->o.rsa_bits = (int)v;
		return CLI_OK;
	case ':': return cli_usage_error("pki", "option %s needs a value", opt);
	default: return cli_usage_error("pki", "unknown option %s", opt);
	}
}

static int parse(int argc, char **argv, struct renew_args *a)
{
	static const struct option longopts[] = {
		{"state", required_argument, NULL, 's'}, {"dir", required_argument, NULL, 'd'},
		{"out", required_argument, NULL, 'o'}, {"uses", required_argument, NULL, OPT_USES},
		{"csr-only", no_argument, NULL, OPT_CSR_ONLY},
		{"days", required_argument, NULL, OPT_DAYS},
		{"hosts", required_argument, NULL, OPT_HOSTS},
		{"rsa-bits", required_argument, NULL, OPT_RSA_BITS},
		{"csr", required_argument, NULL, OPT_CSR}, {"use", required_argument, NULL, OPT_USE},
		{"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":s:d:o:fh", longopts, NULL)) != -1)
		if ((rc = apply(c, optarg, argv[optind - 1], a)) != CLI_OK)
			return rc;
	if (optind < argc)
		return cli_usage_error("pki", "unexpected argument '%s'", argv[optind]);
	if (!a->help && (a->o.state == NULL || a->o.pki_dir == NULL))
		return cli_usage_error("pki", "--state and --dir are required");
	return CLI_OK;
}

/* The arguments, or the help asked for (*done then, with the exit status in the return). */
static int parse_or_help(int argc, char **argv, struct renew_args *a, void (*usage)(FILE *),
			 int *done)
{
	int rc = parse(argc, argv, a);

	*done = rc != CLI_OK || a->help;
	if (rc == CLI_OK && a->help)
		usage(stdout);
	return rc;
}

int cmd_pki_renew(int argc, char **argv)
{
	struct renew_args a;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc, done;

	if ((rc = parse_or_help(argc, argv, &a, usage_renew, &done)) != CLI_OK || done)
		return rc;
	if (a.csr != NULL || a.use != NULL)
		return cli_usage_error("pki", "--csr and --use belong to pki issue");
	if ((r = mla_pki_renew(&a.o, &d)) != MLA_OK)
		return cli_fail("pki", r, &d);
	if (a.o.out_dir != NULL)
		printf("%s\n", a.o.out_dir);
	else
		printf("%s/%s/next\n", a.o.pki_dir, a.o.state);
	return CLI_OK;
}

int cmd_pki_issue(int argc, char **argv)
{
	struct renew_args a;
	char state_dir[4096];
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc, done;

	if ((rc = parse_or_help(argc, argv, &a, usage_issue, &done)) != CLI_OK || done)
		return rc;
	if (a.csr == NULL || a.use == NULL || a.o.out_dir == NULL)
		return cli_usage_error("pki", "pki issue needs --use, --csr and --out");
	if (snprintf(state_dir, sizeof(state_dir), "%s/%s", a.o.pki_dir, a.o.state) >=
	    (int)sizeof(state_dir))
		return cli_usage_error("pki", "--dir is too long");
	if ((r = mla_pki_issue_csr(state_dir, a.o.state, a.use, a.csr, a.o.days, a.o.hosts,
				   a.o.out_dir, a.o.overwrite, &d)) != MLA_OK)
		return cli_fail("pki", r, &d);
	printf("%s\n", a.o.out_dir);
	return CLI_OK;
}
