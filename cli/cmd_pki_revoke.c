/* `mlagw pki revoke` and `mlagw pki crl`: revocation in the test PKI (certs/pki_revoke.c).
 * revoke marks a certificate revoked in DIR/CC/index.txt (the `openssl ca` database format,
 * which `openssl ocsp -index` serves); crl writes the CRL of that index, signed by the root. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "mlagw/pki.h"

#define CRL_VALID_DEFAULT 604800L /* a week */
#define CRL_VALID_MAX 31622400L   /* a year (366 days) */
#define TIME_MAX 4102444800L      /* 2100-01-01: beyond the index's two-digit years anyway */

struct revoc_args {
	const char *state, *out, *cert, *file;
	long at, valid; /* Unix seconds; -1 for now / the default */
};

static const char usage_revoke[] =
	"Usage: mlagw pki revoke --state CC --out DIR --cert FILE [--at TIME]\n"
	"\n"
	"Marks the certificate in FILE (issued by DIR/CC/root.crt) revoked in DIR/CC/index.txt,\n"
	"the database `openssl ocsp -index DIR/CC/index.txt` answers from. Then run\n"
	"`mlagw pki crl` to publish it in a CRL.\n"
	"\n"
	"  -s, --state CC   the State (required)\n"
	"  -o, --out DIR    the PKI directory given to `mlagw pki init` (required)\n"
	"  -c, --cert FILE  the certificate to revoke, PEM (required)\n"
	"      --at TIME    revocation time, Unix seconds (default now)\n"
	"  -h, --help       show this help\n";

static const char usage_crl[] =
	"Usage: mlagw pki crl --state CC --out DIR [--file PATH] [--from TIME] [--valid SECONDS]\n"
	"\n"
	"Writes the State's CRL (version 2, signed by DIR/CC/root.key) listing every certificate\n"
	"DIR/CC/index.txt marks revoked, and prints its path.\n"
	"\n"
	"  -s, --state CC      the State (required)\n"
	"  -o, --out DIR       the PKI directory given to `mlagw pki init` (required)\n"
	"  -f, --file PATH     where to write it (default DIR/CC/crl.pem)\n"
	"      --from TIME     thisUpdate, Unix seconds (default now)\n"
	"      --valid SECONDS nextUpdate is thisUpdate plus this, 1..31622400 (default 604800)\n"
	"  -h, --help          show this help\n";

enum { OPT_AT = 256, OPT_FROM, OPT_VALID };

static int apply_revoc(int c, const char *v, void *arg)
{
	struct revoc_args *a = arg;

	switch (c) {
	case 's':
		a->state = v;
		return CLI_OK;
	case 'o':
		a->out = v;
		return CLI_OK;
	case 'c':
		a->cert = v;
		return CLI_OK;
	case 'f':
		a->file = v;
		return CLI_OK;
	case OPT_AT:
	case OPT_FROM:
		if (cli_parse_long(v, 0, TIME_MAX, &a->at) != 0)
			return cli_usage_error("pki", "time '%s' is not Unix seconds up to %ld", v,
					       TIME_MAX);
		return CLI_OK;
	case OPT_VALID:
		if (cli_parse_long(v, 1, CRL_VALID_MAX, &a->valid) != 0)
			return cli_usage_error("pki", "--valid '%s' is not 1..%ld seconds", v,
					       CRL_VALID_MAX);
		return CLI_OK;
	default:
		return cli_usage_error("pki", "unknown option");
	}
}

/* DIR/CC, with CC checked (two upper-case letters): it becomes part of a path. */
static int state_dir(const struct revoc_args *a, char out[PATH_MAX])
{
	if (a->state == NULL || a->out == NULL)
		return cli_usage_error("pki", "--state and --out are required");
	if (strlen(a->state) != 2 || a->state[0] < 'A' || a->state[0] > 'Z' ||
	    a->state[1] < 'A' || a->state[1] > 'Z')
		return cli_usage_error("pki", "--state '%s' is not two upper-case letters",
				       a->state);
	if (mla_snprintf(out, PATH_MAX, "%s/%s", a->out, a->state) != MLA_OK)
		return cli_usage_error("pki", "--out path too long");
	return CLI_OK;
}

static int run_revoke(const struct revoc_args *a, const char *dir)
{
	mla_diag d = {MLA_OK, ""};
	X509 *cert = NULL;
	mla_err r;

	if (a->cert == NULL)
		return cli_usage_error("pki", "--cert is required");
	if ((r = mla_pem_load_cert(a->cert, &cert, &d)) == MLA_OK)
		r = mla_pki_revoke(dir, cert, a->at >= 0 ? (time_t)a->at : time(NULL), &d);
	X509_free(cert);
	if (r != MLA_OK)
		return cli_fail("pki", r, &d);
	printf("revoked %s\n", a->cert);
	return CLI_OK;
}

static int run_crl(const struct revoc_args *a, const char *dir)
{
	mla_diag d = {MLA_OK, ""};
	char path[PATH_MAX];
	time_t from = a->at >= 0 ? (time_t)a->at : time(NULL);
	mla_err r;

	if (a->file != NULL)
		r = mla_strcpy(path, sizeof(path), a->file);
	else
		r = mla_snprintf(path, sizeof(path), "%s/crl.pem", dir);
	if (r != MLA_OK)
		return cli_usage_error("pki", "CRL path too long");
	if ((r = mla_pki_crl(dir, from, from + (time_t)(a->valid > 0 ? a->valid
								    : CRL_VALID_DEFAULT),
			     path, &d)) != MLA_OK)
		return cli_fail("pki", r, &d);
	printf("%s\n", path);
	return CLI_OK;
}

int cmd_pki_revocation(int argc, char **argv)
{
	static const struct option revoke_opts[] = {
		{"state", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
		{"cert", required_argument, NULL, 'c'},  {"at", required_argument, NULL, OPT_AT},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	static const struct option crl_opts[] = {
		{"state", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
		{"file", required_argument, NULL, 'f'},  {"from", required_argument, NULL, OPT_FROM},
		{"valid", required_argument, NULL, OPT_VALID},
		{"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
	int revoke = strcmp(argv[0], "revoke") == 0;
	const struct cli_optspec spec = {"pki", revoke ? usage_revoke : usage_crl,
					 revoke ? ":s:o:c:h" : ":s:o:f:h",
					 revoke ? revoke_opts : crl_opts, apply_revoc};
	struct revoc_args a = {NULL, NULL, NULL, NULL, -1, -1};
	char dir[PATH_MAX];
	int rc;

	if ((rc = cli_parse_options(argc, argv, &spec, &a)) != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if ((rc = state_dir(&a, dir)) != CLI_OK)
		return rc;
	return revoke ? run_revoke(&a, dir) : run_crl(&a, dir);
}
