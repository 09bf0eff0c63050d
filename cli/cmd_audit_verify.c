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
	"usage: mlagw audit verify FILE [FILE...] --trust DIR [--json]\n"
	"Verifies an audit bundle offline: the audit certificate chains to the root of the\n"
	"bundle's State (DIR/ *.crt: the States' roots), every checkpoint is signed by it, the\n"
	"entries are canonical, dense and recompute every checkpoint's root, and every envelope\n"
	"and receipt verifies and is the one its entries name, and every cosignature by a peer\n"
	"verifies. With several bundles (one per State), also that no log showed two histories:\n"
	"no two roots for one log and size, and every cosigned root is the root of that log's\n"
	"exported entries (split view).\n"
	"exit: 0 everything verifies, 1 something does not, 2 usage, 3 cannot read FILE or DIR\n";

const char *const vfam_names[F_N] = {
	"bundle", "certificate", "checkpoints", "entries", "tree", "witness", "proofs",
	"envelopes", "receipts", "delivered",
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
	int n = argc - optind;
	if ((spec->max_files > 0 ? n < spec->nfiles || n > spec->max_files : n != spec->nfiles) ||
	    (spec->need_trust && *dir == NULL))
		return cli_usage_error(spec->cmd, "%s", spec->want);
	for (i = 0; i < n; i++)
		files[i] = argv[optind + i];
	files[n] = NULL;
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

static json_t *report_json(const struct vctx *v, const char *file)
{
	json_t *checks = json_object();

	for (int k = 0; k < F_N; k++)
		json_object_set_new(checks, vfam_names[k],
				    json_pack("{sIsI}", "ok", (json_int_t)v->fam[k].ok, "failed",
					      (json_int_t)v->fam[k].failed));
	return json_pack("{sssbsssIsIsosO}", "file", file, "verified", audit_failures(v) == 0,
			 "state", v->state, "entries", (json_int_t)v->nentries, "cosignatures",
			 (json_int_t)v->cosignatures, "checks", checks, "failures", v->failures);
}

static void report_text(const struct vctx *v, const char *file)
{
	size_t failed = audit_failures(v), i;
	json_t *f;

	printf("audit bundle %s: State %s, %zu entries, %zu checkpoints (%zu cosignatures by "
	       "peers), %zu envelopes, %zu receipts\n", file, v->state[0] ? v->state : "?",
	       v->nentries, v->ncps, v->cosignatures, v->nenvs, v->nrecs);
	for (int k = 0; k < F_N; k++)
		printf("  %-12s %zu ok, %zu failed\n", vfam_names[k], v->fam[k].ok,
		       v->fam[k].failed);
	json_array_foreach(v->failures, i, f)
		printf("FAILED %s: %s\n", json_string_value(json_object_get(f, "check")),
		       json_string_value(json_object_get(f, "message")));
	printf(failed == 0 ? "verified\n" : "NOT verified: %zu failures\n", failed);
}

static void print_json(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s != NULL)
		puts(s);
	free(s);
}

int audit_run_checks(struct vctx *v)
{
	int (*const steps[])(struct vctx *) = {
		verify_manifest, verify_certificate, verify_checkpoints, verify_entries,
		verify_tree, verify_witness, verify_envelopes, verify_receipts, verify_delivered,
		verify_proofs,
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i](v) != 0)
			return CLI_INTERNAL;
	return CLI_OK;
}

/* One bundle: read, parse, every check; CLI_OK, or CLI_IO/CLI_INTERNAL when it could not run
 * (a bundle that does not verify is CLI_OK here: its failures are in v). */
static int verify_one(struct vctx *v, const char *file, mla_buf *data, mla_bundle *b)
{
	mla_diag d = {MLA_OK, ""};

	v->failures = json_array();
	mla_limits_default(&v->limits);
	mla_buf_init(data, MLA_BUNDLE_MAX);
	if (cli_read_file(file, MLA_BUNDLE_MAX, data, &d) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(&d));
		return CLI_IO;
	}
	v->b = b;
	if (mla_bundle_parse(data->data, data->len, b, &d) != MLA_OK) {
		vfail(v, F_BUNDLE, "malformed bundle: %s", mla_diag_message(&d));
		return CLI_OK;
	}
	return audit_run_checks(v);
}

void audit_vctx_free(struct vctx *v)
{
	mla_trust_free(v->trust);
	free(v->entries);
	free(v->leaves);
	free(v->cps);
	free(v->envs);
	free(v->recs);
	free(v->times);
	free(v->peers);
	free(v->heads);
	free(v->selected);
	json_decref(v->failures);
}

static void free_one(struct vctx *v, mla_buf *data, mla_bundle *b)
{
	mla_bundle_free(b);
	mla_buf_free(data);
	audit_vctx_free(v);
}

/* Reports every bundle and, with more than one, the split-view check; the exit status. */
static int report_all(struct vctx *vs, const char *const *files, size_t n, int json)
{
	struct vcross x = {0, 0, 0, json_array()};
	size_t failed = 0, i;
	json_t *bundles = json_array(), *f;
	int rc = CLI_OK;

	if (n > 1 && audit_cross_check(vs, files, n, &x) != 0)
		rc = CLI_INTERNAL;
	for (i = 0; i < n; i++) {
		failed += audit_failures(&vs[i]);
		if (json)
			(void)json_array_append_new(bundles, report_json(&vs[i], files[i]));
		else
			report_text(&vs[i], files[i]);
	}
	failed += x.failed;
	if (json && n == 1) {
		print_json(json_array_get(bundles, 0));
	} else if (json) {
		json_t *o = json_pack("{sbsOs{sIsIsO}}", "verified", failed == 0, "bundles", bundles,
				      "split_view", "compared", (json_int_t)x.compared, "unchecked",
				      (json_int_t)x.unchecked, "failures", x.failures);
		print_json(o);
		json_decref(o);
	} else if (n > 1) {
		printf("split view across %zu bundles: %zu signed heads agree, %zu beyond the exported "
		       "logs (not judged), %zu conflicts\n", n, x.compared, x.unchecked, x.failed);
		json_array_foreach(x.failures, i, f)
			printf("FAILED split-view: %s\n",
			       json_string_value(json_object_get(f, "message")));
		printf(failed == 0 ? "all verified\n" : "NOT verified: %zu failures\n", failed);
	}
	json_decref(bundles);
	json_decref(x.failures);
	if (rc != CLI_OK)
		return rc;
	return failed == 0 ? CLI_OK : CLI_REJECTED;
}

int cmd_audit_verify(int argc, char **argv)
{
	static const struct audit_args_spec spec = {CMD, verify_usage, 1, 1,
						    "give FILE (up to 16) and --trust DIR", 16};
	const char *files[17] = {NULL}, *dir = NULL;
	struct vctx vs[16];
	mla_bundle bs[16];
	mla_buf data[16];
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;
	mla_err r;
	int json = 0, rc;

	memset(vs, 0, sizeof(vs));
	memset(bs, 0, sizeof(bs));
	if ((rc = audit_parse_args(argc, argv, &spec, files, &dir, &json)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if ((r = mla_crypto_init(&d)) != MLA_OK)
		return cli_fail(CMD, r, &d);
	for (rc = CLI_OK; files[n] != NULL && rc == CLI_OK; n++) {
		vs[n].trust_dir = dir;
		if ((rc = audit_load_trust(&vs[n], CMD)) == CLI_OK)
			rc = verify_one(&vs[n], files[n], &data[n], &bs[n]);
		else
			mla_buf_init(&data[n], 0);
	}
	if (rc == CLI_OK)
		rc = report_all(vs, files, n, json);
	for (size_t i = 0; i < n; i++)
		free_one(&vs[i], &data[i], &bs[i]);
	return rc;
}
