/* mlagw case validate FILE [--json]: a case document checked as before sealing (SPEC 16),
 * every problem one per line (path, code, message), never any text of the document. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "mlagw/case.h"
#include "mlagw/envelope.h"

static const char case_usage[] =
	"usage: mlagw case validate FILE [--json]\n"
	"Validates a case document (a request or an answer, protocol/SPEC.md section 16) and\n"
	"prints every problem, one per line, by element path; a document declaring no case\n"
	"namespace is opaque. FILE - reads stdin.\n"
	"exit: 0 valid or opaque, 1 invalid, 2 usage, 3 unreadable, 4 internal\n";

static int print_json(const mla_case_report *r, mla_err e, const mla_diag *d)
{
	json_t *problems = json_array(), *out;
	mla_diag jd = {MLA_OK, ""};
	const char *cls[] = {"opaque", "valid", "invalid"};

	for (size_t i = 0; problems != NULL && i < r->n; i++)
		json_array_append_new(problems, json_pack("{s:s, s:s, s:s, s:s}",
			"path", r->problems[i].path, "code", mla_case_code_name(r->problems[i].code),
			"message", mla_case_code_message(r->problems[i].code),
			"detail", r->problems[i].detail));
	out = json_pack("{s:s, s:s, s:i, s:o, s:I, s:s}", "class", cls[r->cls], "type",
			mla_case_doctype_name(r->type), "version", (int)r->version, "problems",
			problems != NULL ? problems : json_null(), "more", (json_int_t)r->more,
			"error", e == MLA_OK ? "" : mla_diag_message(d));
	if (cli_json_print(out, &jd) != MLA_OK)
		return cli_fail("case", MLA_ERR_INTERNAL, &jd);
	return r->cls == MLA_CASE_INVALID ? CLI_REJECTED : CLI_OK;
}

static int print_text(const mla_case_report *r, mla_err e, const mla_diag *d)
{
	char line[MLA_CASE_PATH_MAX + 160];

	if (r->cls == MLA_CASE_OPAQUE) {
		puts("opaque: the document declares no case namespace");
		return CLI_OK;
	}
	if (r->cls == MLA_CASE_VALID) {
		printf("valid: %s, version %u\n", mla_case_doctype_name(r->type), r->version);
		return CLI_OK;
	}
	for (size_t i = 0; i < r->n; i++) {
		mla_case_problem_format(&r->problems[i], line, sizeof(line));
		puts(line);
	}
	if (r->more > 0)
		printf("and %zu more\n", r->more);
	fprintf(stderr, "mlagw case: %s\n", e != MLA_OK ? mla_diag_message(d) : "invalid");
	return CLI_REJECTED;
}

static int validate(const char *path, int json)
{
	mla_diag d = {MLA_OK, ""};
	mla_case_report *r = NULL;
	mla_limits lim;
	mla_buf in;
	mla_err e;
	int rc;

	mla_limits_default(&lim);
	if (mla_crypto_init(&d) != MLA_OK || mla_case_init(&d) != MLA_OK)
		return cli_fail("case", MLA_ERR_INTERNAL, &d);
	if ((e = cli_read_file(path, lim.max_document_bytes, &in, &d)) != MLA_OK)
		return cli_fail("case", e == MLA_ERR_TOO_LARGE ? MLA_ERR_IO : e, &d);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		mla_buf_free(&in);
		return cli_fail("case", MLA_ERR_NOMEM, NULL);
	}
	e = mla_case_validate(in.data, in.len, &lim, r, &d);
	if (e != MLA_OK && r->cls != MLA_CASE_INVALID)
		rc = cli_fail("case", e, &d); /* no report: an internal failure */
	else
		rc = json ? print_json(r, e, &d) : print_text(r, e, &d);
	free(r);
	mla_buf_free(&in);
	mla_case_shutdown();
	return rc;
}

int cmd_case(int argc, char **argv)
{
	const char *file = NULL;
	int json = 0;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(case_usage, stdout);
		return CLI_OK;
	}
	if (argc < 2 || strcmp(argv[1], "validate") != 0)
		return cli_usage_error("case", "the subcommand is 'validate'");
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(case_usage, stdout);
			return CLI_OK;
		} else if (file == NULL && (argv[i][0] != '-' || argv[i][1] == '\0'))
			file = argv[i];
		else
			return cli_usage_error("case", "unknown option or extra operand");
	}
	if (file == NULL)
		return cli_usage_error("case", "FILE is required");
	return validate(file, json);
}
