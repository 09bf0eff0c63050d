/* mlagw directory build|sign|verify|show|diff: a State's entry from its JSON description, the
 * signature of an entry or of an assembled directory, and offline verification, display and
 * comparison of directories (protocol/SPEC.md section 18). */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/codec.h"
#include "mlagw/directory.h"

#define MAX_TRUST 64
#define MAX_ENTRIES MLA_DIR_MAX_STATES

static const char dir_usage[] =
	"usage: mlagw directory build --from ENTRY.json -o ENTRY.xml\n"
	"       mlagw directory build --serial N --expires TIME [--issued TIME] --publisher CC\n"
	"                             -o UNSIGNED.xml SIGNED-ENTRY.xml...\n"
	"       mlagw directory sign --cert SIGN.crt --key SIGN.key -o OUT.xml IN.xml\n"
	"       mlagw directory verify|show [--entry] --trust ROOT.crt [--trust ...]\n"
	"                             --publisher CC [--publisher-root ROOT.crt] [--held OLD.xml]\n"
	"                             [--grace SECONDS] [--at TIME] FILE\n"
	"       mlagw directory diff --trust ROOT.crt [--trust ...] --publisher CC OLD.xml NEW.xml\n"
	"build writes an unsigned entry (from its JSON description, SPEC 18.2) or an unsigned\n"
	"directory holding signed entries as they are; sign signs either with the key given (an\n"
	"entry with its State's signing key, a directory with the publisher's). verify checks both\n"
	"signature levels against the roots configured here, the serial against --held and the\n"
	"expiry with --grace (default 0) at --at (default now); show prints the verified\n"
	"directory as JSON; diff prints what changed (exit 1 when something did).\n"
	"TIME is YYYY-MM-DDThh:mm:ssZ.\n"
	"exit: 0 ok, 1 refused (or, for diff, changed), 2 usage, 3 file error, 4 internal\n";

struct dir_args {
	const char *entry_json, *out, *cert, *key, *publisher, *publisher_root, *held;
	const char *trust[MAX_TRUST];
	const char *files[MAX_ENTRIES];
	int ntrust, nfiles, lone_entry;
	uint64_t serial;
	time_t issued, expires, at;
	long grace;
};

static int parse_time(const char *s, time_t *out)
{
	return (*out = mla_time_parse(s)) < 0 ? -1 : 0;
}

static int apply(int c, struct dir_args *a)
{
	if (c == 'E')
		a->lone_entry = 1;
	else if (c == 'j')
		a->entry_json = optarg;
	else if (c == 'o')
		a->out = optarg;
	else if (c == 'c')
		a->cert = optarg;
	else if (c == 'k')
		a->key = optarg;
	else if (c == 'p')
		a->publisher = optarg;
	else if (c == 'P')
		a->publisher_root = optarg;
	else if (c == 'H')
		a->held = optarg;
	else if (c == 't' && a->ntrust < MAX_TRUST)
		a->trust[a->ntrust++] = optarg;
	else if (c == 's')
		return mla_parse_u64(optarg, 1, UINT64_MAX, &a->serial) == MLA_OK ? CLI_OK : -2;
	else if (c == 'x')
		return parse_time(optarg, &a->expires) == 0 ? CLI_OK : -2;
	else if (c == 'i')
		return parse_time(optarg, &a->issued) == 0 ? CLI_OK : -2;
	else if (c == 'a')
		return parse_time(optarg, &a->at) == 0 ? CLI_OK : -2;
	else if (c == 'g')
		return cli_parse_long(optarg, 0, 10L * 365 * 86400, &a->grace) == 0 ? CLI_OK : -2;
	else
		return -2;
	return CLI_OK;
}

static int parse(int argc, char **argv, struct dir_args *a)
{
	static const struct option opts[] = {
		{"entry", no_argument, NULL, 'E'},	{"from", required_argument, NULL, 'j'},
		{"out", required_argument, NULL, 'o'},
		{"cert", required_argument, NULL, 'c'}, {"key", required_argument, NULL, 'k'},
		{"publisher", required_argument, NULL, 'p'},
		{"publisher-root", required_argument, NULL, 'P'},
		{"held", required_argument, NULL, 'H'}, {"trust", required_argument, NULL, 't'},
		{"serial", required_argument, NULL, 's'},
		{"expires", required_argument, NULL, 'x'},
		{"issued", required_argument, NULL, 'i'}, {"at", required_argument, NULL, 'a'},
		{"grace", required_argument, NULL, 'g'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(dir_usage, stdout);
			return -1;
		}
		if (apply(c, a) != CLI_OK)
			return cli_usage_error("directory", "unknown option, bad value or missing "
					       "value (times are YYYY-MM-DDThh:mm:ssZ)");
	}
	while (optind < argc && a->nfiles < MAX_ENTRIES)
		a->files[a->nfiles++] = argv[optind++];
	if (optind != argc)
		return cli_usage_error("directory", "more than %d files", MAX_ENTRIES);
	return CLI_OK;
}

static int write_out(const char *out, const mla_buf *b, mla_diag *d)
{
	mla_err e = cli_write_file(out, b->data, b->len, 0644, d);

	return e == MLA_OK ? CLI_OK : cli_fail("directory", e, d);
}

/* build --from FILE.json: the unsigned entry. */
static int build_entry(const struct dir_args *a, mla_diag *d)
{
	char dirbuf[1024];
	mla_dir_entry e;
	mla_buf in, out;
	mla_err r;
	int rc;

	memset(&e, 0, sizeof(e));
	mla_buf_init(&out, 0);
	if (mla_strcpy(dirbuf, sizeof(dirbuf), a->entry_json) != MLA_OK)
		return cli_usage_error("directory", "path too long");
	if ((r = cli_read_file(a->entry_json, MLA_DIR_MAX_JSON_BYTES, &in, d)) != MLA_OK)
		return cli_fail("directory", r, d);
	r = mla_dir_entry_from_json((const char *)in.data, in.len, dirname(dirbuf), &e, d);
	if (r == MLA_OK)
		r = mla_dir_entry_write(&e, &out, d);
	rc = r == MLA_OK ? write_out(a->out, &out, d) : cli_fail("directory", r, d);
	mla_dir_entry_clear(&e);
	mla_buf_free(&in);
	mla_buf_free(&out);
	return rc;
}

/* build --serial ... SIGNED-ENTRY...: the unsigned directory. */
static int build_directory(const struct dir_args *a, mla_diag *d)
{
	mla_buf entries[MAX_ENTRIES], out;
	time_t issued = a->issued != 0 ? a->issued : time(NULL);
	mla_err r = MLA_OK;
	int n = 0, rc;

	mla_buf_init(&out, 0);
	for (; n < a->nfiles && r == MLA_OK; n++)
		r = cli_read_file(a->files[n], MLA_DIR_MAX_ENTRY_BYTES, &entries[n], d);
	if (r != MLA_OK)
		n--; /* the failed read left nothing to free */
	if (r == MLA_OK)
		r = mla_dir_assemble(entries, (size_t)n, a->serial, issued, a->expires, a->publisher,
				     &out, d);
	rc = r == MLA_OK ? write_out(a->out, &out, d) : cli_fail("directory", r, d);
	for (int i = 0; i < n; i++)
		mla_buf_free(&entries[i]);
	mla_buf_free(&out);
	return rc;
}

static int cmd_build(const struct dir_args *a, mla_diag *d)
{
	if (a->out == NULL)
		return cli_usage_error("directory", "build needs -o/--out");
	if (a->entry_json != NULL)
		return a->nfiles == 0 ? build_entry(a, d)
				      : cli_usage_error("directory", "build --from takes no files");
	if (a->serial == 0 || a->expires == 0 || a->publisher == NULL || a->nfiles == 0)
		return cli_usage_error("directory", "build needs --from FILE, or --serial, "
				       "--expires, --publisher and signed entries");
	return build_directory(a, d);
}

static int cmd_sign(const struct dir_args *a, mla_diag *d)
{
	mla_signer *signer = NULL;
	mla_buf in, out;
	mla_err r;
	int rc;

	if (a->cert == NULL || a->key == NULL || a->out == NULL || a->nfiles != 1)
		return cli_usage_error("directory", "sign needs --cert, --key, -o and one file");
	mla_buf_init(&in, 0);
	mla_buf_init(&out, 0);
	if ((r = mla_signer_load(a->cert, a->key, &signer, d)) == MLA_OK &&
	    (r = cli_read_file(a->files[0], MLA_DIR_MAX_BYTES, &in, d)) == MLA_OK)
		r = mla_dir_sign(in.data, in.len, signer, &out, d);
	rc = r == MLA_OK ? write_out(a->out, &out, d) : cli_fail("directory", r, d);
	mla_signer_free(signer);
	mla_buf_free(&in);
	mla_buf_free(&out);
	return rc;
}

/* The roots, the publisher's and the held directory's serial and digest in p. */
struct verify_ctx {
	mla_trust *trust, *pub_trust;
	mla_dir_policy p;
};

static mla_err held_of(const struct dir_args *a, struct verify_ctx *v, mla_diag *d)
{
	mla_dir_policy any = v->p;
	mla_directory *old = NULL;
	mla_buf in;
	mla_err r;

	/* the held copy was accepted once: read it whatever its age */
	any.grace = (time_t)1 << 40;
	if ((r = cli_read_file(a->held, MLA_DIR_MAX_BYTES, &in, d)) != MLA_OK)
		return r;
	if ((r = mla_directory_verify(in.data, in.len, &any, &old, NULL, d)) == MLA_OK) {
		v->p.have_held = 1;
		v->p.held_serial = old->serial;
		memcpy(v->p.held_digest, old->digest, sizeof(old->digest));
	}
	mla_directory_free(old);
	mla_buf_free(&in);
	return r;
}

static mla_err verify_setup(const struct dir_args *a, struct verify_ctx *v, mla_diag *d)
{
	mla_err r;

	memset(v, 0, sizeof(*v));
	if ((r = mla_trust_load_files(a->trust, (size_t)a->ntrust, &v->trust, d)) != MLA_OK)
		return r;
	if (a->publisher_root != NULL &&
	    (r = mla_trust_load_files(&a->publisher_root, 1, &v->pub_trust, d)) != MLA_OK)
		return r;
	v->p.trust = v->trust;
	v->p.publisher_trust = v->pub_trust;
	v->p.publisher = a->publisher;
	v->p.now = a->at;
	v->p.grace = (time_t)a->grace;
	return a->held != NULL ? held_of(a, v, d) : MLA_OK;
}

static void verify_free(struct verify_ctx *v)
{
	mla_trust_free(v->trust);
	mla_trust_free(v->pub_trust);
}

static mla_err load_verified(const char *path, const struct verify_ctx *v, mla_directory **out,
			     mla_dir_status *st, mla_diag *d)
{
	mla_buf in;
	mla_err r;

	if ((r = cli_read_file(path, MLA_DIR_MAX_BYTES, &in, d)) != MLA_OK)
		return r;
	r = mla_directory_verify(in.data, in.len, &v->p, out, st, d);
	mla_buf_free(&in);
	return r;
}

static int verify_lone_entry(const struct dir_args *a, const struct verify_ctx *v, mla_diag *d)
{
	mla_dir_entry e;
	mla_buf in;
	mla_err r;

	if ((r = cli_read_file(a->files[0], MLA_DIR_MAX_ENTRY_BYTES, &in, d)) != MLA_OK)
		return cli_fail("directory", r, d);
	r = mla_dir_entry_verify(in.data, in.len, v->trust, a->at, &e, d);
	if (r == MLA_OK)
		printf("entry of %s: verified (signed by %s, root as configured here)\n", e.state,
		       e.state);
	mla_dir_entry_clear(&e);
	mla_buf_free(&in);
	return r == MLA_OK ? CLI_OK : cli_fail("directory", r, d);
}

static void print_summary(const mla_directory *dir, const mla_dir_status *st)
{
	char exp[MLA_TIME_LEN];

	mla_time_format(dir->expires, exp);
	if (st->in_grace)
		fprintf(stderr, "mlagw directory: warning: %s\n", st->warning);
	printf("directory serial %llu published by %s, %zu entries (",
	       (unsigned long long)dir->serial, dir->publisher, dir->n);
	for (size_t i = 0; i < dir->n; i++)
		printf("%s%s", i > 0 ? " " : "", dir->entries[i].state);
	printf("), expires %s: %s\n", exp, st->unchanged ? "unchanged (the one held)" : "verified");
}

static int cmd_verify(const struct dir_args *a, int show, mla_diag *d)
{
	struct verify_ctx v;
	mla_directory *dir = NULL;
	mla_dir_status st;
	mla_buf json;
	mla_err r;

	if (a->ntrust == 0 || a->nfiles != 1 || (a->publisher == NULL && !a->lone_entry))
		return cli_usage_error("directory", "verify and show need --trust, --publisher "
				       "and one file");
	mla_buf_init(&json, MLA_DIR_MAX_BYTES);
	if ((r = verify_setup(a, &v, d)) == MLA_OK && a->lone_entry) {
		int rc = verify_lone_entry(a, &v, d);
		verify_free(&v);
		return rc;
	}
	if (r == MLA_OK && (r = load_verified(a->files[0], &v, &dir, &st, d)) == MLA_OK) {
		if (!show)
			print_summary(dir, &st);
		else if ((r = mla_directory_json(dir, &json)) == MLA_OK &&
			 fwrite(json.data, 1, json.len, stdout) != json.len)
			r = mla_fail(d, MLA_ERR_IO, "cannot write the output");
	}
	mla_directory_free(dir);
	mla_buf_free(&json);
	verify_free(&v);
	return r == MLA_OK ? CLI_OK : cli_fail("directory", r, d);
}

static int cmd_diff(const struct dir_args *a, mla_diag *d)
{
	mla_directory *old = NULL, *new_ = NULL;
	struct verify_ctx v;
	size_t changes = 0;
	mla_buf out;
	mla_err r;

	if (a->ntrust == 0 || a->nfiles != 2 || a->publisher == NULL)
		return cli_usage_error("directory", "diff needs --trust, --publisher and two files");
	mla_buf_init(&out, 1 << 20);
	if ((r = verify_setup(a, &v, d)) == MLA_OK) {
		v.p.grace = (time_t)1 << 40; /* comparing, not adopting: age does not matter */
		if ((r = load_verified(a->files[0], &v, &old, NULL, d)) == MLA_OK &&
		    (r = load_verified(a->files[1], &v, &new_, NULL, d)) == MLA_OK &&
		    (r = mla_directory_diff(old, new_, &out, &changes)) == MLA_OK) {
			printf("serial %llu -> %llu: %zu change(s)\n",
			       (unsigned long long)old->serial, (unsigned long long)new_->serial,
			       changes);
			if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
				r = mla_fail(d, MLA_ERR_IO, "cannot write the output");
		}
	}
	mla_directory_free(old);
	mla_directory_free(new_);
	mla_buf_free(&out);
	verify_free(&v);
	if (r != MLA_OK)
		return cli_fail("directory", r, d);
	return changes == 0 ? CLI_OK : CLI_REJECTED;
}

int cmd_directory(int argc, char **argv)
{
	struct dir_args a;
	mla_diag d = {MLA_OK, ""};
	const char *sub = argc >= 2 ? argv[1] : "";
	int rc;

	memset(&a, 0, sizeof(a));
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(dir_usage, stdout);
		return CLI_OK;
	}
	if ((rc = parse(argc - 1, argv + 1, &a)) != CLI_OK)
		return rc < 0 ? CLI_OK : rc;
	if (mla_crypto_init(&d) != MLA_OK)
		return cli_fail("directory", MLA_ERR_INTERNAL, &d);
	if (strcmp(sub, "build") == 0)
		return cmd_build(&a, &d);
	if (strcmp(sub, "sign") == 0)
		return cmd_sign(&a, &d);
	if (strcmp(sub, "verify") == 0 || strcmp(sub, "show") == 0)
		return cmd_verify(&a, strcmp(sub, "show") == 0, &d);
	if (strcmp(sub, "diff") == 0)
		return cmd_diff(&a, &d);
	return cli_usage_error("directory", "the subcommand is build, sign, verify, show or diff");
}
