/* mlagw audit export: writes the audit bundle (SPEC section 15) of a gateway from its store,
 * read-only: the options, the store's reader as the source of mla_audit_export (mlagw/audit.h,
 * which writes every entry up to the latest checkpoint, every checkpoint, the audit
 * certificate, and the envelopes and receipts of the messages the entries name, optionally
 * only those of a case or a time range), and what the result says on stderr. With
 * --with-attachments, the encrypted attachment files its version 3 envelopes list, copied
 * beside it into FILE.attachments/ (SPEC 15 "Attachment files"). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "attach/attach_files.h"
#include "audit_bundle.h"
#include "cli_util.h"
#include "mlagw/audit.h"
#include "mlagw/bundle.h"
#include "mlagw/codec.h"
#include "mlagw/envelope.h"
#include "mlagw/pem.h"
#include "store/store_reader.h"

#define CMD "audit export"

static const char export_usage[] =
	"usage: mlagw audit export --store STORE.db --cert AUDIT.crt --out FILE\n"
	"                          [--case ID] [--from TIME] [--to TIME] [--with-attachments]\n"
	"Writes the audit bundle of a gateway (read-only on its store): every entry up to the\n"
	"latest checkpoint (always complete, so that roots can be recomputed), every checkpoint,\n"
	"the audit certificate, and the envelopes and receipts of the messages whose entries match\n"
	"the filters (all when none). TIME: YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC); --to is\n"
	"inclusive. --with-attachments also copies the encrypted attachment files the bundle's\n"
	"envelopes list into the folder FILE.attachments/<message id>/<n>.ct (it must not exist;\n"
	"a file the store does not hold yet is reported and counted, not an error).\n"
	"exit: 0 written, 2 usage, 3 cannot read the store or certificate or write FILE\n";

struct export_args {
	const char *store, *cert, *out, *case_id, *from, *to;
	int with_attachments;
	struct mla_audit_filter filter;
};

static int parse(int argc, char **argv, struct export_args *a)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"cert", 1, NULL, 'c'}, {"out", 1, NULL, 'o'},
		{"case", 1, NULL, 'k'},	 {"from", 1, NULL, 'f'}, {"to", 1, NULL, 't'},
		{"with-attachments", 0, NULL, 'a'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': a->store = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'o': a->out = optarg; break;
		case 'k': a->case_id = optarg; break;
		case 'f': a->from = optarg; break;
		case 't': a->to = optarg; break;
		case 'a': a->with_attachments = 1; break;
		case 'h': fputs(export_usage, stdout); return -1;
		default:
			return cli_usage_error(CMD, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error(CMD, "unexpected argument: %s", argv[optind]);
	if (a->store == NULL || a->cert == NULL || a->out == NULL)
		return cli_usage_error(CMD, "--store, --cert and --out are required");
	if (a->with_attachments && strcmp(a->out, "-") == 0)
		return cli_usage_error(CMD, "--with-attachments needs --out FILE, not -");
	/* no entry has a longer case id; the verifier refuses a manifest that names one */
	if (a->case_id != NULL && strlen(a->case_id) > MLA_CASE_ID_MAX)
		return cli_usage_error(CMD, "--case takes at most %d bytes", MLA_CASE_ID_MAX);
	if (!mla_audit_filter_init(&a->filter, a->case_id, a->from, a->to))
		return cli_usage_error(CMD, "--from and --to take YYYY-MM-DD[Thh:mm:ssZ]");
	return CLI_OK;
}

static int cert_state(const char *path, char state[3])
{
	mla_diag d = {MLA_OK, ""};
	X509 *cert = NULL;
	mla_err r = mla_pem_load_cert(path, &cert, &d);
	int n = -1;

	if (r != MLA_OK)
		return cli_fail(CMD, r, &d);
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_countryName, state, 3);
	X509_free(cert);
	if (n != 2 || state[0] < 'A' || state[0] > 'Z' || state[1] < 'A' || state[1] > 'Z') {
		fprintf(stderr, "mlagw " CMD ": %s: the subject has no State (C=)\n", path);
		return CLI_IO;
	}
	return CLI_OK;
}

/* What stopped the export, worded as the command always has. */
static int export_failed(const struct export_args *a, const mla_audit_export_result *res,
			 mla_err r, const mla_diag *d)
{
	const char *msg = d->msg[0] != '\0' ? d->msg : mla_strerror(r);

	switch (res->fault) {
	case MLA_AUDIT_EXPORT_SOURCE:
		fprintf(stderr, "mlagw " CMD ": %s\n", msg);
		return r == MLA_ERR_NOMEM ? CLI_INTERNAL : CLI_IO;
	case MLA_AUDIT_EXPORT_NO_CHECKPOINT:
		fprintf(stderr, "mlagw " CMD ": the store has no checkpoint yet (stop the gateway "
				"cleanly, or wait for its checkpoint interval)\n");
		return CLI_IO;
	case MLA_AUDIT_EXPORT_CONTENT:
		fprintf(stderr, "mlagw " CMD ": store: %s\n", msg);
		return CLI_IO;
	case MLA_AUDIT_EXPORT_CERTIFICATE:
		fprintf(stderr, "mlagw " CMD ": %s: %s\n", a->cert, msg);
		return CLI_IO;
	default:
		return cli_fail(CMD, r, d);
	}
}

static void print_result(const struct export_args *a, const mla_audit_export_result *res,
			 mla_err r)
{
	if (res->warnings & MLA_AUDIT_EXPORT_W_NO_PROOFS)
		fprintf(stderr, "mlagw " CMD ": the audit table holds %zu of the %llu entries "
			"its latest checkpoint covers: no proofs written; the verifier names what "
			"is missing\n", res->entries, (unsigned long long)res->covered);
	if (r == MLA_OK)
		fprintf(stderr, "mlagw " CMD ": %s: %s, %zu entries, %zu checkpoints, %zu envelopes,"
			" %zu receipts\n", a->out, res->state, res->entries, res->checkpoints,
			res->envelopes, res->receipts);
}

/* The store's complete ciphertext of an attachment (SPEC 17.13's layout). */
static mla_err attach_src(void *arg, const char *message_id, unsigned index, char *out,
			  size_t cap, mla_diag *diag)
{
	const struct export_args *a = arg;

	return attach_file_path(a->store, message_id, index, ATTACH_CT, out, cap, diag);
}

/* The sender's tree file of an attachment (absent on a receiver). */
static mla_err attach_tree(void *arg, const char *message_id, unsigned index, char *out,
			   size_t cap, mla_diag *diag)
{
	const struct export_args *a = arg;

	return attach_file_path(a->store, message_id, index, ATTACH_TREE, out, cap, diag);
}

static void attach_missing(void *arg, const char *message_id, unsigned index)
{
	(void)arg;
	fprintf(stderr, "mlagw " CMD ": message %s attachment %u: not in the store (yet): not "
		"exported\n", message_id, index);
}

/* The attachment files beside the bundle just written (FILE.attachments/). */
static int export_attachments(const struct export_args *a)
{
	mla_diag d = {MLA_OK, ""};
	mla_audit_attach_export res;
	char dir[4096];
	mla_err r;

	if (mla_snprintf(dir, sizeof dir, "%s.attachments", a->out) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s: path too long\n", a->out);
		return CLI_IO;
	}
	/* the envelopes' lists are read by the envelope reader: its schemas */
	if ((r = mla_crypto_init(&d)) != MLA_OK)
		return cli_fail(CMD, r, &d);
	r = mla_audit_export_attachments(a->out, dir, attach_src, attach_tree, attach_missing,
					 (void *)a, &res, &d);
	if (r != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": attachments: %s\n", mla_diag_message(&d));
		return r == MLA_ERR_NOMEM ? CLI_INTERNAL : CLI_IO;
	}
	fprintf(stderr, "mlagw " CMD ": %s: %zu attachments of %zu envelopes, %llu bytes, %zu "
		"tree files; %zu not in the store\n", dir, res.copied, res.envelopes,
		(unsigned long long)res.bytes, res.trees, res.missing);
	return CLI_OK;
}

/* Reads the store (one snapshot from the open on, even while the gateway writes to it) and
 * writes the bundle to a->out ("-": standard output). */
static int export_store(const struct export_args *a, const mla_buf *pem)
{
	mla_diag d = {MLA_OK, ""};
	mla_audit_export_result res;
	mla_audit_source src;
	store_reader *rd = NULL;
	char crl_dir[4096];
	mla_err r;
	int rc;

	if ((r = store_reader_open(a->store, &rd, &d)) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": %s\n", d.msg[0] != '\0' ? d.msg : mla_strerror(r));
		return r == MLA_ERR_NOMEM ? CLI_INTERNAL : CLI_IO;
	}
	src = store_reader_audit_source(rd);
	/* the CRLs and OCSP answers the gateway relied on: its revocation cache beside the
	 * store (SPEC 18.7) */
	if (mla_snprintf(crl_dir, sizeof(crl_dir), "%s.revocation", a->store) == MLA_OK) {
		src.crls = mla_audit_crl_dir;
		src.ocsps = mla_audit_ocsp_dir;
		src.crl_ctx = crl_dir;
	}
	if (strcmp(a->out, "-") == 0)
		r = mla_audit_export(&src, pem->data, pem->len, &a->filter, stdout, &res, &d);
	else
		r = mla_audit_export_file(&src, pem->data, pem->len, &a->filter, a->out, &res, &d);
	print_result(a, &res, r);
	rc = r == MLA_OK ? CLI_OK : export_failed(a, &res, r, &d);
	store_reader_close(rd);
	if (rc == CLI_OK && a->with_attachments)
		rc = export_attachments(a);
	return rc;
}

int cmd_audit_export(int argc, char **argv)
{
	struct export_args a;
	mla_diag d = {MLA_OK, ""};
	char state[3];
	mla_buf pem;
	mla_err r;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse(argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	mla_buf_init(&pem, 0);
	if ((rc = cert_state(a.cert, state)) != CLI_OK)
		goto out;
	if ((r = cli_read_file(a.cert, mla_bundle_type_max(MLA_BUNDLE_CERTIFICATE), &pem, &d))) {
		rc = cli_fail(CMD, r, &d);
		goto out;
	}
	rc = export_store(&a, &pem);
out:
	mla_buf_free(&pem);
	return rc;
}
