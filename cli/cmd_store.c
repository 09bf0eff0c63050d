/* mlagw store show: reads a gateway's store through the store's read-only reader (never SQL
 * of its own; safe while the gateway runs), for operators, scripts and the tests. This file:
 * arguments, --meta, and a message's bytes; the listings are in cmd_store_rows.c. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cli_util.h"
#include "cmd_store.h"
#include "commands.h"

#define CMD "store show"

static const char show_usage[] =
	"usage: mlagw store show --store STORE.db WHAT [--json]\n"
	"Reads a gateway's store read-only (safe while the gateway runs). WHAT is one of:\n"
	"  --meta              schema version, the store's own record, counts, the log's origin\n"
	"  --outbox            sent messages: id, to, state, attempts, priority, kind, action,\n"
	"                      case, created (ms), last error\n"
	"  --inbox             received messages: id, from, accepted|refused, priority, kind,\n"
	"                      action, case, received (ms)\n"
	"  --history [--message ID]  state changes: id, direction, state, at (ms), detail\n"
	"  --alerts            alerts: kind, message id, at (ms), detail\n"
	"  --audit [--from N] [--to N]  audit entries N..N (inclusive) as stored\n"
	"  --checkpoints       signed checkpoints (the notes with their cosignatures)\n"
	"  --witnessed         peers' checkpoints this gateway cosigned\n"
	"  --peer-certs        peers' audit certificates: State, SHA-256, at (ms), DER length\n"
	"  --envelope ID       the envelope bytes of a message as stored, to standard output\n"
	"  --receipt ID        the receipt bytes of a message as stored\n"
	"--json prints one JSON document (listings: an array, written a row at a time; bytes\n"
	"in base64, digests in hex); --blobs adds the receipts and envelopes to --outbox and\n"
	"--inbox. exit: 0 ok, 1 no such envelope or receipt, 2 usage, 3 cannot read the store\n";

enum show_what {
	SHOW_NONE, SHOW_META, SHOW_OUTBOX, SHOW_INBOX, SHOW_HISTORY, SHOW_ALERTS, SHOW_AUDIT,
	SHOW_CHECKPOINTS, SHOW_WITNESSED, SHOW_PEER_CERTS, SHOW_ENVELOPE, SHOW_RECEIPT
};

struct show_args {
	const char *store, *message, *hist_message, *from, *to;
	enum show_what what;
	int json, blobs, whats;
};

static void set_what(struct show_args *a, enum show_what w)
{
	a->what = w;
	a->whats++;
}

/* One option (getopt's c) applied to a; -1 for --help, a CLI status otherwise. */
static int apply(struct show_args *a, int c, char *arg, const char *opt)
{
	switch (c) {
	case 's': a->store = arg; break;
	case 'j': a->json = 1; break;
	case 'b': a->blobs = 1; break;
	case 'm': a->hist_message = arg; break;
	case 'f': a->from = arg; break;
	case 't': a->to = arg; break;
	case 'E': a->message = arg; set_what(a, SHOW_ENVELOPE); break;
	case 'R': a->message = arg; set_what(a, SHOW_RECEIPT); break;
	case 'h': fputs(show_usage, stdout); return -1;
	default:
		if (c >= SHOW_META && c <= SHOW_PEER_CERTS) {
			set_what(a, (enum show_what)c);
			break;
		}
		return cli_usage_error(CMD, "unknown option or missing value: %s", opt);
	}
	return CLI_OK;
}

static int parse(int argc, char **argv, struct show_args *a)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"json", 0, NULL, 'j'}, {"blobs", 0, NULL, 'b'},
		{"message", 1, NULL, 'm'}, {"from", 1, NULL, 'f'}, {"to", 1, NULL, 't'},
		{"meta", 0, NULL, SHOW_META}, {"outbox", 0, NULL, SHOW_OUTBOX},
		{"inbox", 0, NULL, SHOW_INBOX}, {"history", 0, NULL, SHOW_HISTORY},
		{"alerts", 0, NULL, SHOW_ALERTS}, {"audit", 0, NULL, SHOW_AUDIT},
		{"checkpoints", 0, NULL, SHOW_CHECKPOINTS}, {"witnessed", 0, NULL, SHOW_WITNESSED},
		{"peer-certs", 0, NULL, SHOW_PEER_CERTS}, {"envelope", 1, NULL, 'E'},
		{"receipt", 1, NULL, 'R'}, {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int c, rc = CLI_OK;

	optind = 1;
	opterr = 0;
	while (rc == CLI_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		rc = apply(a, c, optarg, argv[optind - 1]);
	if (rc != CLI_OK)
		return rc;
	if (optind != argc)
		return cli_usage_error(CMD, "unexpected argument: %s", argv[optind]);
	if (a->store == NULL || a->whats != 1)
		return cli_usage_error(CMD, "--store and exactly one of what to show are required");
	if ((a->from != NULL || a->to != NULL) && a->what != SHOW_AUDIT)
		return cli_usage_error(CMD, "--from and --to go with --audit");
	if (a->hist_message != NULL && a->what != SHOW_HISTORY)
		return cli_usage_error(CMD, "--message goes with --history");
	return CLI_OK;
}

/* --from/--to as seq numbers (default: the whole log). */
static int audit_range(const struct show_args *a, uint64_t *from, uint64_t *to)
{
	long v;

	*from = 0;
	*to = UINT64_MAX;
	if (a->from != NULL) {
		if (cli_parse_long(a->from, 0, LONG_MAX, &v) != 0)
			return cli_usage_error(CMD, "--from takes a seq number");
		*from = (uint64_t)v;
	}
	if (a->to != NULL) {
		if (cli_parse_long(a->to, 0, LONG_MAX, &v) != 0)
			return cli_usage_error(CMD, "--to takes a seq number");
		*to = (uint64_t)v;
	}
	return CLI_OK;
}

static mla_err write_bytes(const uint8_t *p, size_t n, void *arg)
{
	(void)arg;
	if (n > 0 && fwrite(p, 1, n, stdout) != n)
		return MLA_ERR_IO;
	return fflush(stdout) == 0 ? MLA_OK : MLA_ERR_IO;
}

/* --envelope / --receipt: the bytes as stored; none stored is exit 1. */
static int show_bytes(store_reader *r, const struct show_args *a)
{
	struct show_out o = {0, 0, 0, CLI_OK};
	mla_diag d = {MLA_OK, ""};
	mla_err e = a->what == SHOW_ENVELOPE
			    ? store_reader_envelope(r, a->message, write_bytes, NULL, &d)
			    : store_reader_receipt(r, a->message, write_bytes, NULL, &d);

	if (e == MLA_ERR_NOT_FOUND) {
		fprintf(stderr, "mlagw " CMD ": %s\n", d.msg);
		return CLI_REJECTED;
	}
	return show_done(&o, e, &d);
}

struct meta_ctx {
	json_t *meta;
	char origin[256]; /* the first line of the latest checkpoint (SPEC §14: <= 255 bytes) */
};

static mla_err meta_pair(const char *key, const char *value, void *arg)
{
	struct meta_ctx *m = arg;

	return json_object_set_new(m->meta, key, json_string(value)) == 0 ? MLA_OK
									   : MLA_ERR_NOMEM;
}

static json_t *counts_json(const struct store_counts *c)
{
	return json_pack("{sIsIsIsIsIsIsIsIsIsI}", "outbox", (json_int_t)c->outbox, "inbox",
			 (json_int_t)c->inbox, "history", (json_int_t)c->history, "alerts",
			 (json_int_t)c->alerts, "audit", (json_int_t)c->audit, "audit_next",
			 (json_int_t)c->audit_next, "checkpoints", (json_int_t)c->checkpoints,
			 "checkpoint_latest", (json_int_t)c->checkpoint_latest, "witnessed",
			 (json_int_t)c->witnessed, "peer_certs", (json_int_t)c->peer_certs);
}

/* Prints the meta document: as JSON, or as "key value" lines. */
static int print_meta(store_reader *r, const struct meta_ctx *m, const struct store_counts *c,
		      int json)
{
	json_t *j = json_pack("{sisisOss?so}", "schema_version", store_reader_version(r),
			      "schema_known", STORE_SCHEMA_VERSION, "meta", m->meta, "origin",
			      m->origin[0] != '\0' ? m->origin : NULL, "counts", counts_json(c));
	const char *k;
	json_t *v;

	if (j == NULL)
		return CLI_INTERNAL;
	if (json) {
		(void)json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	} else {
		printf("schema_version %d\nschema_known %d\norigin %s\n", store_reader_version(r),
		       STORE_SCHEMA_VERSION, m->origin[0] != '\0' ? m->origin : "-");
		json_object_foreach(m->meta, k, v)
			printf("meta.%s %s\n", k, json_string_value(v));
		json_object_foreach(json_object_get(j, "counts"), k, v)
			printf("%s %lld\n", k, (long long)json_integer_value(v));
	}
	json_decref(j);
	return CLI_OK;
}

static int show_meta(store_reader *r, int json)
{
	struct meta_ctx m = {json_object(), ""};
	struct show_out o = {json, 0, 0, CLI_OK};
	struct store_counts c;
	mla_diag d = {MLA_OK, ""};
	mla_err e = m.meta != NULL ? MLA_OK : MLA_ERR_NOMEM;
	int rc;

	if (e == MLA_OK && (e = store_reader_counts(r, &c, &d)) == MLA_OK &&
	    (e = store_reader_meta(r, meta_pair, &m, &d)) == MLA_OK &&
	    (e = store_reader_origin(r, m.origin, sizeof(m.origin), &d)) == MLA_ERR_NOT_FOUND)
		e = MLA_OK; /* no checkpoint yet: no origin */
	rc = show_done(&o, e, &d);
	if (rc == CLI_OK)
		rc = print_meta(r, &m, &c, json);
	json_decref(m.meta);
	return rc;
}

static int dispatch(store_reader *r, const struct show_args *a, uint64_t from, uint64_t to)
{
	struct show_out o = {a->json, a->blobs, 0, CLI_OK};

	switch (a->what) {
	case SHOW_META: return show_meta(r, a->json);
	case SHOW_OUTBOX: return show_outbox(r, &o);
	case SHOW_INBOX: return show_inbox(r, &o);
	case SHOW_HISTORY: return show_history(r, a->hist_message, &o);
	case SHOW_ALERTS: return show_alerts(r, &o);
	case SHOW_AUDIT: return show_audit(r, from, to, &o);
	case SHOW_CHECKPOINTS: return show_checkpoints(r, &o);
	case SHOW_WITNESSED: return show_witnessed(r, &o);
	case SHOW_PEER_CERTS: return show_peer_certs(r, &o);
	default: return show_bytes(r, a);
	}
}

static int store_show(int argc, char **argv)
{
	struct show_args a;
	struct show_out o = {0, 0, 0, CLI_OK};
	store_reader *r = NULL;
	mla_diag d = {MLA_OK, ""};
	uint64_t from = 0, to = UINT64_MAX;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse(argc, argv, &a)) != CLI_OK)
		return rc == -1 ? CLI_OK : rc;
	if ((rc = audit_range(&a, &from, &to)) != CLI_OK)
		return rc;
	if ((rc = show_done(&o, store_reader_open(a.store, &r, &d), &d)) == CLI_OK)
		rc = dispatch(r, &a, from, to);
	store_reader_close(r);
	if (fflush(stdout) != 0 && rc == CLI_OK)
		rc = CLI_IO;
	return rc;
}

int cmd_store(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return store_show(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "init") == 0)
		return store_init_cmd(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "accept-loss") == 0)
		return store_accept_loss_cmd(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "restore") == 0)
		return store_restore_cmd(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "backup") == 0))
		return cmd_store_check(argc - 1, argv + 1, strcmp(argv[1], "backup") == 0);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(show_usage, stdout);
		return CLI_OK;
	}
	return cli_usage_error("store", "usage: mlagw store "
				 "show|init|check|backup|restore|accept-loss --store STORE.db ...");
}
