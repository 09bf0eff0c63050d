/* mlagw stats and mlagw audit stats (protocol/SPEC.md 16.13): the case statistics of one
 * engine (mlagw/stats.h), fed either a gateway's own audit log from its store (read-only, the
 * entries its latest checkpoint covers) or the entries of audit bundles that verify with the
 * States' roots, so that an auditor recomputes a State's figures from its bundle alone. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "audit_bundle.h"
#include "cli_util.h"
#include "commands.h"
#include "mlagw/audit.h"
#include "mlagw/envelope.h"
#include "mlagw/stats.h"
#include "store/store_reader.h"

#define OUT_MAX ((size_t)1 << 30) /* the figures of a very large log stay far below */

static const char stats_usage[] =
	"usage: mlagw stats --store STORE.db [--csv]\n"
	"The case statistics of a gateway's own audit log (read-only on its store, the entries\n"
	"its latest checkpoint covers): per month and over all months, cases by kind, partner\n"
	"State, direction, outcome, priority and refusal ground; the time from issue to\n"
	"receipt, decision and execution (count, mean, median, 90th percentile, ms);\n"
	"Regulation 2023/1543 art. 28 figures.\n"
	"Metadata only. JSON (mlagw-stats/1), or CSV with --csv (protocol/SPEC.md 16.13).\n"
	"exit: 0 written, 2 usage, 3 cannot read the store, 4 internal\n";

static const char audit_stats_usage[] =
	"usage: mlagw audit stats BUNDLE... --trust DIR [--csv]\n"
	"The same statistics as mlagw stats, recomputed from audit bundles: each bundle is first\n"
	"verified as mlagw audit verify does (DIR/ *.crt: the States' roots), and only if every\n"
	"one verifies are their entries counted, each bundle's as its State's log (give a State's\n"
	"log epochs in order). Over a State's own bundle the output is the bytes mlagw stats\n"
	"prints from its store.\n"
	"exit: 0 written, 1 a bundle does not verify, 2 usage, 3 cannot read a bundle or DIR,\n"
	"4 internal\n";

/* The figures of s on stdout. */
static int print_stats(mla_stats *s, int csv, const char *cmd)
{
	mla_diag d = {MLA_OK, ""};
	mla_buf out;
	mla_err r;
	int rc = CLI_OK;

	mla_buf_init(&out, OUT_MAX);
	r = csv ? mla_stats_csv(s, &out, &d) : mla_stats_json(s, &out, &d);
	if (r != MLA_OK)
		rc = cli_fail(cmd, r, &d);
	else if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		rc = cli_fail(cmd, MLA_ERR_IO, &d);
	mla_buf_free(&out);
	return rc;
}

/* ---- mlagw stats ---- */

struct feed {
	mla_stats *s;
	const char *state;
	mla_diag *d;
};

static mla_err feed_row(const struct store_audit_row *row, void *arg)
{
	struct feed *f = arg;
	mla_audit_entry e;
	mla_err r;

	if (row->entry == NULL)
		return mla_fail(f->d, MLA_ERR_STORE, "audit entry %llu is empty in the store",
				(unsigned long long)row->seq);
	if ((r = mla_audit_entry_parse(row->entry, row->len, &e, f->d)) != MLA_OK)
		return mla_fail(f->d, MLA_ERR_STORE, "audit entry %llu does not parse: %s",
				(unsigned long long)row->seq, mla_diag_message(f->d));
	return mla_stats_add(f->s, f->state, &e, f->d);
}

static int stats_from_store(const char *path, int csv)
{
	static const char cmd[] = "stats";
	mla_diag d = {MLA_OK, ""};
	mla_audit_source_meta m;
	mla_audit_source src;
	struct store_counts c;
	store_reader *rd = NULL;
	mla_stats *s = NULL;
	struct feed f;
	mla_err r;
	int rc;

	if ((r = store_reader_open(path, &rd, &d)) != MLA_OK)
		return cli_fail(cmd, r == MLA_ERR_NOMEM ? r : MLA_ERR_IO, &d);
	src = store_reader_audit_source(rd);
	if ((r = store_reader_counts(rd, &c, &d)) != MLA_OK ||
	    (r = src.meta(src.ctx, &m, &d)) != MLA_OK) {
		rc = cli_fail(cmd, MLA_ERR_IO, &d);
		goto out;
	}
	if (c.checkpoint_latest == 0 || m.state[0] == '\0') {
		fprintf(stderr, "mlagw %s: the store has no checkpoint yet (stop the gateway "
			"cleanly, or wait for its checkpoint interval)\n", cmd);
		rc = CLI_IO;
		goto out;
	}
	if ((s = mla_stats_new()) == NULL) {
		rc = CLI_INTERNAL;
		goto out;
	}
	f = (struct feed){s, m.state, &d};
	if ((r = store_reader_audit(rd, 0, c.checkpoint_latest, feed_row, &f, &d)) != MLA_OK) {
		rc = cli_fail(cmd, r == MLA_ERR_NOMEM || r == MLA_ERR_TOO_LARGE ? r : MLA_ERR_IO,
			      &d);
		goto out;
	}
	rc = print_stats(s, csv, cmd);
out:
	mla_stats_free(s);
	store_reader_close(rd);
	return rc;
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", 1, NULL, 's'}, {"csv", 0, NULL, 'c'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *store = NULL;
	int c, csv = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': store = optarg; break;
		case 'c': csv = 1; break;
		case 'h': fputs(stats_usage, stdout); return CLI_OK;
		default:
			return cli_usage_error("stats", "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("stats", "unexpected argument: %s", argv[optind]);
	if (store == NULL)
		return cli_usage_error("stats", "--store is required");
	return stats_from_store(store, csv);
}

/* ---- mlagw audit stats ---- */

#define ACMD "audit stats"

/* One bundle verified and its entries fed, as its manifest's State's log (read from the file
 * in passes: no whole bundle in memory). */
static int feed_bundle(const char *file, const mla_audit_trust *trust, mla_stats *s)
{
	mla_audit_input in = {file, NULL, 0, file};
	mla_audit_bundle_result *v = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_stats_add_bundle(s, &in, trust, &v, &d);
	int rc = CLI_OK;

	if (r == MLA_ERR_SIG_INVALID && v != NULL) {
		fprintf(stderr, "mlagw " ACMD ": %s does not verify (first failure: %s: %s); no "
			"statistics from unverified bundles\n", file,
			v->nfailures ? mla_audit_check_name(v->failures[0].check) : "?",
			v->nfailures ? v->failures[0].message : "?");
		rc = CLI_REJECTED;
	} else if (r == MLA_ERR_SCHEMA || r == MLA_ERR_HEADER) {
		fprintf(stderr, "mlagw " ACMD ": %s: %s\n", file, mla_diag_message(&d));
		rc = CLI_REJECTED;
	} else if (r != MLA_OK) {
		rc = cli_fail(ACMD, r, &d);
	}
	mla_stats_bundle_result_free(v);
	return rc;
}

int cmd_audit_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"trust", 1, NULL, 't'}, {"csv", 0, NULL, 'c'}, {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	mla_audit_trust *trust = NULL;
	mla_diag d = {MLA_OK, ""};
	const char *dir = NULL;
	mla_stats *s = NULL;
	int c, csv = 0, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': dir = optarg; break;
		case 'c': csv = 1; break;
		case 'h': fputs(audit_stats_usage, stdout); return CLI_OK;
		default:
			return cli_usage_error(ACMD, "unknown option or missing value: %s",
					       argv[optind - 1]);
		}
	}
	if (optind == argc || dir == NULL)
		return cli_usage_error(ACMD, "give one or more bundles and --trust DIR (the "
				       "statistics count only verified bundles)");
	if (mla_crypto_init(&d) != MLA_OK)
		return cli_fail(ACMD, d.code, &d);
	if ((rc = audit_load_trust(dir, ACMD, &trust)) != CLI_OK)
		return rc;
	if ((s = mla_stats_new()) == NULL)
		rc = CLI_INTERNAL;
	for (int i = optind; i < argc && rc == CLI_OK; i++)
		rc = feed_bundle(argv[i], trust, s);
	if (rc == CLI_OK)
		rc = print_stats(s, csv, ACMD);
	mla_stats_free(s);
	mla_audit_trust_free(trust);
	return rc;
}
