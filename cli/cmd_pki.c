/* `mlagw pki`: command-line front end of the test PKI (certs/pki_init.c).
 * `mlagw pki init --state ES --out DIR` writes DIR/ES/{root,tls,sign,encrypt,audit}.{crt,key}
 * and lists the files written, as text or JSON; revoke and crl are cmd_pki_revoke.c's. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/codec.h"
#include "mlagw/pki.h"

/* getopt_long values of the options that have no short form. */
enum {
	OPT_RSA_BITS = 256,
	OPT_DAYS,
	OPT_HOSTS,
	OPT_JSON,
	OPT_CRL_URL,
	OPT_OCSP_URL,
	OPT_PKCS11,
	OPT_PIN_SOURCE,
	OPT_KEYS_OUT
};

/* The files mla_pki_init writes, in the order we list them. */
static const char *const pki_files[] = {
	"root.crt", "root.key", "tls.crt",   "tls.key",   "sign.crt",
	"sign.key", "encrypt.crt", "encrypt.key", "audit.crt", "audit.key",
};

struct init_args {
	mla_pki_opts opts;
	const char *pkcs11;     /* --pkcs11 URI: tls, sign and encrypt generated in the token */
	const char *pin_file;   /* --pin-source file:PATH */
	char uris[MLA_PKI_TOKEN_KEYS][MLA_PKI_URI_MAX]; /* the token keys, to configure */
	int json;
	int help;
};

static void usage_pki(FILE *fp)
{
	fputs("Usage: mlagw pki init --state CC --out DIR [options]\n"
	      "       mlagw pki revoke --state CC --out DIR --cert FILE [--at TIME]\n"
	      "       mlagw pki crl --state CC --out DIR [--file PATH] [--valid SECONDS]\n"
	      "       mlagw pki SUBCOMMAND --help\n"
	      "\n"
	      "Test and demo PKI. Subcommands:\n"
	      "  init    create a State's root CA and the gateway's TLS, signing,\n"
	      "          encryption and audit certificates\n"
	      "  renew   new keys and certificate requests for a key rollover\n"
	      "  issue   a certificate from a request, by the test CA\n"
	      "  revoke  mark a certificate of the State revoked in DIR/CC/index.txt\n"
	      "  crl     write the State's CRL, signed by its root, from DIR/CC/index.txt\n",
	      fp);
}

static void usage_init(FILE *fp)
{
	fputs("Usage: mlagw pki init --state CC --out DIR [options]\n"
	      "\n"
	      "Creates DIR/CC/{root,tls,sign,encrypt,audit}.{crt,key} (keys PKCS#8, mode 0600).\n"
	      "Running it for another State adds that State beside the first.\n"
	      "\n"
	      "Options:\n"
	      "  -s, --state CC     ISO 3166-1 alpha-2 State code, upper case (required)\n"
	      "  -o, --out DIR      output directory (required)\n"
	      "      --keys-out KDIR  the TLS, signing, encryption and audit keys go to\n"
	      "                     KDIR/CC/ (mode 0700) instead, a folder the network daemon\n"
	      "                     cannot read (its Landlock rules give it the certificates'\n"
	      "                     folders); root.key stays beside root.crt\n"
	      "      --rsa-bits N   encryption key size, 2048..16384 (default 3072)\n"
	      "      --days N       leaf certificate validity, 1..3650 days (default 730)\n"
	      "      --hosts LIST   comma-separated TLS host names and IP addresses\n"
"                     (default localhost,127.0.0.1)\n"
	      "      --crl-url URL  CRL distribution point put in the leaf certificates\n"
	      "      --ocsp-url URL OCSP responder put in the leaf certificates (AIA)\n"
	      "      --pkcs11 URI   generate the TLS, signing and encryption keys in this\n"
	      "                     PKCS#11 token instead (never extractable), URI\n"
	      "                     pkcs11:token=LABEL?module-path=MODULE; their requests\n"
	      "                     are signed in the token (NAME.csr kept), the file keys\n"
	      "                     removed, and the keys' URIs printed for the configuration\n"
	      "      --pin-source file:PATH  the token's PIN: the whole file (with --pkcs11)\n"
	      "  -f, --force        replace the State's existing files (and token keys)\n"
	      "      --json         print the result as a JSON object\n"
	      "  -h, --help         show this help\n",
	      fp);
}

/* Parses the value of option name into [min, max], or prints why not. */
static int option_number(const char *name, const char *arg, long min, long max, long *out)
{
	if (cli_parse_long(arg, min, max, out) != 0)
		return cli_usage_error("pki", "%s '%s' is not a whole number from %ld to %ld", name,
				       arg, min, max);
	return CLI_OK;
}

/* Handles one parsed option; returns CLI_OK or CLI_USAGE. */
static int apply_option(int c, const char *arg, const char *opt, struct init_args *a)
{
	long v = 0;

	switch (c) {
	case 's':
		a->opts.state = arg;
		return CLI_OK;
	case 'o':
		a->opts.out_dir = arg;
		return CLI_OK;
	case 'f':
		a->opts.overwrite = 1;
		return CLI_OK;
	case 'h':
		a->help = 1;
		return CLI_OK;
	case OPT_JSON:
		a->json = 1;
		return CLI_OK;
	case OPT_HOSTS:
		a->opts.hosts = arg;
		return CLI_OK;
	case OPT_CRL_URL:
		a->opts.urls.crl = arg;
		return CLI_OK;
	case OPT_OCSP_URL:
		a->opts.urls.ocsp = arg;
		return CLI_OK;
	case OPT_PKCS11:
		a->pkcs11 = arg;
		return CLI_OK;
	case OPT_KEYS_OUT:
		a->opts.keys_dir = arg;
		return CLI_OK;
	case OPT_PIN_SOURCE:
		if (strncmp(arg, "file:", 5) != 0)
			return cli_usage_error("pki", "--pin-source takes file:PATH");
		a->pin_file = arg + 5;
		return CLI_OK;
	case OPT_RSA_BITS:
		if (option_number("--rsa-bits", arg, 2048, 16384, &v) != CLI_OK)
			return CLI_USAGE;
		a->opts.rsa_bits = (int)v;
		return CLI_OK;
	case OPT_DAYS:
		if (option_number("--days", arg, 1, 3650, &v) != CLI_OK)
			return CLI_USAGE;
		a->opts.days = v;
		return CLI_OK;
	case ':':
		return cli_usage_error("pki", "option %s needs a value", opt);
	default:
		return cli_usage_error("pki", "unknown option %s", opt);
	}
}

static int parse_init_args(int argc, char **argv, struct init_args *a)
{
	static const struct option longopts[] = {
		{"state", required_argument, NULL, 's'},
		{"out", required_argument, NULL, 'o'},
		{"rsa-bits", required_argument, NULL, OPT_RSA_BITS},
		{"days", required_argument, NULL, OPT_DAYS},
		{"hosts", required_argument, NULL, OPT_HOSTS},
		{"crl-url", required_argument, NULL, OPT_CRL_URL},
		{"ocsp-url", required_argument, NULL, OPT_OCSP_URL},
		{"pkcs11", required_argument, NULL, OPT_PKCS11},
		{"pin-source", required_argument, NULL, OPT_PIN_SOURCE},
		{"keys-out", required_argument, NULL, OPT_KEYS_OUT},
		{"force", no_argument, NULL, 'f'},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, rc;

	opterr = 0; /* we print our own messages, prefixed "mlagw pki:" */
	optind = 0; /* glibc: 0 also resets state left by an earlier getopt user */
	while ((c = getopt_long(argc, argv, ":s:o:fh", longopts, NULL)) != -1)
		if ((rc = apply_option(c, optarg, argv[optind - 1], a)) != CLI_OK)
			return rc;
	if (a->help)
		return CLI_OK;
	if (optind < argc)
		return cli_usage_error("pki", "unexpected argument '%s'", argv[optind]);
	if (a->opts.state == NULL)
		return cli_usage_error("pki", "--state is required");
	if (a->opts.out_dir == NULL)
		return cli_usage_error("pki", "--out is required");
	if ((a->pkcs11 == NULL) != (a->pin_file == NULL))
		return cli_usage_error("pki", "--pkcs11 and --pin-source go together");
	return CLI_OK;
}

/* With --pkcs11, tls.key, sign.key and encrypt.key are in the token: the requests signed
 * there are listed in their place. */
static const char *listed_file(const struct init_args *a, const char *name, char *buf, size_t n)
{
	size_t len = strlen(name);

	if (a->pkcs11 == NULL || strcmp(name, "audit.key") == 0 || strcmp(name, "root.key") == 0 ||
	    len < 4 || strcmp(name + len - 4, ".key") != 0)
		return name;
	return mla_snprintf(buf, n, "%.*s.csr", (int)(len - 4), name) == MLA_OK ? buf : name;
}

/* The token keys' URIs, as configuration lines, or into obj for --json. */
static int add_uris(const struct init_args *a, json_t *obj)
{
	static const char *const keys[MLA_PKI_TOKEN_KEYS] = {"tls_key", "sign_key", "encrypt_key"};

	for (size_t i = 0; a->pkcs11 != NULL && i < MLA_PKI_TOKEN_KEYS; i++) {
		if (obj == NULL)
			printf("%s = %s\n", keys[i], a->uris[i]);
		else if (json_object_set_new(obj, keys[i], json_string(a->uris[i])) != 0)
			return -1;
	}
	return 0;
}

/* The files made, one path a line, or with --json {"state","dir","files"} (and "keys", the
 * token keys' URIs, with --pkcs11). */
static int print_result(const struct init_args *a)
{
	const char *dir = a->opts.out_dir;
	const char *st = a->opts.state;
	char path[PATH_MAX], name[32];
	json_t *files = json_array(), *keys = json_object();
	mla_diag d = {MLA_OK, ""};
	mla_err r = files != NULL && keys != NULL ? MLA_OK : MLA_ERR_NOMEM;
	int rc = CLI_OK;

	for (size_t i = 0; i < sizeof(pki_files) / sizeof(pki_files[0]) && rc == CLI_OK; i++) {
		const char *f = listed_file(a, pki_files[i], name, sizeof(name));
		size_t len = strlen(f);
		/* a leaf's key file in the keys' folder (with --keys-out) */
		int in_keys = a->opts.keys_dir != NULL && len > 4 && strcmp(f + len - 4, ".key") == 0 &&
			      strcmp(f, "root.key") != 0;
		int n = snprintf(path, sizeof(path), "%s/%s/%s", in_keys ? a->opts.keys_dir : dir,
				 st, f);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			fprintf(stderr, "mlagw pki: path under %s too long\n", dir);
			rc = CLI_INTERNAL;
		} else if (!a->json) {
			printf("%s\n", path);
		} else if (json_array_append_new(files, json_string(path)) != 0) {
			r = MLA_ERR_ARG;
		}
	}
	if (add_uris(a, a->json ? keys : NULL) != 0)
		r = MLA_ERR_NOMEM;
	if (rc == CLI_OK && a->json &&
	    (r = cli_json_print(a->pkcs11 == NULL ?
				json_pack("{s:s, s:s, s:O}", "state", st, "dir", dir, "files", files) :
				json_pack("{s:s, s:s, s:O, s:O}", "state", st, "dir", dir, "files",
					  files, "keys", keys), &d)) != MLA_OK)
		rc = cli_fail("pki", r, &d);
	if (rc == CLI_OK && (fflush(stdout) != 0 || ferror(stdout))) {
		fprintf(stderr, "mlagw pki: cannot write to standard output: %s\n",
			strerror(errno));
		rc = CLI_IO;
	}
	json_decref(files);
	json_decref(keys);
	return rc;
}

static int cmd_pki_init(int argc, char **argv)
{
	struct init_args a;
	mla_diag diag;
	mla_err r;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&diag, 0, sizeof(diag));
	if ((rc = parse_init_args(argc, argv, &a)) != CLI_OK)
		return rc;
	if (a.help) {
		usage_init(stdout);
		return CLI_OK;
	}
	r = a.pkcs11 != NULL ? mla_pki_init_token(&a.opts, a.pkcs11, a.pin_file, a.uris, &diag)
			     : mla_pki_init(&a.opts, &diag);
	if (r != MLA_OK)
		return cli_fail("pki", r, &diag);
	return print_result(&a);
}

int cmd_pki(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL) {
		usage_pki(stderr);
		return CLI_USAGE;
	}
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		usage_pki(stdout);
		return CLI_OK;
	}
	if (strcmp(sub, "init") == 0)
		return cmd_pki_init(argc - 1, argv + 1);
	if (strcmp(sub, "renew") == 0) /* cmd_pki_renew.c */
		return cmd_pki_renew(argc - 1, argv + 1);
	if (strcmp(sub, "issue") == 0)
		return cmd_pki_issue(argc - 1, argv + 1);
	if (strcmp(sub, "revoke") == 0 || strcmp(sub, "crl") == 0)
		return cmd_pki_revocation(argc - 1, argv + 1);
	fprintf(stderr, "mlagw pki: unknown subcommand '%s'\n", sub);
	usage_pki(stderr);
	return CLI_USAGE;
}
