/* mlagw store check and mlagw store backup: a store checked read-only (quick_check, the audit
 * entries against their leaves, the latest checkpoint under a held audit key; safe against a
 * running gateway), and an online backup of a running gateway's store, checked the same way
 * before it is put in place. The work is the store's (store/store_check.h); here: options,
 * the audit certificates given, and the report. */
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "cli_util.h"
#include "cmd_store.h"
#include "commands.h"
#include "mlagw/codec.h"
#include "mlagw/pem.h"
#include "store/store_check.h"
#include "attach/attach_backup.h"
#include "attach/attach_check.h"
#include "attach/attach_files.h"
#include "mlagw/envelope.h"

#define CERTS_MAX 16

struct sc_args;
static int check_path(const char *path, const struct sc_args *a, const char *cmd,
		      struct store_check_result *res, struct attach_check_result *att);
static void print_text(const char *path, const struct store_check_result *res,
		       const struct attach_check_result *att);

static const char check_usage[] =
	"usage: mlagw store check --store STORE.db [--audit-cert CERT]... [--deep] [--json]\n"
	"                         [--trust DIR --publisher CC]\n"
	"Checks a gateway's store read-only (safe while the gateway runs, on one snapshot):\n"
	"  quick_check   SQLite's check of the file's structure (cost: the store's bytes)\n"
	"  audit         every audit entry re-hashed against its stored leaf, dense and canonical\n"
	"  checkpoint    the latest checkpoint verified under an audit key the store records as\n"
	"                held (--audit-cert adds keys, e.g. for a store from before the list),\n"
	"                and its root compared with the stored leaves\n"
	"  attachments   each attachment file of the messages with attachments (envelope\n"
	"                version 3, transfers in progress) there with the size the signed list\n"
	"                gives (stat only); with --deep each complete file's Merkle root is also\n"
	"                recomputed (cost: the files' bytes); folders and files no message lists\n"
	"                are reported as strays, not failures\n"
	"  directories   each adopted directory (schema 14) re-hashed against its key; with\n"
	"                --trust DIR (the roots, DIR/*.crt) and --publisher CC also its\n"
	"                signatures verified at the time it was adopted, and its serial\n"
	"exit: 0 every check passed, 1 a check failed (each failure named), 2 usage, 3 the store\n"
	"cannot be opened\n";
static const char backup_usage[] =
	"usage: mlagw store backup --store STORE.db --out FILE [--audit-cert CERT]... [--json]\n"
	"Copies a gateway's store, running or not, as one consistent snapshot (SQLite's online\n"
	"backup from a read-only connection) into FILE.tmp.PID, syncs it, checks the copy as\n"
	"`mlagw store check` does, and only then names it FILE (never over an existing file). The\n"
	"report gives the audit entries and the latest checkpoint the backup holds. The attachment\n"
	"files of the messages in the snapshot are copied into FILE.attachments/<message id>/\n"
	"(<n>.ct; <n>.ct.part for a transfer in progress, as it is; the sender's <n>.tree) and\n"
	"checked with it (sizes); FILE.attachments must not exist either.\n"
	"exit: 0 done, 1 FILE exists or the copy failed its check, 2 usage, 3 cannot read the\n"
	"store or write FILE\n";

struct sc_args {
	const char *store, *out;
	const char *certs[CERTS_MAX];
	size_t n_certs;
	int json, backup, deep;
	const char *att_root; /* NULL: the store's own attachments folder */
	const char *trust, *publisher; /* the directories' signatures checked with both */
};

static int apply(int c, const char *v, void *arg)
{
	struct sc_args *a = arg;

	switch (c) {
	case 's': a->store = v; break;
	case 'o': a->out = v; break;
	case 'j': a->json = 1; break;
	case 'd': a->deep = 1; break;
	case 't': a->trust = v; break;
	case 'p': a->publisher = v; break;
	case 'c':
		if (a->n_certs == CERTS_MAX)
			return cli_usage_error(a->backup ? "store backup" : "store check",
					       "at most %d --audit-cert", CERTS_MAX);
		a->certs[a->n_certs++] = v;
		break;
	default: return CLI_USAGE;
	}
	return CLI_OK;
}

/* The --audit-cert keys under the log's origin (the latest checkpoint's first line). */
static int load_certs(store_reader *r, const struct sc_args *a, struct store_keyring *k,
		      const char *cmd)
{
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	mla_diag d = {MLA_OK, ""};
	mla_note_verifier v;
	mla_err e = MLA_OK;
	X509 *x = NULL;

	if (a->n_certs == 0 || store_reader_origin(r, origin, sizeof(origin), NULL) != MLA_OK)
		return CLI_OK; /* no checkpoint: nothing to verify with them */
	for (size_t i = 0; i < a->n_certs && e == MLA_OK; i++) {
		if ((e = mla_pem_load_cert(a->certs[i], &x, &d)) == MLA_OK &&
		    (e = mla_note_verifier_from_key(origin, X509_get0_pubkey(x), &v, &d)) == MLA_OK)
			e = store_keyring_add(k, &v, 0);
		X509_free(x);
		x = NULL;
	}
	return e == MLA_OK ? CLI_OK : cli_fail(cmd, e, &d);
}

/* The directories part: hashes, and with --trust and --publisher the signatures. */
static int check_dirs(store_reader *r, const struct sc_args *a, const char *cmd,
		      struct store_check_result *res)
{
	char pattern[PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	mla_trust *trust = NULL;
	glob_t g;
	mla_err e = MLA_OK;

	memset(&g, 0, sizeof(g));
	if (a->trust != NULL &&
	    (mla_snprintf(pattern, sizeof(pattern), "%s/*.crt", a->trust) != MLA_OK ||
	     glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0)) {
		globfree(&g);
		return cli_usage_error(cmd, "--trust %s: no *.crt there", a->trust);
	}
	if (a->trust != NULL && (e = mla_crypto_init(&d)) == MLA_OK) /* XML-DSig */
		e = mla_trust_load_files((const char *const *)g.gl_pathv, g.gl_pathc, &trust, &d);
	globfree(&g);
	if (e == MLA_OK)
		e = store_check_dirs(r, trust, a->publisher, res, &d);
	mla_trust_free(trust);
	return e == MLA_OK ? CLI_OK : cli_fail(cmd, e, &d);
}

static void print_dirs(const struct store_check_result *res)
{
	if (res->bad_dirs > 0)
		printf("directories: FAILED: %llu of %llu adopted directories; the first: %s\n",
		       (unsigned long long)res->bad_dirs, (unsigned long long)res->dirs,
		       res->dir_bad);
	else
		printf("directories: %llu re-hashed: ok%s\n", (unsigned long long)res->dirs,
		       res->dirs_signatures ? ", signatures verified" : " (signatures not checked: "
		       "no --trust and --publisher)");
}

static void print_attach(const struct attach_check_result *att)
{
	if (att->bad > 0)
		printf("attachments: FAILED: %llu files missing or wrong; the first: %s\n",
		       (unsigned long long)att->bad, att->first_bad);
	else
		printf("attachments: %llu files of %llu messages, %llu bytes (%llu of transfers in "
		       "progress), sizes ok%s\n", (unsigned long long)att->files,
		       (unsigned long long)att->messages, (unsigned long long)att->bytes,
		       (unsigned long long)att->parts, att->deep > 0 ? ", roots recomputed: ok" : "");
	if (att->strays > 0)
		printf("attachments: note: %llu strays no message lists; the first: %s\n",
		       (unsigned long long)att->strays, att->first_stray);
}

static void print_text(const char *path, const struct store_check_result *res,
		       const struct attach_check_result *att)
{
	printf("store %s\n", path);
	printf("quick_check: %s%s (%.2f s)\n", res->failed & STORE_CHECK_QUICK ? "FAILED: " : "",
	       res->quick, res->quick_s);
	if (res->log[0] != '\0')
		printf("audit: FAILED: %s\n", res->log);
	if (res->bad_entries > 0)
		printf("audit: FAILED: entry %llu does not match its leaf (torn, altered or "
		       "missing; %llu such entries)\n", (unsigned long long)res->first_bad,
		       (unsigned long long)res->bad_entries);
	else if (res->log[0] == '\0')
		printf("audit: %llu entries re-hashed against their leaves: ok (%.2f s)\n",
		       (unsigned long long)res->entries, res->log_s);
	if (res->cp_failed)
		printf("checkpoint: FAILED: %s\n", res->cp);
	else if (res->checkpoint > 0)
		printf("checkpoint: %llu entries, verified under %s (held since checkpoint %llu), "
		       "root matches the stored leaves\n", (unsigned long long)res->checkpoint,
		       res->vkey, (unsigned long long)res->key_first);
	else if (res->log[0] == '\0')
		printf("checkpoint: none yet\n");
	if (res->bad_cases > 0)
		printf("cases: FAILED: %llu of %llu cases do not follow their steps; the first: %s\n",
		       (unsigned long long)res->bad_cases, (unsigned long long)res->cases,
		       res->case_bad);
	else
		printf("cases: %llu checked against their steps: ok\n",
		       (unsigned long long)res->cases);
	print_dirs(res);
	print_attach(att);
	printf("store check: %s\n", res->failed || att->bad ? "FAILED" : "ok");
}

static json_t *result_json(const char *path, const struct store_check_result *res)
{
	return json_pack("{ss sb s{sb ss sf} s{sI sI sI ss? sf} s{sI sb ss? ss? sI}}", "store",
			 path, "ok", res->failed == 0, "quick_check", "ok",
			 !(res->failed & STORE_CHECK_QUICK), "report", res->quick, "seconds",
			 res->quick_s, "audit", "entries", (json_int_t)res->entries, "bad_entries",
			 (json_int_t)res->bad_entries, "first_bad", (json_int_t)res->first_bad,
			 "error", res->log[0] ? res->log : NULL, "seconds", res->log_s, "checkpoint",
			 "size", (json_int_t)res->checkpoint, "verified",
			 res->checkpoint > 0 && !res->cp_failed, "key",
			 res->vkey[0] ? res->vkey : NULL, "error", res->cp[0] ? res->cp : NULL,
			 "key_first", (json_int_t)res->key_first);
}

/* result_json with the case and attachment parts (members of their own: older readers
 * ignore them). */
static json_t *result_json_cases(const char *path, const struct store_check_result *res,
				 const struct attach_check_result *att)
{
	json_t *o = result_json(path, res);

	if (o != NULL &&
	    (json_object_set_new(o, "ok", json_boolean(res->failed == 0 && att->bad == 0)) != 0 ||
	     json_object_set_new(o, "directories",
				 json_pack("{sI sI sb ss?}", "checked", (json_int_t)res->dirs,
					   "bad", (json_int_t)res->bad_dirs, "signatures",
					   res->dirs_signatures, "error",
					   res->dir_bad[0] ? res->dir_bad : NULL)) != 0 ||
	     json_object_set_new(o, "cases", json_pack("{sI sI ss?}", "checked",
						      (json_int_t)res->cases, "bad",
						      (json_int_t)res->bad_cases, "error",
						      res->case_bad[0] ? res->case_bad : NULL)) != 0 ||
	     json_object_set_new(o, "attachments",
				 json_pack("{sI sI sI sI sI sI ss? sI ss?}", "messages",
					   (json_int_t)att->messages, "files",
					   (json_int_t)att->files, "bytes", (json_int_t)att->bytes,
					   "parts", (json_int_t)att->parts, "deep",
					   (json_int_t)att->deep, "bad", (json_int_t)att->bad,
					   "error", att->first_bad[0] ? att->first_bad : NULL,
					   "strays", (json_int_t)att->strays, "first_stray",
					   att->first_stray[0] ? att->first_stray : NULL)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Checks the store at path; CLI_OK or CLI_REJECTED (res filled), or an error printed. */
int store_check_file(const char *path, const char *att_root, const char *cmd,
		     struct store_check_result *res, struct attach_check_result *att)
{
	struct sc_args a;

	memset(&a, 0, sizeof(a));
	a.att_root = att_root;
	return check_path(path, &a, cmd, res, att);
}

void store_check_print(const char *path, const struct store_check_result *res,
		       const struct attach_check_result *att)
{
	print_text(path, res, att);
}

/* The attachment files against r's snapshot, under a->att_root or the store's own folder. */
static int check_attachments(store_reader *r, const char *path, const struct sc_args *a,
			     const char *cmd, struct attach_check_result *att)
{
	char root[ATTACH_PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	if ((e = a->att_root != NULL ? mla_strcpy(root, sizeof(root), a->att_root)
				     : attach_root_path(path, root, sizeof(root), &d)) != MLA_OK ||
	    (e = mla_crypto_init(&d)) != MLA_OK ||
	    (e = attach_check_run(r, root, a->deep ? ATTACH_CHECK_DEEP : 0, NULL, att, &d)) !=
		    MLA_OK)
		return cli_fail(cmd, e, &d);
	return CLI_OK;
}

static int check_path(const char *path, const struct sc_args *a, const char *cmd,
		      struct store_check_result *res, struct attach_check_result *att)
{
	struct store_keyring k = {0};
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;
	int rc;

	if ((e = store_reader_open(path, &r, &d)) != MLA_OK)
		return cli_fail(cmd, e, &d);
	if ((rc = load_certs(r, a, &k, cmd)) == CLI_OK) {
		e = store_check_run(r, STORE_CHECK_QUICK | STORE_CHECK_LOG | STORE_CHECK_CASES, &k,
				    NULL, res, &d);
		rc = e != MLA_OK ? cli_fail(cmd, e, &d) : check_dirs(r, a, cmd, res);
	}
	memset(att, 0, sizeof(*att));
	if (rc == CLI_OK && (rc = check_attachments(r, path, a, cmd, att)) == CLI_OK)
		rc = res->failed || att->bad ? CLI_REJECTED : CLI_OK;
	store_keyring_free(&k);
	store_reader_close(r);
	return rc;
}

static int store_check(const struct sc_args *a)
{
	struct store_check_result res;
	struct attach_check_result att;
	json_t *j;
	int rc = check_path(a->store, a, "store check", &res, &att);

	if (rc != CLI_OK && rc != CLI_REJECTED)
		return rc;
	if (!a->json) {
		print_text(a->store, &res, &att);
	} else if ((j = result_json_cases(a->store, &res, &att)) == NULL) {
		return CLI_INTERNAL;
	} else {
		(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(j);
	}
	return rc;
}

static void print_backup(const struct sc_args *a, uint64_t bytes,
			 const struct store_check_result *res, const struct attach_backup_result *ab)
{
	json_t *j;

	if (!a->json) {
		printf("backup %s: %llu bytes, %llu audit entries, checkpoint of %llu entries; "
		       "checked: quick_check ok, entries ok, checkpoint verified\n", a->out,
		       (unsigned long long)bytes, (unsigned long long)res->entries,
		       (unsigned long long)res->checkpoint);
		printf("backup %s: %llu attachment files of %llu messages (%llu of transfers in "
		       "progress, copied as they are), %llu tree files, %llu bytes; checked: sizes "
		       "ok\n", a->att_root, (unsigned long long)ab->files,
		       (unsigned long long)ab->messages, (unsigned long long)ab->parts,
		       (unsigned long long)ab->trees, (unsigned long long)ab->bytes);
		return;
	}
	j = json_pack("{ss ss sI sI sI sf sf s{ss sI sI sI sI sI}}", "out", a->out, "store",
		      a->store, "bytes", (json_int_t)bytes, "audit_entries",
		      (json_int_t)res->entries, "checkpoint", (json_int_t)res->checkpoint,
		      "quick_check_s", res->quick_s, "audit_s", res->log_s, "attachments", "folder",
		      a->att_root, "messages", (json_int_t)ab->messages, "files",
		      (json_int_t)ab->files, "parts", (json_int_t)ab->parts, "trees",
		      (json_int_t)ab->trees, "bytes", (json_int_t)ab->bytes);
	if (j != NULL) {
		(void)json_dumpf(j, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(j);
	}
}

/* The attachment files the copy tmp lists, from the store's folder into a->att_root. */
static int backup_attachments(const struct sc_args *a, const char *tmp,
			      struct attach_backup_result *ab)
{
	char src[ATTACH_PATH_MAX];
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err e;

	if ((e = attach_root_path(a->store, src, sizeof(src), &d)) != MLA_OK ||
	    (e = mla_crypto_init(&d)) != MLA_OK || (e = store_reader_open(tmp, &r, &d)) != MLA_OK)
		return cli_fail("store backup", e, &d);
	e = attach_backup_run(r, src, a->att_root, ab, &d);
	store_reader_close(r);
	return e == MLA_OK ? CLI_OK : cli_fail("store backup", e, &d);
}

static int store_backup(struct sc_args *a)
{
	struct store_check_result res;
	struct attach_check_result att;
	struct attach_backup_result ab;
	char tmp[PATH_MAX], att_root[PATH_MAX];
	mla_diag d = {MLA_OK, ""};
	uint64_t bytes = 0;
	struct stat st;
	mla_err e;
	int rc;

	if (mla_snprintf(att_root, sizeof(att_root), "%s.attachments", a->out) != MLA_OK ||
	    mla_snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", a->out, (long)getpid()) != MLA_OK)
		return cli_usage_error("store backup", "--out: path too long");
	if (lstat(a->out, &st) == 0 || lstat(att_root, &st) == 0) {
		fprintf(stderr, "mlagw store backup: %s exists: a backup never replaces a file\n",
			lstat(a->out, &st) == 0 ? a->out : att_root);
		return CLI_REJECTED;
	}
	a->att_root = att_root;
	if ((e = store_backup_copy(a->store, tmp, &bytes, &d)) != MLA_OK) {
		if (e != MLA_ERR_EXISTS)
			(void)unlink(tmp);
		return cli_fail("store backup", e, &d);
	}
	/* the files of the messages in the copy's snapshot, then both checked together */
	if ((rc = backup_attachments(a, tmp, &ab)) == CLI_OK)
		rc = check_path(tmp, a, "store backup", &res, &att);
	if (rc == CLI_REJECTED) {
		fprintf(stderr, "mlagw store backup: the copy failed its check; nothing written:\n");
		print_text(tmp, &res, &att);
	}
	if (rc == CLI_OK && (e = store_backup_place(tmp, a->out, &d)) != MLA_OK)
		rc = e == MLA_ERR_EXISTS ? (fprintf(stderr, "mlagw store backup: %s\n", d.msg),
					    CLI_REJECTED) : cli_fail("store backup", e, &d);
	if (rc != CLI_OK) {
		(void)unlink(tmp);
		attach_backup_remove(att_root);
		return rc;
	}
	print_backup(a, bytes, &res, &ab);
	return CLI_OK;
}

int cmd_store_check(int argc, char **argv, int backup)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"out", 1, NULL, 'o'}, {"audit-cert", 1, NULL, 'c'},
		{"json", 0, NULL, 'j'}, {"deep", 0, NULL, 'd'}, {"help", 0, NULL, 'h'},
		{"trust", 1, NULL, 't'}, {"publisher", 1, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd = backup ? "store backup" : "store check";
	struct cli_optspec spec = {cmd, backup ? backup_usage : check_usage, "", opts, apply};
	struct sc_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.backup = backup;
	if ((rc = cli_parse_options(argc, argv, &spec, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (a.store == NULL || (backup && a.out == NULL))
		return cli_usage_error(cmd, backup ? "--store and --out are required"
						   : "--store is required");
	if (!backup && a.out != NULL)
		return cli_usage_error(cmd, "--out goes with store backup");
	if ((a.trust == NULL) != (a.publisher == NULL) || (backup && a.trust != NULL))
		return cli_usage_error(cmd, "--trust and --publisher go together, with store check");
	if (backup && a.deep)
		return cli_usage_error(cmd, "--deep goes with store check (check the backup after)");
	return backup ? store_backup(&a) : store_check(&a);
}
