/* mlagw audit reconcile A B: compares two States' audit bundles exchange by exchange
 * (mla_audit_reconcile: sender's sent/delivered entries against the receiver's received and
 * receipt-issued ones) and reports each one-sided or differing entry with both States, the
 * message id and the entries' seqs. With --trust, each bundle must first verify. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mlagw/codec.h"

#include "audit_bundle.h"
#include "audit_reconcile.h"
#include "cli_util.h"

#define CMD "audit reconcile"

static const char reconcile_usage[] =
	"usage: mlagw audit reconcile A B [--trust DIR] [--json]\n"
	"Compares two States' audit bundles: every message one State sent to the other must\n"
	"appear on both sides (sent/delivered in the sender's, received/receipt-issued in the\n"
	"receiver's) with the same envelope-sha256, and the receipt-sha256 of the sender's\n"
	"delivered entry must be the receiver's receipt-issued one. Messages of other States are\n"
	"ignored; a message sent, not yet delivered and not received is reported as in flight.\n"
	"A or B may be - (standard input, first copied to a temporary file in TMPDIR).\n"
	"  --trust DIR   first verify each bundle as mlagw audit verify does (DIR/ *.crt: the\n"
	"                States' roots); unverified bundles are not reconciled\n"
	"  --json        the report as JSON\n"
	"exit: 0 everything matches, 1 a mismatch, a one-sided entry or an unverified bundle,\n"
	"2 usage, 3 cannot read A, B or DIR\n";

/* One bundle: its file (or with "-" standard input, spooled to a temporary file) and what
 * the library read from it. */
struct side {
	const char *file;
	FILE *spool;
	mla_audit_side *s;
};

/* Why a bundle cannot be reconciled, on stderr; the exit status. */
static int side_refused(const struct side *sd, int trusted, const mla_diag *d)
{
	const mla_audit_bundle_result *v = sd->s->verified;
	size_t n = 0;

	switch (sd->s->refusal) {
	case MLA_AUDIT_R_CONTAINER:
		fprintf(stderr, "mlagw " CMD ": %s: malformed bundle: %s\n", sd->file,
			mla_diag_message(d));
		return trusted ? CLI_REJECTED : CLI_IO;
	case MLA_AUDIT_R_UNVERIFIED:
		for (int k = 0; k < MLA_AUDIT_CHECK_N; k++)
			n += v->failed[k];
		fprintf(stderr, "mlagw " CMD ": %s does not verify (%zu failures, first: %s: %s); "
			"not reconciled\n", sd->file, n, mla_audit_check_name(v->failures[0].check),
			v->failures[0].message);
		return CLI_REJECTED;
	default:
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(d));
		return CLI_IO;
	}
}

/* Reads and loads one side (after --trust, when given, was loaded). The entry records that do
 * not parse are named on stderr and skipped. */
static int load_side(struct side *sd, const mla_audit_trust *trust)
{
	mla_diag d = {MLA_OK, ""};
	mla_audit_input in;
	mla_err r;

	/* read from its file in passes, in bounded memory, as audit verify reads it */
	in = (mla_audit_input){sd->file, NULL, 0, sd->file};
	if (sd->spool != NULL)
		r = mla_audit_side_load_file(sd->file, sd->spool, trust, &sd->s, &d);
	else
		r = mla_audit_side_load(&in, trust, &sd->s, &d);
	if (r == MLA_ERR_NOMEM)
		return CLI_INTERNAL;
	if (r == MLA_ERR_IO) {
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(&d));
		return CLI_IO;
	}
	if (r != MLA_OK)
		return side_refused(sd, trust != NULL, &d);
	for (size_t i = 0; i < sd->s->nskipped; i++)
		fprintf(stderr, "mlagw " CMD ": %s: entry %s skipped: %s\n", sd->file,
			sd->s->skipped[i].record, sd->s->skipped[i].message);
	if (sd->s->skipped_unlisted > 0)
		fprintf(stderr, "mlagw " CMD ": %s: %zu more entries skipped\n", sd->file,
			sd->s->skipped_unlisted);
	return CLI_OK;
}

static json_t *side_json(const struct side *sd)
{
	return json_pack("{sssssI}", "file", sd->file, "state", sd->s->state, "entries",
			 (json_int_t)sd->s->nentries);
}

/* [{kind, from, to, message_id, seqs: {from: [seq], to: [seq]}, message}] */
static json_t *findings_json(const mla_audit_finding *f, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *seqs = json_object();
		json_t *xs = json_array(), *ys = json_array();
		if (f[i].from_seq != MLA_AUDIT_NO_SEQ)
			(void)json_array_append_new(xs, json_integer((json_int_t)f[i].from_seq));
		if (f[i].to_seq != MLA_AUDIT_NO_SEQ)
			(void)json_array_append_new(ys, json_integer((json_int_t)f[i].to_seq));
		json_object_set_new(seqs, f[i].from, xs);
		json_object_set_new(seqs, f[i].to, ys);
		(void)json_array_append_new(
			a, json_pack("{sssssssssoss}", "kind", mla_audit_mismatch_name(f[i].kind),
				     "from", f[i].from, "to", f[i].to, "message_id",
				     f[i].message_id, "seqs", seqs, "message", f[i].message));
	}
	return a;
}

static void print_json_report(const mla_audit_reconciliation *rc, const struct side *a,
			      const struct side *b, int trusted)
{
	json_t *dirs = json_array();

	for (int i = 0; i < 2; i++) {
		const mla_audit_direction *d = &rc->directions[i];
		(void)json_array_append_new(dirs, json_pack("{sssssIsIsI}", "from", d->from, "to",
							    d->to, "matched", (json_int_t)d->matched,
							    "in_flight", (json_int_t)d->in_flight,
							    "problems", (json_int_t)d->problems));
	}
	json_t *o = json_pack("{sososbsbsIsososIsosI}", "a", side_json(a), "b", side_json(b),
			      "verified", trusted, "reconciled", rc->problem_messages == 0,
			      "exchanges", (json_int_t)rc->exchanges, "directions", dirs,
			      "problems", findings_json(rc->problems, rc->nproblems),
			      "problems_unlisted", (json_int_t)rc->problems_unlisted, "in_flight",
			      findings_json(rc->in_flight, rc->nin_flight), "in_flight_unlisted",
			      (json_int_t)rc->in_flight_unlisted);
	char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	if (s != NULL)
		puts(s);
	free(s);
	json_decref(o);
}

static void print_report(const mla_audit_reconciliation *rc, const struct side *a,
			 const struct side *b, int trusted)
{
	const char *sa = a->s->state, *sb = b->s->state;

	printf("reconcile %s (State %s, %zu entries%s) with %s (State %s, %zu entries%s)\n",
	       a->file, sa, a->s->nentries, trusted ? ", verified" : "", b->file, sb,
	       b->s->nentries, trusted ? ", verified" : "");
	for (int i = 0; i < 2; i++)
		printf("  %s -> %s: %lld matched, %lld in flight, %lld problems\n",
		       rc->directions[i].from, rc->directions[i].to,
		       (long long)rc->directions[i].matched, (long long)rc->directions[i].in_flight,
		       (long long)rc->directions[i].problems);
	for (size_t i = 0; i < rc->nproblems; i++)
		printf("MISMATCH %s\n", rc->problems[i].message);
	if (rc->problems_unlisted > 0)
		printf("MISMATCH ... and %zu more, not listed (the counts above hold them)\n",
		       rc->problems_unlisted);
	for (size_t i = 0; i < rc->nin_flight; i++)
		printf("IN FLIGHT %s\n", rc->in_flight[i].message);
	if (rc->in_flight_unlisted > 0)
		printf("IN FLIGHT ... and %zu more, not listed (the counts above hold them)\n",
		       rc->in_flight_unlisted);
	if (rc->exchanges == 0 && rc->problem_messages == 0 && rc->nin_flight == 0)
		printf("no exchanges between %s and %s in these bundles: nothing to match\n", sa,
		       sb);
	if (rc->problem_messages == 0)
		printf("reconciled: %zu exchanges match\n", rc->exchanges);
	else
		printf("NOT reconciled: %zu messages with problems\n", rc->problem_messages);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Standard input copied to a temporary file (TMPDIR, else /tmp) removed from its directory
 * at once, so that nothing is left behind whatever happens, and read from there in passes
 * like any bundle file, not whole into memory; at most format 4's MLA_BUNDLE4_MAX bytes. */
static int spool_stdin(struct side *sd)
{
	const char *dir = getenv("TMPDIR");
	static uint8_t chunk[(size_t)64 << 10];
	char path[4096];
	uint64_t total = 0;
	ssize_t n;
	int fd = -1;

	dir = dir != NULL && dir[0] != '\0' ? dir : "/tmp";
	if (mla_snprintf(path, sizeof(path), "%s/.mlagw-reconcile-stdin.XXXXXX", dir) == MLA_OK)
		fd = mkstemp(path);
	if (fd >= 0 && unlink(path) != 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fprintf(stderr, "mlagw " CMD ": cannot make a temporary file in %s to hold standard "
			"input\n", dir);
		return CLI_IO;
	}
	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (total += (uint64_t)n) > MLA_BUNDLE4_MAX ||
		    write_all(fd, chunk, (size_t)n) != 0) {
			fprintf(stderr, "mlagw " CMD ": cannot copy standard input to a temporary "
				"file in %s: %s\n", dir, total > MLA_BUNDLE4_MAX
				? "larger than a bundle may be" : strerror(errno));
			close(fd);
			return CLI_IO;
		}
	}
	if ((sd->spool = fdopen(fd, "rb")) == NULL) {
		close(fd);
		fprintf(stderr, "mlagw " CMD ": cannot read standard input: %s\n", strerror(errno));
		return CLI_IO;
	}
	return CLI_OK;
}

/* A file, or standard input ("-") spooled to a temporary file. */
static int side_input(struct side *sd)
{
	if (strcmp(sd->file, "-") == 0)
		return spool_stdin(sd);
	return audit_bundle_readable(sd->file, CMD);
}

/* A, the trust set (when given), B, in that order: the first that fails is the one reported. */
static int load_both(struct side *a, struct side *b, const char *dir, mla_audit_trust **trust)
{
	int rc;

	if ((rc = side_input(a)) != CLI_OK ||
	    (dir != NULL && (rc = audit_load_trust(dir, CMD, trust)) != CLI_OK) ||
	    (rc = load_side(a, *trust)) != CLI_OK)
		return rc;
	if ((rc = side_input(b)) != CLI_OK)
		return rc;
	return load_side(b, *trust);
}

/* Both sides compared and reported; the exit status. */
static int reconcile(const struct side *a, const struct side *b, int trusted, int json)
{
	mla_audit_reconciliation *rc = NULL;
	mla_diag d = {MLA_OK, ""};
	mla_err r = mla_audit_reconcile(a->s, b->s, &rc, &d);
	int status;

	if (r == MLA_ERR_ARG)
		return cli_usage_error(CMD, "%s", mla_diag_message(&d));
	if (r == MLA_ERR_IO)
		fprintf(stderr, "mlagw " CMD ": %s\n", mla_diag_message(&d));
	if (r != MLA_OK)
		return r == MLA_ERR_IO ? CLI_IO : CLI_INTERNAL;
	if (json)
		print_json_report(rc, a, b, trusted);
	else
		print_report(rc, a, b, trusted);
	status = rc->problem_messages == 0 ? CLI_OK : CLI_REJECTED;
	mla_audit_reconciliation_free(rc);
	return status;
}

int cmd_audit_reconcile(int argc, char **argv)
{
	static const struct audit_args_spec spec = {CMD, reconcile_usage, 2, 0,
						    "give two bundles, A and B", 0};
	const char *files[3] = {NULL, NULL, NULL}, *dir = NULL;
	struct side a, b;
	mla_audit_trust *trust = NULL;
	mla_diag d = {MLA_OK, ""};
	int json = 0, rc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if ((rc = audit_parse_args(argc, argv, &spec, files, &dir, &json)) != CLI_OK) {
		rc = rc == -1 ? CLI_OK : rc;
		goto out;
	}
	a.file = files[0];
	b.file = files[1];
	if (mla_crypto_init(&d) != MLA_OK) {
		rc = cli_fail(CMD, d.code, &d);
		goto out;
	}
	if ((rc = load_both(&a, &b, dir, &trust)) == CLI_OK)
		rc = reconcile(&a, &b, dir != NULL, json);
out:
	mla_audit_side_free(a.s);
	mla_audit_side_free(b.s);
	if (a.spool != NULL)
		fclose(a.spool);
	if (b.spool != NULL)
		fclose(b.spool);
	mla_audit_trust_free(trust);
	return rc;
}
