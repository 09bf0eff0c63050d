/* mlagw audit verify: checks audit bundles (SPEC section 15) offline, with the States' root
 * certificates only (mla_audit_verify), and reports one line per check family and each
 * failure by record, or the same as JSON; with the attachment files beside a bundle
 * (FILE.attachments/ or --attachments DIR), each checked against its signed list. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "audit_bundle.h"
#include "cli_util.h"
#include "mlagw/codec.h"

#define CMD "audit verify"

static const char verify_usage[] =
	"usage: mlagw audit verify FILE [FILE...] --trust DIR [--json]\n"
	"                          [--attachments FOLDER] [--all-attachments]\n"
	"                          [--directory-at TIME]\n"
	"Verifies an audit bundle offline: the audit certificate chains to the root of the\n"
	"bundle's State (DIR/ *.crt: the States' roots), every checkpoint is signed by it, the\n"
	"entries are canonical, dense and recompute every checkpoint's root, and every envelope\n"
	"and receipt verifies and is the one its entries name, and every cosignature by a peer\n"
	"verifies. With several bundles (one per State), also that no log showed two histories:\n"
	"no two roots for one log and size, and every cosigned root is the root of that log's\n"
	"exported entries (split view).\n"
	"Memory does not grow with the entries or checkpoints; what is learnt of each checkpoint\n"
	"goes to a temporary file in TMPDIR (else /tmp), 64 bytes each.\n"
	"Attachments: when the folder FILE.attachments exists (or --attachments FOLDER names it,\n"
	"with one FILE), every <message id>/<n>.ct in it is checked with no key against the\n"
	"signed list of the message's verified envelope: its size, every segment, the Merkle\n"
	"root; a file no envelope lists is a failure; a listed file absent is counted as not\n"
	"checked (a failure with --all-attachments).\n"
	"--directory-at TIME (one FILE; YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, to its end): also\n"
	"prints the directory serial the log had adopted at TIME, and whether the bundle holds\n"
	"its document verified.\n"
	"exit: 0 everything verifies, 1 something does not, 2 usage, 3 cannot read FILE or DIR\n"
	"(or write the temporary file)\n";

int audit_parse_args(int argc, char **argv, const struct audit_args_spec *spec,
		     const char **files, const char **dir, int *json)
{
	return audit_parse_args_att(argc, argv, spec, files, dir, json, NULL);
}

int audit_parse_args_att(int argc, char **argv, const struct audit_args_spec *spec,
			 const char **files, const char **dir, int *json,
			 struct audit_attach_opts *att)
{
	static const struct option opts[] = {
		{"trust", 1, NULL, 't'}, {"json", 0, NULL, 'j'}, {"help", 0, NULL, 'h'},
		{"attachments", 1, NULL, 'a'}, {"all-attachments", 0, NULL, 'A'},
		{"directory-at", 1, NULL, 'D'}, {NULL, 0, NULL, 0},
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
		} else if (c == 'a' && att != NULL) {
			att->dir = optarg;
		} else if (c == 'A' && att != NULL) {
			att->required = 1;
		} else if (c == 'D' && att != NULL) {
			att->directory_at = optarg;
			if (!mla_audit_filter_time(optarg, 1, &att->at_ms))
				return cli_usage_error(spec->cmd, "--directory-at: not YYYY-MM-DD or "
						       "YYYY-MM-DDThh:mm:ssZ: %s", optarg);
		} else {
			return cli_usage_error(spec->cmd, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	int n = argc - optind;
	if ((spec->max_files > 0 ? n < spec->nfiles || n > spec->max_files : n != spec->nfiles) ||
	    (spec->need_trust && *dir == NULL))
		return cli_usage_error(spec->cmd, "%s", spec->want);
	if (att != NULL && att->dir != NULL && n != 1)
		return cli_usage_error(spec->cmd, "--attachments FOLDER goes with one FILE");
	if (att != NULL && att->directory_at != NULL && n != 1)
		return cli_usage_error(spec->cmd, "--directory-at TIME goes with one FILE");
	for (i = 0; i < n; i++)
		files[i] = argv[optind + i];
	files[n] = NULL;
	return CLI_OK;
}

int audit_load_trust(const char *dir, const char *cmd, mla_audit_trust **trust)
{
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_audit_trust_load(dir, trust, &d);

	if (r == MLA_ERR_NOT_FOUND || r == MLA_ERR_NOMEM)
		fprintf(stderr, "mlagw %s: cannot read --trust %s\n", cmd, dir);
	else if (r != MLA_OK)
		fprintf(stderr, "mlagw %s: %s\n", cmd, mla_diag_message(&d));
	return r == MLA_OK ? CLI_OK : CLI_IO;
}

int audit_bundle_readable(const char *file, const char *cmd)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc = CLI_OK;

	if (fd < 0) {
		fprintf(stderr, "mlagw %s: cannot open %s: %s\n", cmd, file, strerror(errno));
		return CLI_IO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "mlagw %s: cannot read %s: not a regular file\n", cmd, file);
		rc = CLI_IO;
	}
	close(fd);
	return rc;
}

static size_t bundle_failed(const mla_audit_bundle_result *b)
{
	size_t n = 0;

	for (int k = 0; k < MLA_AUDIT_CHECK_N; k++)
		n += b->failed[k];
	return n;
}

/* [{check, message}] of n failures of check (NULL: each failure's own). */
static json_t *failures_json(const mla_audit_failure *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		(void)json_array_append_new(a, json_pack("{ssss}", "check",
							 mla_audit_check_name(f[i].check),
							 "message", f[i].message));
	return a;
}

/* Whether family k is reported: attachments when a folder was given, directories when the
 * log adopted one (a bundle of a gateway without a directory reports as before). */
static int family_shown(const mla_audit_bundle_result *b, int k)
{
	if (k == MLA_AUDIT_CHECK_ATTACHMENTS)
		return b->attachments_dir;
	if (k == MLA_AUDIT_CHECK_DIRECTORIES)
		return b->ok[k] + b->failed[k] > 0;
	if (k == MLA_AUDIT_CHECK_REVOCATION) /* a bundle without CRLs says so on its own line */
		return b->records[MLA_BUNDLE_CRL] + b->records[MLA_BUNDLE_OCSP] > 0 ||
		       b->ok[k] + b->failed[k] > 0;
	return 1;
}

static json_t *report_json(const mla_audit_bundle_result *b)
{
	json_t *checks = json_object();

	json_t *o;

	for (int k = 0; k < MLA_AUDIT_CHECK_N; k++)
		if (family_shown(b, k))
			json_object_set_new(checks, mla_audit_check_name((mla_audit_check)k),
					    json_pack("{sIsI}", "ok", (json_int_t)b->ok[k], "failed",
						      (json_int_t)b->failed[k]));
	o = json_pack("{sssbsssIsIsososI}", "file", b->name, "verified",
			 bundle_failed(b) == 0, "state", b->state, "entries",
			 (json_int_t)b->records[MLA_BUNDLE_ENTRY], "cosignatures",
			 (json_int_t)b->cosignatures, "checks", checks, "failures",
			 failures_json(b->failures, b->nfailures), "unlisted",
			 (json_int_t)b->unlisted);
	if (o != NULL) /* CRLs and OCSP answers verified: 0, no signer judged for revocation */
		json_object_set_new(o, "revocation_evidence",
				    json_integer((json_int_t)(b->crls + b->ocsps)));
	if (o != NULL && b->attachments_dir)
		json_object_set_new(o, "attachments_not_checked",
				    json_integer((json_int_t)b->attachments_absent));
	return o;
}

static void report_text(const mla_audit_bundle_result *b)
{
	size_t failed = bundle_failed(b);

	printf("audit bundle %s: State %s, %zu entries, %zu checkpoints (%zu cosignatures by "
	       "peers), %zu envelopes, %zu receipts\n", b->name, b->state[0] ? b->state : "?",
	       b->records[MLA_BUNDLE_ENTRY], b->records[MLA_BUNDLE_CHECKPOINT], b->cosignatures,
	       b->records[MLA_BUNDLE_ENVELOPE], b->records[MLA_BUNDLE_RECEIPT]);
	for (int k = 0; k < MLA_AUDIT_CHECK_N; k++)
		if (family_shown(b, k))
			printf("  %-12s %zu ok, %zu failed\n",
			       mla_audit_check_name((mla_audit_check)k), b->ok[k], b->failed[k]);
	if (b->attachments_dir)
		printf("  attachments: %zu listed but not in the folder (not checked)\n",
		       b->attachments_absent);
	if (b->crls + b->ocsps == 0) /* reported, not a failure: older gateways kept none */
		printf("  revocation: no verified CRL or OCSP answer in the bundle: signers not "
		       "checked for revocation\n");
	for (size_t i = 0; i < b->nfailures; i++)
		printf("FAILED %s: %s\n", mla_audit_check_name(b->failures[i].check),
		       b->failures[i].message);
	if (b->unlisted > 0)
		printf("FAILED ... and %zu more, not listed (the counts above hold them)\n",
		       b->unlisted);
	printf(failed == 0 ? "verified\n" : "NOT verified: %zu failures\n", failed);
}

static void print_json(json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s != NULL)
		puts(s);
	free(s);
}

static json_t *splits_json(const mla_audit_result *res)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->nsplits; i++)
		(void)json_array_append_new(a, json_pack("{ssss}", "check", "split-view",
							 "message", res->splits[i].message));
	return a;
}

/* With several bundles, the split-view check's summary and findings. */
static void report_split_text(const mla_audit_result *res, size_t failed)
{
	printf("split view across %zu bundles: %zu signed heads agree, %zu beyond the exported "
	       "logs (not judged), %zu conflicts\n", res->nbundles, res->split_compared,
	       res->split_unchecked, res->nsplits + res->split_unlisted);
	for (size_t i = 0; i < res->nsplits; i++)
		printf("FAILED split-view: %s\n", res->splits[i].message);
	if (res->split_unlisted > 0)
		printf("FAILED split-view: ... and %zu more, not listed\n", res->split_unlisted);
	printf(failed == 0 ? "all verified\n" : "NOT verified: %zu failures\n", failed);
}

/* Each log epoch's link to the one before (SPEC 15, "Several bundles"). */
static json_t *links_json(const mla_audit_result *res)
{
	json_t *a = json_array();

	for (size_t i = 0; i < res->nlinks; i++) {
		const mla_audit_link *l = &res->links[i];
		(void)json_array_append_new(
			a, json_pack("{sssssssIsIsIsbsbss}", "file", res->bundles[l->bundle].name,
				     "origin", l->origin, "prev_origin", l->prev_origin, "prev_size",
				     (json_int_t)l->prev_size, "archived", (json_int_t)l->archived,
				     "lost", (json_int_t)l->lost, "checked", l->checked, "verified",
				     l->checked && !l->failed, "message", l->message));
	}
	return a;
}

static size_t links_text(const mla_audit_result *res)
{
	size_t failed = 0;

	for (size_t i = 0; i < res->nlinks; i++) {
		printf("%sepoch link: %s\n", res->links[i].failed ? "FAILED " : "",
		       res->links[i].message);
		failed += (size_t)res->links[i].failed;
	}
	return failed;
}

/* Reports every bundle and, with more than one, the split-view check; the exit status. */
static int report_all(const mla_audit_result *res, int json,
		      const struct audit_attach_opts *att)
{
	size_t failed = res->nsplits + res->split_unlisted;
	json_t *bundles = json_array();

	for (size_t i = 0; i < res->nlinks; i++)
		failed += (size_t)res->links[i].failed;

	for (size_t i = 0; i < res->nbundles; i++) {
		failed += bundle_failed(&res->bundles[i]);
		if (json)
			(void)json_array_append_new(bundles, report_json(&res->bundles[i]));
		else
			report_text(&res->bundles[i]);
		if (!json && att->directory_at != NULL)
			audit_dir_at_text(&res->bundles[i], att);
	}
	if (json && res->nbundles == 1) {
		json_t *b = json_array_get(bundles, 0);
		if (res->nlinks > 0)
			json_object_set_new(b, "epoch_links", links_json(res));
		if (att->directory_at != NULL)
			json_object_set_new(b, "directory_at", audit_dir_at_json(&res->bundles[0], att));
		print_json(b);
	} else if (json) {
		json_t *o = json_pack("{sbsOs{sIsIsosI}so}", "verified", failed == 0, "bundles",
				      bundles, "split_view", "compared",
				      (json_int_t)res->split_compared, "unchecked",
				      (json_int_t)res->split_unchecked, "failures", splits_json(res),
				      "unlisted", (json_int_t)res->split_unlisted, "epoch_links",
				      links_json(res));
		print_json(o);
		json_decref(o);
	} else {
		if (links_text(res) > 0 && res->nbundles == 1)
			printf("NOT verified: the epoch link failed\n");
		if (res->nbundles > 1)
			report_split_text(res, failed);
	}
	json_decref(bundles);
	return failed == 0 ? CLI_OK : CLI_REJECTED;
}

/* Whether file can be read: CLI_OK, else CLI_IO after saying why. */
static int readable(const char *file)
{
	FILE *f = fopen(file, "rb");
	struct stat st;
	int rc = CLI_OK;

	if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "mlagw %s: cannot read %s: %s\n", CMD, file,
			f == NULL ? strerror(errno) : "not a regular file");
		rc = CLI_IO;
	}
	if (f != NULL)
		fclose(f);
	return rc;
}

/* The bundles verified (each read from its file in passes, in bounded memory) and
 * reported. */
/* The attachments folder of bundle file: --attachments FOLDER (which must be a folder), or
 * FILE.attachments when it is one; NULL otherwise. CLI_OK, else CLI_IO after saying why. */
static int attach_folder(const char *file, const struct audit_attach_opts *att, char *buf,
			 size_t cap, const char **out)
{
	struct stat st;

	*out = NULL;
	if (att->dir != NULL) {
		if (stat(att->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "mlagw %s: cannot read --attachments %s: not a folder\n",
				CMD, att->dir);
			return CLI_IO;
		}
		*out = att->dir;
		return CLI_OK;
	}
	if (mla_snprintf(buf, cap, "%s.attachments", file) == MLA_OK && stat(buf, &st) == 0 &&
	    S_ISDIR(st.st_mode))
		*out = buf;
	return CLI_OK;
}

static int verify_files(const char *const *files, size_t n, const mla_audit_trust *trust,
			int json, const struct audit_attach_opts *att)
{
	static char folders[16][4096];
	mla_audit_input in[16];
	mla_audit_attach_in ain[16];
	mla_audit_result *res = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r;
	int rc = CLI_OK;

	for (size_t i = 0; i < n && rc == CLI_OK; i++) {
		rc = readable(files[i]);
		in[i] = (mla_audit_input){files[i], NULL, 0, files[i]};
		ain[i] = (mla_audit_attach_in){NULL, att->required};
		if (rc == CLI_OK)
			rc = attach_folder(files[i], att, folders[i], sizeof folders[i],
					   &ain[i].folder);
	}
	if (rc == CLI_OK && (r = mla_audit_verify_attach(in, ain, n, trust, &res, &d)) != MLA_OK)
		rc = cli_fail(CMD, r, &d);
	if (rc == CLI_OK)
		rc = report_all(res, json, att);
	mla_audit_result_free(res);
	return rc;
}

int cmd_audit_verify(int argc, char **argv)
{
	static const struct audit_args_spec spec = {CMD, verify_usage, 1, 1,
						    "give FILE (up to 16) and --trust DIR", 16};
	const char *files[17] = {NULL}, *dir = NULL;
	struct audit_attach_opts att = {NULL, 0, NULL, 0};
	mla_audit_trust *trust = NULL;
	mla_diag d = {MLA_OK, ""};
	size_t n = 0;
	mla_err r;
	int json = 0, rc;

	if ((rc = audit_parse_args_att(argc, argv, &spec, files, &dir, &json, &att)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if ((r = mla_crypto_init(&d)) != MLA_OK)
		return cli_fail(CMD, r, &d);
	while (files[n] != NULL)
		n++;
	if ((rc = audit_load_trust(dir, CMD, &trust)) == CLI_OK)
		rc = verify_files(files, n, trust, json, &att);
	mla_audit_trust_free(trust);
	return rc;
}
