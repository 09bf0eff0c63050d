/* mlagw audit verify: checks an audit bundle (SPEC section 15) offline, with the States' root
 * certificates only, and reports one line per check family and each failure by record. */
#include <dirent.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_bundle.h"
#include "audit_verify.h"
#include "cli_util.h"

#define CMD "audit verify"

static const char verify_usage[] =
	"usage: mlagw audit verify FILE --trust DIR [--json]\n"
	"Verifies an audit bundle offline: the audit certificate chains to the root of the\n"
	"bundle's State (DIR/ *.crt: the States' roots), every checkpoint is signed by it, the\n"
	"entries are canonical, dense and recompute every checkpoint's root, and every envelope\n"
	"and receipt verifies and is the one its entries name.\n"
	"exit: 0 everything verifies, 1 something does not, 2 usage, 3 cannot read FILE or DIR\n";

const char *const vfam_names[F_N] = {
	"bundle", "certificate", "checkpoints", "entries", "tree", "envelopes", "receipts",
	"delivered",
};

void vfail(struct vctx *v, enum vfam_id f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->fam[f].failed++;
	/* A diagnostic may quote tampered bytes: one line, and '?' for bytes that are not valid
	 * UTF-8 (json_string refuses them, and the failure would be lost from the report). */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	json_t *m = json_string(msg);
	for (char *p = msg; m == NULL && *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	if (m == NULL)
		m = json_string(msg);
	(void)json_array_append_new(v->failures,
				    json_pack("{ssso}", "check", vfam_names[f], "message", m));
}

int audit_parse_args(int argc, char **argv, const struct audit_args_spec *spec,
		     const char **files, const char **dir, int *json)
{
	static const struct option opts[] = {
		{"trust", 1, NULL, 't'}, {"json", 0, NULL, 'j'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, i;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(spec->usage, stdout);
			return -1;
		} else if (c == 't') {
			*dir = optarg;
		} else if (c == 'j') {
			*json = 1;
		} else {
			return cli_usage_error(spec->cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind + spec->nfiles != argc || (spec->need_trust && *dir == NULL))
		return cli_usage_error(spec->cmd, "%s", spec->want);
	for (i = 0; i < spec->nfiles; i++)
		files[i] = argv[optind + i];
	return CLI_OK;
}

int audit_load_trust(struct vctx *v, const char *cmd)
{
	DIR *d = opendir(v->trust_dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL || mla_trust_new(&v->trust) != MLA_OK) {
		fprintf(stderr, "mlagw %s: cannot read --trust %s\n", cmd, v->trust_dir);
		if (d != NULL)
			closedir(d);
		return CLI_IO;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		mla_diag g = {MLA_OK, ""};
		char path[4096];

		if (len < 5 || strcmp(de->d_name + len - 4, ".crt") != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", v->trust_dir, de->d_name) >=
			    (int)sizeof(path))
			continue;
		if (mla_trust_add_file(v->trust, path, &g) != MLA_OK) {
			fprintf(stderr, "mlagw %s: %s: %s\n", cmd, path, mla_diag_message(&g));
			closedir(d);
			return CLI_IO;
		}
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "mlagw %s: no root certificate (*.crt) in %s\n", cmd, v->trust_dir);
		return CLI_IO;
	}
	return CLI_OK;
}

size_t audit_failures(const struct vctx *v)
{
	size_t n = 0;

	for (int f = 0; f < F_N; f++)
		n += v->fam[f].failed;
	return n;
}

static void report(const struct vctx *v, const char *file, int json)
{
	size_t failed = audit_failures(v), i;
	json_t *f;

	if (json) {
		json_t *checks = json_object();
		for (int k = 0; k < F_N; k++)
			json_object_set_new(checks, vfam_names[k],
					    json_pack("{sIsI}", "ok", (json_int_t)v->fam[k].ok,
						      "failed", (json_int_t)v->fam[k].failed));
		json_t *o = json_pack("{sssbsssIsOsO}", "file", file, "verified", failed == 0,
				      "state", v->state, "entries", (json_int_t)v->nentries,
				      "checks", checks, "failures", v->failures);
		char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		if (s != NULL)
			puts(s);
		free(s);
		json_decref(o);
		json_decref(checks);
		return;
	}
	printf("audit bundle %s: State %s, %zu entries, %zu checkpoints, %zu envelopes, "
	       "%zu receipts\n", file, v->state[0] ? v->state : "?", v->nentries, v->ncps,
	       v->nenvs, v->nrecs);
	for (int k = 0; k < F_N; k++)
		printf("  %-12s %zu ok, %zu failed\n", vfam_names[k], v->fam[k].ok,
		       v->fam[k].failed);
	json_array_foreach(v->failures, i, f)
		printf("FAILED %s: %s\n", json_string_value(json_object_get(f, "check")),
		       json_string_value(json_object_get(f, "message")));
	printf(failed == 0 ? "verified\n" : "NOT verified: %zu failures\n", failed);
}

int audit_run_checks(struct vctx *v)
{
	int (*const steps[])(struct vctx *) = {
		verify_manifest, verify_certificate, verify_checkpoints, verify_entries,
		verify_tree, verify_envelopes, verify_receipts, verify_delivered,
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i](v) != 0)
			return CLI_INTERNAL;
	return CLI_OK;
}

int cmd_audit_verify(int argc, char **argv)
{
	static const struct audit_args_spec spec = {CMD, verify_usage, 1, 1,
						    "give one FILE and --trust DIR"};
	const char *file = NULL;
	struct vctx v;
	mla_bundle b = {NULL, 0};
	mla_diag d = {MLA_OK, ""};
	mla_buf data;
	mla_err r;
	int json = 0, rc;

	memset(&v, 0, sizeof(v));
	mla_buf_init(&data, MLA_BUNDLE_MAX);
	if ((rc = audit_parse_args(argc, argv, &spec, &file, &v.trust_dir, &json)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	v.failures = json_array();
	mla_limits_default(&v.limits);
	if ((r = cli_read_file(file, MLA_BUNDLE_MAX, &data, &d)) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(&d));
		rc = CLI_IO;
		goto out;
	}
	if ((r = mla_crypto_init(&d)) != MLA_OK) {
		rc = cli_fail(CMD, r, &d);
		goto out;
	}
	if ((rc = audit_load_trust(&v, CMD)) != CLI_OK)
		goto out;
	v.b = &b;
	if ((r = mla_bundle_parse(data.data, data.len, &b, &d)) != MLA_OK)
		vfail(&v, F_BUNDLE, "malformed bundle: %s", mla_diag_message(&d));
	else if ((rc = audit_run_checks(&v)) != CLI_OK)
		goto out;
	report(&v, file, json);
	rc = audit_failures(&v) == 0 ? CLI_OK : CLI_REJECTED;
out:
	mla_bundle_free(&b);
	mla_buf_free(&data);
	mla_trust_free(v.trust);
	free(v.entries);
	free(v.leaves);
	free(v.cps);
	free(v.envs);
	free(v.recs);
	free(v.times);
	json_decref(v.failures);
	return rc;
}
