/* mlagw audit proof: an auditor checks, from outside the gateway, that an audit entry is in
 * the signed log (inclusion) or that the log only grew (consistency). The latest checkpoint is
 * verified with the Ed25519 key of the gateway's audit certificate (--audit-cert), then the
 * proof from the local API (auditor role) is verified here against the signed root. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "api_client.h"
#include "audit_bundle.h"
#include "audit_reconcile.h"
#include "cli_util.h"
#include "mlagw/audit_entry.h"
#include "commands.h"
#include "mlagw/checkpoint.h"
#include "mlagw/codec.h"
#include "mlagw/merkle.h"
#include "mlagw/pem.h"

#define CMD "audit proof"

static const char audit_usage[] =
	"usage: mlagw audit proof --gateway URL --audit-cert FILE --seq N [--size M --old-root B64]\n"
	"       mlagw audit proof --gateway URL --audit-cert FILE --from A --old-root B64 [--json]\n"
	"Fetches the latest signed checkpoint, verifies it with the Ed25519 key of the gateway's\n"
	"audit certificate (key name: the note's origin, mlagw.<cc>/audit), then fetches the proof\n"
	"and verifies it here against the signed root.\n"
	"  --seq N       inclusion of entry N in the log of the latest checkpoint's size\n"
	"  --size M      ... in the log of size M instead: --old-root is then the root at M\n"
	"  --from A      consistency of the log of size A with the latest checkpoint\n"
	"  --old-root B64  the root (base64) of the checkpoint of size A (or M) you kept earlier:\n"
	"                the consistency proof shows that the signed log extends that one\n"
	"credentials as for mlagw status: --token-file F | --cert C --key K, --ca ROOT.crt,\n"
	"--config FILE; the token must be an auditor's. --json prints the checkpoint and proof.\n"
	"exit: 0 verified, 1 refused or not verified, 2 usage, 3 cannot reach or read, 4 internal\n";

struct audit_args {
	struct api_client c;
	const char *token_file, *config, *audit_cert, *old_root;
	const char *seq, *size, *from;
	int json;
};

enum { O_GATEWAY = 300, O_TOKEN, O_TOKEN_FILE, O_CERT, O_KEY, O_CA, O_CONFIG, O_AUDIT_CERT,
       O_SEQ, O_SIZE, O_FROM, O_TO, O_OLD_ROOT, O_JSON, O_HELP };

static int take(int c, const char *v, struct audit_args *a)
{
	switch (c) {
	case O_GATEWAY: a->c.gateway = v; break;
	case O_TOKEN: a->c.token = v; break;
	case O_TOKEN_FILE: a->token_file = v; break;
	case O_CERT: a->c.cert = v; break;
	case O_KEY: a->c.key = v; break;
	case O_CA: a->c.ca = v; break;
	case O_CONFIG: a->config = v; break;
	case O_AUDIT_CERT: a->audit_cert = v; break;
	case O_SEQ: a->seq = v; break;
	case O_SIZE: a->size = v; break;
	case O_FROM: a->from = v; break;
	case O_OLD_ROOT: a->old_root = v; break;
	case O_JSON: a->json = 1; break;
	default: return -1;
	}
	return 0;
}

/* Returns CLI_OK, a usage exit code, or -1 after --help. */
static int parse(int argc, char **argv, struct audit_args *a)
{
	static const struct option opts[] = {
		{"gateway", 1, NULL, O_GATEWAY},	 {"token", 1, NULL, O_TOKEN},
		{"token-file", 1, NULL, O_TOKEN_FILE}, {"cert", 1, NULL, O_CERT},
		{"key", 1, NULL, O_KEY},		 {"ca", 1, NULL, O_CA},
		{"config", 1, NULL, O_CONFIG},	 {"audit-cert", 1, NULL, O_AUDIT_CERT},
		{"seq", 1, NULL, O_SEQ},		 {"size", 1, NULL, O_SIZE},
		{"from", 1, NULL, O_FROM},		 {"old-root", 1, NULL, O_OLD_ROOT},
		{"json", 0, NULL, O_JSON},		 {"help", 0, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == O_HELP) {
			fputs(audit_usage, stdout);
			return -1;
		}
		if (c == '?' || c == ':' || take(c, optarg, a) != 0)
			return cli_usage_error(CMD, "unknown option or missing value: %s",
					       argv[optind - 1]);
	}
	if (optind != argc)
		return cli_usage_error(CMD, "unexpected argument: %s", argv[optind]);
	if (a->audit_cert == NULL)
		return cli_usage_error(CMD, "--audit-cert is required");
	if ((a->seq == NULL) == (a->from == NULL))
		return cli_usage_error(CMD, "give exactly one of --seq and --from");
	if (a->from != NULL && (a->size != NULL || a->old_root == NULL))
		return cli_usage_error(CMD, "--from needs --old-root (and takes no --size)");
	if (a->seq != NULL && (a->size != NULL) != (a->old_root != NULL))
		return cli_usage_error(CMD, "--size and --old-root go together with --seq");
	return CLI_OK;
}

static int parse_hash_hex(const char *s, uint8_t out[MLA_MERKLE_HASH_LEN])
{
	return s != NULL && mla_hex_decode(s, strlen(s), out, MLA_MERKLE_HASH_LEN, NULL) == MLA_OK;
}

/* A root as standard padded base64 of 32 bytes. */
static int parse_root_b64(const char *s, uint8_t out[MLA_MERKLE_HASH_LEN])
{
	return s != NULL && mla_b64_decode(s, strlen(s), out, MLA_MERKLE_HASH_LEN, NULL) == MLA_OK;
}

static int parse_u64(const char *s, uint64_t *out)
{
	return mla_parse_u64(s, 0, INT64_MAX, out) == MLA_OK;
}

/* The hashes array of a proof answer. */
static int proof_of(json_t *ans, mla_merkle_proof *p)
{
	json_t *hs = json_object_get(ans, "hashes"), *h;
	size_t i;

	if (!json_is_array(hs) || json_array_size(hs) > MLA_MERKLE_PROOF_MAX)
		return 0;
	p->len = json_array_size(hs);
	json_array_foreach(hs, i, h)
		if (!parse_hash_hex(json_string_value(h), p->hash[i]))
			return 0;
	return 1;
}

/* "mlagw.<cc>/audit", or "mlagw.<cc>/audit/<epoch>" (SPEC 14, "Log epochs") */
static int origin_ok(const char *o)
{
	char st[3];
	uint32_t epoch;

	return mla_audit_origin_parse(o, st, &epoch) == MLA_OK;
}

/* Fetches the latest checkpoint and verifies its note with the audit certificate's key. */
static int signed_checkpoint(const struct audit_args *a, mla_checkpoint *cp, json_t **ansp)
{
	mla_diag d = {MLA_OK, ""};
	mla_note_verifier v;
	X509 *cert = NULL;
	const char *note, *nl;
	char origin[MLA_CHECKPOINT_ORIGIN_MAX + 1];
	json_t *ans = NULL;
	mla_err r;
	int rc;

	if ((rc = api_call(&a->c, CMD, "GET", "/api/v1/audit/checkpoint", NULL, &ans)) != CLI_OK)
		return rc;
	rc = CLI_REJECTED;
	if ((note = json_string_value(json_object_get(ans, "note"))) == NULL ||
	    (nl = strchr(note, '\n')) == NULL || (size_t)(nl - note) > MLA_CHECKPOINT_ORIGIN_MAX) {
		fprintf(stderr, "mlagw " CMD ": the gateway's checkpoint is malformed\n");
		goto out;
	}
	memcpy(origin, note, (size_t)(nl - note));
	origin[nl - note] = '\0';
	if (!origin_ok(origin)) {
		fprintf(stderr, "mlagw " CMD ": checkpoint origin '%s' is not mlagw.<cc>/audit\n",
			origin);
		goto out;
	}
	if ((r = mla_pem_load_cert(a->audit_cert, &cert, &d)) != MLA_OK ||
	    (r = mla_note_verifier_from_key(origin, X509_get0_pubkey(cert), &v, &d)) != MLA_OK) {
		rc = cli_fail(CMD, r, &d);
		goto out;
	}
	if ((r = mla_checkpoint_open(note, strlen(note), &v, 1, cp, NULL, &d)) != MLA_OK) {
		fprintf(stderr, "mlagw " CMD ": checkpoint not signed by the audit certificate's "
				"key: %s\n", mla_diag_message(&d));
		goto out;
	}
	*ansp = ans;
	ans = NULL;
	rc = CLI_OK;
out:
	X509_free(cert);
	json_decref(ans);
	return rc;
}

static int not_verified(const char *what, const char *why)
{
	fprintf(stderr, "mlagw " CMD ": %s: NOT verified (%s)\n", what, why);
	return CLI_REJECTED;
}

/* The entry's bytes from the API, hashed here: the leaf the proof must reach. */
static int entry_leaf(const struct audit_args *a, uint64_t seq, uint8_t leaf[32], json_t **ansp)
{
	char path[96];
	const char *b64;
	uint8_t raw[1100];
	size_t n = 0;
	int rc;

	if (mla_snprintf(path, sizeof(path), "/api/v1/audit/entries/%llu",
			 (unsigned long long)seq) != MLA_OK)
		return CLI_INTERNAL; /* path is sized for any seq */
	if ((rc = api_call(&a->c, CMD, "GET", path, NULL, ansp)) != CLI_OK)
		return rc;
	b64 = json_string_value(json_object_get(*ansp, "entry_b64"));
	if (b64 == NULL || mla_b64_decode(b64, strlen(b64), raw, sizeof(raw), &n) != MLA_OK ||
	    n == 0)
		return not_verified("entry", "entry_b64 is not base64");
	if (mla_merkle_leaf_hash(raw, n, leaf) != MLA_OK)
		return CLI_INTERNAL;
	return CLI_OK;
}

static void print_json(json_t *cp, json_t *proof, json_t *entry)
{
	json_t *o = json_pack("{sOsO}", "checkpoint", cp, "proof", proof);
	char *s;

	if (o != NULL && entry != NULL)
		json_object_set(o, "entry", entry);
	if (o != NULL && (s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) != NULL) {
		puts(s);
		free(s);
	}
	json_decref(o);
}

static int inclusion(const struct audit_args *a, const mla_checkpoint *cp, json_t *cpj)
{
	uint8_t leaf[32], root[32], served[32];
	uint64_t seq, size = cp->size;
	json_t *ans = NULL, *entry = NULL;
	mla_merkle_proof p;
	char path[128], what[160];
	int rc;

	memcpy(root, cp->root, sizeof(root));
	if (!parse_u64(a->seq, &seq) || (a->size != NULL && !parse_u64(a->size, &size)))
		return cli_usage_error(CMD, "--seq and --size take a decimal number");
	if (a->old_root != NULL && !parse_root_b64(a->old_root, root))
		return cli_usage_error(CMD, "--old-root is not the base64 of 32 bytes");
	(void)mla_snprintf_cut(what, sizeof(what), "inclusion of entry %llu in the log of size %llu",
			       (unsigned long long)seq, (unsigned long long)size);
	if (size > cp->size)
		return not_verified(what, "size beyond the latest checkpoint");
	if (mla_snprintf(path, sizeof(path), "/api/v1/audit/proof/inclusion?seq=%llu&size=%llu",
			 (unsigned long long)seq, (unsigned long long)size) != MLA_OK)
		return CLI_INTERNAL; /* path is sized for any two numbers */
	if ((rc = entry_leaf(a, seq, leaf, &entry)) != CLI_OK ||
	    (rc = api_call(&a->c, CMD, "GET", path, NULL, &ans)) != CLI_OK)
		goto out;
	if (!proof_of(ans, &p) ||
	    !parse_hash_hex(json_string_value(json_object_get(ans, "leaf_hex")), served))
		rc = not_verified(what, "malformed proof");
	else if (memcmp(served, leaf, sizeof(leaf)) != 0)
		rc = not_verified(what, "the proof's leaf is not the entry's hash");
	else if (mla_merkle_inclusion_verify(seq, size, leaf, &p, root) != MLA_OK)
		rc = not_verified(what, "the proof does not lead to the signed root");
	if (rc == CLI_OK && a->json)
		print_json(cpj, ans, entry);
	else if (rc == CLI_OK)
		printf("%s: verified against %s %llu signed by %s\n", what,
		       size == cp->size ? "checkpoint" : "the given root of size",
		       (unsigned long long)(size == cp->size ? cp->size : size), cp->origin);
out:
	json_decref(ans);
	json_decref(entry);
	return rc;
}

/* The older root (--old-root) must be extended by the latest signed checkpoint. */
static int consistency(const struct audit_args *a, const mla_checkpoint *cp, json_t *cpj)
{
	uint8_t old[32];
	uint64_t from;
	json_t *ans = NULL;
	mla_merkle_proof p;
	char path[128], what[160];
	int rc;

	if (!parse_u64(a->from, &from) || from == 0)
		return cli_usage_error(CMD, "--from takes a number from 1");
	if (!parse_root_b64(a->old_root, old))
		return cli_usage_error(CMD, "--old-root is not the base64 of 32 bytes");
	(void)mla_snprintf_cut(what, sizeof(what), "consistency of the log of size %llu with size %llu",
			       (unsigned long long)from, (unsigned long long)cp->size);
	if (from > cp->size)
		return not_verified(what, "the older size is beyond the latest checkpoint");
	if (mla_snprintf(path, sizeof(path), "/api/v1/audit/proof/consistency?from=%llu&to=%llu",
			 (unsigned long long)from, (unsigned long long)cp->size) != MLA_OK)
		return CLI_INTERNAL; /* path is sized for any two numbers */
	if ((rc = api_call(&a->c, CMD, "GET", path, NULL, &ans)) != CLI_OK)
		return rc;
	if (!proof_of(ans, &p))
		rc = not_verified(what, "malformed proof");
	else if (mla_merkle_consistency_verify(from, cp->size, old, cp->root, &p) != MLA_OK)
		rc = not_verified(what, "the signed log does not extend the given root");
	else if (a->json)
		print_json(cpj, ans, NULL);
	else
		printf("%s: verified against checkpoint %llu signed by %s\n", what,
		       (unsigned long long)cp->size, cp->origin);
	json_decref(ans);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_args a;
	mla_checkpoint cp;
	json_t *cpj = NULL;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return cmd_audit_export(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cmd_audit_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "stats") == 0)
		return cmd_audit_stats(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "reconcile") == 0)
		return cmd_audit_reconcile(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "new-epoch") == 0)
		return cmd_audit_new_epoch(argc - 1, argv + 1);
	if (argc < 2 || strcmp(argv[1], "proof") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(audit_usage, stdout);
			return CLI_OK;
		}
		fputs(audit_usage, stderr);
		return CLI_USAGE;
	}
	memset(&a, 0, sizeof(a));
	if ((rc = parse(argc - 1, argv + 1, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if (a.config == NULL)
		a.config = getenv("MLAGW_CONFIG");
	if ((a.config == NULL || (rc = api_client_config(&a.c, CMD, a.config, &a.token_file)) ==
					 CLI_OK) &&
	    (rc = api_client_ready(&a.c, CMD, a.token_file)) == CLI_OK &&
	    (rc = signed_checkpoint(&a, &cp, &cpj)) == CLI_OK)
		rc = a.seq != NULL ? inclusion(&a, &cp, cpj) : consistency(&a, &cp, cpj);
	json_decref(cpj);
	api_client_wipe(&a.c);
	return rc;
}
