/* mlagw receipt verify: checks a receipt offline against the States' roots (no private key),
 * and optionally that it matches an envelope (same message id, same digest, right State). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/receipt.h"

#define MAX_TRUST 16

static const char receipt_usage[] =
	"usage: mlagw receipt verify --in RECEIPT --trust ROOT.crt [--trust ...]\n"
	"                            [--envelope ENV] [--json]\n"
	"Verifies the receipt's signature (chaining to the root of its receiver State) and, with\n"
	"--envelope, that it answers exactly that envelope (message id, SHA-256, addressee).\n"
	"Either receipt version; a version 2 refusal's problems are listed one a line.\n"
	"exit: 0 ok, 1 refused, 2 usage, 3 file error, 4 internal\n";

struct rc_args {
	const char *in, *envelope;
	const char *trust[MAX_TRUST];
	int ntrust, json;
};

static int parse(int argc, char **argv, struct rc_args *a)
{
	static const struct option opts[] = {
		{"in", required_argument, NULL, 'i'},	   {"trust", required_argument, NULL, 't'},
		{"envelope", required_argument, NULL, 'e'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'i')
			a->in = optarg;
		else if (c == 'e')
			a->envelope = optarg;
		else if (c == 'j')
			a->json = 1;
		else if (c == 't' && a->ntrust < MAX_TRUST)
			a->trust[a->ntrust++] = optarg;
		else if (c == 'h') {
			fputs(receipt_usage, stdout);
			return -1;
		} else
			return cli_usage_error("receipt", "unknown option, missing value or too many --trust");
	}
	if (a->in == NULL || a->ntrust == 0 || optind != argc)
		return cli_usage_error("receipt", "--in and at least one --trust are required");
	return CLI_OK;
}

static mla_err match_envelope(const struct rc_args *a, const mla_trust *trust,
			      const mla_receipt *r, mla_diag *d)
{
	mla_limits lim;
	mla_verified v;
	mla_buf env;
	mla_err e;

	mla_limits_default(&lim);
	if ((e = cli_read_file(a->envelope, lim.max_envelope_bytes, &env, d)) != MLA_OK)
		return e;
	if ((e = mla_envelope_verify(env.data, env.len, trust, &lim, &v, d)) == MLA_OK)
		e = mla_receipt_match(r, v.header.to_state, v.header.message_id, v.digest, d);
	mla_buf_free(&env);
	return e;
}

/* A version 2 receipt's problems: [{path, code[, detail]}]. */
static json_t *problems_json(const mla_receipt_problems *p)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < p->n; i++) {
		json_t *o = json_pack("{s:s, s:s}", "path", p->list[i].path, "code", p->list[i].code);
		if (o != NULL && p->list[i].detail[0] != '\0')
			(void)json_object_set_new(o, "detail", json_string(p->list[i].detail));
		(void)json_array_append_new(a, o);
	}
	return a;
}

static void print_problems(const mla_receipt *r, const mla_receipt_problems *p)
{
	if (p->n == 0)
		return;
	printf("%lu problem(s) in the document:\n", (unsigned long)r->problem_count);
	for (size_t i = 0; i < p->n; i++)
		printf("  %s: %s%s%s%s\n", p->list[i].path, p->list[i].code,
		       p->list[i].detail[0] ? " (" : "", p->list[i].detail,
		       p->list[i].detail[0] ? ")" : "");
	if (r->problem_count > p->n)
		printf("  and %lu more\n", (unsigned long)(r->problem_count - p->n));
}

static mla_err print_receipt(const struct rc_args *a, const mla_receipt *r,
			     const mla_receipt_problems *p, mla_diag *d)
{
	const char *outcome = r->outcome == MLA_OUTCOME_ACCEPTED ? "accepted" : "rejected";

	if (a->json) /* matches_envelope: true when checked (a mismatch fails), else null */
		return cli_json_print(
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:o, s:I}", "receipt_id",
				  r->receipt_id, "message_id", r->message_id, "receiver",
				  r->receiver_state, "sender", r->sender_state, "outcome", outcome,
				  "error",
				  r->outcome == MLA_OUTCOME_ACCEPTED ? "" : mla_errname(r->error),
				  "matches_envelope", a->envelope != NULL ? json_true() : json_null(),
				  "version", (int)r->version, "problems", problems_json(p),
				  "problem_count", (json_int_t)r->problem_count),
			d);
	printf("receipt %s: %s signed by %s for message %s from %s%s%s%s\n", r->receipt_id, outcome,
	       r->receiver_state, r->message_id[0] ? r->message_id : "(unknown)", r->sender_state,
	       r->outcome == MLA_OUTCOME_ACCEPTED ? "" : " (", 
	       r->outcome == MLA_OUTCOME_ACCEPTED ? "" : mla_errname(r->error),
	       r->outcome == MLA_OUTCOME_ACCEPTED ? "" : ")");
	print_problems(r, p);
	if (a->envelope != NULL)
		printf("matches envelope %s\n", a->envelope);
	return MLA_OK;
}

int cmd_receipt(int argc, char **argv)
{
	struct rc_args a;
	mla_diag d = {MLA_OK, ""};
	mla_trust *trust = NULL;
	mla_receipt r;
	mla_receipt_problems *p = NULL;
	mla_limits lim;
	mla_buf in;
	mla_err e;
	int rc;

	memset(&a, 0, sizeof(a));
	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(receipt_usage, stdout);
			return CLI_OK;
		}
		return cli_usage_error("receipt", "the subcommand is 'verify'");
	}
	if ((rc = parse(argc - 1, argv + 1, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (mla_crypto_init(&d) != MLA_OK || mla_trust_new(&trust) != MLA_OK)
		return cli_fail("receipt", MLA_ERR_INTERNAL, &d);
	mla_limits_default(&lim);
	mla_buf_init(&in, 0);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		mla_trust_free(trust);
		return cli_fail("receipt", MLA_ERR_NOMEM, &d);
	}
	e = MLA_OK;
	for (int i = 0; i < a.ntrust && e == MLA_OK; i++)
		e = mla_trust_add_file(trust, a.trust[i], &d);
	if (e == MLA_OK && (e = cli_read_file(a.in, lim.max_envelope_bytes, &in, &d)) == MLA_OK &&
	    (e = mla_receipt_verify_problems(in.data, in.len, trust, &lim, &r, p, &d)) == MLA_OK &&
	    (a.envelope == NULL || (e = match_envelope(&a, trust, &r, &d)) == MLA_OK))
		e = print_receipt(&a, &r, p, &d);
	free(p);
	mla_buf_free(&in);
	mla_trust_free(trust);
	return e == MLA_OK ? CLI_OK : cli_fail("receipt verify", e, &d);
}
